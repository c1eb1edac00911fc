"""The action's lifecycle as a viewflow process: each decision waiting on a role is a task.

The state machine decides; the flow follows. One process per fiche action (its artifact).
The flow is built from the lifecycle declared on ``Action``: one human task per state that
waits for a decision (the node is named after the state), offered to the roles of the
transitions it waits for. A ``Switch`` routes to the task of the fiche's current state; when a
transition service moves the fiche, ``advance`` (called in the service's transaction) has the
actor complete the open task and routes again — or, for a way out the stage does not wait for
(abandoning), cancels the process. Nothing here changes a state.

A second, smaller process follows each funding request that waits for its funder's decision
(``FunderDecisionFlow``): one process per request, so the funders decide in parallel and one
funder's delay blocks nobody else. ``sync_funder_tasks`` opens and closes these tasks to match
the states of the fiche and of its requests.

Tasks carry no django permission (``owner_permission`` stays empty) and viewflow's own task
lists are not mounted: viewflow 2.4's queue understands object-level permissions only through
django-guardian. Who sees and takes a task is decided from memberships by ``task_queue``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.nodes import TimerBoundary
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from audit import chain
from contracts.models import Signature, Signing
from funding.models import FundingRequest
from projects import lifecycle
from projects.models import Action, ActionState, Opinion, Role

from . import notices

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


@dataclass(frozen=True)
class Stage:
    """A state of the fiche that waits for a decision, and who takes it (all derived from the
    lifecycle declared on ``Action``)."""

    state: str
    label: object  # translatable (lazy) title of the task
    roles: frozenset[str]
    transitions: tuple[str, ...]


def _title(steps: list[lifecycle.Step]) -> str:
    """« Valider, demander des modifications ou rejeter »: the decisions awaited, as one task."""
    labels = [str(s.label) for s in steps]
    if len(labels) == 1:
        return labels[0]
    rest = [label[:1].lower() + label[1:] for label in labels[1:]]
    return gettext("{first} ou {last}").format(
        first=", ".join([labels[0], *rest[:-1]]), last=rest[-1]
    )


def _stage(model, state: str, title=None) -> Stage:
    steps = lifecycle.awaited(model, state)
    return Stage(
        state,
        title or lazy(_title, str)(steps),
        lifecycle.task_roles(model, state),
        tuple(s.name for s in steps),
    )


# One task per state that waits for a decision; the node of the flow is named after the state.
STAGES = {state: _stage(Action, state) for state in lifecycle.task_states(Action)}


def _in_state(state: str):
    def condition(activation) -> bool:
        return (
            Action.objects.filter(pk=activation.process.artifact_object_id)
            .values_list("state", flat=True)
            .get()
            == state
        )

    condition.__name__ = f"in_{state}"
    return condition


def _router() -> flow.Switch:
    switch = flow.Switch()
    for state in STAGES:
        switch = switch.Case(getattr(this, state), _in_state(state))
    return switch.Default(this.end)  # rejected, closed, abandoned


def _stage_task(state: str) -> flow.View:
    return (
        flow.View(this.open_action)
        .Annotation(title=STAGES[state].label)
        .onCreate(this.set_due_date)
        .Next(this.route)
    )


def _late(name: str) -> TimerBoundary:
    """Fires the day after the stage task's due date if it is still open; the task stays
    where it is (non-interrupting) and the coordinator is alerted."""
    return TimerBoundary(getattr(this, name), this.escalation_moment, interrupting=False).Next(
        this.escalate
    )


class _FollowsObject:
    """A process that follows one object (its artifact: a fiche, a funding request).

    Each human task is due ``task_due_days`` after it opens; the day after, if still open,
    a non-interrupting timer marks it escalated and writes it to the audit trail (the
    coordinators see it on their home page). Flows say how many days (``due_days``) and what
    the late task is about (``late_subject``)."""

    def start_process(self, activation, obj):
        activation.process.artifact = obj
        return activation.process

    def set_due_date(self, activation) -> None:
        """The task's due date, and the notification of whoever takes it."""
        days = self.due_days(activation.process.artifact_object_id)
        due = timezone.localdate() + datetime.timedelta(days=days)
        activation.task.data = {**activation.task.data, "due": due.isoformat()}
        activation.task.save(update_fields=["data"])
        notices.task_opened(**self.notice(activation.task), due=due)

    def escalation_moment(self, activation) -> datetime.datetime:
        host = activation.task.previous.get()
        due = due_date(host) or timezone.localdate()
        return timezone.make_aware(
            datetime.datetime.combine(due + datetime.timedelta(days=1), datetime.time.min)
        )

    def escalate_to_coordinator(self, activation) -> None:
        host = activation.task.previous.get().previous.get()
        if host.status not in OPEN:
            return
        host.data = {**host.data, "escalated": timezone.localdate().isoformat()}
        host.save(update_fields=["data"])
        notices.task_overdue(**self.notice(host), due=due_date(host), key=f"overdue:{host.pk}")
        with translation.override(settings.LANGUAGE_CODE):  # the trail is in French
            obj, programme_id, label = self.late_subject(host)
        chain.record(
            programme_id=programme_id,
            actor=None,
            obj=obj,
            event="escalate",
            comment=(
                f"« {label} » en retard depuis le {due_date(host):%d/%m/%Y} : "
                "signalé à la coordination."
            ),
        )


