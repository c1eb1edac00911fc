"""Every guard of DESIGN.md's lifecycle table: each failing case is refused with its rule and
leaves nothing behind; the passing case goes through."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from audit import chain
from audit.chain import version
from audit.models import AuditEvent
from funding.models import FundingRequest
from projects.models import Action, ActionSnapshot, ActionState, Role
from tests.factories import MembershipFactory, UserFactory, WorkingGroupFactory
from tests.world import action_in, complete_fiche, new_action
from workflows import services

COMMENT = "Motif de la décision"
DECISION = datetime.date(2026, 2, 1)


def stored(action: Action) -> Action:
    return Action.objects.get(pk=action.pk)


def stored_row(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def assert_refused(rule: str, call, obj, *args, **kwargs) -> services.Refused:
    """``call`` is refused with ``rule``; the object's row and the audit trail are unchanged."""
    model = type(obj)
    before = stored_row(model.objects.get(pk=obj.pk))
    n_events = AuditEvent.objects.count()
    n_snapshots = ActionSnapshot.objects.count()
    with pytest.raises(services.Refused) as exc:
        call(*args, **kwargs)
    assert exc.value.rule == rule, exc.value.message
    assert stored_row(model.objects.get(pk=obj.pk)) == before
    assert AuditEvent.objects.count() == n_events
    assert ActionSnapshot.objects.count() == n_snapshots
    return exc.value


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()


# --- helpers: actions in a precise situation -----------------------------------------------


def co_constructed(world, *, own_funds=Decimal("0"), indicators=1) -> Action:
    """A complete fiche in co-construction (planned budget 18 000 €)."""
    action = new_action(world, own_funds=own_funds)
    action = services.transition(action, "start_co_construction", actor=world.coordinator)
    action = complete_fiche(world, action)
    for n in range(indicators - 1):
        services.add_indicator(
            action=action, actor=world.coordinator, kind="result", label=f"Indicateur {n + 2}"
        )
    return stored(action)


def validated(world, **kwargs) -> Action:
    action = co_constructed(world, **kwargs)
    action = services.transition(action, "submit_to_copil", actor=world.coordinator)
    return stored(services.transition(action, "approve", actor=world.copil))


def add_request(world, action, *, funder=None, amount=Decimal("18000")) -> FundingRequest:
    """A request (each one of the fiche under its own scheme: one per funder, scheme, year)."""
    return services.create_funding_request(
        action=stored(action),
        actor=world.coordinator,
        funder_id=(funder or world.funder_org).pk,
        scheme=f"FIR {stored(action).funding_requests.count() + 1}",
        year=2026,
        requested_amount=amount,
    )


def decide(world, req, decision: str, amount=None, actor=None) -> FundingRequest:
    """Submit the request, then grant it (``amount``) or refuse it."""
    req = services.transition(req, "submit", actor=world.coordinator)
    if decision == "grant":
        kwargs = {"amount": amount, "decision_date": DECISION}
    else:
        kwargs = {"decision_date": DECISION}
    return services.transition(
        req, decision, actor=actor or world.funder, comment=COMMENT, **kwargs
    )


def in_funding(world, *, decisions=(("refuse", None),), own_funds=Decimal("0")) -> Action:
    """Validated, one request per decision (None: left submitted), funding opened."""
    action = validated(world, own_funds=own_funds)
    requests = [add_request(world, action) for _ in decisions]
    action = services.transition(stored(action), "open_funding", actor=world.coordinator)
    for req, (decision, amount) in zip(requests, decisions, strict=True):
        if decision is None:
            services.transition(req, "submit", actor=world.coordinator)
        else:
            decide(world, req, decision, amount)
    action = stored(action)
    assert action.state == ActionState.FUNDING
    return action


# --- start co-construction ---------------------------------------------------------------------


def test_start_co_construction_needs_a_working_group_or_a_lead(world):
    action = new_action(world, lead_organisation=None)
    err = assert_refused(
        "guard",
        services.transition,
        action,
        action,
        "start_co_construction",
        actor=world.coordinator,
    )
    assert "groupe de travail ou un porteur" in err.message
    assert stored(action).state == ActionState.DRAFT


@pytest.mark.parametrize("named", ["lead_organisation", "working_group"])
def test_start_co_construction_with_a_group_or_a_lead(world, named):
    data = {"lead_organisation": None}
    data[named] = world.lead if named == "lead_organisation" else world.working_group
    action = new_action(world, **data)
    services.transition(action, "start_co_construction", actor=world.coordinator)
    assert stored(action).state == ActionState.CO_CONSTRUCTION


