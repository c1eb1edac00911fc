"""The app served for real on loopback, with the demo data, for browser tests; the mails it
sends (after each request, as in development) are written to files the tests read."""

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
# Django's file-based backend ends each message with a line of 79 dashes.
SEPARATOR = re.compile(rb"^-{79}$\n?", re.MULTILINE)


@dataclass
class Mail:
    """One e-mail as its recipient sees it."""

    to: list[str]
    subject: str
    text: str
    html: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Mail to={self.to} subject={self.subject!r}>"


def _parse(raw: bytes) -> Mail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments, types = {}, {}
    for part in message.iter_attachments():
        name = part.get_filename()
        if name:
            attachments[name] = part.get_payload(decode=True)
            types[name] = part.get_content_type()
    return Mail(
        to=[a.addr_spec for a in message["To"].addresses],
        # A long subject is folded from its first line on: unfolded, it starts with a space.
        subject=str(message["Subject"]).strip(),
        text=plain.get_content() if plain else "",
        html=html.get_content() if html else "",
        attachments=attachments,
        content_types=types,
    )


class Mailbox:
    """The e-mails the demo server wrote (one ``.log`` file per connection of the backend,
    each holding one or more messages). ``mark()`` notes what is there; ``since(mark)`` gives
    only what was written after it, in order."""

    def __init__(self, directory: Path):
        self.directory = directory

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.log"), key=lambda p: (p.stat().st_mtime_ns, p.name))

    @staticmethod
    def _messages(path: Path) -> list[bytes]:
        return [
            chunk.strip(b"\n") + b"\n"
            for chunk in SEPARATOR.split(path.read_bytes())
            if chunk.strip()
        ]

    def mark(self) -> dict[str, int]:
        return {path.name: len(self._messages(path)) for path in self._files()}

    def since(self, mark: dict[str, int] | None = None) -> list[Mail]:
        mark = mark or {}
        return [
            _parse(raw)
            for path in self._files()
            for raw in self._messages(path)[mark.get(path.name, 0) :]
        ]

    def all(self) -> list[Mail]:
        return self.since({})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mails")


@pytest.fixture(scope="session")
def mailbox(demo_server, mail_dir) -> Mailbox:
    """What the demo server sent: ``mark = mailbox.mark(); …; mailbox.since(mark)``."""
    return Mailbox(mail_dir)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory, mail_dir):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SITE_URL")}
    env.update(
        SQLITE_PATH=str(tmp_path_factory.mktemp("demo") / "demo.sqlite3"),
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        # Development's sending after each request, into files the tests read.
        NOTIFICATIONS_AFTER_REQUEST="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run(manage + command, env=env, cwd=ROOT, check=True, capture_output=True)
    # The seed's own notifications go nowhere (the demo's addresses are examples).
    assert not list(mail_dir.iterdir()), "seeding the demo wrote e-mails"
    port = _free_port()
    server = subprocess.Popen(
        manage + ["runserver", f"127.0.0.1:{port}", "--noreload"],
        env={**env, "SITE_URL": f"http://127.0.0.1:{port}"},  # the links of the mails
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/comptes/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the demo server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def browser_page(demo_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(locale="fr-FR")
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            browser.close()