class _ActionFlowBase(_FollowsObject):
    process_title = "Cycle de vie d'une fiche action"
    lock_impl = lock.select_for_update_lock

    def due_days(self, artifact_id: int) -> int:
        return (
            Action.objects.filter(pk=artifact_id)
            .values_list("programme__task_due_days", flat=True)
            .get()
        )

    def late_subject(self, host: Task) -> tuple[Action, int, str]:
        action = Action.objects.get(pk=host.process.artifact_object_id)
        return action, action.programme_id, str(STAGES[host.flow_task.name].label)

    def notice(self, task: Task) -> dict:
        """Who takes the task of the fiche's stage, and what it is about."""
        action = Action.objects.select_related("programme").get(pk=task.process.artifact_object_id)
        stage = STAGES[task.flow_task.name]
        return {
            "programme": action.programme,
            "recipients": notices.stage_recipients(action, stage.roles),
            "what": notices.fiche_what(action),
            "label": stage.label,
            "link": reverse("coordo:action", args=[action.pk]),
        }

    def open_action(self, request, **kwargs):
        """Tasks are worked on the fiche's own page."""
        task = Task.objects.get(pk=kwargs["task_pk"])
        return redirect("coordo:action", pk=task.process.artifact_object_id)


def _action_nodes() -> dict:
    """The fiche's flow: a router to the task of the fiche's state, each task with its
    deadline timer, and the escalation of late tasks."""
    nodes = {
        "start": flow.StartHandle(this.start_process).Next(this.route),
        "route": _router(),
        "end": flow.End(),
        "escalate": flow.Function(this.escalate_to_coordinator).Next(this.escalated),
        "escalated": flow.End(),  # ends this branch only: the stage task is still open
    }
    for state in STAGES:
        nodes[state] = _stage_task(state)
        nodes[f"{state}_late"] = _late(state)
    return nodes


# Built from the lifecycle rather than written node by node (viewflow collects the nodes of
# the class at its creation).
ActionFlow = type(
    "ActionFlow",
    (_ActionFlowBase, flow.Flow),
    {"__module__": __name__, "__qualname__": "ActionFlow", **_action_nodes()},
)


FUNDER_STAGE = _stage(FundingRequest, FundingRequest.State.SUBMITTED, _("Décision du financeur"))
# A submitted request waits for its funder's decision as a task once its fiche has opened
# funding (or started without it, on a COPIL waiver), until the fiche ends.
FUNDER_TASK_STATES = (ActionState.FUNDING, ActionState.IMPLEMENTATION, ActionState.EVALUATION)


