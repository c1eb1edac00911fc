"""The partner directory of a programme: its organisations with their sector, what each does
in the programme (fiches led, funded, partnered; bodies it sits on) and its contacts; the
workbook; the coordination's forms (an organisation added or renamed, a contact added, edited,
exported or erased at the person's request); a fiche's partners, set from the fiche.

Every member of the programme reads the directory; its coordination keeps it (403 for the
other members); outside the programme everything is a 404. The rules are the services'.
"""

from __future__ import annotations

import json

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit import chain
from directory.models import Contact
from projects.models import Action, Organisation, OrganisationKind, Programme
from projects.permissions import get_visible_action, get_visible_programme, roles_in
from reporting import directory, replica
from reporting.directory_export import export_filename, write_directory_workbook
from spreadsheet import for_file_name, xlsx_response
from workflows import services
from workflows.filters import MAX_ID, TextFilter
from workflows.services.directory import CONTACT_FIELDS

from ..pages import (
    PAGE_SIZE,
    client_ip,
    filter_errors,
    form_errors,
    form_messages,
    run_from_page,
    seen,
    status,
    without_page,
)


class DirectoryFilter(django_filters.FilterSet):
    """Search (an organisation's name, a contact's name or function) and sector."""

    q = TextFilter(method="search", label=gettext_lazy("Recherche"))
    secteur = django_filters.ChoiceFilter(
        field_name="kind", choices=OrganisationKind.choices, label=gettext_lazy("Secteur")
    )

    def __init__(self, data, *, programme: Programme):
        self.programme = programme
        super().__init__(data, queryset=directory.organisations(programme))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return directory.search(queryset, self.programme, value) if value else queryset


class ObjectsField(forms.ModelMultipleChoiceField):
    """Objects chosen by their numbers: a number no database column holds is a wrong choice,
    not a server error."""

    def clean(self, value):
        for pk in value or ():
            if not str(pk).isdigit() or int(pk) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                    params={"pk": pk},
                )  # fmt: skip
        return super().clean(value)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom de l'organisation"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Secteur"), choices=[("", "—"), *OrganisationKind.choices]
    )


class ContactForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=100)
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=100)
    function = forms.CharField(label=gettext_lazy("Fonction"), max_length=200, required=False)
    email = forms.EmailField(
        label=gettext_lazy("Courriel professionnel"), max_length=254, required=False
    )
    phone = forms.CharField(
        label=gettext_lazy("Téléphone professionnel"), max_length=30, required=False
    )
    programmes = ObjectsField(
        label=gettext_lazy("Contact pour les dispositifs"),
        queryset=Programme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choisissez au moins un dispositif.")},
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        mine = services.coordinated_programmes(actor)
        self.fields["programmes"].queryset = Programme.objects.filter(pk__in=mine).order_by("name")

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in CONTACT_FIELDS}


