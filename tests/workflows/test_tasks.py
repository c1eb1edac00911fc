"""The inbox: who sees which task, taking and releasing, deadlines."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from projects.models import ActionState
from tests.world import action_in, build_world, new_action
from workflows import flows, queues


def test_copil_member_sees_the_decision_in_the_home_inbox(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.copil)
    page = client.get(reverse("coordo:home")).content.decode()
    assert "Valider, demander des modifications ou rejeter" in page
    assert reverse("coordo:action", args=[action.pk]) in page
    client.force_login(world.ars_referent)
    page = client.get(reverse("coordo:home")).content.decode()
    assert reverse("coordo:action", args=[action.pk]) not in page


def test_take_then_release_a_task(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    task = queues.open_task(action)
    client.force_login(world.copil)
    assert client.post(reverse("coordo:task-take", args=[task.pk])).status_code == 302
    assert Task.objects.get(pk=task.pk).owner == world.copil
    taken = AuditEvent.objects.get(event="take_task", object_id=str(action.pk))
    assert (
        taken.actor == world.copil
        and taken.comment == "Valider, demander des modifications ou rejeter"
    )
    # The colleague sees who holds it and may take it over.
    client.force_login(world.copil2)
    home = client.get(reverse("coordo:home")).content.decode()
    assert world.copil.get_full_name() in home
    assert (
        "Prendre la tâche"
        in client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    )
    # Only the holder releases it.
    assert client.post(reverse("coordo:task-release", args=[task.pk])).status_code == 403
    client.force_login(world.copil)
    client.post(reverse("coordo:task-release", args=[task.pk]))
    assert Task.objects.get(pk=task.pk).owner is None
    assert AuditEvent.objects.filter(event="release_task").count() == 1


def test_a_role_that_cannot_decide_cannot_take_and_outsiders_get_404(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    task = queues.open_task(action)
    events = AuditEvent.objects.count()
    client.force_login(world.coordinator)
    assert client.post(reverse("coordo:task-take", args=[task.pk])).status_code == 403
    client.force_login(world.outsider)
    assert client.post(reverse("coordo:task-take", args=[task.pk])).status_code == 404
    assert Task.objects.get(pk=task.pk).owner is None
    assert AuditEvent.objects.count() == events


def test_deciding_a_task_held_by_a_colleague_completes_it_for_the_decider(world):
    from workflows import services

    action = action_in(world, ActionState.COPIL_REVIEW)
    task = queues.open_task(action)
    services.take_task(task_id=task.pk, actor=world.copil)
    services.transition(action, "approve", actor=world.copil2)
    done = Task.objects.get(pk=task.pk)
    assert (done.status, done.owner) == ("DONE", world.copil2)


def test_overdue_tasks_are_marked(client, world):
    action = new_action(world)
    task = queues.open_task(action)
    task.data = {"due": (datetime.date.today() - datetime.timedelta(days=3)).isoformat()}
    task.save(update_fields=["data"])
    client.force_login(world.coordinator)
    assert "en retard" in client.get(reverse("coordo:home")).content.decode()
    assert "en retard" in client.get(reverse("coordo:action", args=[action.pk])).content.decode()


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("coordo:home")).status_code == 200
    return len(ctx.captured_queries)


def test_home_query_count_does_not_grow_with_tasks(client, world):
    other = build_world(prefix="x-")
    client.force_login(world.coordinator)
    new_action(world)
    action_in(other, ActionState.DRAFT)
    few = _home_queries(client)
    for _ in range(40):
        new_action(world)
    action_in(world, ActionState.COPIL_REVIEW)
    assert _home_queries(client) == few


def test_inbox_lists_the_queue_and_its_query_count_does_not_grow(client, world):
    client.force_login(world.coordinator)
    for _ in range(3):
        new_action(world)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("coordo:inbox"))
    assert page.context["page"].paginator.count == 3
    for _ in range(60):
        new_action(world)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("coordo:inbox"))
    assert page.context["page"].paginator.count == 63
    assert len(page.context["rows"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    client.force_login(world.ars_referent)
    assert client.get(reverse("coordo:inbox")).context["page"].paginator.count == 0


def _deadline_timer(task):
    return Task.objects.get(previous=task, flow_task_type="TIMER")


def test_overdue_task_is_escalated_to_the_coordinator_by_workflow_timers(client, world):
    from django.core.management import call_command
    from django.utils import timezone

    action = action_in(world, ActionState.COPIL_REVIEW)
    task = queues.open_task(action)
    timer = _deadline_timer(task)
    assert timer.status == STATUS.SCHEDULED
    assert timezone.localtime(timer.scheduled).date() == flows.due_date(task) + datetime.timedelta(
        days=1
    )
    call_command("workflow_timers")  # not due yet: nothing happens
    assert "escalated" not in Task.objects.get(pk=task.pk).data
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(hours=1))
    call_command("workflow_timers")
    task = Task.objects.get(pk=task.pk)
    assert "escalated" in task.data
    assert task.status == STATUS.NEW  # still the COPIL's to decide
    event = AuditEvent.objects.get(event="escalate", object_id=str(action.pk))
    assert event.actor is None and "Valider, demander des modifications ou rejeter" in event.comment
    assert flows.disagreements() == []
    client.force_login(world.coordinator)
    assert "Retards signalés" in client.get(reverse("coordo:home")).content.decode()
    client.force_login(world.copil)
    assert "Retards signalés" not in client.get(reverse("coordo:home")).content.decode()


def test_a_task_done_in_time_disarms_its_deadline(world):
    from workflows import services

    action = action_in(world, ActionState.COPIL_REVIEW)
    task = queues.open_task(action)
    services.transition(action, "approve", actor=world.copil)
    assert _deadline_timer(task).status == STATUS.CANCELED
