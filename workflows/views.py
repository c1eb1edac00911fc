"""The working pages: what a member of a programme sees and may do.

Visibility comes from memberships: another programme's objects answer 404; what a role may see
but not do answers 403.
"""

from __future__ import annotations

import datetime
import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task

from evaluation.forms import IndicatorForm
from funding.exports import export_filename, write_funding_workbook
from funding.forms import (
    AgreementForm,
    BudgetLineForm,
    DecisionForm,
    FundingRequestForm,
    ReceiptForm,
    RefusalForm,
    TrancheForm,
)
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.forms import FicheForm, MeetingForm
from projects.models import (
    EDITABLE_STATES,
    Action,
    ActionState,
    Meeting,
    Organisation,
    Programme,
    Role,
)
from projects.permissions import (
    action_scopes,
    get_visible_action,
    get_visible_programme,
    roles_for,
    roles_in,
    visible_actions,
    visible_programmes,
)

from . import audit_export, flows, services
from .evaluation_section import evaluation_section
from .models import AuditEvent

PAGE_SIZE = 50


EVENT_LABELS = {
    **{name: services.transition_label(Action, name) for name in Action.TRANSITIONS},
    "create": gettext_lazy("Création de la fiche"),
    "update": gettext_lazy("Modification de la fiche"),
    "add_budget_line": gettext_lazy("Ajout d'une ligne budgétaire"),
    "add_indicator": gettext_lazy("Ajout d'un indicateur"),
    "funding_waiver": gettext_lazy("Dérogation de financement du COPIL"),
    "record_measurement": gettext_lazy("Mesure d'indicateur"),
    "write_evaluation_report": gettext_lazy("Rapport d'évaluation"),
    "update_evaluation_report": gettext_lazy("Rapport d'évaluation modifié"),
    "comment": gettext_lazy("Commentaire"),
    "take_task": gettext_lazy("Prise de la tâche"),
    "escalate": gettext_lazy("Retard signalé à la coordination"),
    "release_task": gettext_lazy("Tâche libérée"),
    "add_tranche": gettext_lazy("Versement prévu"),
    "receive_tranche": gettext_lazy("Versement reçu"),
    # Events of the programme itself (audit-trail export).
    "create_meeting": gettext_lazy("Séance convoquée"),
    "record_meeting": gettext_lazy("Registre de séance (présences et décisions)"),
    "apply_meeting_decisions": gettext_lazy("Décisions de la séance appliquées"),
    "import_workbook": gettext_lazy("Import d'un classeur"),
}


FUNDING_TYPE = FundingRequest._meta.label_lower
FUNDING_EVENT_LABELS = {
    "create_funding_request": gettext_lazy("Nouvelle demande de financement"),
    **{
        name: services.transition_label(FundingRequest, name) for name in FundingRequest.TRANSITIONS
    },
}
FUNDING_STATE_LABELS = dict(FundingRequest.State.choices)
ACTION_STATE_LABELS = dict(ActionState.choices)


def version_token(action: Action) -> str:
    return f"{action.state}@{action.updated_at.isoformat()}"


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


TASK_LIST_SIZE = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    programmes = list(visible_programmes(request.user).order_by("name"))
    counts = {
        (row["programme_id"], row["state"]): row["n"]
        for row in Action.objects.filter(programme__in=programmes)
        .values("programme_id", "state")
        .annotate(n=Count("id"))
    }
    rows = [
        {
            "programme": p,
            "states": [
                (value, label, counts.get((p.pk, value), 0)) for value, label in ActionState.choices
            ],
            "total": sum(counts.get((p.pk, value), 0) for value in ActionState.values),
        }
        for p in programmes
    ]
    queue = flows.task_queue(request.user)
    return render(
        request,
        "coordo/home.html",
        {
            "rows": rows,
            "my_tasks": flows.task_rows(
                flows.ordered_tasks(queue.filter(owner=request.user))[:TASK_LIST_SIZE]
            ),
            # Held by nobody or by a colleague: the user's roles can take them (over).
            "open_tasks": flows.task_rows(
                flows.ordered_tasks(queue.exclude(owner=request.user))[:TASK_LIST_SIZE]
            ),
            "open_count": queue.exclude(owner=request.user).count(),
            "escalated": flows.task_rows(
                flows.ordered_tasks(flows.escalated_tasks(request.user))[:TASK_LIST_SIZE]
            ),
        },
    )