class FunderDecisionFlow(_FollowsObject, flow.Flow):
    process_title = "Décision d'un financeur sur une demande"
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.decide)
    decide = (
        flow.View(this.open_request)
        .Annotation(title=FUNDER_STAGE.label)
        .onCreate(this.set_due_date)
        .Next(this.end)
    )
    end = flow.End()
    decide_late = _late("decide")
    escalate = flow.Function(this.escalate_to_coordinator).Next(this.escalated)
    escalated = flow.End()  # ends this branch only: the decision is still awaited

    def due_days(self, artifact_id: int) -> int:
        return (
            FundingRequest.objects.filter(pk=artifact_id)
            .values_list("action__programme__task_due_days", flat=True)
            .get()
        )

    def late_subject(self, host: Task) -> tuple[FundingRequest, int, str]:
        request = FundingRequest.objects.select_related("action", "funder").get(
            pk=host.process.artifact_object_id
        )
        return request, request.action.programme_id, f"{FUNDER_STAGE.label} — {request.funder}"

    def notice(self, task: Task) -> dict:
        request = FundingRequest.objects.select_related("action__programme", "funder").get(
            pk=task.process.artifact_object_id
        )
        return {
            "programme": request.action.programme,
            "recipients": notices.funder_recipients(request),
            "what": notices.request_what(request),
            "label": FUNDER_STAGE.label,
            "link": reverse("coordo:funding-request", args=[request.pk]),
        }

    def open_request(self, request, **kwargs):
        task = Task.objects.get(pk=kwargs["task_pk"])
        return redirect("coordo:funding-request", pk=task.process.artifact_object_id)


OPINION_STAGE = Stage(
    ActionState.COPIL_REVIEW, _("Avis technique du COTECH"), frozenset({Role.COTECH}), ()
)


class OpinionFlow(_FollowsObject, flow.Flow):
    """One COTECH member's technical opinion on a fiche submitted to the COPIL (one process per
    member and version: the members give theirs in parallel)."""

    process_title = "Avis technique d'un membre du COTECH"
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.give)
    give = (
        flow.View(this.open_opinion)
        .Annotation(title=OPINION_STAGE.label)
        .onCreate(this.set_due_date)
        .Next(this.end)
    )
    end = flow.End()
    give_late = _late("give")
    escalate = flow.Function(this.escalate_to_coordinator).Next(this.escalated)
    escalated = flow.End()  # ends this branch only: the opinion is still awaited

    def due_days(self, artifact_id: int) -> int:
        return (
            Opinion.objects.filter(pk=artifact_id)
            .values_list("action__programme__cotech_days", flat=True)
            .get()
        )

    def late_subject(self, host: Task) -> tuple[Opinion, int, str]:
        opinion = Opinion.objects.select_related("action", "member").get(
            pk=host.process.artifact_object_id
        )
        label = f"{OPINION_STAGE.label} — {chain.actor_label(opinion.member)}"
        return opinion, opinion.action.programme_id, label

    def notice(self, task: Task) -> dict:
        opinion = Opinion.objects.select_related("action__programme").get(
            pk=task.process.artifact_object_id
        )
        return {
            "programme": opinion.action.programme,
            "recipients": notices.opinion_recipients(opinion),
            "what": notices.fiche_what(opinion.action),
            "label": OPINION_STAGE.label,
            "link": reverse("coordo:action", args=[opinion.action_id]),
        }

    def open_opinion(self, request, **kwargs):
        task = Task.objects.get(pk=kwargs["task_pk"])
        opinion = Opinion.objects.get(pk=task.process.artifact_object_id)
        return redirect("coordo:action", pk=opinion.action_id)


def opinion_type() -> ContentType:
    return ContentType.objects.get_for_model(Opinion)


