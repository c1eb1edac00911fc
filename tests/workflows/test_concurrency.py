"""Races between real threads on committed data (each thread has its own connection).

The same tests run on SQLite (WAL, IMMEDIATE transactions) and on PostgreSQL (row locks).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from django.db import connection

from audit.chain import verify_chain
from audit.models import AuditEvent
from projects.models import Action, ActionState, Role
from tests.factories import MembershipFactory, UserFactory
from tests.world import action_in, build_world
from workflows import services

THREADS = 20


def copil_members(world, extra: int = 5) -> list:
    members = [world.copil, world.copil2]
    for n in range(extra):
        user = UserFactory(username=f"copil-extra-{n}-{world.programme.pk}")
        MembershipFactory(user=user, programme=world.programme, role=Role.COPIL)
        members.append(user)
    return members


def race(jobs) -> tuple[list, float]:
    """Run each ``job(copy)`` in its own thread, all released together by a barrier.

    ``jobs`` is a list of (action pk, callable taking the thread's own copy of the action).
    Returns each thread's outcome ("ok", a refusal rule, or the unexpected exception) and the
    elapsed seconds from the barrier's release to the last thread's end."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)
    released: list[float] = []

    def worker(i: int, pk: int, job) -> None:
        try:
            copy = Action.objects.get(pk=pk)
            if barrier.wait(timeout=60) == 0:
                released.append(time.perf_counter())
            job(copy)
            outcomes[i] = "ok"
        except services.Refused as exc:
            outcomes[i] = exc.rule
        except Exception as exc:  # noqa: BLE001 - any other exception is a failure to report
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, pk, job)) for i, (pk, job) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    end = time.perf_counter()
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return outcomes, end - released[0]


def test_twenty_copil_members_approve_the_same_action_at_once(committed_db):
    world = build_world()
    members = copil_members(world)
    action = action_in(world, ActionState.COPIL_REVIEW)
    events_before = AuditEvent.objects.filter(programme=world.programme).count()

    def approve_as(user):
        return lambda copy: services.transition(copy, "approve", actor=user)

    jobs = [(action.pk, approve_as(members[i % len(members)])) for i in range(THREADS)]
    outcomes, elapsed = race(jobs)

    counts = Counter(o if isinstance(o, str) else type(o).__name__ for o in outcomes)
    print(
        f"\n[{connection.vendor}] same action, {THREADS} approvals: {dict(counts)} "
        f"in {elapsed:.3f} s"
    )
    unexpected = [o for o in outcomes if not isinstance(o, str)]
    assert not unexpected, unexpected
    assert counts["ok"] == 1
    assert counts["already_moved"] + counts["state"] == THREADS - 1
    assert Action.objects.get(pk=action.pk).state == ActionState.VALIDATED
    approvals = AuditEvent.objects.filter(event="approve", object_id=str(action.pk))
    assert approvals.count() == 1
    assert AuditEvent.objects.filter(programme=world.programme).count() == events_before + 1
    assert verify_chain(programme_id=world.programme.pk).ok


DECISIONS = {
    "approve": ActionState.VALIDATED,
    "request_changes": ActionState.CO_CONSTRUCTION,
    "reject": ActionState.REJECTED,
    "abandon": ActionState.ABANDONED,
}


def test_twenty_decisions_on_different_actions_append_to_one_chain(committed_db):
    world = build_world()
    members = copil_members(world)
    actions = [action_in(world, ActionState.COPIL_REVIEW) for _ in range(THREADS)]
    names = [list(DECISIONS)[i % len(DECISIONS)] for i in range(THREADS)]
    events_before = AuditEvent.objects.filter(programme=world.programme).count()
    assert verify_chain(programme_id=world.programme.pk).ok

    def decide(name, user):
        return lambda copy: services.transition(copy, name, actor=user, comment="Décision du COPIL")

    jobs = [
        (action.pk, decide(name, members[i % len(members)]))
        for i, (action, name) in enumerate(zip(actions, names, strict=True))
    ]
    outcomes, elapsed = race(jobs)

    counts = Counter(o if isinstance(o, str) else type(o).__name__ for o in outcomes)
    print(
        f"\n[{connection.vendor}] {THREADS} actions, one decision each: {dict(counts)} "
        f"in {elapsed:.3f} s"
    )
    assert outcomes == ["ok"] * THREADS
    for action, name in zip(actions, names, strict=True):
        assert Action.objects.get(pk=action.pk).state == DECISIONS[name]
    events = list(AuditEvent.objects.filter(programme=world.programme).order_by("seq"))
    assert len(events) == events_before + THREADS
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    new = events[events_before:]
    assert sorted((e.object_id, e.event) for e in new) == sorted(
        (str(a.pk), n) for a, n in zip(actions, names, strict=True)
    )
    report = verify_chain(programme_id=world.programme.pk)
    assert report.ok, report
