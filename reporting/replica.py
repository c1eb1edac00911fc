"""Reports and exports read from a read replica when one is configured (DATABASE_REPLICA_URL):
they are the heaviest reads and bear a replica's lag of a few seconds. Everything else, and
every write, goes to the primary. A view opts in with ``@on_replica``; a response streamed
after the view returns keeps reading there with ``streamed``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

ALIAS = "replica"
_reading = ContextVar("coordo_reading_from_replica", default=False)


@contextmanager
def reading():
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def on_replica(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        with reading():
            return view(*args, **kwargs)

    return wrapped


def streamed(rows: Iterator) -> Iterator:
    with reading():
        yield from rows


class Router:
    """settings.DATABASE_ROUTERS: reads inside ``reading()`` go to the replica if there is one."""

    def db_for_read(self, model, **hints):
        return ALIAS if _reading.get() and ALIAS in settings.DATABASES else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"