@login_required
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_list(request, get_visible_programme(request.user, pk))


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    """Every fiche of the user's programmes; ``?dispositif=`` narrows to one."""
    programme_id = request.GET.get("dispositif", "")
    if programme_id.isdigit():
        return _action_list(request, get_visible_programme(request.user, int(programme_id)))
    return _action_list(request, None)


def _action_list(request: HttpRequest, programme) -> HttpResponse:
    """Fiches filtered and searched (the query count does not depend on the rows)."""
    params = request.GET
    actions = (programme.actions if programme else visible_actions(request.user)).select_related(
        "programme", "lead_organisation", "objective"
    )
    if params.get("etat") in ActionState.values:
        actions = actions.filter(state=params["etat"])
    for param, column in (
        ("axe", "objective__axis_id"),
        ("objectif", "objective_id"),
        ("porteur", "lead_organisation_id"),
        ("annee", "planned_start__year"),
    ):
        if params.get(param, "").isdigit():
            actions = actions.filter(**{column: int(params[param])})
    if params.get("q", "").strip():
        actions = actions.filter(title__icontains=params["q"].strip())
    if params.get("retard"):
        actions = actions.filter(flows.overdue_actions())
    page = Paginator(actions.order_by("programme_id", "id"), PAGE_SIZE).get_page(params.get("page"))
    scope = programme.actions.all() if programme else visible_actions(request.user)
    roles = roles_in(request.user, programme.pk) if programme else set()
    return render(
        request,
        "coordo/programme.html",
        {
            "programme": programme,
            "programmes": None if programme else visible_programmes(request.user).order_by("name"),
            "page": page,
            "params": params,
            "query": _without_page(params),
            "states": ActionState.choices,
            "axes": programme.axes.prefetch_related("objectives").order_by("number")
            if programme
            else [],
            "leads": Organisation.objects.filter(led_actions__in=scope).distinct().order_by("name"),
            "years": scope.exclude(planned_start=None)
            .dates("planned_start", "year")
            .order_by("-planned_start__year"),
            "can_propose": Role.COORDINATOR in roles,
            "can_export_audit": bool(roles & audit_export.EXPORT_ROLES),
            "programme_transitions": _programme_transitions(programme, roles) if programme else [],
        },
    )


def _without_page(params) -> str:
    copy = params.copy()
    copy.pop("page", None)
    return copy.urlencode()


def _transitions_open_to(user, action: Action) -> list[dict]:
    roles = roles_for(user, programme_id=action.programme_id, scopes=action_scopes(action))
    open_ = []
    for name in Action.TRANSITIONS:
        transition = getattr(Action, name)._descriptor.get_transition(action.state)
        if transition and roles & transition.custom["roles"]:
            open_.append(
                {
                    "name": name,
                    "label": transition.label,
                    "reason_required": transition.custom.get("reason_required", False),
                    "preparer_blocked": transition.custom.get("preparer_excluded", False)
                    and action.submitted_by_id == user.pk,
                }
            )
    return open_


