"""Server time of the annual report (workbook and page) and of the dashboard on a large
programme (a benchmark, not a test).

    .venv/bin/python bench/report.py [--actions 10000] [--db bench/pages.sqlite3] [--repeat 10]
                                     [--repeat-xlsx 3]

Seeds the database once with ``seed_demo --actions N`` (kept, and shared with
``bench/pages.py``), then times, in-process (middleware, views, queries, templates; no
network), as the large programme's coordinator: the annual report's workbook for the current
year, the report's page and the dashboard (medians).
Prints each figure with its number of SQL queries; the last line is a JSON object.
Goal: report <= 5 s, dashboard <= 200 ms, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from seeded import DEFAULT_DB, seeded_programme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10000)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--repeat-xlsx", type=int, default=3)
    args = parser.parse_args()

    bench, client = seeded_programme(db=args.db, actions=args.actions)
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from audit.models import AuditEvent

    year = timezone.localdate().year
    print(
        f"{bench.actions.count()} fiches, "
        f"{AuditEvent.objects.filter(programme=bench).count()} audit events, report year {year}"
    )

    def run(url: str) -> tuple[float, int, int]:
        """Seconds for one request (the streamed body read to the end), its SQL queries and
        the size of the response."""
        executed: list[str] = []

        def count(execute, sql, *params):
            executed.append(sql)
            return execute(sql, *params)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return elapsed, len(executed), len(body)

    xlsx = reverse("coordo:annual-report-xlsx", args=[bench.pk, year])
    runs = [run(xlsx) for _ in range(args.repeat_xlsx)]
    seconds = statistics.median(r[0] for r in runs)
    _, queries, size = runs[0]
    result = {"report_xlsx_s": round(seconds, 2)}
    print(
        f"report xlsx  {xlsx:52} median {seconds:7.2f} s   (min {min(r[0] for r in runs):.2f}, "
        f"max {max(r[0] for r in runs):.2f}, {queries} queries, {size // 1024} KiB)"
    )

    pages = {
        "report_page_ms": reverse("coordo:annual-report", args=[bench.pk, year]),
        "dashboard_ms": reverse("coordo:dashboard", args=[bench.pk]),
    }
    for name, url in pages.items():
        _, queries, size = run(url)  # warm-up, and the query count
        timings = [run(url)[0] * 1000 for _ in range(args.repeat)]
        result[name] = round(statistics.median(timings), 1)
        print(
            f"{name[:-3]:12} {url:52} median {result[name]:7.1f} ms  "
            f"(min {min(timings):.1f}, max {max(timings):.1f}, {queries} queries, "
            f"{size // 1024} KiB)"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
