"""Load on the production start (a benchmark, not a test): gunicorn + the database of
``DATABASE_URL`` (PostgreSQL for figures that mean something), closed-loop users.

    DATABASE_URL=postgres://… .venv/bin/python bench/load.py [--seed] [--region 200]
        [--workers 4] [--saturation-users 20] [--saturation-seconds 60]
        [--users 200] [--think 5] [--seconds 300]

``--seed`` first migrates and seeds that database: the demo (``seed_demo``), and with
``--region N`` a region of N programmes of 250 fiches each (``seed_demo --load-region N``:
200 → 50,000 fiches and about a million audit events), then ``VACUUM ANALYZE``. Without
``--region`` every user is the demo's coordinator; with it, users are the region's people —
each programme's coordinator (half), COPIL member (a third) and funder — on their own
programme. Then it starts gunicorn with production settings and measures:

(a) saturation: ``--saturation-users`` users with no think time cycle home → programme list →
    fiche → inbox → dashboard; on the fiche, one in ten posts a comment and one in ten takes
    and releases its task when they may; one cycle in twenty downloads the funding workbook:
    HTTP requests per second (a form posted and the page it redirects to are two; taking and
    releasing a task from the fiche, six), and pages per second;
(b) a busy hour: ``--users`` users, each waiting ``--think`` seconds (±50 %) between steps of
    the cycle, for ``--seconds``: percentiles of each page's wait (a form posted: until the
    page it leads to came) and errors.

Every user logs in and finds their pages before the clock starts (logins are not in the mix).
The members' pages are served again while nothing they show has changed
(``config/page_cache.py``): with ``REDIS_URL`` set the four workers share them, without it each
keeps its own.
The load generator runs on the same machine (its threads share the cores with gunicorn).
Prints the figures and gunicorn's peak resident memory (master and workers, from
/proc/…/status VmHWM); the last line is JSON:
``{"rps_saturation": …, "pages_per_s_saturation": …, "users": …, "p50_ms": …, "p95_ms": …,
"p99_ms": …, "errors": …, "peak_rss_mb": …}``. ``LOAD_DEBUG=1`` prints each error as it
happens.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv/bin/python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """Send the production's Secure cookies to the loopback server over HTTP, as browsers do
    for localhost (TLS would end at the reverse proxy)."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class CountedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects as a browser does, counting each answer that redirected."""

    def __init__(self, user: User):
        self.user = user

    def redirect_request(self, *args, **kwargs):
        self.user.exchanges += 1
        return super().redirect_request(*args, **kwargs)


class User:
    """One person's browser: a cookie jar, logged in as ``username``; ``exchanges``: the HTTP
    requests it sent (a form posted and the page it redirects to are two); ``waits``: how long
    each page took to come (a form posted: until the page it leads to came)."""

    def __init__(self, base: str, username: str = "coordinatrice"):
        self.base = base
        self.username = username
        self.exchanges = 0
        self.waits: list[float] = []
        self.came: list[float] = []  # when each page came (time.monotonic())
        jar = http.cookiejar.CookieJar(policy=LoopbackPolicy())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), CountedRedirects(self)
        )

    def get(self, path: str) -> str:
        return self.download(path).decode()

    def download(self, path: str) -> bytes:
        return self._open(self.base + path)

    def _open(self, request) -> bytes:
        self.exchanges += 1
        began = time.perf_counter()
        with self.opener.open(request, timeout=60) as response:
            body = response.read()
        self.waits.append(time.perf_counter() - began)
        self.came.append(time.monotonic())
        return body

    def post(self, page: str, data: dict, action: str | None = None, html: str = "") -> None:
        """Post ``data`` as the form of ``page`` does (to ``action``, by default the page);
        ``html``: the page already read."""
        html = html or self.get(page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token.group(1)}).encode()
        request = urllib.request.Request(
            self.base + (action or page), data=body, headers={"Referer": self.base + page}
        )
        self._open(request)

    def log_in(self) -> None:
        self.post("/comptes/login/", {"username": self.username, "password": "coordo-demo"})


def pages_of(user: User) -> list[str]:
    """The cycle: home, the first programme's list, its first fiche, the inbox, its dashboard."""
    home = user.get("/coordo/")
    programme = re.search(r'href="(/coordo/dispositifs/\d+/)"', home).group(1)
    fiche = re.search(r'href="(/coordo/actions/\d+/)"', user.get(programme)).group(1)
    return ["/coordo/", programme, fiche, "/coordo/taches/", programme + "tableau-de-bord/"]


def username(n: int, region: int) -> str:
    """The n-th user: the demo's coordinator, or one of the region's people."""
    if not region:
        return "coordinatrice"
    role = ("coordination", "coordination", "copil", "coordination", "copil", "financeur")[n % 6]
    return f"region{n % region + 1:03d}.modele.{role}"


def visit(user: User, path: str, fiche: str) -> None:
    """One step of the cycle: read the page, and on the fiche sometimes write."""
    html = user.get(path)
    if path != fiche:
        return
    draw = random.random()
    if draw < 0.1 and f'action="{path}commenter/"' in html:
        user.post(path, {"text": "Point d'étape (charge)"}, path + "commenter/", html=html)
    elif draw < 0.2 and (take := re.search(r'action="(/coordo/taches/\d+/)prendre/"', html)):
        user.post(path, {}, take.group(1) + "prendre/", html=html)
        user.post(path, {}, take.group(1) + "liberer/")


@dataclass
class Measured:
    waits: list[float]  # each page's wait (s)
    came: list[float]  # when it came (time.monotonic())
    errors: int
    exchanges: int  # HTTP requests answered, redirects included

    @property
    def pages(self) -> int:
        return len(self.waits)


