"""What the page benchmarks share: Django set up on a kept SQLite database holding the
``seed_demo --actions N`` benchmark programme (seeded on the first run only, which is long),
and a client logged in as that programme's coordinator."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = str(ROOT / "bench" / "pages.sqlite3")


def seeded_programme(*, db: str, actions: int):
    """Set Django up on ``db`` and return the benchmark programme and a coordinator's client."""
    os.environ.pop("DATABASE_URL", None)
    # Each repeat renders the page: these benchmarks time the rendering, not the page cache
    # (config/page_cache.py, measured by bench/load.py).
    os.environ.update(SQLITE_PATH=db, DEBUG="0", ALLOWED_HOSTS="testserver", PAGE_CACHE_SECONDS="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from demo.territory import BENCH_NAME
    from projects.models import Programme

    call_command("migrate", verbosity=0)
    bench = Programme.objects.filter(name=BENCH_NAME).first()
    if bench is None or bench.actions.count() < actions:
        started = time.perf_counter()
        call_command("seed_demo", actions=actions)
        print(f"seed_demo --actions {actions}: {time.perf_counter() - started:.0f} s")
        bench = Programme.objects.get(name=BENCH_NAME)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench.coordination"))
    return bench, client
