"""A small programme with one user per role, and a way to bring an action to any state
through the services (so every state in the tests carries a real audit trail)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from demo import paths
from projects.models import Action, ActionState, Programme, Role
from workflows import services

from .factories import (
    MembershipFactory,
    ObjectiveFactory,
    OrganisationFactory,
    ProgrammeFactory,
    UserFactory,
    WorkingGroupFactory,
)

ROLE_USERS = (
    "coordinator",
    "coordinator2",
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


@dataclass
class World:
    programme: Programme
    other_programme: Programme
    objective: object
    lead: object
    funder_org: object
    working_group: object
    users: dict = field(default_factory=dict)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def build_world(prefix: str = "") -> World:
    programme = ProgrammeFactory()
    other = ProgrammeFactory()
    objective = ObjectiveFactory(axis__programme=programme)
    lead = OrganisationFactory(name=f"{prefix}CCAS de test {programme.pk}")
    other_lead = OrganisationFactory()
    funder_org = OrganisationFactory(name=f"{prefix}ARS test {programme.pk}", kind="ars")
    other_funder_org = OrganisationFactory(kind="cpam")
    group = WorkingGroupFactory(programme=programme)
    users = {name: UserFactory(username=f"{prefix}{name}-{programme.pk}") for name in ROLE_USERS}
    MembershipFactory(user=users["coordinator"], programme=programme, role=Role.COORDINATOR)
    # A colleague of the coordination (e.g. who keeps a séance's register): prepared nothing.
    MembershipFactory(user=users["coordinator2"], programme=programme, role=Role.COORDINATOR)
    MembershipFactory(user=users["copil"], programme=programme, role=Role.COPIL)
    MembershipFactory(user=users["copil2"], programme=programme, role=Role.COPIL)
    MembershipFactory(user=users["cotech"], programme=programme, role=Role.COTECH)
    MembershipFactory(
        user=users["funder"], programme=programme, role=Role.FUNDER, organisation=funder_org
    )
    MembershipFactory(
        user=users["other_funder"],
        programme=programme,
        role=Role.FUNDER,
        organisation=other_funder_org,
    )
    MembershipFactory(
        user=users["action_lead"], programme=programme, role=Role.ACTION_LEAD, organisation=lead
    )
    MembershipFactory(
        user=users["other_lead"],
        programme=programme,
        role=Role.ACTION_LEAD,
        organisation=other_lead,
    )
    MembershipFactory(
        user=users["wg_member"], programme=programme, role=Role.WG_MEMBER, working_group=group
    )
    MembershipFactory(user=users["ars_referent"], programme=programme, role=Role.ARS_REFERENT)
    # The outsider coordinates (and sits on the COPIL of) another programme only.
    MembershipFactory(user=users["outsider"], programme=other, role=Role.COORDINATOR)
    MembershipFactory(user=users["outsider"], programme=other, role=Role.COPIL)
    return World(programme, other, objective, lead, funder_org, group, users)


TITLE = "Permanences d'accès aux droits santé en QPV"


def new_action(world: World, **data) -> Action:
    """A draft fiche of the world's programme (titles are unique within a programme: the
    first one takes ``TITLE``, the next ones are numbered)."""
    taken = world.programme.actions.filter(title__startswith=TITLE).count()
    values = {
        "title": TITLE if not taken else f"{TITLE} ({taken + 1})",
        "lead_organisation": world.lead,
    }
    values.update(data)
    return services.create_action(programme=world.programme, actor=world.coordinator, data=values)


def complete_fiche(world: World, action: Action) -> Action:
    """Fill what the COPIL needs (objective, public, dates, budget, one indicator)."""
    action = services.update_action(
        action=action,
        actor=world.coordinator,
        data={
            "objective": world.objective,
            "target_public": "Habitants des quartiers prioritaires",
            "planned_start": datetime.date(2026, 1, 1),
            "planned_end": datetime.date(2026, 12, 31),
        },
    )
    services.add_budget_line(
        action=action,
        actor=world.coordinator,
        year=2026,
        category="staff",
        planned=Decimal("18000"),
    )
    services.add_indicator(
        action=action, actor=world.coordinator, kind="process", label="Nombre de permanences"
    )
    return Action.objects.get(pk=action.pk)


def request_funding(world: World, action: Action) -> None:
    """One request of 18,000 € to the world's funder (a draft)."""
    services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("18000"),
    )


def grant(world: World, action: Action, *, amount: Decimal = Decimal("18000")) -> None:
    """The coordination files the fiche's draft requests; the world's funder grants them."""
    for request in action.funding_requests.filter(state="draft"):
        request = services.transition(request, "submit", actor=world.coordinator)
        services.transition(
            request,
            "grant",
            actor=world.funder,
            amount=amount,
            decision_date=datetime.date(2026, 2, 1),
        )


def fund(world: World, action: Action, *, amount: Decimal = Decimal("18000")) -> Action:
    """Add one request to the world's funder, open funding and grant it."""
    request_funding(world, action)
    services.transition(Action.objects.get(pk=action.pk), "open_funding", actor=world.coordinator)
    grant(world, action, amount=amount)
    return Action.objects.get(pk=action.pk)


def evaluate(world: World, action: Action) -> Action:
    for indicator in action.indicators.all():
        services.record_measurement(
            indicator=indicator, actor=world.action_lead, date=datetime.date(2026, 6, 30), value=12
        )
    services.write_evaluation_report(
        action=action, actor=world.action_lead, achievements="12 permanences tenues."
    )
    return Action.objects.get(pk=action.pk)


def cast_of(world: World) -> dict:
    """Who runs each transition of the world's fiches (the lifecycle says which role)."""
    return {Role.COORDINATOR: world.coordinator, Role.COPIL: world.copil}


def action_in(world: World, state: str) -> Action:
    """A fresh action of the world's programme brought to ``state`` through the services, by
    the shared path-finder (``demo.paths``): completed before the COPIL, funded by the
    world's funder, evaluated before closing."""

    def prepare(action: Action, transition: str) -> dict | None:
        if transition == "merge":
            return {"into": new_action(world)}
        if transition == "submit_to_copil":
            complete_fiche(world, action)
        elif transition == "open_funding":
            request_funding(world, action)
        elif transition == "start_implementation":
            grant(world, action)
        elif transition == "close":
            evaluate(world, action)

    action = paths.bring_to(
        new_action(world), state, cast=cast_of(world), prepare=prepare, via_funding=True
    )
    if state == ActionState.FUNDING:
        grant(world, action)  # its funder has decided: implementation may start
    return Action.objects.get(pk=action.pk)
