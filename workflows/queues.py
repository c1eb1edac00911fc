"""Who sees which task: the queue of a member (from memberships, never django permissions),
the late tasks signalled to the coordination, the open task of a fiche or of a request.

viewflow 2.4's own queue understands object-level permissions only through django-guardian
(viewflow issue #505): Coordo computes queues from memberships, so that a member of programme
A never sees programme B's tasks and a funder only the decisions asked of its organisation.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS

from contracts.models import Signature
from funding.models import FundingRequest
from projects.models import Action, Membership, Opinion, Role
from projects.permissions import actions_where

from . import flows


def _decidable_requests(user) -> QuerySet[FundingRequest]:
    """Requests addressed to an organisation for which the user is funder in the programme."""
    return FundingRequest.objects.filter(
        Exists(
            Membership.objects.active().filter(
                user=user,
                role=Role.FUNDER,
                programme_id=OuterRef("action__programme_id"),
                organisation_id=OuterRef("funder_id"),
            )
        )
    )


def task_queue(user) -> QuerySet[Task]:
    """Open tasks of the fiches for which the user holds the stage's role (memberships, not
    django permissions): a COPIL member of programme A never sees programme B's tasks, a funder
    only the decisions asked of their own organisation."""
    nodes_by_roles: dict[frozenset[str], list] = {}
    for name, stage in flows.STAGES.items():
        nodes_by_roles.setdefault(stage.roles, []).append(getattr(flows.ActionFlow, name))
    # (the nodes, what their processes follow): one entry per set of roles, not per stage.
    followed = [
        (nodes, flows.action_type(), actions_where(user, roles))
        for roles, nodes in nodes_by_roles.items()
    ]
    if user.is_authenticated:
        followed += [
            # A funder's decision asked of an organisation the user decides for.
            ([flows.FunderDecisionFlow.decide], flows.request_type(), _decidable_requests(user)),
            # A COTECH member's own opinion, while they are a COTECH member of its programme.
            (
                [flows.OpinionFlow.give],
                flows.opinion_type(),
                Opinion.objects.filter(member=user, action__in=actions_where(user, {Role.COTECH})),
            ),
            # A signature asked of an organisation the user signs for, with its role.
            ([flows.SigningFlow.sign], flows.signature_type(), _signable(user)),
        ]
    # Each process once, with every node the user may hold in it (a coordinator's fiche is in
    # two entries): one list of ids per set of nodes.
    nodes_of: dict[int, set] = defaultdict(set)
    processes = _processes([(kind, artifacts) for _nodes, kind, artifacts in followed])
    for (nodes, _kind, _artifacts), ids in zip(followed, processes, strict=True):
        for pk in ids:
            nodes_of[pk].update(nodes)
    ids_by_nodes: dict[frozenset, list[int]] = defaultdict(list)
    for pk, nodes in nodes_of.items():
        ids_by_nodes[frozenset(nodes)].append(pk)
    condition = Q()
    for nodes, ids in ids_by_nodes.items():
        condition |= Q(flow_task__in=nodes, process_id__in=ids)
    if not condition:
        return Task.objects.none()
    return Task.objects.filter(condition, status__in=flows.OPEN)


def _processes(followed: list[tuple]) -> list[list[int]]:
    """The ids of the processes following each (artifact type, artifacts) of ``followed``, in
    its order, read first and in one query: the task query then names them (the planner
    cannot foresee how few they are, and would read every open task of the region to join
    them) instead of running each condition again inside it."""
    first, *rest = [
        Process.objects.filter(
            artifact_content_type=kind,
            artifact_object_id__in=artifacts.values("pk"),
            status=PROCESS.NEW,  # running: a done or cancelled process has no open task
        )
        .order_by()
        .values_list("pk", Value(rank))
        for rank, (kind, artifacts) in enumerate(followed)
    ]
    processes: list[list[int]] = [[] for _ in followed]
    for pk, rank in first.union(*rest, all=True):
        processes[rank].append(pk)
    return processes


def _signable(user) -> QuerySet[Signature]:
    """The pending signatures the user may give: their active memberships whose role and
    organisation are those a round asks of, in the round's programme."""
    held = Membership.objects.active().filter(
        user=user,
        programme_id=OuterRef("signing__programme_id"),
        role=OuterRef("role"),
        organisation_id=OuterRef("organisation_id"),
    )
    return Signature.objects.filter(Exists(held), state=Signature.State.PENDING)


def escalated_tasks(user) -> QuerySet[Task]:
    """Overdue tasks (fiche stages, funders' decisions, opinions, signatures) signalled to the
    user as coordinator of their programmes."""
    coordinated = actions_where(user, {Role.COORDINATOR})
    signatures = Signature.objects.filter(
        signing__programme__memberships__in=Membership.objects.active().filter(
            user=user, role=Role.COORDINATOR
        )
    )
    followed = [
        (flows.action_type(), coordinated),
        (flows.request_type(), FundingRequest.objects.filter(action__in=coordinated)),
        (flows.opinion_type(), Opinion.objects.filter(action__in=coordinated)),
        (flows.signature_type(), signatures),
    ]
    return Task.objects.filter(
        process_id__in=[pk for ids in _processes(followed) for pk in ids],
        status__in=flows.OPEN,
        flow_task_type="HUMAN",
        data__has_key="escalated",
    )


def open_task(action: Action) -> Task | None:
    return (
        Task.objects.filter(
            process__flow_class=flows.ActionFlow,
            process__artifact_content_type=flows.action_type(),
            process__artifact_object_id=action.pk,
            status__in=flows.OPEN,
            flow_task_type="HUMAN",
        )
        .select_related("owner")
        .first()
    )


def opinion_task(opinion: Opinion) -> Task | None:
    return flows.open_opinion_tasks(process__artifact_object_id=opinion.pk).first()


def funder_task(request: FundingRequest) -> Task | None:
    return (
        flows.open_funder_tasks(process__artifact_object_id=request.pk)
        .select_related("owner")
        .first()
    )


def decision_due() -> Subquery:
    """Annotation for FundingRequest: due date (ISO text) of its funder's open decision task."""
    return Subquery(
        flows.open_funder_tasks(process__artifact_object_id=OuterRef("pk")).values("data__due")[:1]
    )


def overdue_actions() -> Exists:
    """Condition on Action: its open task is past its due date."""
    return Exists(
        Task.objects.filter(
            process__flow_class=flows.ActionFlow,
            # With the content type, the join uses the processes' artifact index: without it
            # every open task is read once per fiche (15 s on a region of 200 programmes).
            process__artifact_content_type=flows.action_type(),
            process__artifact_object_id=OuterRef("pk"),
            status__in=flows.OPEN,
            data__due__lt=timezone.localdate().isoformat(),
        )
    )
