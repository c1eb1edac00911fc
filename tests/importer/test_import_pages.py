"""The import page: the programme's coordinators only, CSRF still checked, errors shown as a
table (sheet, row, column, message) with nothing saved."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from projects.models import Action
from spreadsheet import XLSX


def _urls(world) -> dict:
    pk = world.programme.pk
    return {
        "page": reverse("coordo:import", args=[pk]),
        "template": reverse("coordo:import-template", args=[pk]),
    }


def _template_bytes(client, world) -> bytes:
    client.force_login(world.coordinator)
    response = client.get(_urls(world)["template"])
    return b"".join(response.streaming_content)


def test_coordinator_sees_the_page_and_the_links(client, world):
    client.force_login(world.coordinator)
    page = client.get(_urls(world)["page"])
    assert page.status_code == 200
    html = page.content.decode()
    assert _urls(world)["template"] in html and 'enctype="multipart/form-data"' in html
    assert "« Proposée »" in html
    for url in (
        reverse("coordo:programme", args=[world.programme.pk]),
        reverse("coordo:funding", args=[world.programme.pk]),
    ):
        assert _urls(world)["page"] in client.get(url).content.decode()


@pytest.mark.parametrize("role", ["copil", "funder", "action_lead", "ars_referent"])
def test_other_members_get_403_and_no_link(client, world, role):
    client.force_login(getattr(world, role))
    urls = _urls(world)
    assert client.get(urls["page"]).status_code == 403
    assert client.get(urls["template"]).status_code == 403
    for url in (
        reverse("coordo:programme", args=[world.programme.pk]),
        reverse("coordo:funding", args=[world.programme.pk]),
    ):
        assert urls["page"] not in client.get(url).content.decode()


def test_copil_cannot_import_even_a_good_file(client, world):
    content = _template_bytes(client, world)
    wb = load_workbook(io.BytesIO(content))
    wb["Actions"].append(["A1", "Atelier santé"])
    out = io.BytesIO()
    wb.save(out)
    events, actions = AuditEvent.objects.count(), Action.objects.count()
    client.force_login(world.copil)
    upload = SimpleUploadedFile("f.xlsx", out.getvalue(), XLSX)
    assert client.post(_urls(world)["page"], {"fichier": upload}).status_code == 403
    assert (AuditEvent.objects.count(), Action.objects.count()) == (events, actions)


def test_outsider_gets_404(client, world):
    client.force_login(world.outsider)
    urls = _urls(world)
    assert client.get(urls["page"]).status_code == 404
    assert client.get(urls["template"]).status_code == 404
    upload = SimpleUploadedFile("f.xlsx", b"PK", XLSX)
    assert client.post(urls["page"], {"fichier": upload}).status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(_urls(world)["page"])
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_csrf_is_still_checked(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.coordinator)
    upload = SimpleUploadedFile("f.xlsx", b"PK", XLSX)
    assert client.post(_urls(world)["page"], {"fichier": upload}).status_code == 403


def test_errors_are_shown_as_a_table(client, world):
    wb = load_workbook(io.BytesIO(_template_bytes(client, world)))
    wb["Actions"].append(["A1", "Atelier santé", None, "Association inconnue"])
    out = io.BytesIO()
    wb.save(out)
    upload = SimpleUploadedFile("f.xlsx", out.getvalue(), XLSX)
    response = client.post(_urls(world)["page"], {"fichier": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "1 erreur : rien n'a été importé." in html
    assert (
        '<tr><td>Actions</td><td class="num">3</td><td>D · Porteur</td>'
        "<td>Organisation « Association inconnue » inconnue" in html
    )


def test_missing_file_is_asked_for(client, world):
    client.force_login(world.coordinator)
    response = client.post(_urls(world)["page"], {})
    assert response.status_code == 400
    assert "Choisissez le classeur" in response.content.decode()
