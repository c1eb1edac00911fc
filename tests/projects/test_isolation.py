"""Programmes are sealed from each other: a member of another programme (the world's
``outsider`` coordinates and sits on the COPIL of the other programme) can neither see nor
change anything of the world's programme."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.http import Http404

from audit.models import AuditEvent
from funding.models import FundingRequest
from projects import lifecycle, permissions
from projects.models import Action, ActionState, Membership, Role
from tests.workflows.test_transition_matrix import prepare
from tests.world import action_in, new_action
from workflows import services

# One source state per transition of the action lifecycle (DESIGN.md's table).
SOURCE = {
    "start_co_construction": "draft",
    "merge": "draft",
    "decline": "draft",
    "submit_to_copil": "co_construction",
    "approve": "copil_review",
    "request_changes": "copil_review",
    "reject": "copil_review",
    "open_funding": "validated",
    "start_implementation": "funding",
    "rework": "funding",
    "finish_implementation": "implementation",
    "close": "evaluation",
    "abandon": "implementation",
}


COPIL_DECISIONS = {"approve", "request_changes", "reject", "close", "abandon"}


def stored_row(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def assert_role_refused(call, obj) -> None:
    model = type(obj)
    before = stored_row(model.objects.get(pk=obj.pk))
    n_events = AuditEvent.objects.count()
    with pytest.raises(services.Refused) as exc:
        call()
    assert exc.value.rule == "role", exc.value.message
    assert stored_row(model.objects.get(pk=obj.pk)) == before
    assert AuditEvent.objects.count() == n_events


def test_the_table_has_every_transition():
    assert set(SOURCE) == set(lifecycle.names(Action))


@pytest.mark.parametrize("transition", list(SOURCE))
def test_an_outsider_runs_no_transition(world, transition):
    action = prepare(world, SOURCE[transition], transition)
    extra = {"into": new_action(world)} if transition == "merge" else {}
    assert_role_refused(
        lambda: services.transition(
            action, transition, actor=world.outsider, comment="Décision extérieure", **extra
        ),
        action,
    )
    # The same call by the programme's own member goes through: the setup was right.
    allowed = world.copil if transition in COPIL_DECISIONS else world.coordinator
    services.transition(
        Action.objects.get(pk=action.pk), transition, actor=allowed, comment="Décision", **extra
    )
    assert Action.objects.get(pk=action.pk).state != SOURCE[transition]


def test_an_outsider_cannot_create_or_edit_a_fiche(world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    n = Action.objects.filter(programme=world.programme).count()
    with pytest.raises(services.Refused) as exc:
        services.create_action(
            programme=world.programme, actor=world.outsider, data={"title": "Intrusion"}
        )
    assert exc.value.rule == "role"
    assert Action.objects.filter(programme=world.programme).count() == n
    assert_role_refused(
        lambda: services.update_action(
            action=action, actor=world.outsider, data={"title": "Titre modifié"}
        ),
        action,
    )
    assert_role_refused(
        lambda: services.add_budget_line(
            action=action, actor=world.outsider, year=2026, category="other", planned=Decimal("1")
        ),
        action,
    )
    assert_role_refused(
        lambda: services.add_indicator(
            action=action, actor=world.outsider, kind="process", label="Indicateur extérieur"
        ),
        action,
    )
    assert not action.budget_lines.exists() and not action.indicators.exists()


def test_an_outsider_cannot_touch_the_money(world):
    action = action_in(world, ActionState.VALIDATED)
    assert_role_refused(
        lambda: services.create_funding_request(
            action=action,
            actor=world.outsider,
            funder_id=world.funder_org.pk,
            scheme="FIR",
            year=2026,
            requested_amount=Decimal("1000"),
        ),
        action,
    )
    assert not FundingRequest.objects.filter(action=action).exists()
    assert_role_refused(
        lambda: services.record_funding_waiver(
            action=action, actor=world.outsider, comment="Dérogation extérieure"
        ),
        action,
    )
    req = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("1000"),
    )
    assert_role_refused(
        lambda: services.transition(req, "submit", actor=world.outsider),
        req,
    )
    req = services.transition(req, "submit", actor=world.coordinator)
    assert_role_refused(
        lambda: services.transition(
            req,
            "grant",
            actor=world.outsider,
            amount=Decimal("1000"),
            decision_date=datetime.date(2026, 2, 1),
        ),
        req,
    )


def test_an_outsider_cannot_record_measurements_or_the_evaluation(world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    indicator = action.indicators.get()
    assert_role_refused(
        lambda: services.record_measurement(
            indicator=indicator, actor=world.outsider, date=datetime.date(2026, 5, 1), value=4
        ),
        action,
    )
    assert not indicator.measurements.exists()
    action = services.transition(action, "finish_implementation", actor=world.coordinator)
    assert_role_refused(
        lambda: services.write_evaluation_report(
            action=action, actor=world.outsider, achievements="Rien"
        ),
        action,
    )


def test_an_outsider_sees_only_their_own_programme(world):
    mine = action_in(world, ActionState.DRAFT)
    theirs = services.create_action(
        programme=world.other_programme, actor=world.outsider, data={"title": "Action voisine"}
    )
    outsider = world.outsider
    assert set(permissions.visible_programmes(outsider)) == {world.other_programme}
    assert set(permissions.visible_actions(outsider)) == {theirs}
    with pytest.raises(Http404):
        permissions.get_visible_action(outsider, mine.pk)
    with pytest.raises(Http404):
        permissions.get_visible_programme(outsider, world.programme.pk)
    assert permissions.get_visible_action(outsider, theirs.pk) == theirs
    # And the other way round: the programme's own coordinator does not see the neighbour's.
    assert set(permissions.visible_actions(world.coordinator)) == {mine}
    with pytest.raises(Http404):
        permissions.get_visible_action(world.coordinator, theirs.pk)


def test_the_ars_referent_reads_everything_and_changes_nothing(world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    assert permissions.get_visible_action(world.ars_referent, action.pk) == action
    assert_role_refused(
        lambda: services.update_action(
            action=action, actor=world.ars_referent, data={"title": "Relu"}
        ),
        action,
    )


def test_a_deactivated_membership_grants_nothing(world):
    action = new_action(world)
    Membership.objects.filter(user=world.coordinator, programme=world.programme).update(
        is_active=False
    )
    assert_role_refused(
        lambda: services.transition(action, "start_co_construction", actor=world.coordinator),
        action,
    )
    with pytest.raises(Http404):
        permissions.get_visible_action(world.coordinator, action.pk)
    assert not permissions.visible_programmes(world.coordinator).exists()
    assert Role.COORDINATOR not in permissions.roles_in(world.coordinator, world.programme.pk)