@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    roles = roles_for(request.user, programme_id=action.programme_id, scopes=action_scopes(action))
    task = flows.open_task(action)
    stage = flows.stage_of(task) if task else None
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
    ).get_page(request.GET.get("page"))
    for event in events:
        labels = FUNDING_EVENT_LABELS if event.object_type == FUNDING_TYPE else EVENT_LABELS
        states = FUNDING_STATE_LABELS if event.object_type == FUNDING_TYPE else ACTION_STATE_LABELS
        event.label = labels.get(event.event, event.event)
        event.from_label = states.get(event.from_state, event.from_state)
        event.to_label = states.get(event.to_state, event.to_state)
        event.on_part = event.object_type != "projects.action"
    return render(
        request,
        "coordo/action.html",
        {
            "action": action,
            "transitions": _transitions_open_to(request.user, action),
            "version": version_token(action),
            "task": task,
            "task_stage": stage,
            "task_roles": ", ".join(str(Role(r).label) for r in sorted(stage.roles))
            if task
            else "",
            "task_due": flows.due_date(task) if task else None,
            "can_take": bool(task)
            and bool(roles & stage.roles)
            and task.owner_id != request.user.pk,
            "today": timezone.localdate(),
            "can_edit": action.state in EDITABLE_STATES and bool(roles & services.FICHE_EDITORS),
            "can_comment": bool(roles & services.COMMENTERS),
            "can_waive": Role.COPIL in roles
            and action.state in (ActionState.VALIDATED, ActionState.FUNDING),
            "events": events,
            "budget_form": BudgetLineForm(prefix="budget"),
            "indicator_form": IndicatorForm(prefix="indicator"),
            "funding_form": FundingRequestForm(prefix="funding")
            if Role.COORDINATOR in roles
            and action.state in (*EDITABLE_STATES, ActionState.VALIDATED, ActionState.FUNDING)
            else None,
            "snapshots": action.snapshots.select_related("submitted_by").order_by("-version"),
            "budget_lines": action.budget_lines.all(),
            "indicators": action.indicators.all(),
            "funding_requests": action.funding_requests.select_related("funder"),
            "partners": action.partners.all(),
            "evaluation": evaluation_section(action, roles),
        },
    )


@login_required
def action_create(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    if Role.COORDINATOR not in roles_in(request.user, programme.pk):
        raise PermissionDenied(_("Seule la coordination propose des fiches actions."))
    form = FicheForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in Action.FICHE_FIELDS}
        try:
            action = services.create_action(
                programme=programme, actor=request.user, data=data, ip=client_ip(request)
            )
        except services.Refused as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("La fiche action a été créée (brouillon)."))
            return redirect("coordo:action", pk=action.pk)
    return render(
        request,
        "coordo/action_form.html",
        {"form": form, "programme": programme},
        status=_status(form),
    )


@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    roles = roles_for(request.user, programme_id=action.programme_id, scopes=action_scopes(action))
    if not roles & services.FICHE_EDITORS:
        raise PermissionDenied(_("Votre rôle ne permet pas de modifier cette fiche."))
    form = FicheForm(request.POST or None, instance=action, programme=action.programme)
    if action.state not in EDITABLE_STATES:
        messages.error(request, _("Cette fiche n'est plus modifiable dans son état actuel."))
        return redirect("coordo:action", pk=action.pk)
    if request.method == "POST" and form.is_valid():
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
                ip=client_ip(request),
            )
        except services.Refused as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Modifications enregistrées."))
            return redirect("coordo:action", pk=action.pk)
    return render(
        request,
        "coordo/action_form.html",
        {"form": form, "programme": action.programme, "action": action},
        status=_status(form),
    )


def _run_from_page(request: HttpRequest, call, success: str) -> None:
    """Run a service for a form posted from a page: a refusal for the role is a 403 (the
    user may see but not do); any other refusal is shown as a message, nothing changed."""
    try:
        call()
    except services.Refused as exc:
        if exc.rule == "role":
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


def _form_errors(form, exc: services.Refused) -> None:
    if exc.errors:
        for field, errors in exc.errors.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.message)


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _programme_transitions(programme: Programme, roles: set[str]) -> list[dict]:
    """The programme's transitions from its current status that the user's roles allow."""
    open_ = []
    for name in Programme.TRANSITIONS:
        transition = getattr(Programme, name)._descriptor.get_transition(programme.status)
        if transition and roles & transition.custom["roles"]:
            open_.append({"name": name, "label": transition.label})
    return open_


