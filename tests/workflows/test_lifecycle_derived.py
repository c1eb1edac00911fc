"""The lifecycle is declared once, on the models; the tasks, the séance decisions, the page's
buttons and the paths of the demo and tests are derived from it. Each derived table is checked
here twice: against the FSM itself, and against DESIGN.md's table written out by hand."""

import pytest
from django.urls import reverse

from demo.paths import route
from funding.models import FundingRequest
from projects import lifecycle
from projects.models import Action, ActionState, AgendaItem, Meeting, Programme, Role
from tests.world import action_in
from workflows import flows, services

# DESIGN.md: who takes the decision each state waits for.
TASK_ROLES = {
    "draft": {Role.COORDINATOR},
    "co_construction": {Role.COORDINATOR},
    "copil_review": {Role.COPIL},
    "validated": {Role.COORDINATOR},
    "funding": {Role.COORDINATOR},
    "implementation": {Role.COORDINATOR, Role.ACTION_LEAD},
    "evaluation": {Role.COPIL},
}
# DESIGN.md: what the COPIL decides in séance, by the state the fiche waits in.
COPIL_DECISIONS = {
    "copil_review": {"approve", "request_changes", "reject", "abandon"},
    "evaluation": {"close", "abandon"},
}


def test_the_tasks_are_the_lifecycles():
    assert {s: set(stage.roles) for s, stage in flows.STAGES.items()} == TASK_ROLES
    for state, stage in flows.STAGES.items():
        awaited = {s.name for s in lifecycle.outgoing(Action, state) if s.awaited}
        assert set(stage.transitions) == awaited
        assert stage.roles == frozenset().union(
            *(s.roles for s in lifecycle.outgoing(Action, state) if s.awaited)
        )
    # One node per waiting state in the viewflow process, and none for the final states.
    nodes = {n.name for n in flows.ActionFlow.instance.nodes()}
    assert set(TASK_ROLES) <= nodes
    assert not {"rejected", "closed", "abandoned"} & nodes
    assert flows.FUNDER_STAGE.roles == {Role.FUNDER}
    assert set(flows.FUNDER_STAGE.transitions) == {"grant", "refuse"}


def test_what_a_body_decides_in_seance_is_the_lifecycles():
    copil = Meeting(body=Meeting.Body.COPIL)
    assert set(copil.states_on_agenda()) == set(COPIL_DECISIONS)
    for state, expected in COPIL_DECISIONS.items():
        item = AgendaItem(meeting=copil, state_at_agenda=state)
        offered = {name for name, _label in item.decision_choices() if name}
        assert offered == expected
        assert offered == {
            s.name for s in lifecycle.outgoing(Action, state) if Role.COPIL in s.roles
        }
    # A body that decides nothing has nothing on its agenda to decide.
    plenary = Meeting(body=Meeting.Body.PLENARY)
    assert plenary.states_on_agenda() == []
    choices = AgendaItem(meeting=plenary, state_at_agenda="copil_review").decision_choices()
    assert [name for name, _label in choices] == [""]


def test_every_transition_is_labelled_and_leads_where_the_design_says():
    for model in (Action, FundingRequest, Programme):
        states = {v for v, _ in lifecycle.state_field(model).choices}
        for step in lifecycle.steps(model):
            assert step.roles, step.name
            assert step.source in states and set(step.targets) <= states
            assert str(step.label)


@pytest.mark.parametrize("state", ActionState.values)
def test_the_path_finder_reaches_every_state(state):
    names = route(state, via_funding=True)
    current = ActionState.DRAFT
    for name in names:
        step = lifecycle.step(Action, name, current)
        assert step is not None, (current, name)
        current = step.targets[0]
    assert current == state
    # Through funding when the fiche seeks funding, straight on when it does not.
    if state in ("implementation", "evaluation", "closed"):
        assert "open_funding" in names and "open_funding" not in route(state, via_funding=False)


ROLE_USERS = ["coordinator", "copil", "copil2", "cotech", "funder", "action_lead", "ars_referent"]


@pytest.mark.parametrize("state", ["draft", "copil_review", "validated", "implementation"])
def test_the_page_offers_what_the_service_allows(client, world, state):
    """For each role: the decision buttons of the fiche page are the transitions whose
    predicate lets the user run them (or shows why not, for the separation of duties)."""
    action = action_in(world, state)
    for name in ROLE_USERS:
        user = getattr(world, name)
        client.force_login(user)
        page = client.get(reverse("coordo:action", args=[action.pk]))
        shown = {o.step.name for o in page.context["offers"]}
        allowed = {
            s.name
            for s in lifecycle.available(action)
            if (r := services.step_refusal(user, action, s.name)) is None or r.rule == "separation"
        }
        assert shown == allowed, name
        html = page.content.decode()
        for step in lifecycle.available(action):
            url = reverse("coordo:action-transition", args=[action.pk, step.name])
            assert (url in html) == (step.name in allowed), (name, step.name)
