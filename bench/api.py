"""Server time of the API on a large programme (a benchmark, not a test).

    .venv/bin/python bench/api.py [--actions 10000] [--db bench/pages.sqlite3] [--repeat 30]

Uses the database of ``bench/pages.py`` (``seed_demo --actions N``, seeded once), a token of
the benchmark programme's coordinator, and times in-process: a page of 50 fiches (page 3), a
fiche's detail, a page of the audit trail, and the territory view. Prints each median and its
query count; the last line is a JSON object. Goal: each <= 100 ms on 2 cores.
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
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from api.models import ApiToken
    from audit.models import AuditEvent

    user = get_user_model().objects.get(username="bench.coordination")
    _token, secret = ApiToken.issue(user=user, name="bench", days=1, read_only=True)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    detail = bench.actions.filter(state="closed").order_by("pk").first()
    urls = {
        "fiches_page_ms": f"/api/v1/fiches/?programme={bench.pk}&page=3",
        "fiche_ms": f"/api/v1/fiches/{detail.pk}/",
        "audit_page_ms": f"/api/v1/programmes/{bench.pk}/audit/",
        "region_ms": "/api/v1/territoire/",
    }
    print(
        f"{bench.actions.count()} fiches, "
        f"{AuditEvent.objects.filter(programme=bench).count()} audit events"
    )
    result = {}
    with override_settings(API_RATE="1000000/hour"):
        for name, url in urls.items():
            executed: list[str] = []

            def count(run, sql, *params, executed=executed):
                executed.append(sql)
                return run(sql, *params)

            with connection.execute_wrapper(count):
                status = api.get(url).status_code
            assert status == 200, (url, status)
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                api.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            result[name] = round(statistics.median(timings), 1)
            print(
                f"{name[:-3]:12} {url:48} median {result[name]:7.1f} ms  "
                f"(min {min(timings):.1f}, max {max(timings):.1f}, {len(executed)} queries)"
            )
    ApiToken.objects.filter(user=user, name="bench").delete()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
