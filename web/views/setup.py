"""A programme's set-up by its coordination, in Coordo's pages (no admin needed): its identity
and territory, the axes → objectives tree, the working groups and their members, memberships
(an invitation by e-mail creates the account), the contract's signatories — and a new
programme. Every write goes through the audited services of ``workflows.services``; who may is
their predicate (``may_set_up``, ``may_create_programme``), never restated here. Forms that
change an existing object post the version the page showed."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit import chain
from projects.models import (
    Action,
    Axis,
    Membership,
    Objective,
    Organisation,
    Programme,
    Role,
    WorkingGroup,
)
from projects.permissions import get_visible_programme, members_of
from workflows import services

from ..pages import (
    client_ip,
    form_errors,
    form_messages,
    run_from_page,
    seen,
    status,
    with_versions,
)

# --- Forms ---------------------------------------------------------------------------------------


class IdentityForm(ModelForm):
    """What the programme is and where: its kind, name, territory and period (its communes,
    EPCI and QPV: the places page)."""

    class Meta:
        model = Programme
        fields = list(services.IDENTITY_FIELDS)
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "territory": gettext_lazy("Tel qu'il se présente : « Val-de-Lys Agglomération »."),
        }


class TitleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Intitulé"), max_length=300)


class ObjectiveForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Niveau"), choices=Objective.Level.choices)
    title = forms.CharField(label=gettext_lazy("Intitulé"), max_length=300)
    parent = forms.ModelChoiceField(
        label=gettext_lazy("Objectif parent"), queryset=Objective.objects.none(), required=False
    )

    def __init__(self, *args, axis: Axis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Objective.objects.filter(axis=axis)


class ObjectiveEditForm(forms.Form):
    level = forms.ChoiceField(label=gettext_lazy("Niveau"), choices=Objective.Level.choices)
    title = forms.CharField(label=gettext_lazy("Intitulé"), max_length=300)


class GroupForm(ModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class MembershipForm(forms.Form):
    """A role in the programme, with the organisation or the group it is held for."""

    role = forms.ChoiceField(label=gettext_lazy("Rôle"), choices=Role.choices)
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=Organisation.objects.all(),
        required=False,
        help_text=gettext_lazy("Obligatoire pour un financeur, un porteur ou un signataire."),
    )
    working_group = forms.ModelChoiceField(
        label=gettext_lazy("Groupe de travail"),
        queryset=WorkingGroup.objects.none(),
        required=False,
        help_text=gettext_lazy("Pour un membre de groupe de travail seulement."),
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["working_group"].queryset = programme.working_groups.all()


class InviteForm(MembershipForm):
    email = forms.EmailField(label=gettext_lazy("Adresse e-mail professionnelle"))
    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=150, required=False)
    field_order = ["email", "first_name", "last_name", "role", "organisation", "working_group"]


class GroupMemberForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Personne"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = members_of(programme.pk)


class SignatoriesForm(forms.Form):
    organisations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Organisations signataires"),
        queryset=Organisation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class OrganisationForm(ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "kind"]


# --- Helpers -------------------------------------------------------------------------------------


def _programme(request: HttpRequest, pk: int) -> Programme:
    """The programme, for its coordination: 404 outside it, 403 for the other roles."""
    programme = get_visible_programme(request.user, pk)
    if not services.may_set_up(request.user, [programme.pk]):
        raise PermissionDenied(_("La mise en place du dispositif revient à sa coordination."))
    return programme


def _refused_on(form, exc: services.Refused) -> None:
    """A refusal for the role is a 403; any other is shown on the form, nothing saved."""
    if exc.rule == "role":
        raise PermissionDenied(exc.message) from exc
    form_errors(form, exc)


def _anchor(name: str, pk: int, item: int | None = None) -> str:
    url = reverse(f"coordo:{name}", args=[pk])
    return f"{url}#item-{item}" if item else url


# --- The hub -----------------------------------------------------------------------------------

RETIRED = Q(retired_at__isnull=False)


@login_required
def setup_hub(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the programme's set-up stands, section by section (the same few queries whatever
    its size)."""
    programme = _programme(request, pk)
    roles = Counter(
        dict(
            Membership.objects.active()
            .filter(programme=programme)
            .values_list("role")
            .annotate(n=Count("pk"))
            .order_by()
        )
    )
    return render(
        request,
        "coordo/setup.html",
        {
            "programme": programme,
            "section": "hub",
            "axes": programme.axes.aggregate(total=Count("pk"), retired=Count("pk", RETIRED)),
            "objectives": Objective.objects.filter(axis__programme=programme).aggregate(
                total=Count("pk"),
                retired=Count("pk", RETIRED | Q(axis__retired_at__isnull=False)),
            ),
            "groups": programme.working_groups.count(),
            "roles": [(label, roles[value]) for value, label in Role.choices if roles[value]],
            "members": sum(roles.values()),
            "signatories": list(programme.signatories.order_by("name")),
        },
    )