# --- submit to COPIL ---------------------------------------------------------------------------

MISSING = {
    "objective": {"objective": None},
    "target_public": {"target_public": ""},
    "target_public_blank": {"target_public": "   "},
    "lead": {"lead_organisation": None},
    "planned_start": {"planned_start": None},
    "planned_end": {"planned_end": None},
}


def incomplete_fiche(world, missing: str) -> Action:
    """A fiche in co-construction lacking exactly one thing the COPIL needs."""
    data = {
        "title": "Ateliers de prévention du mal-être des jeunes",
        "lead_organisation": world.lead,
        "working_group": world.working_group,
        "objective": world.objective,
        "target_public": "Jeunes de 16 à 25 ans",
        "planned_start": datetime.date(2026, 1, 1),
        "planned_end": datetime.date(2026, 12, 31),
    }
    data.update(MISSING.get(missing, {}))
    action = services.create_action(programme=world.programme, actor=world.coordinator, data=data)
    action = services.transition(action, "start_co_construction", actor=world.coordinator)
    if missing != "budget":
        planned = Decimal("0") if missing == "budget_zero" else Decimal("5000")
        services.add_budget_line(
            action=action, actor=world.coordinator, year=2026, category="staff", planned=planned
        )
    if missing != "indicator":
        services.add_indicator(
            action=action, actor=world.coordinator, kind="result", label="Jeunes touchés"
        )
    return stored(action)


@pytest.mark.parametrize("missing", [*MISSING, "budget", "budget_zero", "indicator"])
def test_submit_refused_while_the_fiche_is_incomplete(world, missing):
    action = incomplete_fiche(world, missing)
    assert_refused(
        "guard", services.transition, action, action, "submit_to_copil", actor=world.coordinator
    )
    assert stored(action).state == ActionState.CO_CONSTRUCTION
    assert not ActionSnapshot.objects.filter(action=action).exists()


def test_submit_a_complete_fiche_freezes_snapshot_version_1(world):
    action = incomplete_fiche(world, "nothing")
    services.transition(action, "submit_to_copil", actor=world.coordinator, comment="Pour le COPIL")
    after = stored(action)
    assert after.state == ActionState.COPIL_REVIEW
    assert after.submitted_by == world.coordinator
    snap = ActionSnapshot.objects.get(action=action)
    assert snap.version == 1
    assert snap.submitted_by == world.coordinator
    assert "Ateliers de prévention du mal-être des jeunes" in json.dumps(
        snap.data, ensure_ascii=False
    )


