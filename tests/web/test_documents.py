"""Documents attached to a programme, a fiche, a séance, a funding request and a payment: who
may attach and remove them (the role matrix), who may download them (members; 404 for anyone
else), checked by content (HTML, SVG, executables refused whatever their name; plain text
served as text), a 100 MB upload refused before anything is stored, every upload and removal in
the trail with its SHA-256, a double submit attaching once, and pages whose query count does
not grow with the documents."""

import datetime
import hashlib
import html
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.chain import verify_chain
from audit.models import AuditEvent
from demo.documents import pdf
from documents.models import Document
from projects.models import ActionState
from tests.world import action_in
from workflows import services

PDF = pdf("Charte des partenaires", "Engagements réciproques.")
ROLES = [
    "coordinator",
    "copil",
    "cotech",
    "funder",
    "other_funder",
    "action_lead",
    "other_lead",
    "wg_member",
    "ars_referent",
]
# Who may attach to each kind of object (the scoped roles: their own fiche or funder).
MAY_ATTACH = {
    "programme": {"coordinator"},
    "action": {"coordinator", "action_lead"},
    "meeting": {"coordinator"},
    "funding_request": {"coordinator", "action_lead", "funder"},
    "tranche": {"coordinator", "funder"},
}


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def upload(content: bytes = PDF, name: str = "charte.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type)


@pytest.fixture
def owners(world):
    """One object of each kind a document can belong to, in the world's programme."""
    action = action_in(world, ActionState.FUNDING)  # with a request granted by the world's funder
    request = action.funding_requests.get(funder=world.funder_org)
    tranche = services.add_tranche(
        request=request,
        actor=world.coordinator,
        label="advance",
        expected_date=datetime.date(2026, 4, 1),
        expected_amount=Decimal("1000"),
    )
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=datetime.datetime(2026, 12, 10, 14, tzinfo=datetime.UTC),
        place="Mairie",
    )
    return {
        "programme": world.programme,
        "action": action,
        "meeting": meeting,
        "funding_request": request,
        "tranche": tranche,
    }


@pytest.mark.parametrize("kind", list(MAY_ATTACH))
@pytest.mark.parametrize("who", ROLES)
def test_who_may_attach_a_document_to_what(world, owners, media_root, kind, who):
    owner = owners[kind]
    offered = services.may_attach(world.users[who], owner)
    assert offered == (who in MAY_ATTACH[kind])
    if offered:
        document = services.attach_document(
            owner=owner, actor=world.users[who], file=upload(), kind="other", title="Pièce"
        )
        assert document.owner_kind == kind and getattr(document, kind) == owner
        services.remove_document(document=document, actor=world.users[who])
        assert not Document.objects.exists()
    else:
        with pytest.raises(services.Refused) as refused:
            services.attach_document(
                owner=owner, actor=world.users[who], file=upload(), kind="other", title="Pièce"
            )
        assert refused.value.rule == "role"
        assert not Document.objects.exists() and stored_files(media_root) == []