def run(base: str, users: int, seconds: float, think: float, region: int = 0) -> Measured:
    """Closed-loop users for ``seconds``. Every user logs in and finds their pages first,
    before the clock starts: a busy hour is people already at work, and 200 logins (each
    hashing a password on purpose slowly) are not part of the page mix measured."""
    errors = [0]
    lock = threading.Lock()
    prepared: list[tuple[User, list[str]]] = []

    def prepare(n: int) -> None:
        user = User(base, username(n, region))
        try:
            user.log_in()
            cycle = pages_of(user)
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            if os.environ.get("LOAD_DEBUG"):
                print(user.username, repr(exc))
            with lock:
                errors[0] += 1
            return
        user.waits, user.came, user.exchanges = [], [], 0
        with lock:
            prepared.append((user, cycle))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(prepare, range(users)))
    stop = time.monotonic() + seconds

    def person(step: int, user: User, cycle: list[str]) -> None:
        while time.monotonic() < stop:
            path = cycle[step % len(cycle)]
            step += 1
            try:
                if path == cycle[0] and random.random() < 0.05:
                    user.download(cycle[1] + "financements/classeur.xlsx")
                visit(user, path, cycle[2])
            except Exception as exc:  # noqa: BLE001
                if os.environ.get("LOAD_DEBUG"):
                    print(user.username, path, repr(exc))
                with lock:
                    errors[0] += 1
            if think:
                time.sleep(think * random.uniform(0.5, 1.5))

    threads = [
        threading.Thread(target=person, args=(n, user, cycle), daemon=True)
        for n, (user, cycle) in enumerate(prepared)
    ]
    for thread in threads:
        thread.start()
        if think:
            time.sleep(think / users)  # spread the arrivals over one think time
    for thread in threads:
        thread.join()
    return Measured(
        waits=[w for user, _cycle in prepared for w in user.waits],
        came=[t for user, _cycle in prepared for t in user.came],
        errors=errors[0],
        exchanges=sum(user.exchanges for user, _cycle in prepared),
    )


def peak_rss_mb(master: int) -> float:
    """The peak resident memory of gunicorn's master and workers, summed (MB)."""
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            peak = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            total += int(peak.group(1)) if peak else 0
    return round(total / 1024, 1)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 else 0.0


def by_minute(measured: Measured) -> str:
    """Each minute's page p50 and p95: a cold start apart from the steady state."""
    start = min(measured.came, default=0)
    minutes: dict[int, list[float]] = {}
    for wait, came in zip(measured.waits, measured.came, strict=True):
        minutes.setdefault(int((came - start) // 60), []).append(wait)
    return ", ".join(
        f"{minute + 1}: {percentile(waits, 50):.0f} / {percentile(waits, 95):.0f}"
        for minute, waits in sorted(minutes.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--region", type=int, default=0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--saturation-users", type=int, default=20)
    parser.add_argument("--saturation-seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--think", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()

    port = free_port()
    env = {
        **os.environ,
        "COORDO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "AUDIT_CHAIN_KEYS": os.environ.get("AUDIT_CHAIN_KEYS")
        or f"bench:{secrets.token_urlsafe(32)}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "CONN_MAX_AGE": "60",
        "STATIC_ROOT": os.environ.get("STATIC_ROOT", "/tmp/coordo-bench-static"),
        "AXES_FAILURE_LIMIT": "100000",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    if args.seed:
        seed = ["seed_demo", *(["--load-region", str(args.region)] if args.region else [])]
        for command in (["migrate", "--noinput", "-v", "0"], seed):
            subprocess.run(manage + command, env=env, cwd=ROOT, check=True)
        vacuum = "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"
        subprocess.run(manage + ["shell", "-c", vacuum], env=env, cwd=ROOT, check=True)
    for command in (["collectstatic", "--noinput", "-v", "0"], ["createcachetable"]):
        subprocess.run(manage + command, env=env, cwd=ROOT, check=True)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "120",
        ],  # fmt: skip
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not start")
        run(base, 2, 5, 0, args.region)  # warm the workers
        seconds = args.saturation_seconds
        saturation = run(base, args.saturation_users, seconds, 0, args.region)
        rps = saturation.exchanges / seconds
        print(
            f"saturation: {args.saturation_users} users, {rps:.1f} requests/s "
            f"({saturation.pages / seconds:.1f} pages/s), "
            f"page p50 {percentile(saturation.waits, 50):.0f} ms, "
            f"p95 {percentile(saturation.waits, 95):.0f} ms, {saturation.errors} errors"
        )
        busy = run(base, args.users, args.seconds, args.think, args.region)
        rss = peak_rss_mb(server.pid)
        figures = {
            "rps_saturation": round(rps, 1),
            "pages_per_s_saturation": round(saturation.pages / seconds, 1),
            "users": args.users,
            "p50_ms": round(percentile(busy.waits, 50)),
            "p95_ms": round(percentile(busy.waits, 95)),
            "p99_ms": round(percentile(busy.waits, 99)),
            "errors": busy.errors,
            "peak_rss_mb": rss,
        }
        print(
            f"busy hour: {args.users} users, think {args.think} s, {busy.exchanges} requests "
            f"({busy.pages} pages) in {args.seconds:.0f} s: page p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, {busy.errors} errors; "
            f"gunicorn's peak memory {rss} MB"
        )
        print("busy hour by minute (page p50 / p95 ms):", by_minute(busy))
        print(json.dumps(figures))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
