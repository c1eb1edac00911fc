"""Task lists as pages show them: soonest due first, each task with its fiche, its stage and,
for a funder's decision, its request (a constant number of queries per page)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, When
from django.utils import timezone
from viewflow.workflow.models import Task

from contracts.models import Signature
from funding.models import FundingRequest
from projects.models import Action, Opinion
from workflows import flows


@dataclass(frozen=True)
class TaskRow:
    task: Task
    action: Action | None  # None for a signature of the contract or of an amendment
    stage: flows.Stage
    due: datetime.date | None
    request: FundingRequest | None = None  # for a funder's decision
    signature: Signature | None = None  # for a signature

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()

    @property
    def programme(self):
        return self.signature.signing.programme if self.signature else self.action.programme


def ordered_tasks(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Soonest due first, with what ``task_rows`` needs."""
    artifact = OuterRef("process__artifact_object_id")
    request_action = FundingRequest.objects.filter(pk=artifact).values("action_id")[:1]
    opinion_action = Opinion.objects.filter(pk=artifact).values("action_id")[:1]
    agreement_action = Signature.objects.filter(pk=artifact).values(
        "signing__funding_request__action_id"
    )[:1]
    return (
        tasks.select_related("owner")
        .annotate(
            artifact_id=F("process__artifact_object_id"),
            action_id=Case(
                When(flow_task=flows.FunderDecisionFlow.decide, then=Subquery(request_action)),
                When(flow_task=flows.OpinionFlow.give, then=Subquery(opinion_action)),
                When(flow_task=flows.SigningFlow.sign, then=Subquery(agreement_action)),
                default=F("process__artifact_object_id"),
                output_field=IntegerField(),
            ),
        )
        .order_by("data__due", "pk")
    )


def ordered_ids(tasks: QuerySet[Task]) -> list[tuple[int, int | None]]:
    """(id, owner's id) of ``tasks``, soonest due first: the queue's conditions run once, in
    one query of small rows, and a page splits or paginates them without running them again."""
    return list(tasks.order_by("data__due", "pk").values_list("pk", "owner_id"))


def rows_for(ids: list[int]) -> list[TaskRow]:
    """Rows for these tasks, soonest due first (three queries at most)."""
    return task_rows(ordered_tasks(Task.objects.filter(pk__in=ids))) if ids else []


def task_rows(tasks) -> list[TaskRow]:
    """Rows for a page of ``ordered_tasks`` (one more query for the fiches, and one for the
    requests if a funder's decision is among them, whatever the number of tasks)."""
    tasks = list(tasks)
    actions = Action.objects.select_related("programme").in_bulk(
        [t.action_id for t in tasks if t.action_id]
    )
    request_ids = [t.artifact_id for t in tasks if flows.is_funder_task(t)]
    requests = (
        FundingRequest.objects.select_related("funder").in_bulk(request_ids) if request_ids else {}
    )
    signature_ids = [t.artifact_id for t in tasks if t.flow_task == flows.SigningFlow.sign]
    signatures = (
        Signature.objects.select_related(
            "organisation", "signing__programme", "signing__amendment"
        ).in_bulk(signature_ids)
        if signature_ids
        else {}
    )
    return [
        TaskRow(
            t,
            actions.get(t.action_id),
            flows.stage_of(t),
            flows.due_date(t),
            requests.get(t.artifact_id) if flows.is_funder_task(t) else None,
            signatures.get(t.artifact_id) if t.flow_task == flows.SigningFlow.sign else None,
        )
        for t in tasks
        if t.action_id in actions or t.artifact_id in signatures
    ]
