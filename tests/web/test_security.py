"""What defends the pages (OWASP ASVS level 2 as the yardstick): login throttling per account
and per address with a cool-off, never a lock for good; the security headers, a strict
Content-Security-Policy and no cache of a signed-in person's pages and files; password reset
by e-mail from the login page; sessions that end when idle; and a security log that names
people by their user id only."""

import datetime
import json
import logging
import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.logs import JsonFormatter
from tests.factories import UserFactory
from workflows import services

PASSWORD = "Une-phrase-de-passe-2026"


@pytest.fixture
def person(db):
    user = UserFactory(username="jeanne.martin", email="jeanne.martin@ville.example")
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(client) -> bool:
    return client.get(reverse("coordo:home")).status_code == 200


def test_wrong_passwords_lock_the_account_for_a_while_then_it_works_again(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "jeanne.martin", "mauvais").status_code == 200
    assert log_in(client, "jeanne.martin", "mauvais").status_code == 429  # the last one allowed
    # Locked: even the right password is refused, from any address, with a French message.
    refused = log_in(client, "jeanne.martin", PASSWORD, address="198.51.100.20")
    assert refused.status_code == 429
    assert "réessayez dans 15 minutes" in refused.content.decode()
    assert not logged_in(client)
    # The cool-off over, the right password works (never locked for good).
    later = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=later)
    assert log_in(client, "jeanne.martin", PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_address_guessing_many_accounts_is_stopped_too(client, person):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"inconnu-{n}", "mauvais", address="192.0.2.66")
    assert log_in(client, "jeanne.martin", PASSWORD, address="192.0.2.66").status_code == 429
    # The person, from her own address, is not locked out by someone else's guesses.
    assert log_in(client, "jeanne.martin", PASSWORD, address="203.0.113.7").status_code == 302


def test_a_success_forgets_the_earlier_failures(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "jeanne.martin", "mauvais")
    assert log_in(client, "jeanne.martin", PASSWORD).status_code == 302
    client.logout()
    log_in(client, "jeanne.martin", "mauvais")
    assert log_in(client, "jeanne.martin", PASSWORD).status_code == 302


def test_every_page_carries_the_security_headers(client, world):
    pages = [reverse("login"), reverse("password_reset")]
    client.force_login(world.coordinator)
    pages += [
        reverse("coordo:home"),
        reverse("coordo:programme", args=[world.programme.pk]),
        reverse("coordo:audit-export", args=[world.programme.pk]) + "?format=csv",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = dict(
            part.strip().split(" ", 1)
            for part in response["Content-Security-Policy"].split(";")
            if part.strip()
        )
        assert policy["script-src"] == "'self'", url  # no inline script, no eval
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in response["Permissions-Policy"]
    # A signed-in person's pages and files are kept in no cache (shared computers, proxies).
    export = client.get(pages[-1])
    assert export["Cache-Control"] == "private, no-store"
    assert client.get(reverse("coordo:home"))["Cache-Control"] == "private, no-store"


def test_no_template_holds_an_inline_script_or_event_handler():
    """The policy allows no inline script: the pages must not need one."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=\"", re.IGNORECASE)
    offenders = [
        str(path)
        for path in (settings.BASE_DIR / "templates").rglob("*.html")
        if inline.search(path.read_text())
    ]
    assert offenders == []


def test_a_forgotten_password_is_reset_by_e_mail(client, person):
    login = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in login
    client.post(reverse("password_reset"), {"email": "personne@ailleurs.example"})
    assert mail.outbox == []  # no account there: the same page, nothing sent, nothing told
    done = client.post(reverse("password_reset"), {"email": "jeanne.martin@ville.example"})
    assert done.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["jeanne.martin@ville.example"]
    assert "nouveau mot de passe" in mail.outbox[0].subject
    link = re.search(r"https?://[^/]+(/comptes/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.context["validlink"]
    new = "Un-autre-mot-de-passe-2027"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert log_in(client, "jeanne.martin", new).status_code == 302
    client.logout()
    assert not client.get(link, follow=True).context["validlink"]  # it served once


def test_a_session_ends_when_idle(client, person):
    log_in(client, "jeanne.martin", PASSWORD)
    session = client.session
    assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE <= 4 * 3600
    session.set_expiry(-1)  # as if the idle time had passed
    session.save()
    assert not logged_in(client)


def test_each_page_moves_the_idle_expiry_on_without_a_write_per_page(client, person, monkeypatch):
    log_in(client, "jeanne.martin", PASSWORD)
    stored = Session.objects.get(session_key=client.session.session_key)
    home = reverse("coordo:home")
    with CaptureQueriesContext(connection) as queries:
        client.get(home)
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert Session.objects.get(pk=stored.pk).expire_date == stored.expire_date

    later = time.time() + 30 * 60  # half an hour later, still within the idle time
    monkeypatch.setattr("config.middleware.time.time", lambda: later)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: stored.expire_date - datetime.timedelta(minutes=90)
    )
    client.get(home)
    moved = Session.objects.get(pk=stored.pk).expire_date
    assert moved > stored.expire_date
    assert logged_in(client)


def test_the_security_log_names_people_by_their_id_only(client, world, person, caplog):
    caplog.set_level(logging.INFO, logger="coordo.security")
    log_in(client, "jeanne.martin", "mauvais")
    failed = next(r for r in caplog.records if r.getMessage() == "login_failed")
    assert failed.user_id == person.pk
    # A page refused (403): the user id and the path.
    client.force_login(world.copil)
    assert client.get(reverse("coordo:setup", args=[world.programme.pk])).status_code == 403
    forbidden = [r for r in caplog.records if r.getMessage() == "forbidden"]
    assert forbidden and forbidden[-1].user_id == world.copil.pk
    # A change refused by a rule of the services: which rule, who.
    client.post(
        reverse("coordo:document-attach", args=["dispositif", world.programme.pk]),
        {"kind": "charter", "file": SimpleUploadedFile("c.pdf", b"%PDF-1.4\n%%EOF\n")},
    )
    refused = [r for r in caplog.records if r.getMessage() == "refused"]
    assert (refused[-1].rule, refused[-1].user_id) == ("role", world.copil.pk)
    # A change of who may do what.
    membership = world.programme.memberships.get(user=world.cotech)
    services.save_structure(membership, actor=world.coordinator, data={"role": "copil"})
    change = next(r for r in caplog.records if r.getMessage() == "permission_change")
    assert (change.user_id, change.actor_id) == (world.cotech.pk, world.coordinator.pk)
    # As JSON lines, nothing of the person but her id.
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "coordo.security"
    ]
    text = json.dumps(lines)
    assert "jeanne" not in text and "ville.example" not in text and "203.0.113" not in text
    assert lines[0]["event"] == "login_failed" and lines[0]["level"] == "INFO"
