"""A funder's decision letter: checked by its content and size before it is stored, its
SHA-256 in the audit event, nothing left behind by a refused change, and downloadable again —
as an attachment only — by whoever may see the request."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from funding.models import FundingRequest
from projects.models import ActionState
from tests.world import action_in
from workflows import services

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def submitted(world):
    action = action_in(world, ActionState.VALIDATED)
    request = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=5000,
    )
    services.transition(action, "open_funding", actor=world.coordinator)
    return services.transition(request, "submit", actor=world.coordinator)


def grant_with(client, request, name: str, content: bytes, content_type="application/pdf"):
    return client.post(
        reverse("coordo:funding-transition", args=[request.pk, "grant"]),
        {
            "seen_version": version(request),
            "grant-amount": "5000",
            "grant-decision_date": "2026-03-01",
            "grant-decision_letter": SimpleUploadedFile(name, content, content_type),
        },
        follow=True,
    )


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("decision.html", b"<html><script>alert(1)</script></html>", "text/html"),
        (
            "decision.pdf",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
            "image/svg+xml",
        ),
        ("decision.pdf", b"MZ\x90\x00\x03\x00\x00\x00 executable", "application/pdf"),
        ("decision.txt", b"Accord de principe", "text/plain"),
        ("decision.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf"),
    ],
    ids=["html", "svg-named-pdf", "executable-named-pdf", "text", "over-10-mb"],
)
def test_a_letter_that_is_not_an_accepted_document_is_refused_and_not_stored(
    client, world, submitted, media_in_tmp, name, content, content_type
):
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    page = grant_with(client, submitted, name, content, content_type).content.decode()
    assert "n&#x27;est pas accepté" in page or "dépasse 10 Mo" in page
    assert FundingRequest.objects.get(pk=submitted.pk).state == "submitted"
    assert AuditEvent.objects.count() == events
    assert stored_files(media_in_tmp) == []


def test_an_accepted_letter_is_fingerprinted_and_downloaded_as_an_attachment(
    client, world, submitted, media_in_tmp
):
    client.force_login(world.coordinator)
    grant_with(client, submitted, "décision ARS.pdf", PDF)
    request = FundingRequest.objects.get(pk=submitted.pk)
    assert request.state == "granted" and len(stored_files(media_in_tmp)) == 1
    event = AuditEvent.objects.get(event="grant", object_id=str(request.pk))
    assert event.changes["decision_letter_sha256"] == [None, hashlib.sha256(PDF).hexdigest()]
    assert "courrier joint : décision ARS.pdf" in event.comment
    # Any member who may see the request downloads it, as an attachment, never rendered.
    client.force_login(world.ars_referent)
    page = client.get(reverse("coordo:funding-request", args=[request.pk])).content.decode()
    url = reverse("coordo:decision-letter", args=[request.pk])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404


def test_a_refused_change_leaves_no_file_behind(
    client, world, submitted, media_in_tmp, monkeypatch
):
    from workflows.services import funding

    def fails(**kwargs):
        raise RuntimeError("panne après l'écriture")

    monkeypatch.setattr(funding.flows, "sync_funder_tasks", fails)
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    assert grant_with(client, submitted, "decision.pdf", PDF).status_code == 500
    assert FundingRequest.objects.get(pk=submitted.pk).state == "submitted"
    assert stored_files(media_in_tmp) == []


def test_the_funder_may_attach_its_own_letter(client, world, submitted, media_in_tmp):
    client.force_login(world.funder)
    grant_with(client, submitted, "notification.pdf", PDF)
    event = AuditEvent.objects.get(event="grant", object_id=str(submitted.pk))
    assert event.actor == world.funder and "decision_letter_sha256" in event.changes
    assert "saisie par la coordination" not in event.comment
