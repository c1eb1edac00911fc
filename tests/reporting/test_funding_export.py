"""The funding follow-up workbook, opened back with openpyxl and checked cell by cell."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from funding.models import Tranche
from projects.models import ActionState
from spreadsheet import DATE, MONEY
from tests.world import action_in, build_world, new_action
from workflows import services

SHEETS = ["Suivi des financements", "Par financeur", "Versements", "Budget", "Plan de financement"]


def _workbook(client, world, **params):
    response = client.get(reverse("coordo:funding-export", args=[world.programme.pk]), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def funded(world):
    """One action granted 18,000 € by the world's funder, paid 12,000 € (advance); its
    second tranche is late."""
    action = action_in(world, ActionState.IMPLEMENTATION)
    request = action.funding_requests.get()
    Tranche.objects.create(
        request=request,
        label="advance",
        expected_date=datetime.date(2026, 3, 1),
        expected_amount=Decimal("12000"),
        received_date=datetime.date(2026, 3, 20),
        received_amount=Decimal("12000"),
    )
    Tranche.objects.create(
        request=request,
        label="balance",
        expected_date=datetime.date(2026, 9, 1),
        expected_amount=Decimal("6000"),
    )
    return action


def test_workbook_sheets_values_totals_and_formats(client, world, funded):
    client.force_login(world.coordinator)
    wb = _workbook(client, world)
    assert wb.sheetnames == SHEETS
    follow = wb["Suivi des financements"]
    header = [c.value for c in follow[1]]
    assert header[:4] == ["Fiche action", "Axe", "Porteur", "Financeur"]
    assert follow.freeze_panes == "A2" and follow["A1"].font.b
    assert follow.auto_filter.ref == "A1:M2"
    row = [c.value for c in follow[2]]
    assert row[0] == funded.title
    assert row[3] == world.funder_org.name
    assert row[5] == 2026
    assert row[6:10] == [18000, 18000, 12000, 6000]  # requested, granted, paid, remaining
    assert row[10] == "Accordée"
    assert follow["L2"].value == datetime.datetime(2026, 2, 1)
    assert follow["G2"].number_format == MONEY and follow["L2"].number_format == DATE
    assert follow["G3"].value == "=SUM(G2:G2)" and follow["J3"].value == "=SUM(J2:J2)"
    by_funder = [[c.value for c in r] for r in wb["Par financeur"].iter_rows(min_row=2)]
    assert by_funder[0] == [world.funder_org.name, 2026, 18000, 18000, 12000]
    assert by_funder[1][0] == "Total" and by_funder[1][2] == "=SUM(C2:C2)"
    payments = [[c.value for c in r] for r in wb["Versements"].iter_rows(min_row=2, max_row=3)]
    assert [p[2] for p in payments] == ["Avance", "Solde"]
    assert payments[0][7] is None and payments[1][7] == "En retard"
    budget = [c.value for c in wb["Budget"][2]]
    assert budget == [funded.title, 2026, 18000, 0, -18000]


def test_user_text_never_becomes_a_formula(client, world):
    payload = '=HYPERLINK("http://exemple.invalid","Cliquez")'
    action = new_action(world, title=payload)
    services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="+ARS FIR",
        year=2026,
        requested_amount=Decimal("100"),
    )
    services.create_funding_request(  # control characters pasted from a word processor
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="Copié\x0b d'un traitement de texte\x07",
        year=2026,
        requested_amount=Decimal("100"),
    )
    client.force_login(world.coordinator)
    follow = _workbook(client, world)["Suivi des financements"]
    cells = {c.value: c for r in follow.iter_rows(min_row=2) for c in r if isinstance(c.value, str)}
    assert cells[payload].data_type == "s"
    assert cells["+ARS FIR"].data_type == "s"
    assert "Copié d'un traitement de texte" in cells


def test_export_only_shows_the_programme_and_filters(client, world, funded):
    other = build_world(prefix="o-")
    foreign = action_in(other, ActionState.IMPLEMENTATION)
    client.force_login(world.coordinator)
    funders = [
        r[3].value for r in _workbook(client, world)["Suivi des financements"].iter_rows(min_row=2)
    ]
    assert world.funder_org.name in funders
    assert foreign.funding_requests.get().funder.name not in funders
    # Filters: another year, another funder, another state give no request row.
    for params in ({"annee": 2020}, {"financeur": other.funder_org.pk}, {"etat": "refused"}):
        follow = _workbook(client, world, **params)["Suivi des financements"]
        assert follow.max_row == 2 and follow["A2"].value == "Total", params
    client.force_login(world.outsider)
    response = client.get(reverse("coordo:funding-export", args=[world.programme.pk]))
    assert response.status_code == 404


def test_export_query_count_does_not_grow_with_rows(client, world, funded):
    client.force_login(world.coordinator)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            _workbook(client, world)
        return len(ctx.captured_queries)

    few = count()
    for _ in range(5):
        action_in(world, ActionState.IMPLEMENTATION)
    assert count() == few


def test_funding_page_lists_requests_with_totals(client, world, funded):
    client.force_login(world.funder)
    page = client.get(reverse("coordo:funding", args=[world.programme.pk]))
    assert page.status_code == 200
    assert escape(funded.title) in page.content.decode()
    assert page.context["totals"]["granted"] == Decimal("18000")
    assert "classeur.xlsx" in page.content.decode()


def test_over_grant_needs_an_explicit_confirmation(world):
    action = action_in(world, ActionState.VALIDATED)
    req = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("1000"),
    )
    req = services.transition(req, "submit", actor=world.coordinator)
    with pytest.raises(services.Refused) as refused:
        services.transition(
            req,
            "grant",
            actor=world.funder,
            amount=Decimal("1500"),
            decision_date=datetime.date(2026, 3, 1),
        )
    assert "dépasse le montant demandé" in refused.value.message
    granted = services.transition(
        req,
        "grant",
        actor=world.funder,
        amount=Decimal("1500"),
        decision_date=datetime.date(2026, 3, 1),
        confirm_over_request=True,
    )
    assert granted.state == "granted" and granted.granted_amount == Decimal("1500")
