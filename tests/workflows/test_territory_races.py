"""The territory's forms sent twice at the same moment — two coordinators, or one double
click reaching two servers — make one object: the same place, the same finding of the
diagnostic, the resource unit's session of a day (real threads; row locks on PostgreSQL)."""

import datetime

import pytest

from clsm.models import ResourceSession
from diagnostic.models import Finding
from projects.models import Place, Programme
from tests.world import build_world
from workflows import services
from workflows.services import diagnostic as diagnostic_services

from .test_concurrency import race


@pytest.fixture
def racing_world(committed_db):
    world = build_world()
    world.anchor = services.create_action(
        programme=world.programme, actor=world.coordinator, data={"title": "Ancre"}
    )
    return world


def twice(world, job) -> list:
    """``job`` run by the programme's two coordinators at once."""
    people = (world.coordinator, world.users["coordinator2"])
    outcomes, _elapsed = race([(world.anchor.pk, lambda _a, who=who: job(who)) for who in people])
    return sorted(map(str, outcomes))


def test_the_same_place_added_twice_at_once_is_one_place(racing_world):
    world = racing_world
    outcomes = twice(
        world,
        lambda who: services.add_place(
            programme=world.programme, actor=who, kind=Place.Kind.QPV, name="Les Hauts-Prés"
        ),
    )
    assert outcomes == ["invalid", "ok"]
    assert Place.objects.filter(programme=world.programme, name="Les Hauts-Prés").count() == 1


def test_the_same_finding_added_twice_at_once_is_one_finding(racing_world):
    world = racing_world
    diagnostic_services.save_diagnostic(
        programme=world.programme,
        actor=world.coordinator,
        data={"date": datetime.date(2023, 6, 15), "authors": "ORS"},
    )
    data = {"title": "Renoncement aux soins", "theme": "access", "determinant": "care"}
    outcomes = twice(
        world,
        lambda who: diagnostic_services.add_finding(
            programme=world.programme, actor=who, data=data
        ),
    )
    assert outcomes == ["invalid", "ok"]
    assert Finding.objects.filter(diagnostic__programme=world.programme).count() == 1


def test_the_resource_units_session_recorded_twice_at_once_is_one(racing_world):
    world = racing_world
    Programme.objects.filter(pk=world.programme.pk).update(kind=Programme.Kind.CLSM)
    world.programme = Programme.objects.get(pk=world.programme.pk)
    outcomes = twice(
        world,
        lambda who: services.record_resource_session(
            programme=world.programme,
            actor=who,
            date=datetime.date(2026, 9, 17),
            need_housing=2,
            outcome_referral=2,
        ),
    )
    assert outcomes == ["invalid", "ok"]
    assert ResourceSession.objects.filter(programme=world.programme).count() == 1
