"""COPIL sessions: agenda, attendance, decisions applied all together or not at all, once the
séance has taken place, by someone who did not prepare what is decided."""

import datetime

from django.urls import reverse
from django.utils import timezone

from audit import chain
from audit.chain import version
from audit.models import AuditEvent
from projects.models import Action, ActionState, AgendaItem, Meeting, Membership, Role
from tests.world import action_in, build_world, evaluate
from workflows import queues


def stored(action):
    return Action.objects.get(pk=action.pk)


YESTERDAY = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT14:00")


def create_session(client, world, *, when=YESTERDAY, recorder=None) -> Meeting:
    """A COPIL séance convened (yesterday, unless said), its register then kept by
    ``recorder`` (a colleague of the coordinator, who prepared nothing, unless said)."""
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:meetings", args=[world.programme.pk]),
        {"body": "copil", "date": when, "place": "Salle du conseil"},
    )
    meeting = Meeting.objects.get(programme=world.programme)
    assert response["Location"] == reverse("coordo:meeting", args=[meeting.pk])
    client.force_login(recorder or world.coordinator2)
    return meeting


def register(client, meeting, *, chair, present, decisions, apply=True):
    data = {
        "seen_version": version(meeting),
        "chair": chair.pk if chair else "",
        "attendees": [u.pk for u in present],
    }
    for item in meeting.agenda_items.all():
        decision, comment = decisions.get(item.action_id, ("", ""))
        data[f"decision_{item.pk}"] = decision
        data[f"comment_{item.pk}"] = comment
    if apply:
        data["apply"] = "1"
    return client.post(reverse("coordo:meeting", args=[meeting.pk]), data, follow=True)


def test_agenda_lists_what_awaits_the_copil_in_this_programme_only(client, world):
    review = action_in(world, ActionState.COPIL_REVIEW)
    evaluated = action_in(world, ActionState.EVALUATION)
    action_in(world, ActionState.CO_CONSTRUCTION)
    other = build_world(prefix="o-")
    action_in(other, ActionState.COPIL_REVIEW)
    meeting = create_session(client, world)
    agenda = meeting.agenda_items.order_by("position")
    assert [(i.position, i.action_id, i.state_at_agenda) for i in agenda] == [
        (1, review.pk, ActionState.COPIL_REVIEW),
        (2, evaluated.pk, ActionState.EVALUATION),
    ]
    assert AuditEvent.objects.filter(event="create_meeting", actor=world.coordinator).exists()


