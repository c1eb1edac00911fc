"""A member's busiest pages (home, tasks, a programme, its list, a fiche, the dashboard, the
funding and the séances) served again from a cache while nothing they show has changed.

A page is stored under its **version**: the address, the person and their browser (session and
CSRF cookie, so that its forms stay valid), the language, the day (deadlines and « en retard »
move with it), and what the database says has changed —

- for each programme the person is a member of, the last event of its audit trail: every
  change of a programme goes through a service that records one, in the same transaction;
- the page generation (``PageGeneration``), moved on by every other write: a table no
  programme owns (an organisation, a person, a membership, a notification…), a write no audit
  event accompanies, a cron job's or a command's work.

Writes are seen where they happen, on the database connection (``execute_wrapper``), not
declared by the code that makes them: a new table or a new service is covered without anyone
remembering to. A stored page is never trusted beyond ``PAGE_CACHE_SECONDS``.

The versions are read from the database on each request (one query), so any cache backend
gives the right page: the ``pages`` cache only decides how often a page is rendered again
(per process in memory, or shared by every worker in Redis with ``REDIS_URL``).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import re
import threading
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_migrate, pre_migrate
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation

from audit.models import AuditEvent
from projects.models import Membership, Programme

from .models import PageGeneration

PAGES = frozenset(
    {
        "coordo:home",
        "coordo:inbox",
        "coordo:programme",
        "coordo:actions",
        "coordo:action",
        "coordo:dashboard",
        "coordo:funding",
        "coordo:meetings",
    }
)

# Every statement that writes a row, as Django writes them on PostgreSQL and SQLite (« INSERT
# OR IGNORE INTO » is SQLite's bulk_create ignoring conflicts).
_WRITE = re.compile(
    r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"([^"]+)"', re.I
)
# The login's « last login » time, which no page shows.
_LAST_LOGIN = re.compile(r'\s*UPDATE\s+"auth_user"\s+SET\s+"last_login"\s*=\s*\S+\s+WHERE', re.I)
AUDIT_TABLE = AuditEvent._meta.db_table
# Tables whose writes no page shows: sessions, login attempts, the caches, the generation.
UNSEEN = frozenset(
    {
        "django_session",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        PageGeneration._meta.db_table,
        # the database cache's table, in production
        settings.CACHES["default"].get("LOCATION", ""),
    }
)


@dataclass
class Writes:
    """What one request wrote."""

    shared: bool = False  # a table no programme owns
    owned: bool = False  # a programme's own table
    audited: bool = False  # an audit event


_request_writes: contextvars.ContextVar[Writes | None] = contextvars.ContextVar(
    "request_writes", default=None
)
# Writes made outside a request by this process (a command, a test): they count at once for
# this process's pages, before their transaction commits; other processes see the generation
# moved on at the commit.
_local_lock = threading.Lock()
_local_writes = 0
_thread = threading.local()  # this thread's writes outside requests, and those already counted
_migrating = False


@functools.cache
def programme_tables() -> frozenset[str]:
    """The tables whose rows belong to one programme: the programme, viewflow's processes and
    tasks (those of its fiches and requests), and every model whose foreign keys lead to them
    (a fiche, its comments, a séance, a funding request…) — except the memberships, which say
    who sees which programme, and a row that ties two programmes (a CLS and its CLSM)."""
    from viewflow.workflow.models import Process, Task

    owned = {Programme, Process, Task}
    every = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m is not Membership
        and sum(
            1
            for f in m._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.related_model is Programme
        )
        < 2
    ]
    grew = True
    while grew:
        grew = False
        for model in every:
            if model not in owned and any(
                isinstance(f, models.ForeignKey) and f.related_model in owned
                for f in model._meta.concrete_fields
            ):
                owned.add(model)
                grew = True
    return frozenset(m._meta.db_table for m in owned)


def bump() -> None:
    """Move the page generation on (after the transaction that wrote, or at a request's end).
    The row comes back if a flush removed it (the transactional tests)."""
    if not PageGeneration.objects.filter(pk=1).update(n=models.F("n") + 1):
        PageGeneration.objects.get_or_create(pk=1)


def _bump_once() -> None:
    """After a commit outside a request: one move for all the writes this thread made so far
    (a transaction's thousand rows, one update)."""
    if getattr(_thread, "bumped", 0) < _thread.written:
        _thread.bumped = _thread.written
        bump()


def _seen(table: str, sql: str) -> None:
    global _local_writes
    if table in UNSEEN or _LAST_LOGIN.match(sql):
        return
    writes = _request_writes.get()
    if writes is None:
        with _local_lock:
            _local_writes += 1
        _thread.written = getattr(_thread, "written", 0) + 1
        transaction.on_commit(_bump_once)
    elif table == AUDIT_TABLE:
        writes.audited = True
    elif table in programme_tables():
        writes.owned = True
    else:
        writes.shared = True


def watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if not _migrating and context["connection"].alias == DEFAULT_DB_ALIAS:
        match = _WRITE.match(sql)
        if match:
            _seen(match.group(1), sql)
    return result


def install(connection, **kwargs) -> None:
    """On each new connection (``connection_created``)."""
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(watch_writes)


def _migration_started(**kwargs) -> None:
    global _migrating
    _migrating = True


def _migration_done(**kwargs) -> None:
    global _migrating
    _migrating = False


pre_migrate.connect(_migration_started, dispatch_uid="page_cache_pre_migrate")
post_migrate.connect(_migration_done, dispatch_uid="page_cache_post_migrate")


def version(user) -> tuple | None:
    """What the person's pages depend on in the database, read in one query; None when it
    cannot be known (no programme, or no generation row)."""
    last_event = (
        AuditEvent.objects.filter(programme_id=OuterRef("programme_id"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    generation = PageGeneration.objects.filter(pk=1).values("n")
    rows = tuple(
        Membership.objects.active()
        .filter(user=user)
        .annotate(last=Subquery(last_event), generation=Subquery(generation))
        .order_by("programme_id", "role")
        .values_list("programme_id", "role", "last", "generation")
    )
    if not rows or rows[0][3] is None:
        return None
    return rows


def _pending_messages(request) -> bool:
    """A message waits to be shown, in either of the storages Django's default one falls back
    on (the cookie, then the session)."""
    return bool(
        request.COOKIES.get(CookieStorage.cookie_name)
        or request.session.get(SessionStorage.session_key)
    )


def _key(request) -> str | None:
    """The page's key in the cache, or None when it must be rendered (and not stored). A
    listed page always reads its version, so that its queries do not depend on the browser
    (a first visit without a CSRF cookie yet, a message to show)."""
    if request.method != "GET" or not settings.PAGE_CACHE_SECONDS:
        return None
    user = request.user
    if not user.is_authenticated:
        return None
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        return None
    if name not in PAGES:
        return None
    rows = version(user)
    csrf_cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if rows is None or not csrf_cookie or _pending_messages(request):
        return None
    what = (
        request.get_full_path(),
        user.pk,
        request.session.session_key,
        csrf_cookie,
        translation.get_language(),
        timezone.localdate().isoformat(),
        _local_writes,
        rows,
    )
    return "page:" + hashlib.sha256(repr(what).encode()).hexdigest()


class PageCacheMiddleware:
    """Serves a stored page when its version has not moved; stores the pages it renders; and
    at the end of every request moves the generation on if the request wrote something no
    audit event accounts for. Last of the middleware: the session, the person, the second
    factor and the messages are known, and what it stores is what the view answered (the
    headers the middleware above add are added again on each answer)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        writes = Writes()
        token = _request_writes.set(writes)
        try:
            return self._answer(request)
        finally:
            _request_writes.reset(token)
            if writes.shared or (writes.owned and not writes.audited):
                bump()

    def _answer(self, request):
        key = _key(request)
        if key is None:
            return self.get_response(request)
        pages = caches["pages"]
        stored = pages.get(key)
        if stored is not None:
            status, headers, content = stored
            return HttpResponse(content, status=status, headers=headers)
        response = self.get_response(request)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not getattr(getattr(request, "_messages", None), "added_new", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            stored = (response.status_code, dict(response.headers), response.content)
            pages.set(key, stored, settings.PAGE_CACHE_SECONDS)
        return response


def connect() -> None:
    """Watch the writes of every connection, present and to come (``ConfigConfig.ready``)."""
    from django.db.backends.signals import connection_created

    connection_created.connect(install, dispatch_uid="page_cache_watch_writes")
    for connection in connections.all(initialized_only=True):
        install(connection)
