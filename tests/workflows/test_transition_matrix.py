"""Role × transition × state: who may move an action (and a funding request) where.

The expected outcomes are DESIGN.md's lifecycle table, written out again here by hand: they are
never read from the model's transition metadata, so a drift between the two shows up here.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from audit.models import AuditEvent
from funding.models import FundingRequest
from projects import lifecycle
from projects.models import Action, ActionState
from tests.world import action_in, complete_fiche, evaluate, new_action
from workflows import services

ACTIVE = {
    "draft",
    "co_construction",
    "copil_review",
    "validated",
    "funding",
    "implementation",
    "evaluation",
}
ALL_STATES = ACTIVE | {"rejected", "closed", "abandoned", "declined", "merged"}

# The world's users and what they are in the world's programme.
#   coordinator, copil, copil2 (two COPIL members), cotech, funder (of the world's funder),
#   other_funder (of another funder), action_lead (of the action's lead organisation),
#   other_lead (lead of another organisation), wg_member (of the world's group, which is not
#   the action's: the action has none), ars_referent, outsider (member of another programme).
USERS = (
    "coordinator",
    "copil",
    "copil2",
    "cotech",
    "funder",
    "other_funder",
    "action_lead",
    "other_lead",
    "wg_member",
    "ars_referent",
    "outsider",
)
COORDINATOR = {"coordinator"}
COPIL = {"copil", "copil2"}

# DESIGN.md, "Action lifecycle": transition -> (from states, to state, users allowed).
ACTION_TABLE = {
    # The coordination triages proposals: takes one up, merges it, or declines it.
    "start_co_construction": ({"draft"}, "co_construction", COORDINATOR),
    "merge": ({"draft"}, "merged", COORDINATOR),
    "decline": ({"draft"}, "declined", COORDINATOR),
    "submit_to_copil": ({"co_construction"}, "copil_review", COORDINATOR),
    # The coordinator submitted: every COPIL member may approve.
    "approve": ({"copil_review"}, "validated", COPIL),
    "request_changes": ({"copil_review"}, "co_construction", COPIL),
    "reject": ({"copil_review"}, "rejected", COPIL),
    "open_funding": ({"validated"}, "funding", COORDINATOR),
    "start_implementation": ({"validated", "funding"}, "implementation", COORDINATOR),
    "rework": ({"funding"}, "co_construction", COORDINATOR),
    # The coordinator, or the lead of *this* action's lead organisation.
    "finish_implementation": ({"implementation"}, "evaluation", {"coordinator", "action_lead"}),
    "close": ({"evaluation"}, "closed", COPIL),
    "abandon": (ACTIVE, "abandoned", COPIL),
}

COMMENT = "Décision motivée (test de la matrice)"


class _Rollback(Exception):
    """Raised to undo a role's attempt, so that the next role starts from the same state."""


def test_the_table_covers_every_transition_and_state():
    assert set(ACTION_TABLE) == set(lifecycle.names(Action))
    assert ALL_STATES == set(ActionState.values)
    for sources, target, _users in ACTION_TABLE.values():
        assert sources <= ALL_STATES and target in ALL_STATES


def _refused_funding(world, action: Action) -> Action:
    """From validated: one request to the world's funder, funding opened, request refused —
    the plan is left uncovered (own funds 0)."""
    req = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("18000"),
    )
    services.transition(Action.objects.get(pk=action.pk), "open_funding", actor=world.coordinator)
    req = services.transition(req, "submit", actor=world.coordinator)
    services.transition(
        req,
        "refuse",
        actor=world.funder,
        comment="Enveloppe épuisée",
        decision_date=datetime.date(2026, 2, 1),
    )
    return Action.objects.get(pk=action.pk)


