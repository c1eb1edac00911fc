"""The outbox: a notification is written with the change that causes it (nothing for a change
refused or rolled back), delivered once by the sender — even by two senders at once — kept
and retried when the mail server fails, never to someone outside the programme, in the
person's language and as they chose (immediately, in the daily digest, or never)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import icalendar
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from notifications import outbox
from notifications.models import Kind, Mode, Notification, State
from notifications.sending import send_digests, send_pending
from projects.models import ActionState, Membership
from tests.world import action_in, build_world, complete_fiche, new_action
from workflows import services


@pytest.fixture
def mailed(world):
    """The world's people with an address each."""
    for user in world.users.values():
        user.email = f"{user.username}@example.org"
        user.save()
    return world


def to(notifications) -> set[str]:
    return {n.recipient.username.rsplit("-", 1)[0] for n in notifications}


def submit(world):
    action = complete_fiche(world, action_in(world, ActionState.CO_CONSTRUCTION))
    return services.transition(action, "submit_to_copil", actor=world.coordinator)


def test_a_committed_change_writes_its_notifications_a_refused_one_none(mailed):
    action = complete_fiche(mailed, action_in(mailed, ActionState.CO_CONSTRUCTION))
    before = Notification.objects.count()
    with pytest.raises(services.Refused):
        services.transition(action, "submit_to_copil", actor=mailed.copil)  # not theirs
    with pytest.raises(RuntimeError), transaction.atomic():
        services.transition(action, "submit_to_copil", actor=mailed.coordinator)
        raise RuntimeError("rolled back after the change")
    assert Notification.objects.count() == before
    services.transition(action, "submit_to_copil", actor=mailed.coordinator)
    new = Notification.objects.filter(
        kind=Kind.TASK, created_at__gte=timezone.now() - datetime.timedelta(minutes=1)
    ).order_by("pk")
    assert to(new.filter(subject__contains="Valider")) == {"copil", "copil2"}


def test_each_task_goes_to_whoever_takes_it_and_nobody_else(mailed):
    world = mailed
    proposal = services.create_action(
        programme=world.programme, actor=world.funder, data={"title": "Idée d'un financeur"}
    )
    triage = Notification.objects.filter(kind=Kind.TASK).latest("pk")
    assert to(Notification.objects.filter(kind=Kind.TASK, text__contains=proposal.title)) == {
        "coordinator",
        "coordinator2",
    }
    assert "Idée d'un financeur" in triage.text
    assert reverse("coordo:action", args=[proposal.pk]) in triage.text
    other = build_world(prefix="o-")
    action_in(other, ActionState.COPIL_REVIEW)
    assert not Notification.objects.filter(
        programme=world.programme, recipient__in=other.users.values()
    ).exists()
    assert not Notification.objects.filter(
        programme=other.programme, recipient__in=world.users.values()
    ).exists()


def test_a_funders_task_goes_to_that_funder_only(mailed):
    world = mailed
    action = action_in(world, ActionState.VALIDATED)
    request = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("5000"),
    )
    services.transition(request, "submit", actor=world.coordinator)
    services.transition(action, "open_funding", actor=world.coordinator)
    tasks = Notification.objects.filter(kind=Kind.TASK, subject__contains="financeur")
    assert to(tasks) == {"funder"}
    services.transition(
        request.__class__.objects.get(pk=request.pk),
        "grant",
        actor=world.funder,
        amount=Decimal("5000"),
        decision_date=datetime.date(2026, 2, 1),
    )
    told = Notification.objects.filter(kind=Kind.FUNDING)
    assert to(told) == {"coordinator", "coordinator2", "action_lead"}


def test_the_proposer_is_told_what_became_of_their_proposal(mailed):
    world = mailed
    proposal = services.create_action(
        programme=world.programme, actor=world.cotech, data={"title": "Flyers"}
    )
    services.transition(proposal, "decline", actor=world.coordinator, comment="Déjà couvert")
    told = Notification.objects.get(kind=Kind.PROPOSAL)
    assert told.recipient == world.cotech and "Déjà couvert" in told.text


