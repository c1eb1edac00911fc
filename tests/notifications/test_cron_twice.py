"""Two app servers each run the crontab of docs/deploy.md: every job started twice at the same
moment on one PostgreSQL does its work once — a late task escalated once, each reminder written
and mailed once, one digest per person, messages sent once."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from notifications import outbox
from notifications.models import Kind, Mode, Notification, State
from projects.models import ActionState
from tests.world import action_in, build_world, complete_fiche
from workflows import services


def twice_at_once(*command) -> None:
    barrier = threading.Barrier(2)
    errors = []

    def server():
        try:
            barrier.wait(timeout=30)
            call_command(*command)
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


@pytest.fixture
def late_world(committed_db, postgres_only):
    world = build_world()
    for user in world.users.values():
        user.email = f"{user.username}@example.org"
        user.save()
    outbox.set_modes(world.copil2, {Kind.TASK: Mode.DIGEST})
    for _ in range(3):
        action = complete_fiche(world, action_in(world, ActionState.CO_CONSTRUCTION))
        services.transition(action, "submit_to_copil", actor=world.coordinator)
    return world


def test_the_crontab_run_by_two_servers_at_once_does_each_thing_once(late_world):
    twice_at_once("send_notifications")
    sent = len(mail.outbox)
    assert sent == Notification.objects.filter(state=State.SENT).count() > 0
    assert len({(m.to[0], m.subject, m.body) for m in mail.outbox}) == sent

    # The due dates pass: reminders, then the escalation timers, both run twice at once.
    Task.objects.filter(status=STATUS.SCHEDULED).update(
        scheduled=timezone.now() - datetime.timedelta(hours=1)
    )
    twice_at_once("workflow_timers")
    assert AuditEvent.objects.filter(event="escalate").count() == 3
    overdue = Notification.objects.filter(kind=Kind.OVERDUE)
    assert overdue.count() == len(set(overdue.values_list("recipient", "key")))

    mail.outbox.clear()
    twice_at_once("send_notifications")
    twice_at_once("send_digests")
    keys = [(m.to[0], m.subject, m.body) for m in mail.outbox]
    assert len(keys) == len(set(keys)) > 0
    digests = [
        m for m in mail.outbox if m.to[0] == late_world.copil2.email and "nouveauté" in m.subject
    ]
    assert len(digests) == 1
    assert not Notification.objects.filter(state=State.PENDING, mode=Mode.IMMEDIATE).exists()


def test_a_second_digest_run_waits_for_the_person_rather_than_sending_them_half(late_world):
    """One run holds one of a person's digest rows (as a run in the middle of sending them
    does); the other run started then must not send that person the rest apart: it waits, and
    once the first is done it sends one digest with everything."""
    call_command("send_notifications")
    own = Notification.objects.filter(recipient=late_world.copil2, mode=Mode.DIGEST)
    assert own.count() >= 2
    mail.outbox.clear()
    held, release = threading.Event(), threading.Event()

    def first_server():
        try:
            with transaction.atomic():
                list(own.order_by("pk")[:1].select_for_update())
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=first_server)
    holder.start()
    assert held.wait(timeout=30)
    second = threading.Thread(target=lambda: (call_command("send_digests"), connection.close()))
    second.start()
    second.join(timeout=1)
    to_copil2 = [m for m in mail.outbox if m.to[0] == late_world.copil2.email]
    assert to_copil2 == []  # nothing sent apart while a row is held
    release.set()
    holder.join(timeout=30)
    second.join(timeout=60)
    to_copil2 = [m for m in mail.outbox if m.to[0] == late_world.copil2.email]
    assert len(to_copil2) == 1
    assert f"{own.count()} nouveauté" in to_copil2[0].subject
    assert not own.exclude(state=State.SENT).exists()
