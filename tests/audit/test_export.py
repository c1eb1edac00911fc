"""The audit-trail export for the ARS (xlsx and CSV), opened back and checked: the header states
whether the hash chain verified intact and gives the last event's hash; one row per event of
the period; user text never becomes a formula; only the coordination and the ARS referent of
the programme may export it."""

import csv
import datetime
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit.chain import verify_chain
from audit.models import AuditEvent
from projects.models import ActionState
from spreadsheet import DATETIME
from tests.audit.test_chain import TABLE, tamper
from tests.world import action_in, new_action
from workflows import services

PARIS = ZoneInfo("Europe/Paris")
INTACT = "Chaîne d'empreintes vérifiée intacte"
LAST_HASH = "Empreinte du dernier événement (SHA-256)"
INJECTIONS = ['=HYPERLINK("http://x","clic")', "+1+1", "-2+3", "@SUM(A1)"]


def url(name, world, **params) -> str:
    base = reverse(f"coordo:{name}", args=[world.programme.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def download(client, name, world, **params) -> bytes:
    response = client.get(url(name, world, **params))
    assert response.status_code == 200, response.content[:500]
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def xlsx(client, world, **params) -> tuple[dict, list[list]]:
    """(header label → value, event rows) of the workbook."""
    wb = load_workbook(io.BytesIO(download(client, "audit-export-xlsx", world, **params)))
    assert wb.sheetnames == ["Vérification", "Journal"]
    header = {row[0].value: row[1].value for row in wb["Vérification"].iter_rows(min_row=2)}
    journal = wb["Journal"]
    titles = [c.value for c in journal[1]]
    assert titles[:3] == ["N°", "Date et heure (Paris)", "Auteur"]
    return header, [[c for c in row] for row in journal.iter_rows(min_row=2)]


def csv_export(client, world, **params) -> tuple[dict, list[str], list[list[str]]]:
    data = download(client, "audit-export-csv", world, **params)
    assert data.startswith("\ufeff".encode())  # UTF-8 with BOM: French Excel reads accents
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    blank = lines.index([])
    header = dict(lines[:blank])
    return header, lines[blank + 1], lines[blank + 2 :]


def chain(world) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(programme=world.programme).order_by("seq"))


@pytest.fixture
def trail(world):
    action_in(world, ActionState.CLOSED)
    action_in(world, ActionState.COPIL_REVIEW)
    services.create_action(
        programme=world.other_programme, actor=world.outsider, data={"title": "Action voisine"}
    )
    return world


# --- Header and rows ---------------------------------------------------------------------------


def test_xlsx_header_states_an_intact_chain_and_its_last_hash(client, trail):
    client.force_login(trail.coordinator)
    header, rows = xlsx(client, trail)
    report = verify_chain(programme_id=trail.programme.pk)
    events = chain(trail)
    assert header["Journal d'audit du dispositif"] == trail.programme.name
    assert header["Période exportée"] == "tout le journal"
    assert header[INTACT] == "oui"
    assert header[LAST_HASH] == report.last_hash == events[-1].hash
    assert header["Événements dans la chaîne"] == len(events)
    assert header["N° du dernier événement"] == events[-1].seq
    assert "Premier événement rompu" not in header
    # One row per event of the programme (not the other programme's), in chain order.
    assert [row[0].value for row in rows] == [e.seq for e in events]
    first = rows[0]
    at = events[0].at.astimezone(PARIS).replace(tzinfo=None, microsecond=0)
    assert first[1].value.replace(microsecond=0) == at
    assert first[1].number_format == DATETIME
    assert first[2].value == events[0].actor_label
    assert first[3].value == "fiche action"
    assert first[6].value == "Création de la fiche"
    assert first[7].value == "— → Proposée"
    assert "intitulé : ∅ → Permanences d'accès aux droits santé en QPV" in first[8].value
    assert [row[11].value for row in rows] == [e.hash for e in events]
    assert [row[12].value for row in rows] == [e.prev_hash for e in events]
    # Readable values: transitions and states by their labels, numbers and dates in French.
    by_event = {(row[6].value): row for row in rows}
    assert by_event["Valider"][7].value == "Soumise au COPIL → Validée"
    grant = by_event["Accorder"]
    assert "montant accordé : ∅ → 18\xa0000,00 €" in grant[8].value
    assert "date de décision : ∅ → 01/02/2026" in grant[8].value
    assert "type : ∅ → Processus" in by_event["Ajout d'un indicateur"][8].value
    measure = by_event["Mesure d'indicateur"]
    assert measure[3].value == "mesure" and "valeur : ∅ → 12,00" in measure[8].value


def test_csv_has_the_same_header_and_rows(client, trail):
    client.force_login(trail.ars_referent)
    header, titles, rows = csv_export(client, trail)
    events = chain(trail)
    assert header[INTACT] == "oui"
    assert header[LAST_HASH] == events[-1].hash
    assert header["Événements dans la chaîne"] == str(len(events))
    assert titles[0] == "N°" and titles[-2:] == ["Empreinte (SHA-256)", "Empreinte précédente"]
    assert [int(r[0]) for r in rows] == [e.seq for e in events]
    assert rows[0][1] == f"{events[0].at.astimezone(PARIS):%d/%m/%Y %H:%M:%S}"
    assert [r[-2] for r in rows] == [e.hash for e in events]
    assert rows[0][6] == "Création de la fiche"


def test_period_filter_in_paris_days_with_the_whole_chain_in_the_header(client, world):
    def at(*args):
        return datetime.datetime(*args, tzinfo=datetime.UTC)

    moments = {
        "late 2025": at(2025, 12, 31, 22, 30),  # 31/12/2025 23:30 in Paris: before the period
        "new year": at(2025, 12, 31, 23, 30),  # 01/01/2026 00:30 in Paris: inside
        "mid 2026": at(2026, 6, 15, 10, 0),
        "2027": at(2027, 1, 1, 0, 0),  # 01/01/2027 01:00 in Paris: after
    }
    for title, moment in moments.items():
        with mock.patch("django.utils.timezone.now", return_value=moment):
            new_action(world, title=title)
    client.force_login(world.coordinator)
    header, rows = xlsx(client, world, du="2026-01-01", au="2026-12-31")
    assert [row[4].value for row in rows] == ["new year", "mid 2026"]
    assert header["Période exportée"] == "du 01/01/2026 au 31/12/2026"
    assert header["Événements exportés pour la période"] == 2
    assert header["Événements dans la chaîne"] == 4
    assert header[LAST_HASH] == chain(world)[-1].hash
    header, _, rows = csv_export(client, world, du="2026-01-01")
    assert [r[4] for r in rows] == ["new year", "mid 2026", "2027"]
    assert header["Période exportée"] == "depuis le 01/01/2026"


def test_a_reversed_period_is_explained(client, world):
    client.force_login(world.coordinator)
    response = client.get(url("audit-export-xlsx", world, du="2026-12-31", au="2026-01-01"))
    assert response.status_code == 400
    assert "La date de début doit précéder la date de fin." in response.content.decode()


# --- Tampering ---------------------------------------------------------------------------------


def test_header_turns_false_when_an_event_was_tampered_with(client, trail):
    victim = chain(trail)[5]
    tamper(f"UPDATE {TABLE} SET comment = %s WHERE id = %s", ("Tout va bien", victim.pk))
    events = chain(trail)
    client.force_login(trail.coordinator)
    header, rows = xlsx(client, trail)
    assert header[INTACT] == "non"
    assert header["Premier événement rompu"].startswith(f"n° {victim.seq} : ")
    assert "modifié" in header["Premier événement rompu"]
    assert header[LAST_HASH] == events[-1].hash
    assert len(rows) == len(events)  # every event is still exported, the altered one too
    header, _, _ = csv_export(client, trail)
    assert header[INTACT] == "non"
    assert header["Premier événement rompu"].startswith(f"n° {victim.seq} : ")


def test_header_turns_false_when_an_event_was_deleted(client, trail):
    victim = chain(trail)[3]
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", (victim.pk,))
    client.force_login(trail.coordinator)
    header, _, rows = csv_export(client, trail)
    assert header[INTACT] == "non"
    assert header["Premier événement rompu"].startswith(f"n° {victim.seq + 1} : ")
    assert str(victim.seq) not in [r[0] for r in rows]


# --- Formula injection -------------------------------------------------------------------------


def test_user_text_is_stored_as_text_never_as_a_formula(client, world):
    action = new_action(world, title=INJECTIONS[0])
    for text in INJECTIONS:
        services.comment_action(action=action, actor=world.coordinator, text=text)
    client.force_login(world.coordinator)
    _, rows = xlsx(client, world)
    assert rows[0][4].value == INJECTIONS[0]
    assert rows[0][4].data_type == "s"
    comments = [row[9] for row in rows[1:]]
    assert [c.value for c in comments] == INJECTIONS
    assert all(c.data_type == "s" for c in comments)
    _, _, rows = csv_export(client, world)
    assert rows[0][4] == "'" + INJECTIONS[0]
    assert [r[9] for r in rows[1:]] == ["'" + text for text in INJECTIONS]


# --- Who may export ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "ars_referent"])
def test_coordinator_and_ars_referent_reach_the_export(client, world, who):
    new_action(world)
    client.force_login(getattr(world, who))
    programme_page = client.get(url("programme", world)).content.decode()
    assert reverse("coordo:audit-export", args=[world.programme.pk]) in programme_page
    page = client.get(url("audit-export", world))
    assert page.status_code == 200
    assert "Télécharger (xlsx)" in page.content.decode()
    assert download(client, "audit-export-csv", world)
    assert download(client, "audit-export-xlsx", world)


@pytest.mark.parametrize("who", ["copil", "cotech", "funder", "action_lead", "wg_member"])
def test_other_members_get_403(client, world, who):
    new_action(world)
    client.force_login(getattr(world, who))
    programme_page = client.get(url("programme", world)).content.decode()
    assert reverse("coordo:audit-export", args=[world.programme.pk]) not in programme_page
    for name in ("audit-export", "audit-export-xlsx", "audit-export-csv"):
        assert client.get(url(name, world)).status_code == 403, name


def test_outsider_gets_404_and_anonymous_is_sent_to_login(client, world):
    new_action(world)
    client.force_login(world.outsider)  # coordinator of another programme
    for name in ("audit-export", "audit-export-xlsx", "audit-export-csv"):
        assert client.get(url(name, world)).status_code == 404, name
    client.logout()
    response = client.get(url("audit-export-csv", world))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- Queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["audit-export-xlsx", "audit-export-csv"])
def test_export_query_count_does_not_grow_with_events(client, world, name):
    client.force_login(world.coordinator)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            download(client, name, world)
        return len(ctx.captured_queries)

    action_in(world, ActionState.CLOSED)
    few = count()
    for _ in range(5):
        action_in(world, ActionState.CLOSED)
    assert len(chain(world)) > 80
    assert count() == few