def test_resubmission_after_changes_freezes_version_2_and_keeps_version_1(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    old_title = action.title
    services.transition(action, "request_changes", actor=world.copil, comment="Préciser le public")
    services.update_action(
        action=stored(action), actor=world.coordinator, data={"title": "Permanences en QPV v2"}
    )
    services.transition(stored(action), "submit_to_copil", actor=world.coordinator)
    v1, v2 = ActionSnapshot.objects.filter(action=action).order_by("version")
    assert (v1.version, v2.version) == (1, 2)
    text1 = json.dumps(v1.data, ensure_ascii=False)
    text2 = json.dumps(v2.data, ensure_ascii=False)
    assert old_title in text1 and "Permanences en QPV v2" not in text1
    assert "Permanences en QPV v2" in text2


# --- COPIL decisions ---------------------------------------------------------------------------


def test_the_submitter_may_not_approve_even_as_a_copil_member(world):
    MembershipFactory(user=world.coordinator, programme=world.programme, role=Role.COPIL)
    action = action_in(world, ActionState.COPIL_REVIEW)
    assert action.submitted_by == world.coordinator
    assert_refused(
        "separation", services.transition, action, action, "approve", actor=world.coordinator
    )
    assert stored(action).state == ActionState.COPIL_REVIEW
    services.transition(stored(action), "approve", actor=world.copil)
    assert stored(action).state == ActionState.VALIDATED
    assert last_event().actor == world.copil


@pytest.mark.parametrize("comment", ["", "   "])
@pytest.mark.parametrize("transition", ["request_changes", "reject"])
def test_request_changes_and_reject_need_a_comment(world, transition, comment):
    action = action_in(world, ActionState.COPIL_REVIEW)
    assert_refused(
        "comment",
        services.transition,
        action,
        action,
        transition,
        actor=world.copil,
        comment=comment,
    )
    assert stored(action).state == ActionState.COPIL_REVIEW


def test_request_changes_clears_the_submitter(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "request_changes", actor=world.copil, comment="À retravailler")
    after = stored(action)
    assert after.state == ActionState.CO_CONSTRUCTION
    assert after.submitted_by is None
    assert last_event().comment == "À retravailler"


# --- funding -----------------------------------------------------------------------------------


def test_open_funding_needs_a_funding_request(world):
    action = action_in(world, ActionState.VALIDATED)
    assert_refused(
        "guard", services.transition, action, action, "open_funding", actor=world.coordinator
    )
    add_request(world, action)
    services.transition(stored(action), "open_funding", actor=world.coordinator)
    assert stored(action).state == ActionState.FUNDING


@pytest.mark.parametrize("request_state", ["draft", "submitted"])
def test_start_implementation_refused_while_a_request_is_undecided(world, request_state):
    # Own funds cover the plan: only the undecided request stands in the way.
    action = validated(world, own_funds=Decimal("18000"))
    req = add_request(world, action)
    if request_state == "submitted":
        services.transition(req, "submit", actor=world.coordinator)
    action = stored(action)
    err = assert_refused(
        "guard",
        services.transition,
        action,
        action,
        "start_implementation",
        actor=world.coordinator,
    )
    assert "décision" in err.message


@pytest.mark.parametrize(
    ("granted", "own_funds", "allowed"),
    [
        (Decimal("10000"), Decimal("0"), False),
        (Decimal("10000"), Decimal("7999.99"), False),
        (Decimal("10000"), Decimal("8000"), True),
        (Decimal("18000"), Decimal("0"), True),
    ],
)
def test_start_implementation_needs_the_plan_covered(world, granted, own_funds, allowed):
    action = in_funding(world, decisions=[("grant", granted)], own_funds=own_funds)
    if allowed:
        services.transition(action, "start_implementation", actor=world.coordinator)
        assert stored(action).state == ActionState.IMPLEMENTATION
    else:
        assert_refused(
            "guard",
            services.transition,
            action,
            action,
            "start_implementation",
            actor=world.coordinator,
        )
        assert stored(action).state == ActionState.FUNDING


def test_start_implementation_covered_by_own_funds_alone(world):
    action = validated(world, own_funds=Decimal("18000"))
    services.transition(action, "start_implementation", actor=world.coordinator)
    assert stored(action).state == ActionState.IMPLEMENTATION


def test_start_implementation_uncovered_is_refused_without_a_waiver(world):
    action = action_in(world, ActionState.VALIDATED)
    assert_refused(
        "guard",
        services.transition,
        action,
        action,
        "start_implementation",
        actor=world.coordinator,
    )


def test_start_implementation_with_a_copil_waiver(world):
    action = action_in(world, ActionState.VALIDATED)
    services.record_funding_waiver(action=action, actor=world.copil, comment="Urgence sanitaire")
    event = last_event()
    assert (event.event, event.actor) == ("funding_waiver", world.copil)
    assert event.changes == {"funding_waiver": ["", "Urgence sanitaire"]}
    assert event.comment == "Urgence sanitaire"
    services.transition(stored(action), "start_implementation", actor=world.coordinator)
    assert stored(action).state == ActionState.IMPLEMENTATION


@pytest.mark.parametrize("user", ["coordinator", "cotech", "funder", "ars_referent"])
def test_only_the_copil_records_a_funding_waiver(world, user):
    action = action_in(world, ActionState.VALIDATED)
    assert_refused(
        "role",
        services.record_funding_waiver,
        action,
        action=action,
        actor=getattr(world, user),
        comment="Je m'accorde une dérogation",
    )
    assert stored(action).funding_waiver == ""


def test_a_funding_waiver_needs_a_reason(world):
    action = action_in(world, ActionState.VALIDATED)
    assert_refused(
        "comment",
        services.record_funding_waiver,
        action,
        action=action,
        actor=world.copil,
        comment="  ",
    )


def test_rework_after_a_refusal_that_leaves_the_plan_uncovered(world):
    action = in_funding(world, decisions=[("refuse", None)])
    services.transition(
        action, "rework", actor=world.coordinator, comment="Chercher d'autres fonds"
    )
    after = stored(action)
    assert after.state == ActionState.CO_CONSTRUCTION
    assert after.submitted_by is None


def test_rework_drops_the_waiver_given_to_the_previous_version(world):
    action = in_funding(world, decisions=[("refuse", None)])
    services.record_funding_waiver(
        action=action, actor=world.copil, comment="Démarrage autorisé sur fonds propres"
    )
    services.transition(stored(action), "rework", actor=world.coordinator, comment="Nouveau plan")
    assert stored(action).funding_waiver == ""
    event = last_event()
    assert event.event == "rework"
    # Everything the transition changed is in the trail: the waiver, and the submitter.
    assert event.changes == {
        "funding_waiver": ["Démarrage autorisé sur fonds propres", ""],
        "submitted_by": [chain.person(world.coordinator), None],
    }


@pytest.mark.parametrize(
    ("decisions", "own_funds"),
    [
        pytest.param([("grant", Decimal("18000"))], Decimal("0"), id="granted"),
        pytest.param([(None, None)], Decimal("0"), id="undecided"),
        pytest.param(
            [("refuse", None), ("grant", Decimal("18000"))], Decimal("0"), id="refused-but-covered"
        ),
        pytest.param([("refuse", None)], Decimal("18000"), id="refused-but-own-funds"),
    ],
)
def test_rework_refused_without_a_refusal_leaving_the_plan_uncovered(world, decisions, own_funds):
    action = in_funding(world, decisions=decisions, own_funds=own_funds)
    assert_refused("guard", services.transition, action, action, "rework", actor=world.coordinator)
    assert stored(action).state == ActionState.FUNDING


# --- close -------------------------------------------------------------------------------------


def in_evaluation(world) -> Action:
    """An action in evaluation with two indicators and nothing measured yet."""
    action = validated(world, own_funds=Decimal("18000"), indicators=2)
    action = services.transition(action, "start_implementation", actor=world.coordinator)
    action = services.transition(action, "finish_implementation", actor=world.action_lead)
    assert stored(action).state == ActionState.EVALUATION
    return stored(action)


def measure(world, indicator) -> None:
    services.record_measurement(
        indicator=indicator, actor=world.action_lead, date=datetime.date(2026, 6, 30), value=3
    )


def report(world, action) -> None:
    services.write_evaluation_report(action=action, actor=world.action_lead, achievements="Fait.")


@pytest.mark.parametrize("missing", ["report", "one_measurement", "everything"])
def test_close_needs_a_report_and_every_indicator_measured(world, missing):
    action = in_evaluation(world)
    first, second = action.indicators.order_by("pk")
    if missing != "everything":
        measure(world, first)
    if missing == "report":
        measure(world, second)
    if missing == "one_measurement":
        report(world, action)
    action = stored(action)
    assert_refused("guard", services.transition, action, action, "close", actor=world.copil)
    assert stored(action).state == ActionState.EVALUATION


def test_close_with_a_report_and_every_indicator_measured(world):
    action = in_evaluation(world)
    for indicator in action.indicators.all():
        measure(world, indicator)
    report(world, action)
    services.transition(stored(action), "close", actor=world.copil)
    assert stored(action).state == ActionState.CLOSED


# --- abandon -----------------------------------------------------------------------------------

ACTIVE = [
    "draft",
    "co_construction",
    "copil_review",
    "validated",
    "funding",
    "implementation",
    "evaluation",
]


@pytest.mark.parametrize("state", ACTIVE)
def test_abandon_needs_a_reason(world, state):
    action = action_in(world, state)
    assert_refused(
        "comment", services.transition, action, action, "abandon", actor=world.copil, comment=""
    )
    services.transition(stored(action), "abandon", actor=world.copil, comment="Plus de porteur")
    assert stored(action).state == ActionState.ABANDONED
    assert (last_event().from_state, last_event().comment) == (state, "Plus de porteur")


@pytest.mark.parametrize("state", ["closed", "rejected", "abandoned"])
def test_abandon_is_impossible_once_finished(world, state):
    action = action_in(world, state)
    assert_refused(
        "state",
        services.transition,
        action,
        action,
        "abandon",
        actor=world.copil,
        comment="Trop tard",
    )


# --- stale copies ------------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["approve", "request_changes", "reject", "abandon"])
def test_a_copy_that_has_already_moved_is_refused(world, second):
    action = action_in(world, ActionState.COPIL_REVIEW)
    first_copy = Action.objects.get(pk=action.pk)
    second_copy = Action.objects.get(pk=action.pk)
    services.transition(first_copy, "approve", actor=world.copil)
    assert_refused(
        "already_moved",
        services.transition,
        action,
        second_copy,
        second,
        actor=world.copil2,
        comment=COMMENT,
    )
    assert stored(action).state == ActionState.VALIDATED
    assert AuditEvent.objects.filter(event="approve", object_id=str(action.pk)).count() == 1


def test_a_copy_seen_before_a_resubmission_is_refused(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    seen = version(action)  # the version the COPIL member read
    services.transition(action, "request_changes", actor=world.copil, comment="Revoir le budget")
    services.update_action(
        action=stored(action), actor=world.coordinator, data={"title": "Version modifiée"}
    )
    services.transition(stored(action), "submit_to_copil", actor=world.coordinator)
    with pytest.raises(services.Refused) as exc:
        services.transition(stored(action), "approve", actor=world.copil2, seen=seen)
    assert exc.value.rule == "already_moved"
    # The message says what changed since, and who changed it.
    assert "Soumettre au COPIL" in exc.value.message
    assert world.coordinator.username in exc.value.message


# --- editing the fiche -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"planned_start": datetime.date(2026, 6, 1), "planned_end": datetime.date(2026, 5, 31)},
            "planned_end",
        ),
        ({"own_funds": Decimal("-1")}, "own_funds"),
    ],
)
def test_invalid_fiche_data_is_refused(world, data, field):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    err = assert_refused(
        "invalid", services.update_action, action, action=action, actor=world.coordinator, data=data
    )
    assert field in err.errors


