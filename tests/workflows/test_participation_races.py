"""Participation under concurrent clicks (real threads, each with its own connection; row
locks on PostgreSQL): triage decisions on one proposal, one opinion given twice, a resident's
proposal published twice, the chair validating the minutes twice — one wins, the others get a
refusal, never a duplicate or a server error."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from projects.models import Action, ActionState, Meeting, Opinion, Origin, ResidentProposal
from tests.world import action_in, build_world, new_action
from workflows import services

from .test_concurrency import race


@pytest.fixture
def racing_world(committed_db):
    return build_world()


def test_take_up_merge_and_decline_at_once_one_wins(racing_world):
    world = racing_world
    proposal = new_action(world)
    target = new_action(world)
    jobs = [
        (proposal.pk, lambda copy: services.take_up(action=copy, actor=world.coordinator)),
        (
            proposal.pk,
            lambda copy: services.transition(copy, "merge", actor=world.coordinator2, into=target),
        ),
        (
            proposal.pk,
            lambda copy: services.transition(
                copy, "decline", actor=world.coordinator, comment="Hors champ"
            ),
        ),
    ] * 3
    outcomes, _elapsed = race(jobs)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "state", "already_moved"}, outcomes
    won = Action.objects.get(pk=proposal.pk).state
    assert won in (ActionState.CO_CONSTRUCTION, ActionState.MERGED, ActionState.DECLINED)
    assert AuditEvent.objects.filter(action_id=proposal.pk, from_state="draft").count() == 1


def test_one_opinion_given_twice_at_once_is_recorded_once(racing_world):
    world = racing_world
    world.programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"has_cotech": True}
    )
    action = action_in(world, ActionState.COPIL_REVIEW)
    opinion = Opinion.objects.get(action=action, member=world.cotech)

    def give(_copy):
        services.give_opinion(
            opinion=opinion, actor=world.cotech, verdict="favourable", text="Pour"
        )

    outcomes, _elapsed = race([(action.pk, give)] * 6)
    assert sorted(map(str, outcomes)) == ["already_moved"] * 5 + ["ok"], outcomes
    assert AuditEvent.objects.filter(event="give_opinion").count() == 1


def test_a_residents_proposal_published_twice_at_once_makes_one_fiche(racing_world):
    world = racing_world
    world.programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"public_page": True}
    )
    proposal = services.submit_resident_proposal(
        programme=world.programme, idea="Un banc devant la pharmacie", need="Attendre assis"
    )
    anchor = new_action(world)

    def publish(_copy):
        services.transition(
            ResidentProposal.objects.get(pk=proposal.pk), "publish", actor=world.coordinator
        )

    outcomes, _elapsed = race([(anchor.pk, publish)] * 6)
    assert outcomes.count("ok") == 1 and set(outcomes) <= {"ok", "state", "already_moved"}
    assert world.programme.actions.filter(origin=Origin.RESIDENT).count() == 1
    assert ResidentProposal.objects.get(pk=proposal.pk).action is not None


def test_the_minutes_validated_twice_at_once_are_validated_once(racing_world):
    world = racing_world
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="plenary",
        date=timezone.now() - datetime.timedelta(hours=2),
        place="Mairie",
    )
    services.record_meeting(
        meeting=meeting,
        actor=world.coordinator,
        chair_id=world.copil.pk,
        attendee_ids=[world.copil.pk],
        decisions={},
    )
    services.write_minutes(meeting=meeting, actor=world.coordinator, text="Échanges.")
    anchor = new_action(world)

    def validate(_copy):
        services.validate_minutes(meeting=Meeting.objects.get(pk=meeting.pk), actor=world.copil)

    outcomes, _elapsed = race([(anchor.pk, validate)] * 6)
    assert sorted(map(str, outcomes)) == ["already_moved"] * 5 + ["ok"], outcomes
    assert AuditEvent.objects.filter(event="validate_minutes").count() == 1
