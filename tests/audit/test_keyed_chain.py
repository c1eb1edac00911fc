"""An audit chain a database administrator cannot rewrite: the events are sealed with a key
held outside the database (HMAC), and the chain's heads are written to an outside witness.
Each attack is made with the triggers lifted, as someone holding the database would: rewrite
an event and recompute every later seal, append a forged event with a well-formed seal, remove
the last events. Each is caught by ``verify_audit``."""

import hashlib
import json

import pytest
from django.db import connection

from audit import db_guards
from audit.chain import canonical_content, compute_hash, verify_chain
from audit.models import AuditEvent
from tests.audit.test_chain import run_verify_audit
from tests.world import action_in
from workflows import services

KEY = b"k" * 40


@pytest.fixture
def keyed(settings, world):
    settings.AUDIT_CHAIN_KEYS = {"2026": KEY, "2025": b"o" * 40}
    settings.AUDIT_CHAIN_KEY_ID = "2026"
    for state in ("copil_review", "funding"):
        action_in(world, state)
    return world


def events(world) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(programme=world.programme).order_by("seq"))


def without_key(event: AuditEvent) -> str:
    """The seal an attacker without the key computes: plain SHA-256 of the content."""
    return hashlib.sha256(canonical_content(event).encode()).hexdigest()


def rewrite(world, events_, seal) -> None:
    """Rewrite the events from the database, each sealed by ``seal``, its successors relinked."""
    db_guards.remove(connection)
    try:
        previous = events_[0].prev_hash
        for event in events_:
            event.prev_hash = previous
            event.hash = seal(event)
            AuditEvent.objects.filter(pk=event.pk).update(
                comment=event.comment,
                prev_hash=event.prev_hash,
                hash=event.hash,
                key_id=event.key_id,
            )
            previous = event.hash
    finally:
        db_guards.install(connection)


def test_new_events_are_sealed_with_the_current_key(keyed):
    chain = events(keyed)
    assert {e.key_id for e in chain} == {"2026"}
    assert chain[-1].hash == compute_hash(chain[-1]) != without_key(chain[-1])
    assert verify_chain(programme_id=keyed.programme.pk).ok


def test_an_event_rewritten_with_every_later_seal_recomputed_is_caught(keyed):
    chain = events(keyed)
    target = len(chain) // 2
    chain[target].comment = "Décision falsifiée"
    for event in chain[target:]:
        event.key_id = ""  # without the key, all an attacker can compute is a plain hash
    rewrite(keyed, chain[target:], without_key)
    report = verify_chain(programme_id=keyed.programme.pk)
    assert not report.ok and report.broken_event_id == chain[target].pk
    assert "non scellé par une clé" in report.reason
    # Keeping the key's id and guessing the key does no better.
    chain = events(keyed)
    for event in chain[target:]:
        event.key_id = "2026"
    rewrite(keyed, chain[target:], lambda e: without_key(e))
    assert verify_chain(programme_id=keyed.programme.pk).broken_event_id == chain[target].pk
    code, _out, err = run_verify_audit()
    assert code == 1 and f"id={chain[target].pk}" in err


def test_a_forged_event_appended_with_a_well_formed_seal_is_caught(keyed):
    last = events(keyed)[-1]
    forged = AuditEvent(
        programme=last.programme,
        seq=last.seq + 1,
        at=last.at,
        actor_label="Coordinatrice",
        object_type=last.object_type,
        object_id=last.object_id,
        object_repr=last.object_repr,
        event="comment",
        comment="Validé par téléphone",
        key_id="2026",
        prev_hash=last.hash,
    )
    forged.hash = without_key(forged)
    db_guards.remove(connection)
    try:
        forged.save(force_insert=True)
    finally:
        db_guards.install(connection)
    report = verify_chain(programme_id=keyed.programme.pk)
    assert not report.ok and report.broken_event_id == forged.pk


def test_older_keys_still_verify_after_a_rotation(keyed, settings):
    settings.AUDIT_CHAIN_KEYS = {"2027": b"n" * 40, **settings.AUDIT_CHAIN_KEYS}
    settings.AUDIT_CHAIN_KEY_ID = "2027"
    services.comment_action(
        action=keyed.programme.actions.first(), actor=keyed.coordinator, text="Après rotation"
    )
    assert events(keyed)[-1].key_id == "2027"
    assert verify_chain(programme_id=keyed.programme.pk).ok
    # A key removed from the settings: its events can no longer be verified (said so).
    del settings.AUDIT_CHAIN_KEYS["2026"]
    assert not verify_chain(programme_id=keyed.programme.pk).ok


def test_removing_the_last_events_is_caught_by_the_witness(keyed, tmp_path):
    witness = tmp_path / "temoin.jsonl"
    code, out, err = run_verify_audit_with(witness)
    assert code == 0, err
    seen = [json.loads(line) for line in witness.read_text().splitlines()]
    head = events(keyed)[-1]
    assert {"programme": keyed.programme.pk, "seq": head.seq, "hash": head.hash}.items() <= next(
        e for e in seen if e["programme"] == keyed.programme.pk
    ).items()
    # The last two events removed: the chain left still verifies on its own...
    db_guards.remove(connection)
    try:
        AuditEvent.objects.filter(pk__in=[e.pk for e in events(keyed)[-2:]]).delete()
    finally:
        db_guards.install(connection)
    assert verify_chain(programme_id=keyed.programme.pk).ok
    # ...but not against the witness.
    code, _out, err = run_verify_audit_with(witness)
    assert code == 1 and f"l'événement n° {head.seq} vu par le témoin" in err


def run_verify_audit_with(witness) -> tuple[int, str, str]:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", witness=witness, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()