def prepare(world, state: str, transition: str) -> Action:
    """An action in ``state`` whose guard for ``transition`` holds (when it can)."""
    if state == "funding" and transition == "rework":
        action = _refused_funding(world, action_in(world, ActionState.VALIDATED))
        assert action.state == "funding"
        return action
    action = action_in(world, state)
    if state == "co_construction" and transition == "submit_to_copil":
        action = complete_fiche(world, action)
    elif state == "validated" and transition == "open_funding":
        services.create_funding_request(
            action=action,
            actor=world.coordinator,
            funder_id=world.funder_org.pk,
            scheme="FIR",
            year=2026,
            requested_amount=Decimal("18000"),
        )
    elif state == "validated" and transition == "start_implementation":
        # No request and no own funds: only a COPIL waiver lets it start.
        services.record_funding_waiver(
            action=action, actor=world.copil, comment="Démarrage autorisé par le COPIL"
        )
    elif state == "evaluation" and transition == "close":
        action = evaluate(world, action)
    action = Action.objects.get(pk=action.pk)
    assert action.state == state
    return action


def _attempt(world, user_name, call, *, reload, expected_ok, target, transition, obj_type):
    """Run one attempt inside a savepoint, check it, roll it back. Returns a list of problems."""
    user = getattr(world, user_name)
    problems = []
    try:
        with transaction.atomic():
            before = reload()
            last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
            n_events = AuditEvent.objects.count()
            try:
                call(reload(), user)
            except services.Refused as exc:
                after = reload()
                if expected_ok:
                    problems.append(f"{user_name}: refused ({exc.rule}: {exc.message})")
                elif exc.rule not in acceptable_rules(before, transition, user_name):
                    problems.append(
                        f"{user_name}: refused with rule {exc.rule!r}, expected "
                        f"{sorted(acceptable_rules(before, transition, user_name))}"
                    )
                if stored_row(after) != stored_row(before):
                    problems.append(f"{user_name}: refused but the row changed")
                if AuditEvent.objects.count() != n_events:
                    problems.append(f"{user_name}: refused but an audit event was written")
            else:
                after = reload()
                new = list(AuditEvent.objects.filter(pk__gt=last_event or 0).order_by("pk"))
                if not expected_ok:
                    problems.append(f"{user_name}: allowed ({before.state} -> {after.state})")
                elif after.state != target:
                    problems.append(f"{user_name}: stored state {after.state}, expected {target}")
                if expected_ok:
                    facts = [
                        (e.event, e.actor_id, e.from_state, e.to_state, e.object_type) for e in new
                    ]
                    wanted = [(transition, user.pk, before.state, target, obj_type)]
                    if transition == "merge":  # the merged text, kept in the target's history
                        wanted.append(("merge_in", user.pk, "", "", obj_type))
                    if facts != wanted:
                        problems.append(f"{user_name}: audit events {facts}, expected {wanted}")
            raise _Rollback
    except _Rollback:
        pass
    return problems


def stored_row(obj) -> dict:
    """Every stored column of the row (for an action this includes ``state`` and
    ``updated_at``)."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def acceptable_rules(before, transition, user_name: str) -> set[str]:
    """The acceptable refusal rules: ``state`` when the transition does not leave the current
    state, ``role`` when it does but the user may not run it — or, for the coordination
    recording a funder's decision, ``guard`` (the decision letter is missing here)."""
    table = ACTION_TABLE if isinstance(before, Action) else FUNDING_TABLE
    sources, _target, _users = table[transition]
    if before.state in sources:
        if user_name in FUNDING_ON_BEHALF.get(transition, ()) and not isinstance(before, Action):
            return {"guard"}
        return {"role"}
    return {"state", "role"}