# --- Identity and territory; a new programme ----------------------------------------------------


@login_required
def setup_identity(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _programme(request, pk)
    form = IdentityForm(request.POST or None, instance=Programme.objects.get(pk=programme.pk))
    version = seen(request) if request.method == "POST" else chain.version(programme)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.save_structure(
                programme, actor=request.user, data=data, seen=version, ip=client_ip(request)
            )
        except services.Refused as exc:
            _refused_on(form, exc)
            version = chain.version(programme)
        else:
            messages.success(request, _("Identité et territoire enregistrés."))
            return redirect("coordo:setup", pk=programme.pk)
    return render(
        request,
        "coordo/setup_identity.html",
        {"programme": programme, "section": "identity", "form": form, "version": version},
        status=status(form),
    )


@login_required
def programme_create(request: HttpRequest) -> HttpResponse:
    """A new programme, by who coordinates one already (or whom the administrator allowed):
    its creator becomes its coordinator and sets up the rest from its hub."""
    refusal = services.programme_creation_refusal(request.user)
    if refusal:
        raise PermissionDenied(refusal.message)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.IDENTITY_FIELDS}
        try:
            programme = services.create_programme(
                actor=request.user, data=data, ip=client_ip(request)
            )
        except services.Refused as exc:
            _refused_on(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Le dispositif est créé et vous en êtes la coordination : ajoutez ses axes, "
                    "ses groupes de travail et ses membres."
                ),
            )
            return redirect("coordo:setup", pk=programme.pk)
    return render(
        request,
        "coordo/setup_identity.html",
        {"programme": None, "section": "identity", "form": form, "version": 0},
        status=status(form),
    )


# --- Axes and objectives --------------------------------------------------------------------------


