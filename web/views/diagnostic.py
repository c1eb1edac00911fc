"""A programme's diagnostic local de santé and its links to the other schemes: the page every
member reads (the diagnostic and its findings with what answers them, the other schemes and
the fiches contributing to them, the linked CLS or CLSM and the fiches both have on a theme);
the coordination's forms (the diagnostic, a finding, a scheme, one of its objectives, a linked
programme, and removing each of them); a fiche's findings and contributions, set from the
fiche.

Outside the programme everything is a 404; a member who may not set the programme up gets a
403 on the forms. The rules are the services' (``workflows.services.diagnostic``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit import chain
from diagnostic.models import (
    Determinant,
    Diagnostic,
    Finding,
    ProgrammeLink,
    Scheme,
    SchemeObjective,
    Theme,
)
from documents.models import Document
from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Action, Axis, Objective, Programme
from projects.permissions import get_visible_action, get_visible_programme, visible_programmes
from reporting import diagnostic as figures
from workflows.services import Refused, may_set_up
from workflows.services import diagnostic as services

from ..pages import (
    client_ip,
    form_errors,
    form_messages,
    log_refusal,
    run_from_page,
    seen,
    status,
    with_versions,
)
from .directory import ObjectsField

# --- forms ------------------------------------------------------------------------------------


class DiagnosticForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date du diagnostic"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    authors = forms.CharField(
        label=gettext_lazy("Auteurs"),
        max_length=300,
        help_text=gettext_lazy("Par exemple : ORS, service santé de la ville, ARS."),
    )
    sources = forms.CharField(
        label=gettext_lazy("Sources"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Les bases et enquêtes utilisées (INSEE, SNDS, CPAM, DREES…)."),
    )


def scheme_objective_choices(programme_id: int):
    """The objectives of the programme's other schemes, as the forms offer them."""
    return (
        SchemeObjective.objects.filter(scheme__programme_id=programme_id)
        .select_related("scheme")
        .order_by("scheme__name", "pk")
    )


class FindingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Constat ou besoin"), max_length=300)
    theme = forms.ChoiceField(label=gettext_lazy("Thème"), choices=[("", "—"), *Theme.choices])
    determinant = forms.ChoiceField(
        label=gettext_lazy("Déterminant de santé"), choices=[("", "—"), *Determinant.choices]
    )
    population = forms.CharField(
        label=gettext_lazy("Population concernée"), max_length=300, required=False
    )
    territory = forms.CharField(
        label=gettext_lazy("Territoire ou QPV"), max_length=300, required=False
    )
    data = forms.CharField(
        label=gettext_lazy("Donnée"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Par exemple : 24 % de renoncement aux soins (France : 15 %)."),
    )
    source = forms.CharField(
        label=gettext_lazy("Source de la donnée"), max_length=300, required=False
    )
    year = forms.IntegerField(
        label=gettext_lazy("Année de la donnée"),
        required=False,
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
    )
    axes = ObjectsField(
        label=gettext_lazy("Axes qui y répondent"),
        queryset=Axis.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    objectives = ObjectsField(
        label=gettext_lazy("Objectifs qui y répondent"),
        queryset=Objective.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    actions = ObjectsField(
        label=gettext_lazy("Fiches qui y répondent"),
        queryset=Action.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    scheme_objectives = ObjectsField(
        label=gettext_lazy("Objectifs des autres démarches qui portent ce besoin"),
        queryset=SchemeObjective.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["axes"].queryset = Axis.objects.filter(programme=programme).order_by("number")
        self.fields["objectives"].queryset = (
            Objective.objects.filter(axis__programme=programme)
            .select_related("axis")
            .order_by("axis__number", "position", "pk")
        )
        self.fields["objectives"].label_from_instance = lambda o: f"{o.axis.number} · {o.title}"
        self.fields["actions"].queryset = figures.counted_actions(programme).order_by("title")
        self.fields["actions"].label_from_instance = lambda a: f"n° {a.pk} — {a.title}"
        self.fields["scheme_objectives"].queryset = scheme_objective_choices(programme.pk)

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.FINDING_FIELDS}

    def links(self, finding: Finding | None = None) -> dict:
        """The links chosen; for a finding edited, its links to what the form no longer offers
        (a fiche abandoned or merged since) stay."""
        links = {name: list(self.cleaned_data[name]) for name in services.FINDING_LINKS}
        if finding is not None:
            for name in services.FINDING_LINKS:
                offered = self.fields[name].queryset.values("pk")
                links[name] += getattr(finding, name).exclude(pk__in=offered)
        return links


class SchemeForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Nature"), choices=[("", "—"), *Scheme.Kind.choices]
    )
    name = forms.CharField(
        label=gettext_lazy("Nom de la démarche"),
        max_length=300,
        help_text=gettext_lazy("Par exemple : PRS Hauts-de-France 2023-2028."),
    )


class SchemeObjectiveForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Objectif ou axe de la démarche"),
        max_length=300,
        help_text=gettext_lazy("Par exemple : objectif 3 — réduire les inégalités d'accès."),
    )


class LinkForm(forms.Form):
    other = forms.ModelChoiceField(
        label=gettext_lazy("Dispositif lié (CLS ou CLSM)"), queryset=Programme.objects.none()
    )

    def __init__(self, *args, programme: Programme, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = services.linkable(actor, programme)


class FicheLinksForm(forms.Form):
    findings = ObjectsField(
        label=gettext_lazy("Répond aux besoins du diagnostic"),
        queryset=Finding.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    scheme_objectives = ObjectsField(
        label=gettext_lazy("Contribue aux autres démarches"),
        queryset=SchemeObjective.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, action: Action, **kwargs):
        if not args:
            kwargs.setdefault(
                "initial",
                {
                    "findings": [f.pk for f in action.findings.all()],
                    "scheme_objectives": [o.pk for o in action.scheme_objectives.all()],
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["findings"].queryset = Finding.objects.filter(
            diagnostic__programme_id=action.programme_id
        ).order_by("theme", "pk")
        self.fields["scheme_objectives"].queryset = scheme_objective_choices(action.programme_id)


# --- helpers ----------------------------------------------------------------------------------


def _keeper(request: HttpRequest, programme: Programme) -> None:
    """403 unless the user sets the programme up (its coordination, or the administrator)."""
    if not may_set_up(request.user, [programme.pk]):
        raise PermissionDenied(
            _("« Paramétrer le dispositif » revient à la coordination du dispositif.")
        )


def _refused(request: HttpRequest, form, exc: Refused) -> None:
    log_refusal(request, exc)
    if exc.rule == "role":
        raise PermissionDenied(exc.message) from exc
    form_errors(form, exc)


def visible_ids(user) -> set[int]:
    return set(visible_programmes(user).values_list("pk", flat=True))


def _finding(programme: Programme, pk: int) -> Finding:
    finding = (
        Finding.objects.filter(diagnostic__programme=programme, pk=pk)
        .select_related("diagnostic")
        .first()
    )
    if finding is None:
        raise Http404(_("Aucun constat du diagnostic à ce numéro."))
    return finding


def _scheme(programme: Programme, pk: int) -> Scheme:
    scheme = Scheme.objects.filter(programme=programme, pk=pk).first()
    if scheme is None:
        raise Http404(_("Aucune démarche de ce dispositif à ce numéro."))
    return scheme


# --- the page ---------------------------------------------------------------------------------


@login_required
def diagnostic_page(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    can_keep = may_set_up(request.user, [programme.pk])
    findings = (
        Finding.objects.filter(diagnostic__programme=programme)
        .prefetch_related(
            Prefetch("axes", queryset=Axis.objects.order_by("number")),
            Prefetch("objectives", queryset=Objective.objects.order_by("position", "pk")),
            Prefetch(
                "actions",
                queryset=figures.counted_actions(programme)
                .only("pk", "title", "state")
                .order_by("pk"),
            ),
            Prefetch("scheme_objectives", queryset=scheme_objective_choices(programme.pk)),
        )
        .order_by("theme", "pk")
    )
    findings = list(findings)
    schemes = figures.contribution(programme)
    linked = figures.linked_programmes(programme, visible_ids(request.user))
    # Unlinking is for whoever sets up both programmes.
    unlinkable = {
        item.programme.pk
        for item in linked
        if item.link and may_set_up(request.user, [programme.pk, item.programme.pk])
    }
    if can_keep:  # the versions the removal forms post
        with_versions(findings, Finding)
        with_versions([row.scheme for row in schemes], Scheme)
        objectives = [line.objective for row in schemes for line in row.objectives]
        with_versions(objectives, SchemeObjective)
        with_versions([item.link for item in linked if item.link], ProgrammeLink)
    return render(
        request,
        "coordo/diagnostic/page.html",
        {
            "programme": programme,
            "can_keep": can_keep,
            "coverage": figures.coverage(programme),
            "findings": findings,
            "documents": Document.objects.filter(
                programme=programme, kind=Document.Kind.DIAGNOSTIC, action=None, meeting=None
            ).order_by("-pk"),
            "schemes": schemes,
            "linked": linked,
            "unlinkable": unlinkable,
            "scheme_form": SchemeForm(prefix="scheme") if can_keep else None,
            "objective_form": SchemeObjectiveForm(prefix="objective") if can_keep else None,
            "link_form": LinkForm(prefix="link", programme=programme, actor=request.user)
            if can_keep
            else None,
        },
    )


# --- the diagnostic and its findings ----------------------------------------------------------


def _form_page(
    request: HttpRequest, programme: Programme, form, *, version_of, save, success: str, heading
) -> HttpResponse:
    """A form of the diagnostic's: a valid post runs ``save(seen)`` (the service) and goes back
    to the diagnostic; a refusal is shown on the form, nothing saved, with the version read
    again (``version_of()``: the object's version now, 0 while it does not exist)."""
    version = seen(request) if request.method == "POST" else version_of()
    if request.method == "POST" and form.is_valid():
        try:
            save(version)
        except Refused as exc:
            _refused(request, form, exc)
            version = version_of()
        else:
            messages.success(request, success)
            return redirect("coordo:diagnostic", pk=programme.pk)
    return render(
        request,
        "coordo/diagnostic/form.html",
        {"programme": programme, "form": form, "version": version, "heading": heading},
        status=status(form),
    )


@login_required
def diagnostic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    diagnostic = Diagnostic.objects.filter(programme=programme).first()
    initial = (
        {name: getattr(diagnostic, name) for name in services.DIAGNOSTIC_FIELDS}
        if diagnostic
        else {}
    )
    form = DiagnosticForm(request.POST or None, initial=initial)

    def version_of() -> int:
        diagnostic = Diagnostic.objects.filter(programme=programme).first()
        return chain.version(diagnostic) if diagnostic else 0

    return _form_page(
        request,
        programme,
        form,
        version_of=version_of,
        save=lambda version: services.save_diagnostic(
            programme=programme,
            actor=request.user,
            data=form.cleaned_data,
            seen=version,
            ip=client_ip(request),
        ),
        success=_("Diagnostic enregistré."),
        heading=_("Le diagnostic local de santé"),
    )


@login_required
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    form = FindingForm(request.POST or None, programme=programme)
    return _form_page(
        request,
        programme,
        form,
        version_of=lambda: 0,
        save=lambda _version: services.add_finding(
            programme=programme,
            actor=request.user,
            data=form.details(),
            ip=client_ip(request),
            **form.links(),
        ),
        success=_("Constat ajouté au diagnostic."),
        heading=_("Ajouter un constat au diagnostic"),
    )


@login_required
def finding_edit(request: HttpRequest, pk: int, finding_pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    finding = _finding(programme, finding_pk)
    initial = {name: getattr(finding, name) for name in services.FINDING_FIELDS} | {
        name: [o.pk for o in getattr(finding, name).all()] for name in services.FINDING_LINKS
    }
    form = FindingForm(request.POST or None, programme=programme, initial=initial)
    return _form_page(
        request,
        programme,
        form,
        version_of=lambda: chain.version(finding),
        save=lambda version: services.update_finding(
            finding=finding,
            actor=request.user,
            data=form.details(),
            seen=version,
            ip=client_ip(request),
            **form.links(finding),
        ),
        success=_("Constat enregistré."),
        heading=_("Modifier le constat « {title} »").format(title=finding.title),
    )


# --- other schemes and the linked programme ---------------------------------------------------


@require_POST
@login_required
def scheme_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    form = SchemeForm(request.POST, prefix="scheme")
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.add_scheme(
                programme=programme,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                ip=client_ip(request),
            ),
            _("Démarche ajoutée."),
        )
    return redirect("coordo:diagnostic", pk=programme.pk)


@login_required
def scheme_edit(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    scheme = _scheme(programme, scheme_pk)
    form = SchemeForm(request.POST or None, initial={"kind": scheme.kind, "name": scheme.name})
    return _form_page(
        request,
        programme,
        form,
        version_of=lambda: chain.version(scheme),
        save=lambda version: services.update_scheme(
            scheme=scheme,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            seen=version,
            ip=client_ip(request),
        ),
        success=_("Démarche enregistrée."),
        heading=_("Modifier la démarche « {name} »").format(name=scheme.name),
    )


@require_POST
@login_required
def scheme_objective_add(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    scheme = _scheme(programme, scheme_pk)
    form = SchemeObjectiveForm(request.POST, prefix="objective")
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.add_scheme_objective(
                scheme=scheme,
                actor=request.user,
                title=form.cleaned_data["title"],
                ip=client_ip(request),
            ),
            _("Objectif ajouté à « {name} ».").format(name=scheme.name),
        )
    return redirect("coordo:diagnostic", pk=programme.pk)


@require_POST
@login_required
def programme_link_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    form = LinkForm(request.POST, prefix="link", programme=programme, actor=request.user)
    if not form.is_valid():
        form_messages(request, form)
    else:
        other = form.cleaned_data["other"]
        run_from_page(
            request,
            lambda: services.link_programmes(
                programme=programme, other=other, actor=request.user, ip=client_ip(request)
            ),
            _("« {name} » est lié à ce dispositif.").format(name=other.name),
        )
    return redirect("coordo:diagnostic", pk=programme.pk)


# --- a fiche's findings and contributions, from the fiche -------------------------------------


@require_POST
@login_required
def fiche_links(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    _keeper(request, action.programme)
    form = FicheLinksForm(request.POST, action=action)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.set_fiche_links(
                action=action,
                actor=request.user,
                findings=form.cleaned_data["findings"],
                scheme_objectives=form.cleaned_data["scheme_objectives"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Besoins et démarches de la fiche enregistrés."),
        )
    return redirect("coordo:action", pk=action.pk)


# --- removing ---------------------------------------------------------------------------------

REMOVABLE = {
    "constat": (Finding, "diagnostic__programme", gettext_lazy("Constat retiré du diagnostic.")),
    "demarche": (Scheme, "programme", gettext_lazy("Démarche retirée, avec ses objectifs.")),
    "objectif": (
        SchemeObjective,
        "scheme__programme",
        gettext_lazy("Objectif retiré de la démarche."),
    ),
}


@require_POST
@login_required
def item_remove(request: HttpRequest, pk: int, kind: str, item: int) -> HttpResponse:
    """Remove a finding, a scheme, an objective of a scheme or the link to another
    programme (``lien``: ``item`` is the other programme)."""
    programme = get_visible_programme(request.user, pk)
    _keeper(request, programme)
    if kind == "lien":
        obj = ProgrammeLink.objects.filter(first_id=min(pk, item), second_id=max(pk, item)).first()
        success = _("Les deux dispositifs ne sont plus liés.")
    elif kind in REMOVABLE:
        model, path, success = REMOVABLE[kind]
        obj = model.objects.filter(pk=item, **{path: programme}).first()
    else:
        raise Http404(_("Rien à retirer à cette adresse."))
    if obj is None:  # removed already: a second click, or another tab
        messages.info(request, _("Déjà retiré : rien n'a été modifié."))
    else:
        run_from_page(
            request,
            lambda: services.remove_item(
                obj, actor=request.user, seen=seen(request), ip=client_ip(request)
            ),
            success,
        )
    return redirect("coordo:diagnostic", pk=programme.pk)