def test_a_document_is_audited_with_its_fingerprint_and_its_file_goes_with_it(
    world, owners, media_root, django_capture_on_commit_callbacks
):
    action = owners["action"]
    document = services.attach_document(
        owner=action, actor=world.action_lead, file=upload(), kind="report", title="Bilan"
    )
    digest = hashlib.sha256(PDF).hexdigest()
    attached = AuditEvent.objects.get(event="attach_document")
    assert attached.changes["sha256"] == [None, digest]
    assert attached.changes["title"] == [None, "Bilan"] and attached.action_id == action.pk
    assert attached.actor == world.action_lead
    assert document.format == "PDF" and document.size == len(PDF)
    assert len(stored_files(media_root)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_document(document=document, actor=world.coordinator)
    removed = AuditEvent.objects.get(event="remove_document")
    assert removed.changes["sha256"] == [digest, None]
    assert stored_files(media_root) == []
    assert verify_chain(programme_id=world.programme.pk).ok
    # The fiche's history tells both, in words.
    page = reverse("coordo:action", args=[action.pk])
    from django.test import Client

    client = Client()
    client.force_login(world.copil)
    text = client.get(page).content.decode()
    assert "Document joint" in text and "Document retiré" in text and digest in text


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "text/html"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "image/svg+xml"),
        ("charte.pdf", b"<svg onload='alert(1)'></svg>", "application/pdf"),
        ("notes.txt", b"Bonjour\n<script>alert(1)</script>", "text/plain"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "application/octet-stream"),
        ("rapport.pdf", b"\x7fELF\x02\x01\x01\x00", "application/pdf"),
        ("lancer.txt", b"#!/bin/sh\nrm -rf /\n", "text/plain"),
        ("vide.txt", b"", "text/plain"),
    ],
    ids=["html", "svg", "svg-named-pdf", "text-with-script", "exe", "elf", "script", "empty"],
)
def test_what_could_run_in_the_browser_or_the_machine_is_refused_and_not_stored(
    client, world, media_root, name, content, content_type
):
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    page = client.post(
        reverse("coordo:document-attach", args=["dispositif", world.programme.pk]),
        {"kind": "charter", "file": SimpleUploadedFile(name, content, content_type)},
        follow=True,
    ).content.decode()
    refusal = "vide" if not content else "n&#x27;est pas accepté"
    assert refusal in page
    assert not Document.objects.exists() and AuditEvent.objects.count() == events
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (PDF, "application/pdf", "pdf"),
        ("Compte rendu — réunion du 3 mars\nPrésents : 12\n".encode(), "text/plain", "txt"),
        ("Nom;Fonction\nDupont;Médiatrice\n".encode("cp1252"), "text/plain", "txt"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png", "png"),
    ],
    ids=["pdf", "text-utf8", "csv-cp1252", "png"],
)
def test_members_download_as_an_attachment_others_get_404(
    client, world, owners, content, content_type, extension
):
    document = services.attach_document(
        owner=owners["meeting"],
        actor=world.coordinator,
        file=SimpleUploadedFile("piece.bin", content, "application/octet-stream"),
        kind="minutes",
        title="Compte rendu du COPIL",
    )
    url = reverse("coordo:document", args=[document.pk])
    for member in ("wg_member", "other_funder", "ars_referent"):
        client.force_login(world.users[member])
        meeting_page = client.get(reverse("coordo:meeting", args=[owners["meeting"].pk]))
        assert url in meeting_page.content.decode()
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
        assert response["Content-Disposition"].startswith("attachment;")
        assert f".{extension}" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == content
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_a_100_mb_upload_is_refused_before_anything_is_stored(client, world, media_root):
    client.force_login(world.coordinator)
    huge = SimpleUploadedFile("diagnostic.pdf", b"%PDF-1.4\n" + b"0" * (100 * 2**20))
    response = client.post(
        reverse("coordo:document-attach", args=["dispositif", world.programme.pk]),
        {"kind": "diagnostic", "file": huge},
        follow=True,
    )
    assert "dépasse 20 Mo" in response.content.decode()
    assert not Document.objects.exists() and stored_files(media_root) == []


def test_bad_input_is_refused_in_french_and_nothing_is_saved(client, world, owners, media_root):
    client.force_login(world.coordinator)
    url = reverse("coordo:document-attach", args=["demande", owners["funding_request"].pk])
    for data, message in (
        ({"kind": "agreement"}, "Ce champ est obligatoire"),
        ({"kind": "charter", "file": upload()}, "Sélectionnez un choix valide"),
        ({"kind": "agreement", "file": upload(), "title": "x" * 201}, "200 caractères"),
        ({"kind": "agreement", "file": upload(), "tranche": "999999"}, "Sélectionnez un choix"),
    ):
        page = client.post(url, data, follow=True).content.decode()
        assert message in page, data
    with pytest.raises(services.Refused) as refused:
        services.attach_document(
            owner=owners["tranche"], actor=world.coordinator, file=upload(), kind="charter"
        )
    assert "choisissez parmi Justificatif de paiement, Autre document" in refused.value.message
    assert not Document.objects.exists() and stored_files(media_root) == []
    # Unknown kinds of owner and owners outside the user's programmes: 404.
    assert client.post(reverse("coordo:document-attach", args=["inconnu", 1])).status_code == 404
    client.force_login(world.outsider)
    assert client.post(url, {"kind": "agreement", "file": upload()}).status_code == 404