class PartnersForm(forms.Form):
    partners = ObjectsField(
        label=gettext_lazy("Partenaires"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, action: Action, **kwargs):
        kwargs.setdefault("initial", {"partners": [o.pk for o in action.partners.all()]})
        super().__init__(*args, **kwargs)
        # The organisations of the programme's directory; the lead is not its own partner.
        self.fields["partners"].queryset = (
            directory.organisations(action.programme_id)
            .exclude(pk=action.lead_organisation_id or 0)
            .order_by("name")
        )


def _keeper(request: HttpRequest, programme: Programme) -> None:
    """403 unless the user keeps the programme's directory (its coordination)."""
    refusal = services.KEEP_DIRECTORY.refusal(request.user, programme)
    if refusal:
        raise PermissionDenied(refusal.message)


def _organisation(programme: Programme, pk: int) -> Organisation:
    organisation = directory.organisations(programme).filter(pk=pk).first()
    if organisation is None:
        raise Http404(_("Aucune organisation de l'annuaire à ce numéro."))
    return organisation


def _contact(programme: Programme, pk: int) -> Contact:
    contact = (
        Contact.objects.filter(programmes=programme, pk=pk).select_related("organisation").first()
    )
    if contact is None:
        raise Http404(_("Aucun contact de l'annuaire à ce numéro."))
    return contact


# --- the directory and its workbook ----------------------------------------------------------


def _export_url(programme: Programme, query: str) -> str:
    url = reverse("coordo:directory-export", args=[programme.pk])
    return f"{url}?{query}" if query else url


# How many fiches each organisation's lists name (all of them are in the workbook).
SHOWN = 10


@login_required
def directory_page(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    filters = DirectoryFilter(request.GET, programme=programme)
    page = Paginator(filters.qs.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    entries = directory.entries(programme, page.object_list, shown=SHOWN)
    can_keep = services.KEEP_DIRECTORY.allows(
        request.user, programme, roles=roles_in(request.user, programme.pk)
    )
    if can_keep:
        ids = [e.organisation.pk for e in entries]
        versions = chain.versions(Organisation, ids)
        renamable = services.renamable(request.user, directory.programmes_of(ids))
        contacts = [c.pk for e in entries for c in e.contacts]
        contact_versions = chain.versions(Contact, contacts)
        for entry in entries:
            entry.version = versions.get(entry.organisation.pk, 0)
            entry.renamable = entry.organisation.pk in renamable
            for contact in entry.contacts:
                contact.version = contact_versions.get(contact.pk, 0)
    return render(
        request,
        "coordo/directory.html",
        {
            "programme": programme,
            "page": page,
            "entries": entries,
            "can_keep": can_keep,
            "params": request.GET,
            "kinds": OrganisationKind.choices,
            "filter_errors": filter_errors(filters),
            # The workbook of the organisations the page shows (its filters).
            "export_url": _export_url(programme, without_page(request.GET)),
            "organisation_form": OrganisationForm(prefix="new") if can_keep else None,
        },
        status=400 if filters.errors else 200,
    )


@login_required
@replica.on_replica
def directory_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The directory as a workbook: the organisations the page's filters select."""
    programme = get_visible_programme(request.user, pk)
    filters = DirectoryFilter(request.GET, programme=programme)
    if filters.errors:
        return directory_page(request, pk)
    return xlsx_response(
        lambda out: write_directory_workbook(
            programme=programme, organisations=filters.qs, out=out
        ),
        export_filename(programme.name, timezone.localdate()),
    )


# --- organisations ---------------------------------------------------------------------------


@login_required
def organisation_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    form = OrganisationForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.add_organisation(
                programme=programme,
                actor=request.user,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                ip=client_ip(request),
            )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
        else:
            messages.success(
                request,
                _("« {name} » ajoutée à l'annuaire ({kind}).").format(
                    name=organisation.name, kind=organisation.get_kind_display()
                ),
            )
            return redirect("coordo:directory", pk=programme.pk)
    return render(
        request,
        "coordo/directory_organisation.html",
        {"programme": programme, "form": form, "organisation": None, "version": 0},
        status=status(form),
    )


@login_required
def organisation_edit(request: HttpRequest, pk: int, organisation_pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    organisation = _organisation(programme, organisation_pk)
    shared_with = directory.programmes_of([organisation.pk]).get(organisation.pk, set())
    refusal = services.organisation_refusal(request.user, shared_with)
    if refusal:
        raise PermissionDenied(
            _(
                "« {name} » prend part à d'autres dispositifs que vous ne coordonnez pas : "
                "seule la coordination de tous, ou l'administrateur, la modifie."
            ).format(name=organisation.name)
        )
    form = OrganisationForm(
        request.POST or None, initial={"name": organisation.name, "kind": organisation.kind}
    )
    version = seen(request) if request.method == "POST" else chain.version(organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(
                organisation=organisation,
                actor=request.user,
                data={"name": form.cleaned_data["name"], "kind": form.cleaned_data["kind"]},
                seen=version,
                ip=client_ip(request),
            )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
            version = chain.version(organisation)
        else:
            messages.success(request, _("Organisation enregistrée."))
            return redirect("coordo:directory", pk=programme.pk)
    return render(
        request,
        "coordo/directory_organisation.html",
        {
            "programme": programme,
            "form": form,
            "organisation": organisation,
            "shared": len(shared_with) > 1,
            "version": version,
        },
        status=status(form),
    )


# --- contacts --------------------------------------------------------------------------------


@login_required
def contact_add(request: HttpRequest, pk: int, organisation_pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    organisation = _organisation(programme, organisation_pk)
    form = ContactForm(request.POST or None, actor=request.user, initial={"programmes": [pk]})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_contact(
                organisation=organisation,
                actor=request.user,
                data=form.details(),
                programmes=form.cleaned_data["programmes"],
                ip=client_ip(request),
            )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
        else:
            messages.success(
                request,
                _("Contact ajouté à « {name} ».").format(name=organisation.name),
            )
            return redirect("coordo:directory", pk=programme.pk)
    return render(
        request,
        "coordo/directory_contact.html",
        {
            "programme": programme,
            "organisation": organisation,
            "form": form,
            "contact": None,
            "version": 0,
        },
        status=status(form),
    )


def _kept_contact(request: HttpRequest, pk: int, contact_pk: int) -> tuple[Programme, Contact]:
    """The programme and its contact, for a member of its coordination (403 otherwise)."""
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    return programme, _contact(programme, contact_pk)


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    programme, contact = _kept_contact(request, pk, contact_pk)
    mine = services.coordinated_programmes(
        request.user, contact.programmes.values_list("pk", flat=True)
    )
    form = ContactForm(
        request.POST or None,
        actor=request.user,
        initial={name: getattr(contact, name) for name in CONTACT_FIELDS}
        | {"programmes": sorted(mine)},
    )
    version = seen(request) if request.method == "POST" else chain.version(contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(
                contact=contact,
                actor=request.user,
                data=form.details(),
                programmes=form.cleaned_data["programmes"],
                seen=version,
                ip=client_ip(request),
            )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
            version = chain.version(contact)
        else:
            messages.success(request, _("Contact enregistré."))
            return redirect("coordo:directory", pk=programme.pk)
    return render(
        request,
        "coordo/directory_contact.html",
        {
            "programme": programme,
            "organisation": contact.organisation,
            "form": form,
            "contact": contact,
            "version": version,
        },
        status=status(form),
    )


@login_required
def contact_data(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Everything held about the contact, as a JSON file for the person (right of access)."""
    _programme, contact = _kept_contact(request, pk, contact_pk)
    content = json.dumps(directory.contact_record(contact), ensure_ascii=False, indent=2)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    name = for_file_name(contact.full_name) or "contact"
    response["Content-Disposition"] = (
        f'attachment; filename="donnees-contact-{contact.pk}-{name}.json"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def contact_erase(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Erase a contact at the person's request, after a confirmation page."""
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    if request.method == "POST":
        contact = Contact.objects.filter(programmes=programme, pk=contact_pk).first()
        if contact is None:  # erased already: a second click, or another tab
            messages.info(request, _("Ce contact n'est plus dans l'annuaire."))
            return redirect("coordo:directory", pk=programme.pk)
        done = run_from_page(
            request,
            lambda: services.erase_contact(
                contact=contact, actor=request.user, seen=seen(request), ip=client_ip(request)
            ),
            _(
                "Contact n° {number} effacé : ses coordonnées ne sont plus conservées ; le "
                "journal d'audit garde son numéro seulement."
            ).format(number=contact_pk),
        )
        if done:
            return redirect("coordo:directory", pk=programme.pk)
    contact = _contact(programme, contact_pk)
    return render(
        request,
        "coordo/directory_contact_erase.html",
        {"programme": programme, "contact": contact, "version": chain.version(contact)},
    )


# --- a fiche's partners, from the fiche --------------------------------------------------


@require_POST
@login_required
def action_partners(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    refusal = services.EDIT.refusal(request.user, action)
    if refusal and refusal.rule == "role":
        raise PermissionDenied(refusal.message)
    form = PartnersForm(request.POST, action=action)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.set_partners(
                action=action,
                actor=request.user,
                organisations=form.cleaned_data["partners"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Partenaires de la fiche enregistrés."),
        )
    return redirect("coordo:action", pk=action.pk)
