"""The fiches actions: their lists, the fiche page (with its history), proposing and editing a
fiche, its budget and indicators, its decisions, and the versions submitted to the COPIL.

Visibility comes from memberships: another programme's fiches answer 404; what a role may see
but not do answers 403. What a page offers comes from the services' predicates.
"""

from __future__ import annotations

import json
from functools import partial

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Min, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from audit.export import EXPORT_ROLES
from audit.labels import Labels
from audit.models import AuditEvent
from projects import lifecycle
from projects.financing import FinancingPlan
from projects.models import Action, ActionState, Organisation, Origin, Programme
from projects.permissions import (
    get_visible_action,
    get_visible_programme,
    roles_in,
    visible_actions,
    visible_programmes,
)
from workflows import flows, queues, services
from workflows.filters import ActionFilter
from workflows.services.runner import roles_label

from ..evaluation_section import evaluation_section
from ..forms import (
    BudgetActualForm,
    BudgetLineEditForm,
    BudgetLineForm,
    FicheForm,
    FundingRequestForm,
    IndicatorForm,
    OpinionForm,
)
from ..pages import (
    PAGE_SIZE,
    client_ip,
    fiche_picker,
    filter_errors,
    form_errors,
    form_messages,
    run_from_page,
    seen,
    status,
    without_page,
)
from .contract import contract_card
from .documents import documents_context
from .proposals import may_moderate


@login_required
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_list(request, get_visible_programme(request.user, pk))


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    """Every fiche of the user's programmes; ``?dispositif=`` narrows to one."""
    programme_id = request.GET.get("dispositif", "")
    if programme_id.isdigit() and len(programme_id) < 19:
        return _action_list(request, get_visible_programme(request.user, int(programme_id)))
    return _action_list(request, None)