def test_a_member_of_another_working_group_may_not_edit(world):
    action = new_action(world, working_group=world.working_group)
    other_group = WorkingGroupFactory(programme=world.programme)
    stranger = UserFactory()
    MembershipFactory(
        user=stranger, programme=world.programme, role=Role.WG_MEMBER, working_group=other_group
    )
    assert_refused(
        "role",
        services.update_action,
        action,
        action=action,
        actor=stranger,
        data={"context": "Modifié par un autre groupe"},
    )
    # A member of the action's own group may.
    services.update_action(
        action=stored(action), actor=world.wg_member, data={"context": "Besoins recensés"}
    )
    assert stored(action).context == "Besoins recensés"


@pytest.mark.parametrize("user", ["copil", "cotech", "funder", "ars_referent", "other_lead"])
def test_roles_that_do_not_edit_the_fiche(world, user):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    assert_refused(
        "role",
        services.update_action,
        action,
        action=action,
        actor=getattr(world, user),
        data={"title": "Nouveau titre"},
    )


def test_the_fiche_is_frozen_once_submitted(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    assert_refused(
        "state",
        services.update_action,
        action,
        action=action,
        actor=world.coordinator,
        data={"title": "Changement en douce"},
    )


def test_an_update_writes_one_event_with_the_changes(world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    old_title = action.title
    n_events = AuditEvent.objects.count()
    services.update_action(
        action=action,
        actor=world.action_lead,
        data={
            "title": "Permanences santé",
            "planned_start": datetime.date(2026, 3, 1),
            "own_funds": Decimal("500"),
            "context": "",
        },
    )
    assert AuditEvent.objects.count() == n_events + 1
    event = last_event()
    assert (event.event, event.actor, event.object_id) == (
        "update",
        world.action_lead,
        str(action.pk),
    )
    assert event.changes == {
        "title": [old_title, "Permanences santé"],
        "planned_start": [None, "2026-03-01"],
        "own_funds": ["0.00", "500.00"],
    }
    after = stored(action)
    assert (after.title, after.own_funds) == ("Permanences santé", Decimal("500"))


def test_an_update_that_changes_nothing_writes_no_event(world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    n_events = AuditEvent.objects.count()
    services.update_action(action=action, actor=world.coordinator, data={"title": action.title})
    assert AuditEvent.objects.count() == n_events


def test_a_part_added_after_the_page_was_read_refuses_the_decision(world):
    """The fiche changes when a part of it does: submitting the version read before a
    colleague added a budget line is refused, nothing moves."""
    action = complete_fiche(world, action_in(world, ActionState.CO_CONSTRUCTION))
    read = version(action)
    services.add_budget_line(
        action=action,
        actor=world.action_lead,
        year=2026,
        category="operating",
        planned=Decimal("300"),
    )
    with pytest.raises(services.Refused) as refused:
        services.transition(stored(action), "submit_to_copil", actor=world.coordinator, seen=read)
    assert refused.value.rule == "already_moved"
    assert "Ajout d'une ligne budgétaire" in refused.value.message
    assert Action.objects.get(pk=action.pk).state == ActionState.CO_CONSTRUCTION