@require_POST
@login_required
def programme_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """The programme's own lifecycle: the coordinator prepares, the COPIL decides."""
    programme = get_visible_programme(request.user, pk)
    if name not in Programme.TRANSITIONS:
        raise Http404(_("Transition inconnue."))
    if request.POST.get("seen_status") != programme.status:
        messages.error(
            request,
            _(
                "Le dispositif a changé d'état depuis l'affichage de la page (état actuel : "
                "« {state} ») : rien n'a été modifié."
            ).format(state=programme.get_status_display()),
        )
        return redirect("coordo:programme", pk=programme.pk)
    _run_from_page(
        request,
        lambda: services.programme_transition(
            programme=programme,
            name=name,
            actor=request.user,
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("« {what} » : fait.").format(what=services.transition_label(Programme, name)),
    )
    return redirect("coordo:programme", pk=programme.pk)


@require_POST
@login_required
def action_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    service = services.ACTION_TRANSITIONS.get(name)
    if service is None:
        raise Http404(_("Transition inconnue."))
    # The version the user saw when deciding: if the fiche moved or changed since, the decision
    # is refused rather than applied to something they have not read.
    seen = request.POST.get("seen_version", "")
    if seen != version_token(action):
        messages.error(
            request,
            _(
                "La fiche a changé depuis l'affichage de la page : votre décision n'a pas été "
                "appliquée. Relisez sa version actuelle avant de décider."
            ),
        )
        return redirect("coordo:action", pk=action.pk)
    _run_from_page(
        request,
        lambda: service(
            action=action,
            actor=request.user,
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("« {what} » : fait.").format(what=services.transition_label(Action, name)),
    )
    return redirect("coordo:action", pk=action.pk)


@require_POST
@login_required
def task_take(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.take_task, _("La tâche est à vous."))


@require_POST
@login_required
def task_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.release_task, _("Tâche libérée pour les autres."))


def _task_action(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    task = Task.objects.filter(
        pk=pk, process__flow_class__in=(flows.ActionFlow, flows.FunderDecisionFlow)
    ).first()
    if task is None:
        raise Http404(_("Tâche introuvable."))
    action = get_visible_action(request.user, flows.action_id_of(task))
    _run_from_page(
        request,
        lambda: service(task_id=task.pk, actor=request.user, ip=client_ip(request)),
        success,
    )
    if flows.is_funder_task(task):
        return redirect("coordo:funding-request", pk=task.process.artifact_object_id)
    return redirect("coordo:action", pk=action.pk)


@login_required
def meeting_list(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    is_coordinator = Role.COORDINATOR in roles_in(request.user, programme.pk)
    form = MeetingForm(request.POST or None)
    if request.method == "POST":
        if not is_coordinator:
            raise PermissionDenied(_("La coordination prépare les séances."))
        if form.is_valid():
            meeting = services.create_meeting(
                programme=programme, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
            messages.success(
                request,
                _("Séance créée ; fiches inscrites à l'ordre du jour : {n}.").format(
                    n=meeting.agenda_items.count()
                ),
            )
            return redirect("coordo:meeting", pk=meeting.pk)
    meetings = programme.meetings.annotate(items=Count("agenda_items")).order_by("-date")
    return render(
        request,
        "coordo/meetings.html",
        {"programme": programme, "meetings": meetings, "form": form, "can_create": is_coordinator},
        status=_status(form),
    )


def _visible_meeting(user, pk: int) -> Meeting:
    meeting = Meeting.objects.select_related("programme", "chair").filter(pk=pk).first()
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    get_visible_programme(user, meeting.programme_id)  # 404 outside the programme
    return meeting


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    editable = not meeting.applied_at and Role.COORDINATOR in roles_in(
        request.user, meeting.programme_id
    )
    errors: dict = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Seule la coordination tient le registre de la séance."))
        items = list(meeting.agenda_items.all())
        try:
            services.record_meeting(
                meeting=meeting,
                actor=request.user,
                chair_id=int(request.POST["chair"]) if request.POST.get("chair") else None,
                attendee_ids=[int(v) for v in request.POST.getlist("attendees") if v.isdigit()],
                other_attendees=request.POST.get("other_attendees", ""),
                notes=request.POST.get("notes", ""),
                decisions={
                    item.pk: (
                        request.POST.get(f"decision_{item.pk}", ""),
                        request.POST.get(f"comment_{item.pk}", ""),
                    )
                    for item in items
                },
                ip=client_ip(request),
            )
            if "apply" in request.POST:
                services.apply_meeting_decisions(
                    meeting=meeting, actor=request.user, ip=client_ip(request)
                )
                messages.success(request, _("Les décisions de la séance ont été appliquées."))
            else:
                messages.success(request, _("Registre de séance enregistré."))
            return redirect("coordo:meeting", pk=meeting.pk)
        except services.Refused as exc:
            errors = exc.errors
            messages.error(request, exc.message)
            meeting = _visible_meeting(request.user, pk)
    items = meeting.agenda_items.select_related("action", "action__lead_organisation")
    members = (
        get_user_model()
        .objects.filter(memberships__programme_id=meeting.programme_id, memberships__is_active=True)
        .distinct()
        .order_by("last_name", "first_name")
    )
    copil_ids = set(
        meeting.programme.memberships.filter(role=Role.COPIL, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    return render(
        request,
        "coordo/meeting.html",
        {
            "meeting": meeting,
            "items": items,
            "members": members,
            "copil_members": [m for m in members if m.pk in copil_ids],
            "present": set(meeting.attendees.values_list("pk", flat=True)),
            "editable": editable,
            "errors": errors,
            "error_item": int(errors["item"][0]) if errors.get("item") else None,
            "state_labels": dict(ActionState.choices),
        },
        status=400 if errors else 200,
    )


@login_required
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    present = set(meeting.attendees.values_list("pk", flat=True))
    members = (
        meeting.programme.memberships.filter(
            is_active=True, role__in=[Role.COPIL, Role.COORDINATOR]
        )
        .select_related("user", "organisation")
        .order_by("user__last_name")
    )
    return render(
        request,
        "coordo/minutes.html",
        {
            "meeting": meeting,
            "items": meeting.agenda_items.select_related("action"),
            "present_users": meeting.attendees.order_by("last_name"),
            "absent": [m for m in members if m.user_id not in present],
            "state_labels": dict(ActionState.choices),
        },
    )


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
        _form_messages(request, form)
        return redirect("coordo:action", pk=action.pk)
    _run_from_page(
        request,
        lambda: service(
            action=action, actor=request.user, ip=client_ip(request), **form.cleaned_data
        ),
        done,
    )
    return redirect("coordo:action", pk=action.pk)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Every task the user's roles can take, soonest due first, paginated."""
    queue = flows.task_queue(request.user)
    if request.GET.get("retard"):
        queue = queue.filter(data__due__lt=timezone.localdate().isoformat())
    page = Paginator(flows.ordered_tasks(queue), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "coordo/inbox.html",
        {"page": page, "rows": flows.task_rows(page.object_list), "params": request.GET},
    )


@require_POST
@login_required
def action_comment(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    _run_from_page(
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


@login_required
def snapshot_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two versions of the fiche sent to the COPIL."""
    action = get_visible_action(request.user, pk)
    snapshots = {s.version: s for s in action.snapshots.select_related("submitted_by")}
    if len(snapshots) < 2:
        raise Http404(_("Il faut au moins deux versions soumises au COPIL pour les comparer."))
    latest = max(snapshots)
    try:
        old = snapshots[int(request.GET.get("de", latest - 1))]
        new = snapshots[int(request.GET.get("a", latest))]
    except (KeyError, ValueError) as exc:
        raise Http404(_("Version inconnue.")) from exc
    fields = sorted(set(old.data["fiche"]) | set(new.data["fiche"]))
    fiche = [
        (name, old.data["fiche"].get(name), new.data["fiche"].get(name))
        for name in fields
        if old.data["fiche"].get(name) != new.data["fiche"].get(name)
    ]
    parts = [
        (label, old.data.get(key, []), new.data.get(key, []))
        for key, label in (("budget", "Budget prévisionnel"), ("indicateurs", "Indicateurs"))
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


def _funding_requests(request: HttpRequest, programme) -> QuerySet:
    """The programme's funding requests, filtered by year, funder and state."""
    requests = FundingRequest.objects.filter(action__programme=programme)
    params = request.GET
    if params.get("annee", "").isdigit():
        requests = requests.filter(year=int(params["annee"]))
    if params.get("financeur", "").isdigit():
        requests = requests.filter(funder_id=int(params["financeur"]))
    if params.get("etat") in FundingRequest.State.values:
        requests = requests.filter(state=params["etat"])
    return requests


@login_required
def funding(request: HttpRequest, pk: int) -> HttpResponse:
    """Funding follow-up of a programme: requests with their amounts, and the workbook."""
    programme = get_visible_programme(request.user, pk)
    requests = _funding_requests(request, programme)
    page = Paginator(
        requests.select_related("action", "funder")
        .annotate(decision_due=flows.decision_due())
        .order_by("action__title", "year", "pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    for r in page:
        r.decision_due = datetime.date.fromisoformat(r.decision_due) if r.decision_due else None
    totals = requests.aggregate(requested=Sum("requested_amount"), granted=Sum("granted_amount"))
    all_requests = FundingRequest.objects.filter(action__programme=programme)
    return render(
        request,
        "coordo/funding.html",
        {
            "programme": programme,
            "page": page,
            "totals": totals,
            "params": request.GET,
            "query": _without_page(request.GET),
            "funders": Organisation.objects.filter(funding_requests__in=all_requests)
            .distinct()
            .order_by("name"),
            "years": all_requests.order_by("-year").values_list("year", flat=True).distinct(),
            "states": FundingRequest.State.choices,
            "can_import": Role.COORDINATOR in roles_in(request.user, programme.pk),
            "today": timezone.localdate(),
        },
    )


@login_required
def funding_export(request: HttpRequest, pk: int) -> FileResponse:
    """The funding follow-up workbook, written to a spooled temporary file and streamed."""
    programme = get_visible_programme(request.user, pk)
    requests = _funding_requests(request, programme)
    budget_lines = BudgetLine.objects.filter(action__programme=programme)
    if request.GET.get("annee", "").isdigit():
        budget_lines = budget_lines.filter(year=int(request.GET["annee"]))
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_funding_workbook(requests=requests, budget_lines=budget_lines, out=out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=export_filename(programme.name, timezone.localdate()),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class _CommentForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Motif / commentaire"), required=False)


FUNDING_FORMS = {"grant": DecisionForm, "refuse": RefusalForm, "sign_agreement": AgreementForm}


def _visible_request(user, pk: int) -> FundingRequest:
    found = FundingRequest.objects.select_related("action__programme", "funder").filter(pk=pk)
    funding_request = found.first()
    if funding_request is None:
        raise Http404(_("Demande de financement introuvable."))
    get_visible_action(user, funding_request.action_id)  # 404 outside the programme
    return funding_request


def _request_roles(user, funding_request: FundingRequest) -> set[str]:
    scopes = action_scopes(funding_request.action) | {Role.FUNDER: funding_request.funder_id}
    return roles_for(user, programme_id=funding_request.action.programme_id, scopes=scopes)


@login_required
def funding_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    roles = _request_roles(request.user, funding_request)
    transitions = []
    for name in FundingRequest.TRANSITIONS:
        transition = getattr(FundingRequest, name)._descriptor.get_transition(funding_request.state)
        on_behalf = name in ("grant", "refuse") and Role.FUNDER not in roles
        if transition and (
            roles & transition.custom["roles"] or (on_behalf and Role.COORDINATOR in roles)
        ):
            transitions.append(
                {
                    "name": name,
                    "label": transition.label,
                    "form": FUNDING_FORMS.get(name, _CommentForm)(prefix=name),
                    "on_behalf": on_behalf,
                }
            )
    can_plan = bool(roles & {Role.COORDINATOR, Role.FUNDER})
    task = flows.funder_task(funding_request)
    return render(
        request,
        "coordo/funding_request.html",
        {
            "funding_request": funding_request,
            "task": task,
            "task_due": flows.due_date(task) if task else None,
            "can_take": bool(task) and Role.FUNDER in roles and task.owner_id != request.user.pk,
            "tranches": funding_request.tranches.all(),
            "transitions": transitions,
            "can_plan": can_plan and funding_request.state in FundingRequest.GRANTED_STATES,
            "can_receive": can_plan,
            "tranche_form": TrancheForm(prefix="tranche"),
            "receipt_form": ReceiptForm(prefix="receipt"),
            "today": timezone.localdate(),
        },
    )


def _form_messages(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label} : {' '.join(errors)}" if label else " ".join(errors))


@require_POST
@login_required
def funding_request_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    if name not in FundingRequest.TRANSITIONS:
        raise Http404(_("Transition inconnue."))
    form = FUNDING_FORMS.get(name, _CommentForm)(request.POST, request.FILES, prefix=name)
    back = redirect("coordo:funding-request", pk=funding_request.pk)
    if not form.is_valid():
        _form_messages(request, form)
        return back
    data = form.cleaned_data
    kwargs: dict = {}
    if name == "grant":
        kwargs = {
            "amount": data["amount"],
            "decision_date": data["decision_date"],
            "reference": data["reference"],
            "confirm_over_request": data["confirm_over_request"],
        }
    elif name == "refuse":
        kwargs = {"decision_date": data["decision_date"], "reference": data["reference"]}
    elif name == "sign_agreement":
        kwargs = {"reference": data["reference"], "date": data["date"]}
    _run_from_page(
        request,
        lambda: services.funding_transition(
            request=funding_request,
            name=name,
            actor=request.user,
            comment=data.get("comment", ""),
            decision_letter=data.get("decision_letter"),
            ip=client_ip(request),
            **kwargs,
        ),
        _("« {what} » : fait.").format(what=services.transition_label(FundingRequest, name)),
    )
    return back


@require_POST
@login_required
def tranche_add(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    form = TrancheForm(request.POST, prefix="tranche")
    if form.is_valid():
        _run_from_page(
            request,
            lambda: services.add_tranche(
                request=funding_request,
                actor=request.user,
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Versement prévu."),
        )
    else:
        _form_messages(request, form)
    return redirect("coordo:funding-request", pk=funding_request.pk)


@require_POST
@login_required
def tranche_receive(request: HttpRequest, pk: int) -> HttpResponse:
    tranche = Tranche.objects.filter(pk=pk).first()
    if tranche is None:
        raise Http404(_("Versement introuvable."))
    funding_request = _visible_request(request.user, tranche.request_id)
    form = ReceiptForm(request.POST, prefix="receipt")
    if form.is_valid():
        _run_from_page(
            request,
            lambda: services.record_tranche_receipt(
                tranche=tranche, actor=request.user, ip=client_ip(request), **form.cleaned_data
            ),
            _("Versement reçu enregistré."),
        )
    else:
        _form_messages(request, form)
    return redirect("coordo:funding-request", pk=funding_request.pk)


@require_POST
@login_required
def funding_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    form = FundingRequestForm(request.POST, prefix="funding")
    if form.is_valid():
        data = form.cleaned_data
        _run_from_page(
            request,
            lambda: services.create_funding_request(
                action=action,
                actor=request.user,
                funder_id=data["funder"].pk,
                scheme=data["scheme"],
                year=data["year"],
                requested_amount=data["requested_amount"],
                ip=client_ip(request),
            ),
            _("Demande de financement ajoutée."),
        )
    else:
        _form_messages(request, form)
    return redirect("coordo:action", pk=action.pk)


@require_POST
@login_required
def action_waiver(request: HttpRequest, pk: int) -> HttpResponse:
    """The COPIL allows implementation without complete funding, with its reason."""
    action = get_visible_action(request.user, pk)
    _run_from_page(
        request,
        lambda: services.record_funding_waiver(
            action=action,
            actor=request.user,
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("Dérogation du COPIL enregistrée."),
    )
    return redirect("coordo:action", pk=action.pk)
