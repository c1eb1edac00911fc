"""Speed and memory of the funding follow-up export (a benchmark, not a test).

    .venv/bin/python bench/export_funding.py [--rows 100000]

Builds a fresh SQLite database with ``--rows`` funding requests (4 per fiche, 2 tranches each,
bulk-inserted benchmark fixtures left in their initial state), then times:
- the export: the real path (queries + formatting + writing), ``funding.exports``;
- the floor: the same cells, fetched beforehand into memory, written with openpyxl write-only.
Prints both, their ratio and the export's peak Python memory; the last line is a JSON object.
Goal at 100,000 rows: ratio <= 1.3 and peak <= 150 MB.
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
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="coordo-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(SQLITE_PATH=str(Path(workdir) / "bench.sqlite3"), DEBUG="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from funding.models import BudgetLine, FundingRequest, Tranche
    from projects.models import Action, Axis, Objective, Organisation, Programme
    from reporting.funding_export import write_funding_workbook
    from spreadsheet import DATE, MONEY

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    user = get_user_model().objects.create(username="bench")
    programme = Programme.objects.create(
        kind="CLS",
        name="Banc d'essai",
        territory="Test",
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2030, 12, 31),
    )
    axis = Axis.objects.create(programme=programme, number=1, title="Axe de test")
    objective = Objective.objects.create(axis=axis, level="operational", title="Objectif")
    funders = Organisation.objects.bulk_create(
        Organisation(name=f"Financeur {i}", kind="ars") for i in range(12)
    )
    lead = Organisation.objects.create(name="Porteur", kind="association")
    n_actions = max(1, args.rows // 4)
    Action.objects.bulk_create(
        (
            Action(
                programme=programme,
                objective=objective,
                lead_organisation=lead,
                title=f"Action n°{i}" if i % 100 else f"=Formule piégée {i}",
                created_by=user,
            )
            for i in range(n_actions)
        ),
        batch_size=5000,
    )
    action_ids = list(Action.objects.values_list("pk", flat=True))
    FundingRequest.objects.bulk_create(
        (
            FundingRequest(
                action_id=action_ids[i // 4],
                funder=funders[i % len(funders)],
                scheme="ARS FIR",
                year=2020 + i % 7,
                requested_amount=Decimal(1000 + i % 900),
            )
            for i in range(args.rows)
        ),
        batch_size=5000,
    )
    Tranche.objects.bulk_create(
        (
            Tranche(
                request_id=pk,
                label=label,
                expected_date=datetime.date(2026, 1 + n * 6, 1),
                expected_amount=Decimal(500),
            )
            for pk in FundingRequest.objects.values_list("pk", flat=True).iterator()
            for n, label in enumerate(("advance", "balance"))
        ),
        batch_size=5000,
    )
    BudgetLine.objects.bulk_create(
        (
            BudgetLine(action_id=pk, year=2026, category="staff", planned=Decimal(4000))
            for pk in action_ids
        ),
        batch_size=5000,
    )
    print(
        f"{args.rows} requests, {n_actions} fiches: "
        f"data built in {time.perf_counter() - started:.0f} s"
    )

    requests = FundingRequest.objects.filter(action__programme=programme)
    budget_lines = BudgetLine.objects.filter(action__programme=programme)

    def export() -> float:
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out:
            write_funding_workbook(requests=requests, budget_lines=budget_lines, out=out)
            size_mb = out.tell() / 1024 / 1024
        print(f"  export written: {size_mb:.1f} MB")
        return time.perf_counter() - started

    export_s = export()  # timed alone: tracemalloc would slow it down several times
    tracemalloc.start()
    export()
    peak_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()

    # The floor: the same cells, already in memory, written by openpyxl write-only.
    sheet_rows = _same_cells(requests, budget_lines)
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    for title, kinds, rows in sheet_rows:
        ws = workbook.create_sheet(title)
        for row in rows:
            cells = []
            for value, kind in zip(row, kinds, strict=True):
                cell = WriteOnlyCell(ws, value=value)
                if kind == "money":
                    cell.number_format = MONEY
                elif kind == "date":
                    cell.number_format = DATE
                cells.append(cell)
            ws.append(cells)
    workbook.save(io.BytesIO())
    floor_s = time.perf_counter() - started

    result = {
        "rows": args.rows,
        "export_s": round(export_s, 2),
        "floor_s": round(floor_s, 2),
        "ratio": round(export_s / floor_s, 2),
        "peak_mb": round(peak_mb, 1),
    }
    print(
        f"export {export_s:.2f} s, floor {floor_s:.2f} s, "
        f"ratio {result['ratio']}, export peak memory {peak_mb:.1f} MB"
    )
    print(json.dumps(result))


def _same_cells(requests, budget_lines):
    """The cells of the four sheets, as plain rows (what the export writes)."""
    from django.db.models import Sum

    from funding.models import Tranche
    from reporting.funding_export import _paid

    follow = []
    for *head, requested, granted, paid, state, decided, agreed in requests.annotate(
        paid=_paid()
    ).values_list(
        "action__title", "action__objective__axis__title", "action__lead_organisation__name",
        "funder__name", "scheme", "year", "requested_amount", "granted_amount", "paid",
        "state", "decision_date", "agreement_date",
    ):  # fmt: skip
        remaining = granted - paid if granted is not None else None
        follow.append([*head, requested, granted, paid, remaining, state, decided, agreed])
    kinds1 = ["text"] * 5 + ["int", "money", "money", "money", "money", "text", "date", "date"]
    tranches = list(
        Tranche.objects.filter(request__in=requests.values("pk")).values_list(
            "request__action__title", "request__funder__name", "label", "expected_date",
            "expected_amount", "received_date", "received_amount",
        )
    )  # fmt: skip
    budget = list(
        budget_lines.values_list("action__title", "year").annotate(
            planned=Sum("planned"), actual=Sum("actual")
        )
    )
    return [
        ("Suivi des financements", kinds1, follow),
        ("Versements", ["text", "text", "text", "date", "money", "date", "money"], tranches),
        ("Budget", ["text", "int", "money", "money"], budget),
    ]


if __name__ == "__main__":
    main()