def test_a_resident_who_left_a_contact_is_told(mailed):
    world = mailed
    world.programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"public_page": True}
    )
    kept = services.submit_resident_proposal(
        programme=world.programme,
        idea="Un banc",
        need="Attendre assis",
        contact_email="voisine@example.org",
        contact_consent=True,
    )
    services.transition(kept, "decline", actor=world.coordinator, comment="Hors du champ santé")
    told = Notification.objects.get(kind=Kind.PROPOSAL)
    assert told.recipient is None and told.email == "voisine@example.org"
    assert "Hors du champ santé" in told.text
    send_pending()
    resident = [m for m in mail.outbox if m.to == ["voisine@example.org"]]
    assert len(resident) == 1 and "Hors du champ santé" in resident[0].body
    assert "Notifications" not in resident[0].body  # no account, no preferences to set
    moderation = [m for m in mail.outbox if m.to == [world.coordinator.email]]
    assert [m.subject for m in moderation] == [
        f"À faire : modérer une proposition d'habitant — {world.programme.name}"
    ]


def test_the_evaluation_report_becomes_due(mailed):
    action = action_in(mailed, ActionState.EVALUATION)
    told = Notification.objects.filter(kind=Kind.EVALUATION, text__contains=action.title)
    assert to(told) == {"coordinator", "coordinator2", "action_lead"}


def test_convocations_updates_and_cancellations_carry_the_seances_uid(mailed):
    world = mailed
    when = timezone.now() + datetime.timedelta(days=10)
    meeting = services.create_meeting(
        programme=world.programme, actor=world.coordinator, body="copil", date=when, place="Mairie"
    )
    meeting = services.reschedule_meeting(
        meeting=meeting, actor=world.coordinator, date=when, place="Salle des fêtes"
    )
    services.cancel_meeting(meeting=meeting, actor=world.coordinator, reason="Quorum impossible")
    send_pending()
    sent = [m for m in mail.outbox if m.to == [world.copil.email]]
    assert [m.subject.split(" :")[0] for m in sent] == [
        "Convocation",
        "Convocation modifiée",
        "Séance annulée",
    ]
    events = []
    for message in sent:
        calendar = icalendar.Calendar.from_ical(message.attachments[0][1])
        event = calendar.walk("VEVENT")[0]
        events.append((str(calendar["method"]), int(event["sequence"]), str(event["location"])))
        assert str(event["uid"]) == f"seance-{meeting.pk}@coordo"
    assert events == [
        ("REQUEST", 0, "Mairie"),
        ("REQUEST", 1, "Salle des fêtes"),
        ("CANCEL", 2, "Salle des fêtes"),
    ]


def test_validated_minutes_are_sent_to_the_invitees(mailed):
    world = mailed
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now() - datetime.timedelta(hours=3),
        place="Mairie",
    )
    services.record_meeting(
        meeting=meeting,
        actor=world.coordinator,
        chair_id=world.copil.pk,
        attendee_ids=[],
        decisions={},
    )
    services.write_minutes(meeting=meeting, actor=world.coordinator, text="Échanges.")
    services.validate_minutes(meeting=meeting, actor=world.copil)
    told = Notification.objects.filter(kind=Kind.MINUTES)
    assert to(told) == {"coordinator", "coordinator2", "copil", "copil2"}


# --- delivery ------------------------------------------------------------------------------


class DownBackend(BaseEmailBackend):
    def open(self):
        raise ConnectionRefusedError("Connexion refusée par le serveur SMTP")

    def send_messages(self, messages):
        raise ConnectionRefusedError("Connexion refusée par le serveur SMTP")


def test_a_failing_mail_server_loses_nothing_and_is_retried(mailed):
    submit(mailed)
    waiting = Notification.objects.filter(state=State.PENDING).count()
    assert waiting
    now = timezone.now()
    with override_settings(EMAIL_BACKEND=f"{__name__}.DownBackend"):
        result = send_pending(now=now)
    assert result.failed == waiting and result.sent == 0
    failed = Notification.objects.filter(state=State.FAILED)
    assert failed.count() == waiting
    row = failed.first()
    assert row.attempts == 1 and "Connexion refusée" in row.error
    assert row.next_attempt_at == now + datetime.timedelta(seconds=60)
    assert send_pending(now=now).sent == 0  # not before its retry time
    assert send_pending(now=now + datetime.timedelta(minutes=2)).sent == waiting
    assert Notification.objects.filter(state=State.SENT).count() == waiting
    assert len(mail.outbox) == waiting


def test_a_member_who_left_gets_nothing_more(mailed):
    submit(mailed)
    Membership.objects.filter(user=mailed.copil2).update(is_active=False)
    result = send_pending()
    assert result.cancelled >= 1
    assert mailed.copil2.email not in {m.to[0] for m in mail.outbox}
    assert Notification.objects.filter(recipient=mailed.copil2, state=State.CANCELLED).exists()
    action = submit(mailed)  # nothing new is written for them either
    assert not Notification.objects.filter(
        recipient=mailed.copil2, text__contains=action.title, state=State.PENDING
    ).exists()


