"""The COTECH's technical opinion: where a programme has a COTECH, a fiche submitted to the
COPIL first collects each COTECH member's opinion, in parallel, with a due date; the COPIL
decides once they are in — or once the due date has passed, the page saying which are
missing."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from projects.models import Action, ActionState, Opinion, Role
from tests.factories import MembershipFactory, UserFactory
from tests.world import action_in
from workflows import queues, services


@pytest.fixture
def cotech_world(world):
    """The world's programme with a COTECH of two members."""
    services.save_structure(
        world.programme, actor=world.coordinator, data={"has_cotech": True, "cotech_days": 10}
    )
    world.users["cotech2"] = UserFactory(first_name="Inès", last_name="Caron")
    MembershipFactory(user=world.cotech2, programme=world.programme, role=Role.COTECH)
    return world


def submitted(world) -> Action:
    return action_in(world, ActionState.COPIL_REVIEW)


def opinion_of(action, user) -> Opinion:
    return Opinion.objects.get(action=action, member=user)


def test_each_cotech_member_is_asked_in_parallel_with_a_due_date(cotech_world):
    world = cotech_world
    action = submitted(world)
    opinions = list(action.opinions.order_by("member__last_name"))
    assert {o.member for o in opinions} == {world.cotech, world.cotech2}
    assert {o.version for o in opinions} == {1}
    assert {o.due for o in opinions} == {datetime.date.today() + datetime.timedelta(days=10)}
    for opinion in opinions:  # each in the member's own tasks, no one else's
        task = queues.opinion_task(opinion)
        assert task in queues.task_queue(opinion.member)
        others = world.cotech if opinion.member == world.cotech2 else world.cotech2
        assert task not in queues.task_queue(others) and task not in queues.task_queue(world.copil)


def test_the_copil_waits_for_the_opinions_until_the_due_date(client, cotech_world):
    world = cotech_world
    action = submitted(world)
    with pytest.raises(services.Refused) as exc:
        services.transition(action, "approve", actor=world.copil)
    assert exc.value.rule == "guard" and "Inès Caron" in exc.value.message
    services.give_opinion(
        opinion=opinion_of(action, world.cotech),
        actor=world.cotech,
        verdict="favourable",
        text="Bien construit",
    )
    client.force_login(world.copil)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Bien construit" in page and "il manque celui de" in page and "Inès Caron" in page
    # The due date passes without the second opinion: the COPIL may decide, told which is
    # missing.
    Opinion.objects.filter(action=action).update(due=datetime.date.today() - datetime.timedelta(1))
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "le délai est passé" in page and "Inès Caron" in page
    approved = services.transition(Action.objects.get(pk=action.pk), "approve", actor=world.copil)
    assert approved.state == ActionState.VALIDATED
    # The opinion no longer awaited is cancelled, not left in the member's tasks.
    assert queues.opinion_task(opinion_of(action, world.cotech2)) is None


def test_once_all_opinions_are_in_the_copil_decides(cotech_world):
    world = cotech_world
    action = submitted(world)
    for member, verdict in ((world.cotech, "favourable"), (world.cotech2, "reserved")):
        services.give_opinion(
            opinion=opinion_of(action, member), actor=member, verdict=verdict, text="Motivé"
        )
    events = AuditEvent.objects.filter(action_id=action.pk, event="give_opinion")
    assert {e.actor for e in events} == {world.cotech, world.cotech2}
    assert {e.changes["verdict"][1] for e in events} == {"favourable", "reserved"}
    decided = services.transition(
        Action.objects.get(pk=action.pk), "request_changes", actor=world.copil, comment="Revoir"
    )
    assert decided.state == ActionState.CO_CONSTRUCTION


@pytest.mark.parametrize(
    "who", ["coordinator", "copil", "funder", "action_lead", "wg_member", "ars_referent"]
)
def test_only_the_cotech_gives_an_opinion(client, cotech_world, who):
    action = submitted(cotech_world)
    client.force_login(getattr(cotech_world, who))
    response = client.post(
        reverse("coordo:action-opinion", args=[action.pk]),
        {"verdict": "favourable", "text": "Pour"},
    )
    assert response.status_code == 403
    assert not action.opinions.exclude(verdict="").exists()
    client.force_login(cotech_world.outsider)
    assert (
        client.post(
            reverse("coordo:action-opinion", args=[action.pk]), {"verdict": "favourable"}
        ).status_code
        == 404
    )


def test_a_member_gives_their_own_opinion_once_with_a_reason(client, cotech_world):
    world = cotech_world
    action = submitted(world)
    url = reverse("coordo:action-opinion", args=[action.pk])
    client.force_login(world.cotech)
    for bad in ({"verdict": "favourable", "text": ""}, {"verdict": "excellent", "text": "x"}):
        client.post(url, bad)
    assert not opinion_of(action, world.cotech).verdict
    with pytest.raises(services.Refused) as exc:  # someone else's opinion
        services.give_opinion(
            opinion=opinion_of(action, world.cotech2),
            actor=world.cotech,
            verdict="unfavourable",
            text="À sa place",
        )
    assert exc.value.rule == "role"
    first = client.post(url, {"verdict": "reserved", "text": "Articuler avec la CPAM"})
    second = client.post(url, {"verdict": "favourable", "text": "Changé d'avis"}, follow=True)
    assert first.status_code == 302
    assert "Aucun avis attendu de vous" in second.content.decode()
    opinion = opinion_of(action, world.cotech)
    assert (opinion.verdict, opinion.text) == ("reserved", "Articuler avec la CPAM")
    assert AuditEvent.objects.filter(event="give_opinion").count() == 1


def test_a_resubmitted_fiche_asks_again_and_the_old_opinion_is_kept(cotech_world):
    world = cotech_world
    action = submitted(world)
    services.give_opinion(
        opinion=opinion_of(action, world.cotech),
        actor=world.cotech,
        verdict="unfavourable",
        text="Public mal défini",
    )
    Opinion.objects.filter(action=action).update(due=datetime.date.today() - datetime.timedelta(1))
    action = services.transition(
        Action.objects.get(pk=action.pk), "request_changes", actor=world.copil, comment="Public"
    )
    services.transition(action, "submit_to_copil", actor=world.coordinator)
    assert set(action.opinions.values_list("version", "member", "verdict")) == {
        (1, world.cotech.pk, "unfavourable"),
        (1, world.cotech2.pk, ""),
        (2, world.cotech.pk, ""),
        (2, world.cotech2.pk, ""),
    }
    with pytest.raises(services.Refused):  # the opinion is on the latest version
        services.give_opinion(
            opinion=action.opinions.get(version=1, member=world.cotech2),
            actor=world.cotech2,
            verdict="favourable",
            text="Tard",
        )


def test_without_a_cotech_the_copil_decides_at_once(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    assert not action.opinions.exists()
    assert services.transition(action, "approve", actor=world.copil).state == "validated"
