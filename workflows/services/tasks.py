"""Taking and releasing a task: the decision a stage waits for, shown as held by someone."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit import chain
from projects.models import Action

from .. import flows, queues
from .runner import Refused, lock, role_refusal


def _locked_task(task_id: int, actor) -> tuple[Task, Action]:
    task = Task.objects.select_for_update().get(pk=task_id)
    action = lock(Action(pk=flows.action_id_of(task)))
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED):
        raise Refused("already_moved", _("Cette tâche est déjà terminée."))
    if not queues.task_queue(actor).filter(pk=task.pk).exists():
        stage = flows.stage_of(task)
        raise role_refusal(stage.label, stage.roles, set())
    return task, action


@transaction.atomic
def take_task(*, task_id: int, actor, ip: str | None = None) -> Task:
    """The actor takes the task: it appears as theirs, the others see who holds it."""
    task, action = _locked_task(task_id, actor)
    if task.owner_id == actor.pk:
        return task
    previous = task.owner
    flows.assign(task, actor)
    chain.record(
        programme_id=action.programme_id,
        actor=actor,
        obj=action,
        event="take_task",
        changes={"task_owner": [chain.person(previous), chain.person(actor)]},
        comment=flows.stage_of(task).label,
        ip=ip,
    )
    return task


@transaction.atomic
def release_task(*, task_id: int, actor, ip: str | None = None) -> Task:
    task, action = _locked_task(task_id, actor)
    if task.owner_id != actor.pk:
        raise Refused("role", _("Seule la personne qui a pris la tâche peut la libérer."))
    flows.unassign(task)
    chain.record(
        programme_id=action.programme_id,
        actor=actor,
        obj=action,
        event="release_task",
        changes={"task_owner": [chain.person(actor), None]},
        comment=flows.stage_of(task).label,
        ip=ip,
    )
    return task