def open_opinion_tasks(**filters) -> QuerySet[Task]:
    return Task.objects.filter(
        process__flow_class=OpinionFlow,
        process__artifact_content_type=opinion_type(),
        flow_task=OpinionFlow.give,
        status__in=OPEN,
        **filters,
    )


def ask_opinions(*, opinions: list[Opinion]) -> None:
    """A task for each COTECH member whose opinion is asked (in the service's transaction)."""
    for opinion in opinions:
        OpinionFlow.start.run(obj=opinion)


def close_opinion_tasks(*, action: Action, actor) -> None:
    """The opinion tasks of the fiche still open: done by the actor for an opinion given,
    cancelled once the fiche has left the COPIL's review (the opinion is no longer awaited)."""
    tasks = open_opinion_tasks(
        process__artifact_object_id__in=action.opinions.values("pk")
    ).select_related("process")
    given = set(action.opinions.exclude(verdict="").values_list("pk", flat=True))
    for task in tasks:
        with OpinionFlow.lock(task.process_id):
            if task.process.artifact_object_id in given:
                _complete(task.flow_task.activation_class(task), actor)
            elif action.state != ActionState.COPIL_REVIEW:
                OpinionFlow.instance.cancel(task.process)


SIGN_STAGE = Stage("awaiting_signatures", _("Signer"), frozenset({Role.SIGNATORY}), ())


class SigningFlow(_FollowsObject, flow.Flow):
    """One organisation's signature in a round (the contract, an amendment, a funding
    agreement): one process per signature, so the organisations sign in parallel, each with
    its own task and deadline; the service joins them (the last signature completes the round).

    viewflow 2.4's ``Split`` has no per-item branches (``data_source`` is documented but not in
    this version), hence one process per signature, as for funders' decisions and opinions."""

    process_title = "Signature d'une organisation"
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.sign)
    sign = (
        flow.View(this.open_signing)
        .Annotation(title=SIGN_STAGE.label)
        .onCreate(this.set_due_date)
        .Next(this.end)
    )
    end = flow.End()
    sign_late = _late("sign")
    escalate = flow.Function(this.escalate_to_coordinator).Next(this.escalated)
    escalated = flow.End()  # ends this branch only: the signature is still awaited

    def due_days(self, artifact_id: int) -> int:
        return (
            Signature.objects.filter(pk=artifact_id)
            .values_list("signing__programme__task_due_days", flat=True)
            .get()
        )

    def _signature(self, task: Task) -> Signature:
        return Signature.objects.select_related(
            "organisation", "signing__programme", "signing__amendment", "signing__funding_request"
        ).get(pk=task.process.artifact_object_id)

    def late_subject(self, host: Task) -> tuple[Signature, int, str]:
        signature = self._signature(host)
        label = f"{SIGN_STAGE.label} — {signature.organisation}"
        return signature, signature.signing.programme_id, label

    def notice(self, task: Task) -> dict:
        signature = self._signature(task)
        signing = signature.signing
        return {
            "programme": signing.programme,
            "recipients": notices.signature_recipients(signature),
            "what": notices.signing_what(signing),
            "label": f"{SIGN_STAGE.label} — {signature.organisation}",
            "link": reverse("coordo:signing", args=[signing.pk]),
        }

    def open_signing(self, request, **kwargs):
        task = Task.objects.get(pk=kwargs["task_pk"])
        signature = Signature.objects.get(pk=task.process.artifact_object_id)
        return redirect("coordo:signing", pk=signature.signing_id)


def signature_type() -> ContentType:
    return ContentType.objects.get_for_model(Signature)


def open_signature_tasks(**filters) -> QuerySet[Task]:
    return Task.objects.filter(
        process__flow_class=SigningFlow,
        process__artifact_content_type=signature_type(),
        flow_task=SigningFlow.sign,
        status__in=OPEN,
        **filters,
    )


