"""The flow follows the state machine: one open task per active fiche, for the right role."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from projects.models import Action, ActionState
from tests.world import action_in, build_world, complete_fiche, new_action
from workflows import flows, queues, services


def stored(action):
    return Action.objects.get(pk=action.pk)


def open_node(action):
    task = queues.open_task(action)
    return task.flow_task.name if task else None


def test_a_new_fiche_waits_for_the_coordinator_with_a_due_date(world):
    world.programme.task_due_days = 21
    world.programme.save()
    action = new_action(world)
    task = queues.open_task(action)
    assert task.flow_task.name == "draft"
    assert task.status == STATUS.NEW
    assert flows.due_date(task) == timezone.localdate() + datetime.timedelta(days=21)


def test_the_decision_closes_the_task_as_done_by_the_actor(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    decision = queues.open_task(action)
    assert decision.flow_task.name == "copil_review"
    services.transition(action, "approve", actor=world.copil2)
    decision = Task.objects.get(pk=decision.pk)
    assert decision.status == STATUS.DONE
    assert decision.owner == world.copil2
    assert open_node(action) == "validated"


def test_abandon_cancels_the_coordinators_task_and_ends_the_process(world):
    action = new_action(world)
    launch = queues.open_task(action)
    services.transition(action, "abandon", actor=world.copil, comment="Doublon")
    assert Task.objects.get(pk=launch.pk).status == STATUS.CANCELED
    assert queues.open_task(action) is None
    process = flows.process_of(action)
    assert process.status == "CANCELED"  # ended by a way out, not by its last stage
    # Its deadline timer is cancelled too: nobody is alerted about an abandoned fiche.
    assert not Task.objects.filter(process=process, status=STATUS.SCHEDULED).exists()
    assert flows.disagreements() == []


def test_queue_is_filtered_by_memberships(world):
    in_review = action_in(world, ActionState.COPIL_REVIEW)
    # Programme B (the outsider's) has its own fiche awaiting its COPIL.
    other = build_world(prefix="b-")
    other_review = action_in(other, ActionState.COPIL_REVIEW)

    def queue(user):
        return {t.process.artifact_object_id for t in queues.task_queue(user)}

    assert in_review.pk in queue(world.copil)
    assert other_review.pk not in queue(world.copil)
    assert other_review.pk in queue(other.copil)
    assert in_review.pk not in queue(other.copil)
    # Someone who may read but not decide has no task.
    for reader in (world.ars_referent, world.cotech, world.funder, world.wg_member):
        assert queue(reader) == set()
    assert in_review.pk not in queue(world.coordinator)


def test_action_lead_gets_the_implementation_task_of_its_own_actions_only(world):
    own = action_in(world, ActionState.IMPLEMENTATION)
    assert own.lead_organisation == world.lead
    assert own.pk in {t.process.artifact_object_id for t in queues.task_queue(world.action_lead)}
    # The lead of another organisation of the same programme gets nothing.
    assert not queues.task_queue(world.other_lead).exists()


def test_check_workflows_names_a_fiche_out_of_step(world, capsys):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    call_command("check_workflows")
    # Someone closes the task behind the state machine's back.
    Task.objects.filter(pk=queues.open_task(action).pk).update(status=STATUS.CANCELED)
    with pytest.raises(CommandError):
        call_command("check_workflows")
    assert f"Fiche n°{action.pk}" in capsys.readouterr().err


class Walker:
    """Runs random legal transitions through the services, preparing each guard."""

    def __init__(self, world, rng: random.Random):
        self.world, self.rng = world, rng
        self.measured = False

    def requests(self, action, state):
        return list(action.funding_requests.filter(state=state))

    def step(self, action: Action) -> Action | None:
        w, a = self.world, stored(action)
        options = {
            ActionState.DRAFT: ["start_co_construction"],
            ActionState.CO_CONSTRUCTION: ["submit_to_copil"],
            ActionState.COPIL_REVIEW: ["approve", "approve", "request_changes", "reject"],
            ActionState.VALIDATED: ["open_funding", "start_implementation"],
            ActionState.FUNDING: ["start_implementation", "rework"],
            ActionState.IMPLEMENTATION: ["finish_implementation"],
            ActionState.EVALUATION: ["close"],
        }.get(a.state)
        if not options:
            return None
        name = "abandon" if self.rng.random() < 0.15 else self.rng.choice(options)
        actor = w.coordinator
        if name in ("approve", "request_changes", "reject", "abandon", "close"):
            actor = self.rng.choice([w.copil, w.copil2])
        if name == "finish_implementation":
            actor = self.rng.choice([w.coordinator, w.action_lead])
        if name == "submit_to_copil" and a.missing_for_copil():
            a = complete_fiche(w, a)
        if name == "open_funding":
            req = services.create_funding_request(
                action=a,
                actor=w.coordinator,
                funder_id=w.funder_org.pk,
                scheme="FIR",
                year=2026,
                requested_amount=Decimal("18000"),
            )
            services.transition(req, "submit", actor=w.coordinator)
        if name == "start_implementation" and a.state == ActionState.VALIDATED:
            services.record_funding_waiver(action=a, actor=w.copil, comment="Fonds propres")
        for req in self.requests(a, "submitted"):
            if name == "start_implementation":
                services.transition(
                    req,
                    "grant",
                    actor=w.funder,
                    amount=req.requested_amount,
                    decision_date=datetime.date(2026, 3, 1),
                )
            elif name == "rework":
                services.transition(
                    req,
                    "refuse",
                    actor=w.funder,
                    comment="Enveloppe épuisée",
                    decision_date=datetime.date(2026, 3, 1),
                )
        if name == "close" and not self.measured:
            for indicator in a.indicators.all():
                services.record_measurement(
                    indicator=indicator,
                    actor=w.coordinator,
                    date=datetime.date(2026, 6, 1),
                    value=3,
                )
            services.write_evaluation_report(action=a, actor=w.action_lead, achievements="Fait.")
            self.measured = True
        before_task = queues.open_task(a)
        a = services.transition(stored(a), name, actor=actor, comment="Motif")
        finished = Task.objects.get(pk=before_task.pk)
        if name in flows.STAGES[before_task.flow_task.name].transitions:
            assert (finished.status, finished.owner) == (STATUS.DONE, actor)
        else:  # abandon: another rule moved the fiche, the stage's task is cancelled
            assert finished.status == STATUS.CANCELED
        return a


def test_random_legal_paths_keep_flow_and_state_in_agreement(world):
    """60 seeded random walks through the services; after every step the open task is the
    stage of the new state (none once finished) and nothing disagrees anywhere."""
    rng = random.Random(2026)
    taken = set()
    for _ in range(60):
        walker = Walker(world, rng)
        action = new_action(world)
        states = [action.state]
        for _ in range(20):
            before = stored(action).state
            moved = walker.step(action)
            if moved is None:
                break
            taken.add((before, moved.state))
            states.append(moved.state)
            assert flows.disagreements() == [], states
            assert open_node(moved) == (moved.state if moved.state in flows.STAGES else None)
    # Every edge of the lifecycle was walked at least once.
    edges = {
        ("draft", "co_construction"),
        ("co_construction", "copil_review"),
        ("copil_review", "validated"),
        ("copil_review", "co_construction"),
        ("copil_review", "rejected"),
        ("validated", "funding"),
        ("validated", "implementation"),
        ("funding", "implementation"),
        ("funding", "co_construction"),
        ("implementation", "evaluation"),
        ("evaluation", "closed"),
    } | {(state, "abandoned") for state in flows.STAGES}
    assert edges <= taken, edges - taken
