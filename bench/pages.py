"""Server time of the main pages on a large programme (a benchmark, not a test).

    .venv/bin/python bench/pages.py [--actions 10000] [--db bench/pages.sqlite3] [--repeat 30]

Seeds the database once with ``seed_demo --actions N`` (kept for the next runs), then times
the action list, an action detail (long history), the inbox and the home page of the large
programme's coordinator, in-process (middleware, views, queries and templates; no network).
Prints each median; the last line is a JSON object. Goal: each page <= 150 ms on 2 cores.
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
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    bench, client = seeded_programme(db=args.db, actions=args.actions)
    from django.db import connection
    from django.urls import reverse

    from audit.models import AuditEvent

    detail = bench.actions.filter(state="closed").order_by("pk").first()
    pages = {
        "list_ms": reverse("coordo:programme", args=[bench.pk]) + "?page=3",
        "detail_ms": reverse("coordo:action", args=[detail.pk]),
        "inbox_ms": reverse("coordo:inbox"),
        "home_ms": reverse("coordo:home"),
    }
    print(
        f"{bench.actions.count()} fiches, "
        f"{AuditEvent.objects.filter(programme=bench).count()} audit events"
    )
    result = {}
    for name, url in pages.items():
        executed: list[str] = []

        def count(run, sql, *args, executed=executed):
            executed.append(sql)
            return run(sql, *args)

        with connection.execute_wrapper(count):
            assert client.get(url).status_code == 200
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        result[name] = round(statistics.median(timings), 1)
        print(
            f"{name[:-3]:8} {url:40} median {result[name]:7.1f} ms  "
            f"(min {min(timings):.1f}, max {max(timings):.1f}, {len(executed)} queries)"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
