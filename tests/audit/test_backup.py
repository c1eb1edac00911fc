"""Backups you can trust: ``manage.py backup`` copies the database while it runs (SQLite's
online backup, pg_dump), ``manage.py restore_check`` restores the copy into a scratch database
and verifies every audit chain in it — and says so when a chain in the copy is broken."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit import db_guards
from audit.models import AuditEvent
from tests.world import action_in, build_world


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc) + err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def restore_check(file) -> tuple[int, str, str]:
    """As the operator runs it: a command of its own (its scratch database is not the test's)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "manage.py"), "restore_check", str(file)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def busy(committed_db):
    world = build_world()
    action_in(world, "funding")
    return world


def test_a_backup_restores_and_its_chains_verify(busy, tmp_path):
    events = AuditEvent.objects.filter(programme=busy.programme).count()
    code, out, err = run("backup", str(tmp_path / "coordo.backup"))
    assert code == 0, err
    code, out, err = restore_check(tmp_path / "coordo.backup")
    assert code == 0, err
    assert f"dispositif n°{busy.programme.pk} : {events} événements" in out
    # The same file is never overwritten.
    assert run("backup", str(tmp_path / "coordo.backup"))[0] == 1


def test_a_backup_of_a_tampered_trail_is_said_broken(busy, tmp_path):
    event = AuditEvent.objects.filter(programme=busy.programme).order_by("seq")[2]
    db_guards.remove(connection)
    try:
        AuditEvent.objects.filter(pk=event.pk).update(comment="Réécrit")
    finally:
        db_guards.install(connection)
    run("backup", str(tmp_path / "coordo.backup"))
    code, _out, err = restore_check(tmp_path / "coordo.backup")
    assert code == 1 and f"n° {event.seq}" in err


def test_what_is_not_a_backup_is_refused(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("pas une sauvegarde")
    code, _out, err = restore_check(junk)
    assert code == 1 and "n'est pas une sauvegarde" in err