def test_a_payment_s_proof_is_attached_from_the_request_page(client, world, owners):
    client.force_login(world.funder)
    request = owners["funding_request"]
    client.post(
        reverse("coordo:document-attach", args=["demande", request.pk]),
        {"kind": "proof_of_payment", "file": upload(), "tranche": owners["tranche"].pk},
    )
    document = Document.objects.get()
    assert document.tranche == owners["tranche"] and document.funding_request == request
    assert document.action == owners["action"] and document.title == "charte.pdf"
    page = client.get(reverse("coordo:funding-request", args=[request.pk])).content.decode()
    assert "Justificatif de paiement" in page and html.escape(str(owners["tranche"])) in page
    # Another funder sees the fiche but may not attach to this request.
    client.force_login(world.other_funder)
    response = client.post(
        reverse("coordo:document-attach", args=["demande", request.pk]),
        {"kind": "agreement", "file": upload(pdf("Autre"))},
    )
    assert response.status_code == 403 and Document.objects.count() == 1


def test_a_double_submit_attaches_once(client, world, media_root):
    client.force_login(world.coordinator)
    url = reverse("coordo:document-attach", args=["dispositif", world.programme.pk])
    for _ in range(2):
        page = client.post(url, {"kind": "charter", "file": upload()}, follow=True)
    assert "déjà joint ici" in page.content.decode()
    assert Document.objects.count() == 1 and len(stored_files(media_root)) == 1
    document = Document.objects.get()
    remove = reverse("coordo:document-remove", args=[document.pk])
    client.post(remove)
    page = client.post(remove, follow=True)
    assert page.status_code == 404  # already removed: nothing left to find
    assert AuditEvent.objects.filter(event="remove_document").count() == 1


def test_only_whoever_may_attach_removes(client, world, owners):
    document = services.attach_document(
        owner=owners["programme"], actor=world.coordinator, file=upload(), kind="contract"
    )
    client.force_login(world.copil)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert reverse("coordo:document", args=[document.pk]) in page
    assert reverse("coordo:document-remove", args=[document.pk]) not in page
    assert client.post(reverse("coordo:document-remove", args=[document.pk])).status_code == 403
    assert Document.objects.filter(pk=document.pk).exists()


@pytest.mark.parametrize("page", ["programme", "action", "meeting", "funding-request"])
def test_pages_query_counts_do_not_grow_with_documents(client, world, owners, page):
    owner = {
        "programme": owners["programme"],
        "action": owners["action"],
        "meeting": owners["meeting"],
        "funding-request": owners["funding_request"],
    }[page]
    url = reverse(f"coordo:{page}", args=[owner.pk])
    client.force_login(world.coordinator)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def attach(n: int) -> None:
        services.attach_document(
            owner=owner, actor=world.coordinator, file=upload(pdf(f"Pièce {n}")), kind="other"
        )

    attach(0)
    few = count()
    for n in range(1, 6):
        attach(n)
    assert count() == few


def test_the_signing_page_links_the_contract_to_read(client, contract_world):
    world = contract_world
    contract = services.attach_document(
        owner=world.programme, actor=world.coordinator, file=upload(), kind="contract"
    )
    charter = services.attach_document(
        owner=world.programme, actor=world.coordinator, file=upload(pdf("Charte")), kind="charter"
    )
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    client.force_login(world.mayor)
    page = client.get(reverse("coordo:signing", args=[programme.signings.get().pk]))
    text = page.content.decode()
    assert reverse("coordo:document", args=[contract.pk]) in text
    assert reverse("coordo:document", args=[charter.pk]) not in text
