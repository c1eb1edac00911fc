"""Every body meets in Coordo: séances of the COPIL, the COTECH, the working groups and the
assemblée plénière, convened by the coordination or the body's own members, their members
invited (with an iCalendar event); an agenda of fiches and free topics, items added while the
séance is planned; a chair and co-animators chosen among all members; the minutes drafted by
the animators and validated by the chair — then published to the members and frozen."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit import chain
from audit.chain import version
from audit.models import AuditEvent
from notifications.sending import send_pending
from projects.models import ActionState, AgendaItem, Meeting
from tests.factories import WorkingGroupFactory
from tests.world import action_in
from workflows import services

YESTERDAY = timezone.now() - datetime.timedelta(days=1)
BODIES = ("copil", "cotech", "plenary", "working_group")
# Who convenes (and animates) each body: the coordination, and the body's own members.
CONVENES = {
    "coordinator": set(BODIES),
    "copil": {"copil", "plenary"},
    "cotech": {"cotech"},
    "wg_member": {"working_group"},
    "funder": set(),
    "action_lead": set(),
    "ars_referent": set(),
}


def convene(world, actor, body="copil", *, when=YESTERDAY, group=None) -> Meeting:
    return services.create_meeting(
        programme=world.programme,
        actor=actor,
        body=body,
        date=when,
        place="Salle du conseil",
        working_group=group or (world.working_group if body == "working_group" else None),
    )


@pytest.mark.parametrize("who", list(CONVENES))
@pytest.mark.parametrize("body", BODIES)
def test_who_convenes_each_body(client, world, who, body):
    user = getattr(world, who)
    allowed = body in CONVENES[who]
    bodies, groups = services.convenable(user, world.programme)
    assert (body in bodies) == allowed
    client.force_login(user)
    response = client.post(
        reverse("coordo:meetings", args=[world.programme.pk]),
        {
            "body": body,
            "working_group": world.working_group.pk if body == "working_group" else "",
            "date": "2026-12-10T14:00",
            "place": "Mairie",
        },
    )
    if allowed:
        assert response.status_code == 302
        meeting = Meeting.objects.get()
        assert meeting.body == body and meeting.created_by == user
        assert AuditEvent.objects.filter(event="create_meeting", actor=user).count() == 1
    else:
        assert response.status_code in (400, 403)
        assert not Meeting.objects.exists()
        if not CONVENES[who]:
            assert response.status_code == 403


def test_a_working_groups_members_convene_their_own_group_only(world):
    other_group = WorkingGroupFactory(programme=world.programme)
    with pytest.raises(services.Refused) as exc:
        convene(world, world.wg_member, "working_group", group=other_group)
    assert exc.value.rule == "role"
    meeting = convene(world, world.wg_member, "working_group")
    assert meeting.working_group == world.working_group
    assert str(meeting).startswith(world.working_group.name)


def test_a_working_group_seance_names_its_group(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:meetings", args=[world.programme.pk]),
        {"body": "working_group", "date": "2026-12-10T14:00", "place": "Mairie"},
    )
    assert response.status_code == 400
    assert "nomme son groupe" in response.content.decode()
    assert not Meeting.objects.exists()


def test_the_members_of_the_body_are_invited_with_a_calendar_event(world):
    for user in world.users.values():
        user.email = f"{user.username}@example.org"
        user.save()
    meeting = convene(world, world.coordinator, "working_group", when=timezone.now())
    send_pending()
    invited = {m.to[0] for m in mail.outbox}
    assert invited == {
        world.wg_member.email,
        world.coordinator.email,
        world.coordinator2.email,
    }
    message = mail.outbox[0]
    assert world.working_group.name in message.subject
    name, ics, mimetype = message.attachments[0]
    assert name == "seance.ics" and mimetype.startswith("text/calendar")
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["uid"]) == f"seance-{meeting.pk}@coordo"
    assert str(event["location"]) == "Salle du conseil"
    mail.outbox.clear()
    convene(world, world.coordinator, "plenary", when=timezone.now() + datetime.timedelta(days=9))
    send_pending()
    assert {m.to[0] for m in mail.outbox} >= {world.funder.email, world.action_lead.email}
    assert world.outsider.email not in {m.to[0] for m in mail.outbox}


def test_a_refused_seance_sends_no_invitation(world):
    with pytest.raises(services.Refused):
        convene(world, world.funder, "copil")
    send_pending()
    assert mail.outbox == []


def test_items_are_added_to_a_planned_seance_fiches_and_free_topics(client, world):
    fiche = action_in(world, ActionState.CO_CONSTRUCTION)
    meeting = convene(world, world.cotech, "cotech", when=timezone.now() + datetime.timedelta(3))
    url = reverse("coordo:meeting-agenda-add", args=[meeting.pk])
    client.force_login(world.cotech)
    client.post(url, {"seen_version": version(meeting), "topic": "Diagnostic local de santé"})
    meeting = Meeting.objects.get(pk=meeting.pk)
    client.post(url, {"seen_version": version(meeting), "action": fiche.pk})
    items = list(meeting.agenda_items.order_by("position"))
    assert [(i.topic, i.action_id) for i in items[-2:]] == [
        ("Diagnostic local de santé", None),
        ("", fiche.pk),
    ]
    topic = items[-2]
    assert topic.decision_choices() == [topic.decision_choices()[0]]  # nothing to decide
    page = client.get(reverse("coordo:meeting", args=[meeting.pk])).content.decode()
    assert "Diagnostic local de santé" in page and "Sujet libre" in page
    assert AuditEvent.objects.filter(event="add_agenda_item").count() == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Choisissez une fiche ou écrivez le sujet"),
        ({"topic": "   "}, "Choisissez une fiche ou écrivez le sujet"),
        ({"topic": "Sujet\x00caché"}, "caractère nul"),
        ({"topic": "x" * 301}, "300"),
        ({"action": "99999999"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_agenda_items_are_explained_and_nothing_is_added(client, world, data, message):
    meeting = convene(world, world.coordinator)
    before = meeting.agenda_items.count()
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:meeting-agenda-add", args=[meeting.pk]),
        {"seen_version": version(meeting), **data},
        follow=True,
    )
    assert message in response.content.decode()
    assert meeting.agenda_items.count() == before


def test_only_the_seances_animators_add_items_or_keep_its_register(client, world):
    meeting = convene(world, world.coordinator, "cotech")
    for who in ("funder", "action_lead", "copil", "wg_member"):
        client.force_login(getattr(world, who))
        added = client.post(
            reverse("coordo:meeting-agenda-add", args=[meeting.pk]),
            {"seen_version": version(meeting), "topic": "Intrus"},
        )
        kept = client.post(
            reverse("coordo:meeting", args=[meeting.pk]), {"seen_version": version(meeting)}
        )
        assert (added.status_code, kept.status_code) == (403, 403), who
    assert not AgendaItem.objects.filter(topic="Intrus").exists()


def test_any_member_chairs_or_co_animates_and_then_animates_the_seance(client, world):
    meeting = convene(world, world.coordinator, "plenary")
    services.record_meeting(
        meeting=meeting,
        actor=world.coordinator,
        chair_id=world.funder.pk,
        co_animator_ids=[world.action_lead.pk],
        attendee_ids=[world.funder.pk, world.action_lead.pk],
        decisions={},
    )
    event = AuditEvent.objects.filter(event="record_meeting").get()
    assert event.changes["chair"][1] == chain.person(world.funder)
    assert chain.person(world.action_lead) in event.changes["co_animators"][1]
    meeting = Meeting.objects.get(pk=meeting.pk)
    for animator in (world.funder, world.action_lead):
        assert services.may_animate(animator, meeting)
    services.add_agenda_item(
        meeting=meeting, actor=world.action_lead, topic="Bilan de l'année", seen=version(meeting)
    )
    assert not services.may_animate(world.cotech, meeting)


def test_the_minutes_are_drafted_by_the_animators_and_validated_by_the_chair(client, world):
    meeting = convene(world, world.coordinator, "copil")
    services.record_meeting(
        meeting=meeting,
        actor=world.coordinator,
        chair_id=world.copil.pk,
        attendee_ids=[world.copil.pk, world.copil2.pk],
        decisions={},
    )
    meeting = Meeting.objects.get(pk=meeting.pk)
    write = reverse("coordo:meeting-minutes-write", args=[meeting.pk])
    validate = reverse("coordo:meeting-minutes-validate", args=[meeting.pk])
    minutes = reverse("coordo:meeting-minutes", args=[meeting.pk])
    client.force_login(world.funder)  # not an animator
    assert client.post(write, {"seen_version": version(meeting), "minutes": "X"}).status_code == 403
    client.force_login(world.coordinator)
    client.post(write, {"seen_version": version(meeting), "minutes": "Le COPIL a échangé."})
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.minutes == "Le COPIL a échangé." and not meeting.minutes_validated_at
    client.force_login(world.funder)  # the draft is not published
    assert "Le COPIL a échangé." not in client.get(minutes).content.decode()
    for who in ("coordinator", "copil2"):  # an animator or a member, not the chair
        client.force_login(getattr(world, who))
        assert client.post(validate, {"seen_version": version(meeting)}).status_code == 403
    client.force_login(world.copil)
    page = client.get(reverse("coordo:meeting", args=[meeting.pk])).content.decode()
    assert "Valider le compte rendu" in page
    client.post(validate, {"seen_version": version(meeting)})
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.minutes_validated_at is not None
    event = AuditEvent.objects.get(event="validate_minutes")
    assert event.actor == world.copil
    client.force_login(world.funder)  # published to every member
    assert "Le COPIL a échangé." in client.get(minutes).content.decode()
    # Frozen from then on: neither the register nor the minutes change.
    with pytest.raises(services.Refused):
        services.write_minutes(meeting=meeting, actor=world.coordinator, text="Autre")
    with pytest.raises(services.Refused):
        services.record_meeting(
            meeting=meeting, actor=world.coordinator, chair_id=None, attendee_ids=[], decisions={}
        )
    with pytest.raises(services.Refused):
        services.add_agenda_item(meeting=meeting, actor=world.coordinator, topic="Ajout")


def test_minutes_are_validated_after_the_seance_and_its_decisions_applied(world):
    fiche = action_in(world, ActionState.COPIL_REVIEW)
    planned = convene(world, world.coordinator, when=timezone.now() + datetime.timedelta(2))
    services.record_meeting(
        meeting=planned,
        actor=world.coordinator,
        chair_id=world.copil.pk,
        attendee_ids=[],
        decisions={},
    )
    services.write_minutes(meeting=planned, actor=world.coordinator, text="Ordre du jour")
    with pytest.raises(services.Refused) as exc:
        services.validate_minutes(meeting=planned, actor=world.copil)
    assert "séance tenue" in exc.value.message
    held = convene(world, world.coordinator2)
    item = held.agenda_items.get(action=fiche)
    services.record_meeting(
        meeting=held,
        actor=world.coordinator2,
        chair_id=world.copil.pk,
        attendee_ids=[world.copil.pk],
        decisions={item.pk: ("approve", "")},
    )
    services.write_minutes(meeting=held, actor=world.coordinator2, text="Fiche validée.")
    with pytest.raises(services.Refused) as exc:
        services.validate_minutes(meeting=held, actor=world.copil)
    assert "pas encore appliquées" in exc.value.message
    services.apply_meeting_decisions(meeting=held, actor=world.coordinator2)
    services.validate_minutes(meeting=held, actor=world.copil)
    assert Meeting.objects.get(pk=held.pk).minutes_validated_at


def test_each_body_decides_only_what_is_its_own(world):
    world.programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"has_cotech": True}
    )
    fiche = action_in(world, ActionState.COPIL_REVIEW)
    cotech = convene(world, world.cotech, "cotech")
    item = cotech.agenda_items.get(action=fiche)  # on its agenda for the opinion
    assert [name for name, _label in item.decision_choices() if name] == []
    with pytest.raises(services.Refused) as exc:
        services.record_meeting(
            meeting=cotech,
            actor=world.cotech,
            chair_id=world.cotech.pk,
            attendee_ids=[world.cotech.pk],
            decisions={item.pk: ("approve", "")},
        )
    assert exc.value.rule == "invalid"
    assert AgendaItem.objects.get(pk=item.pk).decision == ""