@login_required
def setup_axes(request: HttpRequest, pk: int) -> HttpResponse:
    """The tree, each axis with its objectives and the fiches that answer them; a new axis."""
    programme = _programme(request, pk)
    form = TitleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            axis = services.add_axis(
                programme=programme,
                actor=request.user,
                title=form.cleaned_data["title"],
                ip=client_ip(request),
            )
        except services.Refused as exc:
            _refused_on(form, exc)
        else:
            messages.success(request, _("Axe {number} ajouté.").format(number=axis.number))
            return redirect(_anchor("setup-axes", programme.pk, axis.pk))
    ordered = Objective.objects.order_by("position", "pk").select_related("parent")
    axes = with_versions(
        list(
            programme.axes.order_by("number").prefetch_related(
                Prefetch("objectives", queryset=ordered)
            )
        ),
        Axis,
    )
    objectives = with_versions([o for a in axes for o in a.objectives.all()], Objective)
    fiches = dict(
        Action.objects.filter(programme=programme, objective__isnull=False)
        .values_list("objective_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for objective in objectives:
        objective.fiches = fiches.get(objective.pk, 0)
    return render(
        request,
        "coordo/setup_axes.html",
        {
            "programme": programme,
            "section": "axes",
            "axes": axes,
            "form": form,
            "levels": Objective.Level.choices,
        },
        status=status(form),
    )


def _move_or_retire(request: HttpRequest, obj, op: str) -> bool:
    """The operations an axis and an objective share."""
    ip, version = client_ip(request), seen(request)
    if op in ("monter", "descendre"):
        return run_from_page(
            request,
            lambda: services.move_in_tree(
                obj, actor=request.user, up=op == "monter", seen=version, ip=ip
            ),
            _("Ordre modifié."),
        )
    if op in ("retirer", "retablir"):
        retired = op == "retirer"
        return run_from_page(
            request,
            lambda: services.set_retired(
                obj, actor=request.user, retired=retired, seen=version, ip=ip
            ),
            _(
                "Retiré : les fiches qui y répondent le gardent, les nouvelles ne peuvent plus le "
                "choisir."
            )
            if retired
            else _("Rétabli : les nouvelles fiches peuvent de nouveau le choisir."),
        )
    raise Http404(_("Opération inconnue."))


@require_POST
@login_required
def setup_axis(request: HttpRequest, pk: int, item: int, op: str) -> HttpResponse:
    """Rename, move, retire or bring back an axis; add an objective to it."""
    programme = _programme(request, pk)
    axis = get_object_or_404(Axis, pk=item, programme=programme)
    back = redirect(_anchor("setup-axes", programme.pk, axis.pk))
    if op == "renommer":
        form = TitleForm(request.POST)
        if not form.is_valid():
            form_messages(request, form)
            return back
        run_from_page(
            request,
            lambda: services.save_structure(
                axis,
                actor=request.user,
                data={"title": form.cleaned_data["title"]},
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Axe renommé."),
        )
    elif op == "objectif":
        form = ObjectiveForm(request.POST, axis=axis)
        if not form.is_valid():
            form_messages(request, form, _("Nouvel objectif — "))
            return back
        run_from_page(
            request,
            lambda: services.add_objective(
                axis=axis, actor=request.user, ip=client_ip(request), **form.cleaned_data
            ),
            _("Objectif ajouté."),
        )
    else:
        _move_or_retire(request, axis, op)
    return back


@require_POST
@login_required
def setup_objective(request: HttpRequest, pk: int, item: int, op: str) -> HttpResponse:
    """Rename (or change the level of), move, retire or bring back an objective."""
    programme = _programme(request, pk)
    objective = get_object_or_404(Objective, pk=item, axis__programme=programme)
    back = redirect(_anchor("setup-axes", programme.pk, objective.axis_id))
    if op == "modifier":
        form = ObjectiveEditForm(request.POST)
        if not form.is_valid():
            form_messages(request, form)
            return back
        run_from_page(
            request,
            lambda: services.save_structure(
                objective,
                actor=request.user,
                data=form.cleaned_data,
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Objectif modifié."),
        )
    else:
        _move_or_retire(request, objective, op)
    return back


# --- Working groups -------------------------------------------------------------------------------


@login_required
def setup_groups(request: HttpRequest, pk: int) -> HttpResponse:
    """The working groups, their members; a new group."""
    programme = _programme(request, pk)
    form = GroupForm(request.POST or None, instance=WorkingGroup(programme=programme))
    if request.method == "POST" and form.is_valid():
        try:
            group = services.save_structure(
                WorkingGroup(programme=programme),
                actor=request.user,
                data=form.cleaned_data,
                ip=client_ip(request),
            )
        except services.Refused as exc:
            _refused_on(form, exc)
        else:
            messages.success(request, _("Groupe de travail créé."))
            return redirect(_anchor("setup-groups", programme.pk, group.pk))
    members = (
        Membership.objects.active()
        .filter(programme=programme, role=Role.WG_MEMBER)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    groups = with_versions(
        list(
            programme.working_groups.order_by("name").prefetch_related(
                Prefetch("memberships", queryset=members, to_attr="members")
            )
        ),
        WorkingGroup,
    )
    with_versions([m for g in groups for m in g.members], Membership)
    return render(
        request,
        "coordo/setup_groups.html",
        {
            "programme": programme,
            "section": "groups",
            "groups": groups,
            "people": members_of(programme.pk).order_by("last_name", "first_name", "username"),
            "form": form,
        },
        status=status(form),
    )


@require_POST
@login_required
def setup_group(request: HttpRequest, pk: int, item: int, op: str) -> HttpResponse:
    """Rename or describe a group; add one of the programme's people to it."""
    programme = _programme(request, pk)
    group = get_object_or_404(WorkingGroup, pk=item, programme=programme)
    back = redirect(_anchor("setup-groups", programme.pk, group.pk))
    if op == "modifier":
        form = GroupForm(request.POST, instance=WorkingGroup.objects.get(pk=group.pk))
        if not form.is_valid():
            form_messages(request, form)
            return back
        run_from_page(
            request,
            lambda: services.save_structure(
                group,
                actor=request.user,
                data=form.cleaned_data,
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Groupe de travail modifié."),
        )
    elif op == "membre":
        form = GroupMemberForm(request.POST, programme=programme)
        if not form.is_valid():
            form_messages(request, form)
            return back
        run_from_page(
            request,
            lambda: services.add_member(
                programme=programme,
                actor=request.user,
                user=form.cleaned_data["user"],
                role=Role.WG_MEMBER,
                working_group=group,
                ip=client_ip(request),
            ),
            _("Membre ajouté au groupe."),
        )
    else:
        raise Http404(_("Opération inconnue."))
    return back


# --- Memberships ----------------------------------------------------------------------------------


@login_required
def setup_members(request: HttpRequest, pk: int) -> HttpResponse:
    """Who holds which role, for which organisation or group; an invitation by e-mail."""
    programme = _programme(request, pk)
    # From a group's page (into that group) or the signatories' page (a signatory).
    group, role = request.GET.get("groupe", ""), request.GET.get("role", "")
    initial = {"role": role} if role in Role.values else {}
    if group.isdigit() and len(group) < 19:
        initial = {"role": Role.WG_MEMBER, "working_group": group}
    form = InviteForm(request.POST or None, initial=initial, programme=programme)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invite_member(
                programme=programme, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except services.Refused as exc:
            _refused_on(form, exc)
        else:
            person = membership.user
            if person.has_usable_password():
                text = _("{person} a désormais le rôle « {role} ».")
            else:
                text = _(
                    "{person} a le rôle « {role} » : un lien pour choisir son mot de passe lui "
                    "est envoyé à {email}."
                )
            messages.success(
                request,
                text.format(
                    person=person.get_full_name() or person.get_username(),
                    role=membership.get_role_display(),
                    email=person.email,
                ),
            )
            return redirect("coordo:setup-members", pk=programme.pk)
    rank = {role: i for i, role in enumerate(Role.values)}  # the roles in the glossary's order
    memberships = sorted(
        Membership.objects.filter(programme=programme).select_related(
            "user", "organisation", "working_group"
        ),
        key=lambda m: (
            rank.get(m.role, len(rank)),
            m.user.last_name.casefold(),
            m.user.first_name.casefold(),
            m.user.username,
        ),
    )
    return render(
        request,
        "coordo/setup_members.html",
        {
            "programme": programme,
            "section": "members",
            "active": with_versions([m for m in memberships if m.is_active], Membership),
            "ended": [m for m in memberships if not m.is_active],
            "form": form,
            "open_invite": form.is_bound or bool(initial),
        },
        status=status(form),
    )


@login_required
def setup_member(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    """One membership: change its role (and organisation or group), or end it."""
    programme = _programme(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation", "working_group"),
        pk=item,
        programme=programme,
    )
    initial = {
        "role": membership.role,
        "organisation": membership.organisation_id,
        "working_group": membership.working_group_id,
    }
    form = MembershipForm(request.POST or None, initial=initial, programme=programme)
    version = seen(request) if request.method == "POST" else chain.version(membership)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_membership(
                membership=membership,
                actor=request.user,
                seen=version,
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except services.Refused as exc:
            _refused_on(form, exc)
            version = chain.version(membership)
        else:
            messages.success(request, _("Rôle modifié."))
            return redirect("coordo:setup-members", pk=programme.pk)
    return render(
        request,
        "coordo/setup_member.html",
        {
            "programme": programme,
            "section": "members",
            "membership": membership,
            "form": form,
            "version": version,
        },
        status=status(form),
    )


@require_POST
@login_required
def setup_member_end(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    programme = _programme(request, pk)
    membership = get_object_or_404(Membership, pk=item, programme=programme)
    run_from_page(
        request,
        lambda: services.end_membership(
            membership=membership, actor=request.user, seen=seen(request), ip=client_ip(request)
        ),
        _("Appartenance terminée : la personne perd les droits de ce rôle."),
    )
    if request.POST.get("back") == "groupes" and membership.working_group_id:
        return redirect(_anchor("setup-groups", programme.pk, membership.working_group_id))
    return redirect("coordo:setup-members", pk=programme.pk)


# --- Signatories ----------------------------------------------------------------------------------


@login_required
def setup_signatories(request: HttpRequest, pk: int) -> HttpResponse:
    """The organisations that sign the contract; a partner organisation not yet known."""
    programme = _programme(request, pk)
    form = SignatoriesForm(
        request.POST or None, initial={"organisations": list(programme.signatories.all())}
    )
    version = seen(request) if request.method == "POST" else chain.version(programme)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_signatories(
                programme=programme,
                actor=request.user,
                organisations=form.cleaned_data["organisations"],
                seen=version,
                ip=client_ip(request),
            )
        except services.Refused as exc:
            _refused_on(form, exc)
            version = chain.version(programme)
        else:
            messages.success(request, _("Signataires du contrat enregistrés."))
            return redirect("coordo:setup", pk=programme.pk)
    signing = (
        Membership.objects.active()
        .filter(programme=programme, role=Role.SIGNATORY)
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__last_name")
    )
    return render(
        request,
        "coordo/setup_signatories.html",
        {
            "programme": programme,
            "section": "signatories",
            "form": form,
            "version": version,
            "signing": signing,
            "organisation_form": OrganisationForm(),
        },
        status=status(form),
    )


@require_POST
@login_required
def setup_organisation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A partner organisation that Coordo does not know yet (shared by every programme)."""
    programme = _programme(request, pk)
    form = OrganisationForm(request.POST)
    if not form.is_valid():
        form_messages(request, form, _("Nouvelle organisation — "))
    else:
        run_from_page(
            request,
            lambda: services.add_organisation(
                programme=programme,
                actor=request.user,
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Organisation ajoutée : cochez-la si elle signe le contrat."),
        )
    return redirect("coordo:setup-signatories", pk=programme.pk)
