"""Who sees which task: the queue of a member (from memberships, never django permissions),
the late tasks signalled to the coordination, the open task of a fiche or of a request.

viewflow 2.4's own queue understands object-level permissions only through django-guardian
(viewflow issue #505): Coordo computes queues from memberships, so that a member of programme
A never sees programme B's tasks and a funder only the decisions asked of its organisation.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from viewflow.workflow.models import Task
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
    if not user.is_authenticated:
        return Task.objects.none()
    nodes_by_roles: dict[frozenset[str], list] = {}
    for name, stage in flows.STAGES.items():
        nodes_by_roles.setdefault(stage.roles, []).append(getattr(flows.ActionFlow, name))
    return _open_tasks(
        [
            # One entry per set of roles, not per stage.
            *(
                (nodes, flows.action_type(), actions_where(user, roles))
                for roles, nodes in nodes_by_roles.items()
            ),
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
    )


def _open_tasks(followed: list[tuple]) -> QuerySet[Task]:
    """The open tasks at one of the ``nodes`` (None: any) of a running process that follows
    one of the ``artifacts``, for each (nodes, artifact type, artifacts) of ``followed``. One
    query, a union of one join per entry, each read from the user's artifacts through the
    processes' artifact index: linear in what the user may see, never in the region's open
    tasks (the planner cannot foresee how few a condition on all of them would keep)."""
    first, *rest = [
        Task.objects.filter(
            status__in=flows.OPEN,
            process__status=PROCESS.NEW,  # running: a done or cancelled one has no open task
            process__artifact_content_type=kind,
            process__artifact_object_id__in=artifacts.values("pk"),
            **({"flow_task__in": nodes} if nodes else {}),
        )
        .order_by()
        .values("pk")
        for nodes, kind, artifacts in followed
    ]
    return Task.objects.filter(pk__in=first.union(*rest, all=True))


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
    return _open_tasks(
        [
            (None, flows.action_type(), coordinated),
            (None, flows.request_type(), FundingRequest.objects.filter(action__in=coordinated)),
            (None, flows.opinion_type(), Opinion.objects.filter(action__in=coordinated)),
            (None, flows.signature_type(), signatures),
        ]
    ).filter(flow_task_type="HUMAN", data__has_key="escalated")


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
