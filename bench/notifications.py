"""Speed of the outbox's sender (a benchmark, not a test).

    .venv/bin/python bench/notifications.py [--messages 10000] [--batch 100]

Builds a fresh SQLite database with ``--messages`` queued notifications (written through the
real ``queue`` for 100 members of a programme, each message rendered in French), then times
``send_pending`` delivering them to Django's locmem backend and counts its SQL queries.
The last line is a JSON object; the goal is <= 5 ms and a constant number of queries per
message (the queries are per batch, not per message).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="coordo-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        SQLITE_PATH=str(Path(workdir) / "bench.sqlite3"),
        DEBUG="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Kind, Notification, State
    from notifications.outbox import Message, queue
    from notifications.sending import send_pending
    from projects.models import Membership, Programme, Role

    call_command("migrate", verbosity=0)
    mail.outbox = []
    programme = Programme.objects.create(
        kind="CLS",
        name="Banc d'essai",
        territory="Test",
        start_date=datetime.date(2024, 1, 1),
        end_date=datetime.date(2028, 12, 31),
    )
    people = get_user_model().objects.bulk_create(
        get_user_model()(username=f"membre{n}", email=f"membre{n}@example.org") for n in range(100)
    )
    Membership.objects.bulk_create(
        Membership(user=u, programme=programme, role=Role.COPIL) for u in people
    )
    started = time.perf_counter()
    for n in range(args.messages // len(people)):
        queue(
            kind=Kind.TASK,
            recipients=people,
            programme=programme,
            compose=lambda n=n: Message(
                f"À faire : Valider — fiche « Action n° {n} »",
                [f"Une tâche vous attend sur la fiche « Action n° {n} ».", "Échéance : 30/12."],
                f"/coordo/actions/{n}/",
            ),
        )
    queued = Notification.objects.filter(state=State.PENDING).count()
    queue_s = time.perf_counter() - started

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = send_pending(batch=args.batch)
        send_s = time.perf_counter() - started
    assert result.sent == queued == len(mail.outbox), (result, queued, len(mail.outbox))
    figures = {
        "messages": queued,
        "queue_s": round(queue_s, 2),
        "send_s": round(send_s, 2),
        "per_message_ms": round(send_s / queued * 1000, 3),
        "queries_per_message": round(len(queries) / queued, 3),
        "queries_per_batch": round(len(queries) / (queued / args.batch), 1),
    }
    print(f"{queued} notifications écrites en {queue_s:.1f} s, envoyées en {send_s:.1f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