def open_signing(*, signing: Signing) -> None:
    """A task per organisation of the round (in the service's transaction)."""
    for signature in signing.signatures.all():
        SigningFlow.start.run(obj=signature)


def close_signature_tasks(*, signing: Signing, actor) -> None:
    """The round's open tasks: done by the actor for a signature given, cancelled for the
    others once the round is over (refused, or a paper agreement recorded instead)."""
    tasks = open_signature_tasks(
        process__artifact_object_id__in=signing.signatures.values("pk")
    ).select_related("process")
    signed = set(signing.signatures.filter(state="signed").values_list("pk", flat=True))
    for task in tasks:
        with SigningFlow.lock(task.process_id):
            if task.process.artifact_object_id in signed:
                _complete(task.flow_task.activation_class(task), actor)
            elif signing.outcome:
                SigningFlow.instance.cancel(task.process)


def request_type() -> ContentType:
    return ContentType.objects.get_for_model(FundingRequest)


def open_funder_tasks(**filters) -> QuerySet[Task]:
    return Task.objects.filter(
        process__flow_class=FunderDecisionFlow,
        process__artifact_content_type=request_type(),
        flow_task=FunderDecisionFlow.decide,
        status__in=OPEN,
        **filters,
    )


def sync_funder_tasks(*, action: Action, actor) -> None:
    """Open a decision task for each submitted request of the fiche that should have one, and
    close those that should not: done by the actor when the request was decided, cancelled
    otherwise (withdrawn, or the fiche left funding). Runs inside the service's transaction."""
    wanted = set()
    if action.state in FUNDER_TASK_STATES:
        wanted = set(
            action.funding_requests.filter(state=FundingRequest.State.SUBMITTED).values_list(
                "pk", flat=True
            )
        )
    open_tasks = {
        t.process.artifact_object_id: t
        for t in open_funder_tasks(
            process__artifact_object_id__in=action.funding_requests.values("pk")
        ).select_related("process")
    }
    for request in FundingRequest.objects.filter(pk__in=wanted - set(open_tasks)):
        FunderDecisionFlow.start.run(obj=request)
    decided = set(
        FundingRequest.objects.filter(pk__in=set(open_tasks) - wanted)
        .exclude(state__in=(*FundingRequest.UNDECIDED_STATES, FundingRequest.State.WITHDRAWN))
        .values_list("pk", flat=True)
    )
    for request_id in set(open_tasks) - wanted:
        task = open_tasks[request_id]
        with FunderDecisionFlow.lock(task.process_id):
            if request_id in decided:
                _complete(task.flow_task.activation_class(task), actor)
            else:
                FunderDecisionFlow.instance.cancel(task.process)


def _complete(activation, actor) -> None:
    """The open task is done, by the actor (whoever held it)."""
    task = activation.task
    if task.status == STATUS.NEW:
        activation.assign(actor)
    elif task.owner_id != actor.pk:
        activation.reassign(actor)
    if task.status == STATUS.ASSIGNED:
        activation.start(None)
    activation.execute()


def action_type() -> ContentType:
    return ContentType.objects.get_for_model(Action)


def process_of(action: Action) -> Process:
    return Process.objects.get(
        flow_class=ActionFlow,
        artifact_content_type=action_type(),
        artifact_object_id=action.pk,
    )


def start(*, action: Action) -> Process:
    """Start the fiche's process (in the transaction that creates the fiche)."""
    return ActionFlow.start.run(obj=action)


def advance(*, action: Action, transition: str, actor) -> None:
    """After ``transition`` moved the fiche: its stage's task is done by the actor and the
    flow routes to the task of the new state; a way out that the stage does not wait for
    (abandoning) cancels the whole process, deadline timers included. Runs inside the
    transition service's transaction, after the fiche row was locked."""
    process = process_of(action)
    if transition not in {s.name for s in lifecycle.steps(Action) if s.awaited}:
        ActionFlow.instance.cancel(process)
        return
    with ActionFlow.lock(process.pk):
        for task in Task.objects.filter(process=process, status__in=OPEN, flow_task_type="HUMAN"):
            _complete(task.flow_task.activation_class(task), actor)