def test_digest_never_and_the_mandatory_tasks(client, mailed):
    world = mailed
    outbox.set_modes(world.copil, {Kind.TASK: Mode.NONE, Kind.MINUTES: Mode.NONE})
    outbox.set_modes(world.copil2, {Kind.TASK: Mode.DIGEST})
    submit(world)
    submit(world)
    # A task cannot be silenced: « never » is kept as the digest.
    assert Notification.objects.filter(recipient=world.copil, mode=Mode.DIGEST).count() == 2
    assert Notification.objects.filter(recipient=world.copil2, mode=Mode.DIGEST).count() == 2
    send_pending()
    assert not {world.copil.email, world.copil2.email} & {m.to[0] for m in mail.outbox}
    mail.outbox.clear()
    result = send_digests()
    assert result.sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.copil.email, world.copil2.email])
    assert "2 nouveauté(s)" in mail.outbox[0].subject
    assert send_digests().sent == 0  # each row once


def test_mails_are_in_the_language_the_person_chose(client, mailed):
    client.force_login(mailed.copil)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    submit(mailed)
    english = Notification.objects.filter(recipient=mailed.copil, kind=Kind.TASK).latest("pk")
    french = Notification.objects.filter(recipient=mailed.copil2, kind=Kind.TASK).latest("pk")
    assert english.subject.startswith("To do: Approve")
    assert french.subject.startswith("À faire : Valider")
    assert "Hello," in english.text and "Bonjour," in french.text


def test_two_senders_at_once_deliver_each_message_once(committed_db):
    world = build_world()
    for user in world.users.values():
        user.email = f"{user.username}@example.org"
        user.save()
    for n in range(30):
        new_action(world, title=f"Proposition {n}")  # each: a triage task for coordinator2
    pending = Notification.objects.filter(state=State.PENDING).count()
    assert pending >= 30
    barrier = threading.Barrier(4)
    results = []

    def sender():
        try:
            barrier.wait(timeout=30)
            results.append(send_pending(batch=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(r.sent for r in results) == pending
    assert len(mail.outbox) == pending
    keys = [(m.to[0], m.body) for m in mail.outbox]
    assert len(set(keys)) == len(keys)
    assert Notification.objects.filter(state=State.SENT).count() == pending


# --- reminders -----------------------------------------------------------------------------


def test_a_task_due_soon_is_reminded_once_and_a_late_one_escalated(mailed):
    world = mailed
    action = submit(world)
    today = timezone.localdate()
    due = today + datetime.timedelta(days=world.programme.task_due_days)
    assert call_command("send_notifications") is None
    assert not Notification.objects.filter(kind=Kind.REMINDER).exists()  # 30 days ahead
    from workflows.reminders import queue_reminders

    soon = due - datetime.timedelta(days=world.programme.reminder_days)
    assert queue_reminders(today=soon) == 1
    assert queue_reminders(today=soon) == 0
    reminded = Notification.objects.filter(kind=Kind.REMINDER)
    assert to(reminded) == {"copil", "copil2"} and action.title in reminded.first().text
    # The day after the due date the timer escalates: the COPIL and the coordination told.
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    Task.objects.filter(status=STATUS.SCHEDULED).update(
        scheduled=timezone.now() - datetime.timedelta(hours=1)
    )
    call_command("workflow_timers")
    late = Notification.objects.filter(kind=Kind.OVERDUE)
    assert to(late) >= {"copil", "copil2", "coordinator", "coordinator2"}


def test_payments_expected_and_late(mailed):
    world = mailed
    action = action_in(world, ActionState.FUNDING)
    request = action.funding_requests.get()
    today = timezone.localdate()
    soon = services.add_tranche(
        request=request,
        actor=world.coordinator,
        label="advance",
        expected_date=today + datetime.timedelta(days=3),
        expected_amount=Decimal("1000"),
    )
    services.add_tranche(
        request=request,
        actor=world.coordinator,
        label="balance",
        expected_date=today + datetime.timedelta(days=60),
        expected_amount=Decimal("1000"),
    )
    from workflows.reminders import queue_reminders

    queue_reminders(today=today)
    queue_reminders(today=today)
    assert Notification.objects.filter(kind=Kind.PAYMENT, key=f"payment-due:{soon.pk}").count() == 4
    queue_reminders(today=today + datetime.timedelta(days=5))
    late = Notification.objects.filter(kind=Kind.PAYMENT, key=f"payment-late:{soon.pk}")
    assert to(late) == {"coordinator", "coordinator2", "action_lead", "funder"}


# --- the page ------------------------------------------------------------------------------


def test_the_notifications_page_lists_ones_own_and_marks_them_read(client, mailed):
    submit(mailed)
    client.force_login(mailed.copil)
    home = client.get(reverse("coordo:home")).content.decode()
    assert 'class="toolbar-count"' in home
    page = client.get(reverse("coordo:notifications")).content.decode()
    mine = Notification.objects.filter(recipient=mailed.copil)
    assert mine.exists() and all(escape(n.subject) in page for n in mine)
    assert not Notification.objects.filter(recipient=mailed.copil, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=mailed.copil2, read_at__isnull=True).exists()
    home = client.get(reverse("coordo:home")).content.decode()
    assert 'class="toolbar-count"' not in home


def test_preferences_are_saved_and_bad_choices_refused(client, mailed):
    client.force_login(mailed.funder)
    url = reverse("coordo:notifications")
    data = {kind: Mode.IMMEDIATE for kind in Kind.values} | {Kind.MINUTES: Mode.NONE}
    assert client.post(url, data).status_code == 302
    assert mailed.funder.notification_settings.mode(Kind.MINUTES) == Mode.NONE
    bad = client.post(url, data | {Kind.TASK: Mode.NONE})
    assert bad.status_code == 400
    assert mailed.funder.notification_settings.mode(Kind.TASK) == Mode.IMMEDIATE
    assert client.post(url, data | {Kind.FUNDING: "\x00"}).status_code == 400


def test_the_page_query_count_does_not_grow(client, mailed):
    from django.test.utils import CaptureQueriesContext

    client.force_login(mailed.copil)
    submit(mailed)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("coordo:notifications"))
    for _ in range(6):
        submit(mailed)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("coordo:notifications"))
    assert len(many) == len(few)


