"""The audit trail: append-only at the database, hash-chained, and checked by verify_audit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import db_guards
from audit.chain import GENESIS_HASH, compute_hash, verify_chain
from audit.models import AuditEvent
from projects.models import ActionState, Role
from tests.factories import MembershipFactory, UserFactory
from tests.world import action_in
from workflows import services

TABLE = "workflows_auditevent"


def some_events(world) -> list[AuditEvent]:
    action_in(world, ActionState.COPIL_REVIEW)
    events = list(AuditEvent.objects.filter(programme=world.programme).order_by("seq"))
    assert len(events) >= 5
    return events


def stored_rows() -> list[tuple]:
    return list(AuditEvent.objects.order_by("pk").values_list("pk", "seq", "comment", "hash"))


def assert_refused_by_the_database(statement) -> None:
    before = stored_rows()
    with pytest.raises(DatabaseError) as exc:
        with transaction.atomic():
            statement()
    assert "ajout seul" in str(exc.value)
    assert stored_rows() == before


# --- append-only -------------------------------------------------------------------------------


def _raw(sql: str, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(f"UPDATE {TABLE} SET comment = 'retouché' WHERE id = %s", id="update-one"),
        pytest.param(f"UPDATE {TABLE} SET seq = seq + 100", id="update-all"),
        pytest.param(f"DELETE FROM {TABLE} WHERE id = %s", id="delete-one"),
        pytest.param(f"DELETE FROM {TABLE}", id="delete-all"),
    ],
)
def test_raw_sql_cannot_change_or_remove_events(world, sql):
    event = some_events(world)[2]
    params = (event.pk,) if "%s" in sql else ()
    assert_refused_by_the_database(_raw(sql, params))


def test_sqlite_replace_cannot_rewrite_an_event(world):
    """REPLACE INTO deletes the row it conflicts with without firing SQLite's delete trigger:
    an event rewritten that way (same id, or same place in the chain) is refused too."""
    if connection.vendor != "sqlite":
        pytest.skip("REPLACE INTO is SQLite's")
    event = some_events(world)[2]
    columns = [f.column for f in AuditEvent._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {TABLE} WHERE id = %s", [event.pk])
        row = list(cursor.fetchone())
    row[columns.index("comment")] = "réécrit"
    holes = ", ".join(["%s"] * len(columns))
    same_id = f"REPLACE INTO {TABLE} ({', '.join(columns)}) VALUES ({holes})"
    assert_refused_by_the_database(_raw(same_id, row))
    # A new id at the same place in the chain (the unique constraint would replace it).
    row[columns.index("id")] = event.pk + 10_000
    other = f"INSERT OR REPLACE INTO {TABLE} ({', '.join(columns)}) VALUES ({holes})"
    assert_refused_by_the_database(_raw(other, row))
    assert AuditEvent.objects.get(pk=event.pk).comment == event.comment


def test_the_orm_cannot_change_or_remove_events(world):
    event = some_events(world)[2]
    assert_refused_by_the_database(
        lambda: AuditEvent.objects.filter(pk=event.pk).update(comment="retouché")
    )
    assert_refused_by_the_database(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    assert_refused_by_the_database(lambda: AuditEvent.objects.all().delete())

    def save_changed():
        event.comment = "retouché"
        event.save()

    assert_refused_by_the_database(save_changed)
    assert_refused_by_the_database(lambda: AuditEvent.objects.get(pk=event.pk).delete())


def test_events_can_still_be_appended(world):
    n = len(some_events(world))
    action = action_in(world, ActionState.DRAFT)
    assert AuditEvent.objects.filter(programme=world.programme).count() == n + 1
    assert AuditEvent.objects.order_by("-pk").first().object_id == str(action.pk)


# --- verify_audit ------------------------------------------------------------------------------


def run_verify_audit() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    return code, out.getvalue(), err.getvalue()


def tamper(sql: str, params=()) -> None:
    """Lift the append-only triggers for one statement (as an attacker with DDL rights would)."""
    db_guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        db_guards.install(connection)


@pytest.fixture
def busy_world(world):
    """A few actions in several states, and some activity in the other programme too."""
    for state in ("draft", "copil_review", "rejected", "funding", "closed", "abandoned"):
        action_in(world, state)
    services.create_action(
        programme=world.other_programme, actor=world.outsider, data={"title": "Action voisine"}
    )
    return world


def chain(world) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(programme=world.programme).order_by("seq"))


def test_verify_audit_passes_on_an_intact_trail(busy_world):
    n = len(chain(busy_world))
    code, out, err = run_verify_audit()
    assert code == 0, err
    assert err == ""
    assert f"(n°{busy_world.programme.pk}) : {n} événements" in out
    assert f"(n°{busy_world.other_programme.pk}) : 1 événements" in out


def assert_broken_at(world, event_id: int) -> None:
    report = verify_chain(programme_id=world.programme.pk)
    assert not report.ok
    assert report.broken_event_id == event_id
    code, out, err = run_verify_audit()
    assert code == 1
    assert f"premier événement rompu id={event_id} " in err
    # The other programme's chain is untouched and still reported as such.
    assert f"OK   {world.other_programme}" in out
    assert "ROMPU" not in out


def test_verify_audit_detects_an_altered_comment(busy_world):
    victim = chain(busy_world)[6]
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ("Tout va bien", victim.pk))
    assert_broken_at(busy_world, victim.pk)


def test_verify_audit_detects_an_altered_comment_even_with_a_recomputed_hash(busy_world):
    """Re-hashing the altered event is not enough: the next event's link gives it away."""
    events = chain(busy_world)
    victim, following = events[6], events[7]
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ("Tout va bien", victim.pk))
    altered = AuditEvent.objects.get(pk=victim.pk)
    tamper(f"UPDATE {TABLE} SET hash = %s WHERE id = %s", (compute_hash(altered), victim.pk))
    assert_broken_at(busy_world, following.pk)