def _action_list(request: HttpRequest, programme: Programme | None) -> HttpResponse:
    """Fiches filtered and searched (the query count does not depend on the rows)."""
    if programme:
        prefetch_related_objects([programme], "places")  # its territory, and the filter's
    scope = programme.actions.all() if programme else visible_actions(request.user)
    filters = ActionFilter(
        request.GET, queryset=scope.select_related("programme", "lead_organisation", "objective")
    )
    page = Paginator(filters.qs.order_by("programme_id", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    roles = roles_in(request.user, programme.pk) if programme else set()
    can_moderate = programme is not None and may_moderate(roles)
    return render(
        request,
        "coordo/programme.html",
        {
            "programme": programme,
            "programmes": None if programme else visible_programmes(request.user).order_by("name"),
            "page": page,
            "params": request.GET,
            "filter_errors": filter_errors(filters),
            "query": without_page(request.GET),
            "states": ActionState.choices,
            "axes": programme.axes.prefetch_related("objectives").order_by("number")
            if programme
            else [],
            "leads": Organisation.objects.filter(led_actions__in=scope).distinct().order_by("name"),
            "years": _years(scope),
            "can_propose": programme is not None
            and services.proposal_refusal(request.user, programme, roles) is None,
            "can_import": programme is not None
            and services.IMPORT.allows(request.user, programme, roles=roles),
            "can_export_audit": bool(roles & EXPORT_ROLES),
            "can_moderate": can_moderate,
            "pending_proposals": programme.resident_proposals.filter(state="pending").count()
            if can_moderate
            else 0,
            "programme_transitions": services.offered(request.user, programme, roles=roles)
            if programme
            else [],
            "version": chain.version(programme) if programme else 0,
            # What the member put forward, and where it stands (the coordination's own fiches
            # and the residents' ideas it published are its work, not proposals).
            "my_proposals": programme.actions.filter(created_by=request.user, origin=Origin.MEMBER)
            .order_by("-pk")
            .only("pk", "programme_id", "title", "state")[:20]
            if programme
            else [],
            "contract": contract_card(programme) if programme else None,
            "documents": documents_context(
                request.user,
                programme,
                programme.documents.filter(action=None, meeting=None),
                roles=roles,
            )
            if programme
            else None,
            "can_set_up": programme is not None
            and services.may_set_up(request.user, [programme.pk]),
        },
        status=400 if filters.errors else 200,
    )


def _years(scope) -> range:
    """The year filter's choices, newest first: from the first fiche's start to the last one's
    (two index reads, where listing the distinct years read every fiche of the programme)."""
    span = scope.aggregate(first=Min("planned_start"), last=Max("planned_start"))
    if span["first"] is None:
        return range(0)
    return range(span["last"].year, span["first"].year - 1, -1)


def _history(action: Action, page_number) -> object:
    """The fiche's audit trail, newest first, in the reader's words."""
    events = Paginator(
        AuditEvent.objects.filter(action_id=action.pk)
        .only(
            "seq",
            "at",
            "actor_label",
            "object_type",
            "object_repr",
            "event",
            "from_state",
            "to_state",
            "changes",
            "comment",
        )
        .order_by("-seq"),
        PAGE_SIZE,
    ).get_page(page_number)
    labels = Labels()
    labels.preload(json.dumps(e.changes, ensure_ascii=False) + e.comment for e in events)
    for event in events:
        kind = event.object_type
        event.label = labels.event_label(kind, event.event)
        event.from_label = labels.state_label(kind, event.from_state)
        event.to_label = labels.state_label(kind, event.to_state)
        event.change_list = labels.changes(kind, event.changes)
        event.comment = labels.people(event.comment)
        event.on_part = kind != Action._meta.label_lower
    return events


@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    prefetch_related_objects([action], "partners")  # listed, and checked in their form
    user = request.user
    roles = services.roles_on(user, action)
    task = queues.open_task(action)
    stage = flows.stage_of(task) if task else None
    plan = _financing_plan(user, action, roles)
    offers = services.offered(user, action, roles=roles)
    return render(
        request,
        "coordo/action.html",
        {
            "action": action,
            "offers": offers,
            "version": chain.version(action),
            "task": task,
            "task_stage": stage,
            "task_roles": roles_label(stage.roles) if task else "",
            "task_due": flows.due_date(task) if task else None,
            "can_take": bool(task) and bool(roles & stage.roles) and task.owner_id != user.pk,
            "today": timezone.localdate(),
            "can_edit": services.EDIT.allows(user, action, roles=roles),
            "can_comment": services.COMMENT.allows(user, action, roles=roles),
            "can_waive": services.WAIVE.allows(user, action, roles=roles),
            "events": _history(action, request.GET.get("page")),
            "budget_form": BudgetLineForm(prefix="budget"),
            "indicator_form": IndicatorForm(prefix="indicator"),
            "funding_form": FundingRequestForm(prefix="funding")
            if services.REQUEST.allows(user, action, roles=roles)
            else None,
            "snapshots": action.snapshots.select_related("submitted_by").order_by("-version"),
            "plan": plan,
            "can_enter_actual": services.ENTER_ACTUAL.allows(user, action, roles=roles),
            "indicators": action.indicators.all(),
            "funding_requests": plan.requests,
            "partners": action.partners.all(),
            "evaluation": evaluation_section(user, action, roles),
            "outcome": _outcome(action),
            "opinions": _opinions(user, action, roles),
            "merge": fiche_picker(request, action.merge_targets(), "fusion")
            if any(o.step.name == "merge" for o in offers)
            else None,
            "working_groups": action.programme.working_groups.all(),
            "documents": documents_context(user, action, action.documents.all(), roles=roles),
        },
    )


def _financing_plan(user, action: Action, roles: set[str]) -> FinancingPlan:
    """The fiche's financing plan (three queries, whatever its number of lines and requests),
    each line with the forms the user may use on it: change or remove it while the fiche is
    prepared, enter what it cost while it is carried out."""
    plan = FinancingPlan(
        action,
        lines=action.budget_lines.all(),
        requests=action.funding_requests.select_related("funder")
        .prefetch_related("tranches")
        .order_by("year", "funder__name", "pk"),
    )
    can_edit = services.EDIT.allows(user, action, roles=roles)
    can_enter_actual = services.ENTER_ACTUAL.allows(user, action, roles=roles)
    for line in plan.lines:
        prefix = f"ligne{line.pk}"
        if can_edit:
            line.edit_form = BudgetLineEditForm(
                prefix=prefix, initial={"label": line.label, "planned": line.planned}
            )
        if can_enter_actual:
            line.actual_form = BudgetActualForm(prefix=prefix, initial={"actual": line.actual})
    return plan


def _outcome(action: Action) -> str:
    """Why a proposal was not taken up, as its proposer is told (the reason given)."""
    if action.state != ActionState.DECLINED:
        return ""
    return (
        AuditEvent.objects.filter(action_id=action.pk, to_state=ActionState.DECLINED)
        .order_by("-seq")
        .values_list("comment", flat=True)
        .first()
        or ""
    )


def _opinions(user, action: Action, roles: set[str]) -> dict | None:
    """The COTECH's opinions on the version submitted to the COPIL, and the user's form when
    their own is awaited."""
    if not action.programme.has_cotech or not action.snapshots.exists():
        return None
    latest = action.snapshots.order_by("-version").first()
    opinions = list(action.opinions.filter(version=latest.version).select_related("member"))
    mine = next((o for o in opinions if o.member_id == user.pk and not o.verdict), None)
    awaited = action.state == ActionState.COPIL_REVIEW
    return {
        "version": latest.version,
        "rows": opinions,
        "missing": [o for o in opinions if not o.verdict] if awaited else [],
        "due": max((o.due for o in opinions), default=None),
        "overdue": any(o.due < timezone.localdate() for o in opinions),
        "form": OpinionForm()
        if mine and awaited and services.OPINE.allows(user, action, roles=roles)
        else None,
    }


@require_POST
@login_required
def action_opinion(request: HttpRequest, pk: int) -> HttpResponse:
    """A COTECH member gives their technical opinion on the fiche submitted to the COPIL."""
    action = get_visible_action(request.user, pk)
    refusal = services.OPINE.refusal(request.user, action)
    if refusal and refusal.rule == "role":
        raise PermissionDenied(refusal.message)
    opinion = action.opinions.filter(member=request.user, verdict="").order_by("-version").first()
    if opinion is None:  # given already (a second click), or no longer awaited
        messages.error(request, _("Aucun avis attendu de vous sur cette fiche."))
        return redirect("coordo:action", pk=action.pk)
    form = OpinionForm(request.POST)
    if form.is_valid():
        run_from_page(
            request,
            lambda: services.give_opinion(
                opinion=opinion,
                actor=request.user,
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Votre avis est enregistré."),
        )
    else:
        form_messages(request, form)
    return redirect("coordo:action", pk=action.pk)


@login_required
def action_create(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    refusal = services.proposal_refusal(request.user, programme)
    if refusal:
        raise PermissionDenied(refusal.message)
    form = FicheForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in Action.FICHE_FIELDS}
        try:
            action = services.create_action(
                programme=programme,
                actor=request.user,
                data=data,
                places=form.cleaned_data["places"],
                ip=client_ip(request),
            )
        except services.Refused as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("La fiche action est proposée : la coordination l'examine.")
            )
            return redirect("coordo:action", pk=action.pk)
    return render(
        request,
        "coordo/action_form.html",
        {"form": form, "programme": programme},
        status=status(form),
    )


@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    refusal = services.EDIT.refusal(request.user, action)
    if refusal and refusal.rule == "role":
        raise PermissionDenied(refusal.message)
    if refusal:
        messages.error(request, refusal.message)
        return redirect("coordo:action", pk=action.pk)
    form = FicheForm(request.POST or None, instance=action, programme=action.programme)
    version = chain.version(action)
    if request.method == "POST":
        version = seen(request)
        if form.is_valid():
            data = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in Action.FICHE_FIELDS
            }
            try:
                services.update_action(
                    action=get_visible_action(request.user, pk),
                    actor=request.user,
                    data=data,
                    places=form.cleaned_data["places"] if "places" in form.changed_data else None,
                    seen=version,
                    ip=client_ip(request),
                )
            except services.Refused as exc:
                if exc.rule == "role":
                    raise PermissionDenied(exc.message) from exc
                form_errors(form, exc)
                if exc.rule == "already_moved":
                    # Warned of what changed, saving again is a deliberate choice.
                    version = chain.version(action)
            else:
                messages.success(request, _("Modifications enregistrées."))
                return redirect("coordo:action", pk=action.pk)
    return render(
        request,
        "coordo/action_form.html",
        {"form": form, "programme": action.programme, "action": action, "version": version},
        status=status(form),
    )


@require_POST
@login_required
def action_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    if name not in lifecycle.names(Action):
        raise Http404(_("Transition inconnue."))
    # The version the user saw when deciding: if the fiche changed since, the decision is
    # refused rather than applied to something they have not read.
    common = {
        "actor": request.user,
        "seen": seen(request),
        "comment": request.POST.get("comment", ""),
        "ip": client_ip(request),
    }
    if name == "start_co_construction":  # taking a proposal up, with a working group
        group = _chosen(action.programme.working_groups.all(), request.POST.get("working_group"))
        call = partial(services.take_up, action=action, working_group=group, **common)
    elif name == "merge":
        into = _chosen(action.programme.actions.all(), request.POST.get("into"))
        call = partial(services.transition, action, name, into=into, **common)
    else:
        call = partial(services.transition, action, name, **common)
    run_from_page(request, call, _("« {what} » : fait.").format(what=lifecycle.label(Action, name)))
    return redirect("coordo:action", pk=action.pk)


def _chosen(queryset, value: str | None):
    """The object picked in a list of the page (None for nothing, or for a value no list of
    the page offers)."""
    if not value or not value.isdigit() or len(value) > 18:
        return None
    return queryset.filter(pk=int(value)).first()


@require_POST
@login_required
def action_add_part(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """Co-construction: add a budget line or an indicator to the fiche (audited)."""
    action = get_visible_action(request.user, pk)
    form_class, service, prefix, done = {
        "budget": (
            BudgetLineForm,
            services.add_budget_line,
            "budget",
            _("Ligne budgétaire ajoutée."),
        ),
        "indicateur": (IndicatorForm, services.add_indicator, "indicator", _("Indicateur ajouté.")),
    }.get(part, (None, None, None, None))
    if form_class is None:
        raise Http404(_("Élément inconnu."))
    form = form_class(request.POST, prefix=prefix)
    if not form.is_valid():
        form_messages(request, form)
        return redirect("coordo:action", pk=action.pk)
    run_from_page(
        request,
        lambda: service(
            action=action,
            actor=request.user,
            seen=seen(request),
            ip=client_ip(request),
            **form.cleaned_data,
        ),
        done,
    )
    return redirect("coordo:action", pk=action.pk)


# What can be done to a budget line from the fiche page: the form, the service, the rule it
# checks (asked first, so that a role that may only read gets a 403 whatever it posted).
BUDGET_LINE_CHANGES = {
    "modifier": (
        BudgetLineEditForm,
        services.update_budget_line,
        services.EDIT,
        _("Ligne budgétaire modifiée."),
    ),
    "realise": (
        BudgetActualForm,
        services.record_budget_actual,
        services.ENTER_ACTUAL,
        _("Réalisé enregistré."),
    ),
    "supprimer": (
        None,
        services.remove_budget_line,
        services.EDIT,
        _("Ligne budgétaire supprimée."),
    ),
}


@require_POST
@login_required
def budget_line_change(request: HttpRequest, pk: int, line: int, what: str) -> HttpResponse:
    """Change a line of the fiche's financing plan, enter what it cost, or remove it."""
    action = get_visible_action(request.user, pk)
    if what not in BUDGET_LINE_CHANGES:
        raise Http404(_("Modification inconnue."))
    form_class, service, rule, done = BUDGET_LINE_CHANGES[what]
    refusal = rule.refusal(request.user, action)
    if refusal and refusal.rule == "role":
        raise PermissionDenied(refusal.message)
    back = reverse("coordo:action", args=[action.pk]) + "#plan-de-financement"
    budget_line = action.budget_lines.filter(pk=line).first()
    if budget_line is None:  # removed meanwhile (another tab, another person)
        messages.error(
            request,
            _(
                "Cette ligne budgétaire n'existe plus (supprimée entre-temps) : rien n'a été "
                "enregistré."
            ),
        )
        return redirect(back)
    data = {}
    if form_class is not None:
        form = form_class(request.POST, prefix=f"ligne{line}")
        if not form.is_valid():
            form_messages(request, form, prefix=f"« {budget_line.label} » — ")
            return redirect(back)
        data = form.cleaned_data
    run_from_page(
        request,
        lambda: service(
            line=budget_line,
            actor=request.user,
            seen=seen(request),
            ip=client_ip(request),
            **data,
        ),
        done,
    )
    return redirect(back)


@require_POST
@login_required
def action_comment(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    run_from_page(
        request,
        lambda: services.comment_action(
            action=action,
            actor=request.user,
            text=request.POST.get("text", ""),
            ip=client_ip(request),
        ),
        _("Commentaire ajouté à l'historique de la fiche."),
    )
    return redirect("coordo:action", pk=action.pk)


def _snapshot_rows(labels: Labels, object_type: str, rows: list) -> list[str]:
    """Rows of a part of the snapshot (budget lines, indicators: dicts; partners: names), their
    values in the order of the model's fields (a JSON column may not keep the keys' order)."""
    order = (
        {f.name: i for i, f in enumerate(apps.get_model(object_type)._meta.fields)}
        if object_type
        else {}
    )
    return [
        " · ".join(
            labels.value(object_type, name, row[name])
            for name in sorted(row, key=lambda n: order.get(n, len(order)))
        )
        if isinstance(row, dict)
        else str(row)
        for row in rows
    ]


@login_required
def snapshot_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two versions of the fiche sent to the COPIL (compared on the
    stored values, labelled in the reader's language)."""
    action = get_visible_action(request.user, pk)
    snapshots = {s.version: s for s in action.snapshots.select_related("submitted_by")}
    if len(snapshots) < 2:
        raise Http404(_("Il faut au moins deux versions soumises au COPIL pour les comparer."))
    latest = max(snapshots)
    try:
        old = snapshots[int(request.GET.get("de", latest - 1))]
        new = snapshots[int(request.GET.get("a", latest))]
    except (KeyError, ValueError, OverflowError) as exc:
        raise Http404(_("Version inconnue.")) from exc
    labels = Labels()
    fiche_type = Action._meta.label_lower
    fiche = [
        (
            labels.field_label(fiche_type, name),
            labels.value(fiche_type, name, old.data["fiche"].get(name)),
            labels.value(fiche_type, name, new.data["fiche"].get(name)),
        )
        for name in (*Action.FICHE_FIELDS, "places")
        # A field added since the older version was frozen is not a difference.
        if name in old.data["fiche"]
        and name in new.data["fiche"]
        and old.data["fiche"][name] != new.data["fiche"][name]
    ]
    parts = [
        (
            label,
            _snapshot_rows(labels, object_type, old.data.get(key, [])),
            _snapshot_rows(labels, object_type, new.data.get(key, [])),
        )
        for key, label, object_type in (
            ("partners", _("Partenaires"), ""),
            ("budget", _("Budget prévisionnel"), "funding.budgetline"),
            ("indicators", _("Indicateurs"), "evaluation.indicator"),
        )
        if old.data.get(key) != new.data.get(key)
    ]
    return render(
        request,
        "coordo/snapshot_diff.html",
        {
            "action": action,
            "old": old,
            "new": new,
            "versions": sorted(snapshots),
            "fiche": fiche,
            "parts": parts,
        },
    )