def test_a_task_opened_by_ones_own_change_is_not_mailed_to_oneself(mailed):
    proposal = new_action(mailed)  # the coordinator proposes: only her colleague is told
    triage = Notification.objects.filter(kind=Kind.TASK, text__contains=proposal.title)
    assert to(triage) == {"coordinator2"}
    services.take_up(action=proposal, actor=mailed.coordinator2)
    submit = Notification.objects.filter(kind=Kind.TASK, subject__contains="Soumettre")
    assert to(submit) == {"coordinator"}


def test_the_copils_decision_is_told_to_the_fiches_lead_and_proposer(mailed):
    action = services.create_action(
        programme=mailed.programme,
        actor=mailed.funder,
        data={"title": "Dépistage en officine", "lead_organisation": mailed.lead},
    )
    services.take_up(action=action, actor=mailed.coordinator)
    action = complete_fiche(mailed, action)
    action = services.transition(action, "submit_to_copil", actor=mailed.coordinator)
    services.transition(action, "reject", actor=mailed.copil, comment="Hors du contrat")
    told = Notification.objects.filter(kind=Kind.DECISION)
    assert to(told) == {"action_lead", "funder"}
    assert all("Hors du contrat" in n.text and "Rejetée" in n.subject for n in told)


def test_a_seance_recorded_after_the_fact_convenes_nobody_and_leads_are_invited(mailed):
    world = mailed
    fiche = action_in(world, ActionState.COPIL_REVIEW)
    past = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now() - datetime.timedelta(days=3),
        place="Mairie",
    )
    assert past.invited == 0
    assert not Notification.objects.filter(kind=Kind.CONVOCATION).exists()
    ahead = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now() + datetime.timedelta(days=3),
        place="Mairie",
    )
    assert ahead.agenda_items.filter(action=fiche).exists()
    convened = Notification.objects.filter(kind=Kind.CONVOCATION)
    # The lead of the fiche on the agenda presents it; another organisation's lead is not there.
    assert to(convened) == {"coordinator", "coordinator2", "copil", "copil2", "action_lead"}
    event = icalendar.Calendar.from_ical(convened.first().calendar).walk("VEVENT")[0]
    assert event["dtstart"].dt == ahead.date.replace(microsecond=0)
    assert event["dtstart"].to_ical().endswith(b"Z")  # UTC: no time-zone block needed
    assert str(event["organizer"]).startswith("mailto:")