@pytest.mark.parametrize("transition", list(ACTION_TABLE))
@pytest.mark.parametrize("state", sorted(ALL_STATES))
def test_action_transition_matrix(world, state, transition):
    sources, target, allowed = ACTION_TABLE[transition]
    action = prepare(world, state, transition)

    extra = {"into": new_action(world)} if transition == "merge" else {}

    def call(copy, user):
        return services.transition(copy, transition, actor=user, comment=COMMENT, **extra)

    def reload():
        return Action.objects.get(pk=action.pk)

    problems = []
    for user_name in USERS:
        problems += _attempt(
            world,
            user_name,
            call,
            reload=reload,
            expected_ok=state in sources and user_name in allowed,
            target=target,
            transition=transition,
            obj_type="projects.action",
        )
        # The rollback really restored the starting point for the next user.
        assert Action.objects.get(pk=action.pk).state == state
    assert not problems, "\n".join(problems)


# --- Funding requests ------------------------------------------------------------------------

# Only the funder whose organisation the request is addressed to decides on it.
FUNDING_TABLE = {
    "submit": ({"draft"}, "submitted", COORDINATOR),
    "grant": ({"submitted"}, "granted", {"funder"}),
    "refuse": ({"submitted"}, "refused", {"funder"}),
    "withdraw": ({"draft", "submitted"}, "withdrawn", COORDINATOR),
}
# Who may record a funder's decision on its behalf, with the decision letter attached.
FUNDING_ON_BEHALF = {"grant": COORDINATOR, "refuse": COORDINATOR}
FUNDING_KWARGS = {
    "submit": {},
    "grant": {"amount": Decimal("18000"), "decision_date": datetime.date(2026, 2, 1)},
    "refuse": {"decision_date": datetime.date(2026, 2, 1)},
    "withdraw": {},
}


def request_in(world, state: str) -> FundingRequest:
    action = action_in(world, ActionState.VALIDATED)
    req = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("18000"),
    )
    if state != "draft":
        name = "withdraw" if state == "withdrawn" else "submit"
        req = services.transition(req, name, actor=world.coordinator, comment=COMMENT)
    if state in ("granted", "refused"):
        name = "grant" if state == "granted" else "refuse"
        req = services.transition(
            req, name, actor=world.funder, comment=COMMENT, **FUNDING_KWARGS[name]
        )
    req = FundingRequest.objects.get(pk=req.pk)
    assert req.state == state
    return req


@pytest.mark.parametrize("transition", list(FUNDING_TABLE))
@pytest.mark.parametrize("state", ["draft", "submitted", "granted", "refused", "withdrawn"])
def test_funding_request_transition_matrix(world, state, transition):
    sources, target, allowed = FUNDING_TABLE[transition]
    req = request_in(world, state)

    def call(copy, user):
        return services.transition(
            copy, transition, actor=user, comment=COMMENT, **FUNDING_KWARGS[transition]
        )

    def reload():
        return FundingRequest.objects.get(pk=req.pk)

    problems = []
    for user_name in USERS:
        problems += _attempt(
            world,
            user_name,
            call,
            reload=reload,
            expected_ok=state in sources and user_name in allowed,
            target=target,
            transition=transition,
            obj_type="funding.fundingrequest",
        )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("transition", ["grant", "refuse"])
def test_another_funder_may_not_decide_on_a_request_addressed_to_someone_else(world, transition):
    req = request_in(world, "submitted")
    with pytest.raises(services.Refused) as exc:
        services.transition(
            req, transition, actor=world.other_funder, comment=COMMENT, **FUNDING_KWARGS[transition]
        )
    assert exc.value.rule == "role"
    assert FundingRequest.objects.get(pk=req.pk).state == "submitted"


def test_a_partial_grant_is_recorded_as_partially_granted(world):
    req = request_in(world, "submitted")
    services.transition(
        req,
        "grant",
        actor=world.funder,
        amount=Decimal("10000"),
        decision_date=datetime.date(2026, 2, 1),
    )
    stored = FundingRequest.objects.get(pk=req.pk)
    assert stored.state == "partially_granted"
    assert stored.granted_amount == Decimal("10000")
    event = AuditEvent.objects.filter(event="grant").get()
    assert (event.from_state, event.to_state) == ("submitted", "partially_granted")
    assert event.changes["granted_amount"] == [None, "10000.00"]