def test_verify_audit_detects_a_deleted_middle_event(busy_world):
    events = chain(busy_world)
    middle = len(events) // 2
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", (events[middle].pk,))
    assert_broken_at(busy_world, events[middle + 1].pk)


def test_verify_audit_detects_reordered_events(busy_world):
    events = chain(busy_world)
    first, second = events[3], events[5]
    tamper(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", (10**9, second.pk))
    tamper(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", (second.seq, first.pk))
    tamper(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", (first.seq, second.pk))
    # The event now in fourth position is the former sixth: its link does not fit.
    assert_broken_at(busy_world, second.pk)


def test_the_triggers_are_back_after_tampering(busy_world):
    victim = chain(busy_world)[1]
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ("x", victim.pk))
    assert_refused_by_the_database(_raw(f"DELETE FROM {TABLE} WHERE id = %s", (victim.pk,)))


# --- one event per change, in a gapless chain --------------------------------------------------


def label(user) -> str:
    return f"{user.first_name} {user.last_name} ({user.username})"


def test_one_event_per_change_with_its_actor_in_a_gapless_chain(world):
    action_in(world, ActionState.CLOSED)
    events = chain(world)
    c, copil, funder, lead = world.coordinator, world.copil, world.funder, world.action_lead
    expected = [
        ("create", c, "", "draft"),
        ("start_co_construction", c, "draft", "co_construction"),
        ("update", c, "", ""),
        ("add_budget_line", c, "", ""),
        ("add_indicator", c, "", ""),
        ("submit_to_copil", c, "co_construction", "copil_review"),
        ("approve", copil, "copil_review", "validated"),
        ("create_funding_request", c, "", ""),
        ("open_funding", c, "validated", "funding"),
        ("submit", c, "draft", "submitted"),
        ("grant", funder, "submitted", "granted"),
        ("start_implementation", c, "funding", "implementation"),
        ("finish_implementation", c, "implementation", "evaluation"),
        ("record_measurement", lead, "", ""),
        ("write_evaluation_report", lead, "", ""),
        ("close", copil, "evaluation", "closed"),
    ]
    assert [(e.event, e.actor, e.from_state, e.to_state) for e in events] == expected
    assert [e.actor_label for e in events] == [label(user) for _, user, _, _ in expected]
    assert [e.seq for e in events] == list(range(1, len(expected) + 1))
    assert [e.prev_hash for e in events] == [GENESIS_HASH] + [e.hash for e in events[:-1]]
    assert verify_chain(programme_id=world.programme.pk).ok


def test_a_user_without_a_name_is_labelled_by_username(world):
    nameless = UserFactory(username="copil-sans-nom", first_name="", last_name="")
    MembershipFactory(user=nameless, programme=world.programme, role=Role.COPIL)
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "approve", actor=nameless)
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.event, event.actor_label) == ("approve", "copil-sans-nom")


def test_a_refused_change_leaves_no_event_and_keeps_the_chain_whole(world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    n = len(chain(world))
    with pytest.raises(services.Refused):
        services.transition(action, "approve", actor=world.coordinator)
    services.transition(action, "approve", actor=world.copil)
    assert [e.seq for e in chain(world)] == list(range(1, n + 2))
    assert verify_chain(programme_id=world.programme.pk).ok


@pytest.mark.parametrize("ip", ["", "2001:DB8::1", "2001:db8:0:0:0:0:0:1"])
def test_an_event_with_an_ip_address_keeps_the_chain_intact(world, ip):
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "approve", actor=world.copil, ip=ip)
    assert verify_chain(programme_id=world.programme.pk).ok


@pytest.mark.parametrize("ip", [None, "192.0.2.10", "2001:db8::1"])
def test_an_event_with_a_canonical_ip_address_keeps_the_chain_intact(world, ip):
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "approve", actor=world.copil, ip=ip)
    assert AuditEvent.objects.order_by("-pk").first().ip == ip
    assert verify_chain(programme_id=world.programme.pk).ok


def test_a_user_with_a_very_long_name_can_still_decide(world):
    long_user = UserFactory(username="u" * 150, first_name="P" * 150, last_name="N" * 150)
    MembershipFactory(user=long_user, programme=world.programme, role=Role.COPIL)
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "approve", actor=long_user)
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.event, event.actor) == ("approve", long_user)
    assert len(event.actor_label) <= AuditEvent._meta.get_field("actor_label").max_length
    assert verify_chain(programme_id=world.programme.pk).ok
