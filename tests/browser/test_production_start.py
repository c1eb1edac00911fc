"""The production start (``./dev.sh serve``: collectstatic, migrate, gunicorn) with production
settings, on the suite's database engine (a database of its own on PostgreSQL), twice — two
app servers on one database, as behind a load balancer: /healthz answers, the static files are
served by WhiteNoise compressed and under content-hashed names, the pages carry their security
headers, and a coordinator logs in on one server and goes on working on the other (nothing is
kept by a server: sessions and files are shared)."""

import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(tmp: Path):
    """The URL of a fresh database for the served app, and how to drop it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'serve.sqlite3'}", lambda: None
    import psycopg

    name = f"coordo_serve_{os.getpid()}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")

    def drop():
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return url.rsplit("/", 1)[0] + f"/{name}", drop


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    tmp = tmp_path_factory.mktemp("serve")
    database, drop = _database(tmp)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "SQLITE_PATH")},
        "COORDO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "AUDIT_CHAIN_KEYS": f"k1:{secrets.token_urlsafe(32)}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # TLS ends at the reverse proxy (docs/deploy.md)
        "DATABASE_URL": database,
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "WORKERS": "2",
    }
    manage = [str(ROOT / ".venv/bin/python"), str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run(manage + command, env=env, cwd=ROOT, check=True, capture_output=True)
    servers, urls = [], []
    try:
        for _ in range(2):  # one after the other: each collects the static files first
            port = _free_port()
            servers.append(
                subprocess.Popen(
                    [str(ROOT / "dev.sh"), "serve"],
                    env={**env, "BIND": f"127.0.0.1:{port}"},
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
            for _ in range(300):
                try:
                    urllib.request.urlopen(urls[-1] + "/healthz", timeout=1)
                    break
                except (OSError, urllib.error.HTTPError):
                    time.sleep(0.2)
            else:
                pytest.fail("gunicorn did not start")
        yield urls
    finally:
        for server in servers:
            os.killpg(server.pid, 15)
            server.wait(timeout=20)
        drop()


def test_healthz_says_what_it_checked(served):
    with urllib.request.urlopen(served[1] + "/healthz") as response:
        body = response.read().decode()
        assert response.status == 200 and response.headers["Cache-Control"].startswith("max-age=0")
    assert '"status": "ok"' in body and '"migrations": "ok"' in body
    assert re.search(r'"audit_head": "[0-9a-f]{64}"', body)


def test_a_coordinator_works_on_the_production_start(served):
    from playwright.sync_api import sync_playwright

    first, second = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(locale="fr-FR")
        login = page.goto(first + "/comptes/login/")
        assert "script-src 'self'" in login.headers["content-security-policy"]
        page.fill("#id_username", "coordinatrice")
        page.fill("#id_password", "coordo-demo")
        page.click("button[type=submit]")
        page.wait_for_url(first + "/coordo/")
        # The other server knows the session and serves the same files.
        page.goto(second + "/coordo/")
        page.locator("a:has-text('CLS Val-de-Lys')").first.click()
        page.wait_for_selector("text=Le contrat")
        document = page.locator("#documents a[download]").first
        with page.expect_download() as download:
            document.click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        # The stylesheet comes under its content-hashed name, compressed, cached for ever.
        css = page.locator("link[href*='coordo/coordo.']").get_attribute("href")
        assert re.search(r"coordo\.[0-9a-f]{12}\.css$", css), css
        browser.close()
    request = urllib.request.Request(first + css, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