def assign(task: Task, user) -> None:
    """Give the open task to ``user`` (the caller checked who may take it)."""
    with ActionFlow.lock(task.process_id):
        activation = task.flow_task.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(user)
        else:
            activation.reassign(user)


def unassign(task: Task) -> None:
    with ActionFlow.lock(task.process_id):
        task.flow_task.activation_class(task).unassign()


def is_funder_task(task: Task) -> bool:
    return task.flow_task is FunderDecisionFlow.decide


def is_opinion_task(task: Task) -> bool:
    return task.flow_task is OpinionFlow.give


def is_signature_task(task: Task) -> bool:
    return task.flow_task == SigningFlow.sign


def stage_of(task: Task) -> Stage:
    if is_funder_task(task):
        return FUNDER_STAGE
    if is_opinion_task(task):
        return OPINION_STAGE
    if is_signature_task(task):
        return SIGN_STAGE
    return STAGES[task.flow_task.name]


def action_id_of(task: Task) -> int | None:
    """The fiche a task is about (itself, or the fiche of its request or opinion; a funding
    agreement's fiche; None for the contract's or an amendment's signature)."""
    artifact = task.process.artifact_object_id
    if is_signature_task(task):
        return (
            Signature.objects.filter(pk=artifact)
            .values_list("signing__funding_request__action_id", flat=True)
            .get()
        )
    if is_funder_task(task):
        return FundingRequest.objects.filter(pk=artifact).values_list("action_id", flat=True).get()
    if is_opinion_task(task):
        return Opinion.objects.filter(pk=artifact).values_list("action_id", flat=True).get()
    return artifact


def due_date(task: Task) -> datetime.date | None:
    due = (task.data or {}).get("due")
    return datetime.date.fromisoformat(due) if due else None


@dataclass(frozen=True)
class Disagreement:
    action_id: int
    state: str
    expected: str | None
    found: list[str]


def disagreements() -> list[Disagreement]:
    """Every fiche whose open tasks do not match its state (expected: exactly the task of its
    stage; none once the fiche is rejected, closed or abandoned)."""
    open_nodes: dict[int, list[str]] = {}
    for action_id, flow_task in Task.objects.filter(
        process__flow_class=ActionFlow,
        process__artifact_content_type=action_type(),
        status__in=OPEN,
        flow_task_type="HUMAN",
    ).values_list("process__artifact_object_id", "flow_task"):
        open_nodes.setdefault(action_id, []).append(flow_task.name)
    with_process = set(
        Process.objects.filter(
            flow_class=ActionFlow, artifact_content_type=action_type()
        ).values_list("artifact_object_id", flat=True)
    )
    found = []
    for action_id, state in Action.objects.values_list("pk", "state").iterator(chunk_size=5000):
        expected = state if state in STAGES else None
        nodes = open_nodes.get(action_id, [])
        if action_id not in with_process:
            found.append(Disagreement(action_id, state, expected, ["(aucun processus)"]))
        elif nodes != ([expected] if expected else []):
            found.append(Disagreement(action_id, state, expected, nodes))
    return found


def funder_disagreements() -> tuple[list[int], list[int]]:
    """Requests waiting for a decision without their funder's task, and open funder tasks
    whose request no longer waits (ids of the requests)."""
    waiting = set(
        FundingRequest.objects.filter(
            state=FundingRequest.State.SUBMITTED, action__state__in=FUNDER_TASK_STATES
        ).values_list("pk", flat=True)
    )
    with_task = set(open_funder_tasks().values_list("process__artifact_object_id", flat=True))
    return sorted(waiting - with_task), sorted(with_task - waiting)