def test_the_bodies_convene_others_may_not_and_outsiders_see_nothing(client, world):
    url = reverse("coordo:meetings", args=[world.programme.pk])
    data = {"body": "copil", "date": "2026-12-10T14:00", "place": "Mairie"}
    for who in (world.funder, world.action_lead, world.ars_referent):  # animate no body
        client.force_login(who)
        assert client.post(url, data).status_code == 403, who
    client.force_login(world.cotech)  # convenes the COTECH, not the COPIL
    assert client.post(url, data).status_code == 400
    assert not Meeting.objects.exists()
    client.force_login(world.copil)  # the COPIL convenes its own séance
    assert client.post(url, data).status_code == 302
    meeting = Meeting.objects.get()
    client.force_login(world.outsider)
    assert client.get(reverse("coordo:meeting", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("coordo:meeting-minutes", args=[meeting.pk])).status_code == 404
    client.force_login(world.ars_referent)
    assert client.get(reverse("coordo:meeting-minutes", args=[meeting.pk])).status_code == 200
    assert (
        client.post(reverse("coordo:meeting", args=[meeting.pk]), {"apply": "1"}).status_code == 403
    )


def test_session_decisions_are_recorded_by_whoever_keeps_the_register(client, world):
    approve = action_in(world, ActionState.COPIL_REVIEW)
    reject = action_in(world, ActionState.COPIL_REVIEW)
    close = evaluate(world, action_in(world, ActionState.EVALUATION))
    meeting = create_session(client, world)
    response = register(
        client,
        meeting,
        chair=world.copil,
        present=[world.copil, world.copil2, world.coordinator],
        decisions={
            approve.pk: ("approve", ""),
            reject.pk: ("reject", "Hors du champ du contrat"),
            close.pk: ("close", "Objectifs atteints"),
        },
    )
    assert "Les décisions de la séance ont été appliquées" in response.content.decode()
    assert stored(approve).state == ActionState.VALIDATED
    assert stored(reject).state == ActionState.REJECTED
    assert stored(close).state == ActionState.CLOSED
    # The trail names who recorded each decision, and in its comment the body, the séance and
    # its chair: nobody's name is put on a decision they did not record.
    event = AuditEvent.objects.get(event="reject", object_id=str(reject.pk))
    assert event.actor == world.coordinator2
    assert event.comment.startswith("Hors du champ du contrat — décision de la séance")
    assert chain.person(world.copil) in event.comment
    approved = AuditEvent.objects.get(event="approve", object_id=str(approve.pk))
    assert approved.actor == world.coordinator2 and "Comité de pilotage (COPIL)" in approved.comment
    assert queues.open_task(stored(approve)).flow_task.name == "validated"
    assert Meeting.objects.get(pk=meeting.pk).applied_at is not None
    minutes = client.get(reverse("coordo:meeting-minutes", args=[meeting.pk])).content.decode()
    assert "Hors du champ du contrat" in minutes and "Objectifs atteints" in minutes
    assert world.copil2.get_full_name() in minutes
    # Absent COPIL member is listed as such.
    late = Membership.objects.create(user=world.cotech, programme=world.programme, role=Role.COPIL)
    assert (
        late.user.get_full_name()
        in client.get(reverse("coordo:meeting-minutes", args=[meeting.pk])).content.decode()
    )


def _nothing_applied(meeting, *actions_and_states):
    for action, state in actions_and_states:
        assert stored(action).state == state
    assert Meeting.objects.get(pk=meeting.pk).applied_at is None


def test_one_refused_item_applies_nothing_and_names_the_item(client, world):
    first = action_in(world, ActionState.COPIL_REVIEW)
    second = action_in(world, ActionState.COPIL_REVIEW)
    meeting = create_session(client, world)
    events = AuditEvent.objects.filter(event__in=["approve", "reject"]).count()
    response = register(
        client,
        meeting,
        chair=world.copil,
        present=[world.copil],
        decisions={first.pk: ("approve", ""), second.pk: ("reject", "  ")},
    )
    page = response.content.decode()
    position = AgendaItem.objects.get(meeting=meeting, action=second).position
    assert response.status_code == 400
    assert f"Point {position}" in page and "demande un motif" in page
    assert "Aucune décision de la séance n&#x27;a été appliquée" in page
    _nothing_applied(meeting, (first, ActionState.COPIL_REVIEW), (second, ActionState.COPIL_REVIEW))
    assert AuditEvent.objects.filter(event__in=["approve", "reject"]).count() == events
    # What was typed is kept (the register was saved, only the application was refused).
    assert AgendaItem.objects.get(meeting=meeting, action=first).decision == "approve"


def test_the_preparer_may_not_chair_the_approval_of_their_own_fiche(client, world):
    Membership.objects.create(user=world.coordinator, programme=world.programme, role=Role.COPIL)
    fiche = action_in(world, ActionState.COPIL_REVIEW)  # submitted by the coordinator
    meeting = create_session(client, world, recorder=world.coordinator)
    response = register(
        client,
        meeting,
        chair=world.coordinator,
        present=[world.coordinator, world.copil],
        decisions={fiche.pk: ("approve", "")},
    )
    assert "celui qui prépare ne peut pas approuver" in response.content.decode()
    _nothing_applied(meeting, (fiche, ActionState.COPIL_REVIEW))


def test_the_preparer_may_not_record_the_approval_with_someone_else_in_the_chair(client, world):
    """The séance register is no way around the separation of duties: the coordinator who
    submitted the fiche names another member chair and records « approve » — refused."""
    fiche = action_in(world, ActionState.COPIL_REVIEW)  # submitted by the coordinator
    meeting = create_session(client, world, recorder=world.coordinator)
    response = register(
        client,
        meeting,
        chair=world.copil2,
        present=[world.copil2, world.coordinator],
        decisions={fiche.pk: ("approve", "")},
    )
    assert "celui qui prépare ne peut pas approuver" in response.content.decode()
    _nothing_applied(meeting, (fiche, ActionState.COPIL_REVIEW))
    assert not AuditEvent.objects.filter(event="approve").exists()
    # A colleague who did not prepare it records the same decision: it applies, in their name.
    client.force_login(world.coordinator2)
    register(
        client,
        meeting,
        chair=world.copil2,
        present=[world.copil2],
        decisions={fiche.pk: ("approve", "")},
    )
    assert stored(fiche).state == ActionState.VALIDATED
    assert AuditEvent.objects.get(event="approve").actor == world.coordinator2


def test_decisions_apply_only_once_the_seance_has_taken_place(client, world):
    fiche = action_in(world, ActionState.COPIL_REVIEW)
    later = (timezone.localtime() + datetime.timedelta(days=12)).strftime("%Y-%m-%dT14:00")
    meeting = create_session(client, world, when=later)
    response = register(
        client,
        meeting,
        chair=world.copil,
        present=[world.copil],
        decisions={fiche.pk: ("approve", "")},
    )
    assert "ses décisions se saisissent et s&#x27;appliquent à partir de cette date" in (
        response.content.decode()
    )
    _nothing_applied(meeting, (fiche, ActionState.COPIL_REVIEW))
    # Not even recorded: a decision is taken in the séance, not before.
    assert AgendaItem.objects.get(meeting=meeting, action=fiche).decision == ""


def test_the_chair_must_be_present_and_a_fiche_moved_since_is_refused(client, world):
    fiche = action_in(world, ActionState.COPIL_REVIEW)
    meeting = create_session(client, world)
    response = register(
        client, meeting, chair=world.copil, present=[], decisions={fiche.pk: ("approve", "")}
    )
    assert "doit figurer parmi les présents" in response.content.decode()
    from workflows import services

    services.transition(fiche, "request_changes", actor=world.copil2, comment="À revoir")
    response = register(
        client,
        meeting,
        chair=world.copil,
        present=[world.copil],
        decisions={fiche.pk: ("approve", "")},
    )
    assert "depuis son inscription à l&#x27;ordre du jour" in response.content.decode()
    _nothing_applied(meeting, (fiche, ActionState.CO_CONSTRUCTION))


def test_invalid_register_is_refused_with_field_errors(client, world):
    action_in(world, ActionState.COPIL_REVIEW)
    meeting = create_session(client, world)
    response = register(
        client,
        meeting,
        chair=world.outsider,  # not a member of this programme
        present=[world.outsider],
        decisions={},
        apply=False,
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "La présidence revient à un membre du dispositif" in page
    assert Meeting.objects.get(pk=meeting.pk).chair is None


def test_bad_meeting_form_keeps_input(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:meetings", args=[world.programme.pk]),
        {"body": "copil", "date": "pas une date", "place": "Mairie annexe"},
    )
    assert response.status_code == 400
    assert "Mairie annexe" in response.content.decode()
    assert not Meeting.objects.exists()
