"""Fifty people at once on PostgreSQL: no server error, and no connection left behind by the
threads that served them (a thread-per-request server used to pile them up until PostgreSQL
answered « too many clients »)."""

import gc
import threading
import urllib.request
from collections import Counter
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test import Client

from tests.world import build_world

USERS = 50
ROUNDS = 3  # 150 requests: more than PostgreSQL's 100 connections if each one stayed open


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.usefixtures("postgres_only")
def test_fifty_concurrent_users_leave_no_connection_behind(committed_db):
    world = build_world()
    # A plain thread-per-request WSGI server (the standard library's), which, unlike Django's
    # runserver, does not close the database connections of its threads itself.
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_Threaded, handler_class=_Quiet
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/coordo/"
    client = Client()
    client.force_login(world.coordinator)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    statuses: list[int] = []
    lock = threading.Lock()

    def visit() -> None:
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        try:
            status = urllib.request.urlopen(request, timeout=60).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        with lock:
            statuses.append(status)

    # A finished thread's connection is freed only when Python's cycle collector runs, which
    # under load can be long after: held off here, so that nothing relies on it.
    gc.disable()
    try:
        for _ in range(ROUNDS):
            threads = [threading.Thread(target=visit) for _ in range(USERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        gc.enable()
    try:
        assert Counter(statuses) == {200: USERS * ROUNDS}
        assert _connections() < 10, "connections left open by finished request threads"
    finally:
        server.shutdown()
