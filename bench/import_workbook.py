"""Time of a workbook import (a benchmark, not a test).

    .venv/bin/python bench/import_workbook.py [--actions 1000] [--budget] [--postgres]

Builds a fresh SQLite database (or uses DATABASE_URL with ``--postgres``), a programme and its
coordinator, writes a workbook of ``--actions`` fiches and as many funding requests (and as
many budget lines with ``--budget``), then times the checking (``importer``) and the
import through the services (``workflows.services.imports``). The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--budget", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    if not args.postgres:
        workdir = tempfile.mkdtemp(prefix="coordo-bench-")
        os.environ.pop("DATABASE_URL", None)
        os.environ.update(SQLITE_PATH=str(Path(workdir) / "bench.sqlite3"))
    os.environ.update(DEBUG="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from openpyxl import Workbook

    from importer.columns import ACTIONS, BUDGET, COLUMNS, FUNDING
    from importer.reader import read_workbook
    from projects.models import Axis, Membership, Objective, Organisation, Programme, Role
    from workflows.services import import_workbook

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create(username=f"bench-{time.time_ns()}")
    programme = Programme.objects.create(
        kind="CLS",
        name=f"Banc d'essai {time.time_ns()}",
        territory="Test",
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2030, 12, 31),
    )
    Membership.objects.create(user=user, programme=programme, role=Role.COORDINATOR)
    axis = Axis.objects.create(programme=programme, number=1, title="Axe de test")
    objective = Objective.objects.create(axis=axis, level="operational", title="Objectif")
    lead, _ = Organisation.objects.get_or_create(name="Porteur banc", kind="association")
    funder, _ = Organisation.objects.get_or_create(name="ARS banc", kind="ars")

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = {name: workbook.create_sheet(name) for name in (ACTIONS, BUDGET, FUNDING)}
    for name, ws in sheets.items():
        ws.append([c.header for c in COLUMNS[name]])
    for i in range(args.actions):
        ref = f"A{i}"
        sheets[ACTIONS].append(
            [ref, f"Action {i}", f"1 · {objective.title}", lead.name, None, None,
             "Habitants", "Nord", "Contexte", "15/01/2026", "31/12/2026", "1 500,00 €"]
        )  # fmt: skip
        if args.budget:
            sheets[BUDGET].append([ref, 2026, "Frais de personnel", "12 500,00 €", None])
        sheets[FUNDING].append([ref, funder.name, "FIR", 2026, "12 500,00 €"])
    out = io.BytesIO()
    workbook.save(out)
    size = out.tell()

    started = time.perf_counter()
    parsed = read_workbook(out, size=size, programme=programme)
    check_s = time.perf_counter() - started
    assert not parsed.errors, parsed.errors[:5]

    started = time.perf_counter()
    summary = import_workbook(programme=programme, actor=user, parsed=parsed, filename="bench")
    import_s = time.perf_counter() - started
    objects = summary.actions + summary.budget_lines + summary.funding_requests
    print(f"{size / 1024:.0f} KB workbook: checked in {check_s:.2f} s")
    print(
        f"imported {summary.actions} fiches, {summary.budget_lines} budget lines, "
        f"{summary.funding_requests} requests in {import_s:.1f} s "
        f"({1000 * import_s / objects:.0f} ms per object)"
    )
    print(
        json.dumps(
            {
                "actions": summary.actions,
                "budget_lines": summary.budget_lines,
                "funding_requests": summary.funding_requests,
                "check_s": round(check_s, 2),
                "import_s": round(import_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
