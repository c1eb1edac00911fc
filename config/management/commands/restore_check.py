"""``manage.py restore_check FILE``: restore a backup into a scratch database (a copy of the
SQLite file, or a new PostgreSQL database dropped afterwards), then verify every audit chain in
it. Exit 0 when the backup restores and its chains are intact, 1 otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from audit.chain import verify_chain
from audit.models import AuditEvent

from .backup import pg_environment

ALIAS = "restore_check"


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde dans une base de travail et y vérifie le journal d'audit "
        "(code de sortie 0 si tout est intact)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="fichier de sauvegarde (manage.py backup)")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"{file} introuvable.")
        head = file.read_bytes()[:16]
        if head.startswith(b"SQLite format 3"):
            scratch = Path(tempfile.mkdtemp()) / "restore-check.sqlite3"
            shutil.copyfile(file, scratch)
            settings = {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3"}
            settings["NAME"] = str(scratch)
            settings["OPTIONS"] = {}
            drop = lambda: shutil.rmtree(scratch.parent)  # noqa: E731
        elif head.startswith(b"PGDMP"):
            if connection.vendor != "postgresql":
                raise CommandError("Une sauvegarde PostgreSQL se vérifie avec DATABASE_URL.")
            settings, drop = self._pg_scratch(file)
        else:
            raise CommandError(f"{file} n'est pas une sauvegarde de Coordo (SQLite ou pg_dump).")
        connections.settings[ALIAS] = settings
        try:
            broken = self._verify()
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]
            drop()
        if broken:
            raise CommandError(f"{broken} chaîne(s) rompue(s) dans la sauvegarde.", returncode=1)

    def _pg_scratch(self, file: Path):
        name = f"coordo_restore_check_{os.getpid()}"
        env = pg_environment(connection.settings_dict)

        def sql(statement: str) -> None:
            subprocess.run(["psql", "-d", "postgres", "-qc", statement], env=env, check=True)

        sql(f"DROP DATABASE IF EXISTS {name}")
        sql(f"CREATE DATABASE {name}")
        done = subprocess.run(
            ["pg_restore", "--no-owner", "--dbname", name, str(file)],
            env=env,
            capture_output=True,
            text=True,
        )
        drop = lambda: sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # noqa: E731
        if done.returncode:
            drop()
            raise CommandError(f"pg_restore a échoué : {done.stderr.strip()}")
        return {**connection.settings_dict, "NAME": name}, drop

    def _verify(self) -> int:
        programmes = (
            AuditEvent.objects.using(ALIAS)
            .order_by("programme_id")
            .values_list("programme_id", flat=True)
            .distinct()
        )
        broken = 0
        for programme in programmes:
            report = verify_chain(programme_id=programme, using=ALIAS)
            if report.ok:
                self.stdout.write(
                    f"OK    dispositif n°{programme} : {report.events} événements, "
                    f"dernière empreinte {report.last_hash}"
                )
            else:
                broken += 1
                self.stderr.write(
                    f"ROMPU dispositif n°{programme} : n° {report.broken_seq} — {report.reason}"
                )
        return broken
