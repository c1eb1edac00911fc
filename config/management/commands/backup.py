"""``manage.py backup FILE``: a consistent copy of the whole database while Coordo runs —
SQLite's online backup, or ``pg_dump --format=custom`` for PostgreSQL. Check it with
``manage.py restore_check FILE``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


def pg_environment(settings: dict) -> dict:
    """libpq's variables for a database of Django's settings."""
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if settings.get(key):
            env[variable] = str(settings[key])
    return env


class Command(BaseCommand):
    help = "Sauvegarde cohérente de la base (SQLite : sauvegarde en ligne ; PostgreSQL : pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="fichier de sauvegarde à écrire")

    def handle(self, *args, file: Path, **options):
        if file.exists():
            raise CommandError(f"{file} existe déjà : choisissez un autre nom.")
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(file)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        elif connection.vendor == "postgresql":
            done = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--file",
                    str(file),
                    connection.settings_dict["NAME"],
                ],
                env=pg_environment(connection.settings_dict),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise CommandError(f"pg_dump a échoué : {done.stderr.strip()}")
        else:
            raise CommandError(f"Base {connection.vendor} non prise en charge.")
        self.stdout.write(f"Sauvegarde écrite : {file} ({file.stat().st_size} octets)")
