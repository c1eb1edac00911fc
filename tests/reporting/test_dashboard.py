"""The dashboard of the small programme built by hand (report_world.py): figures written out
from the scenario; charts drawn on the server with their figures as text; members only."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import ActionState
from reporting.dashboard import dashboard
from tests.world import action_in, new_action

from .report_world import build

NBSP = "\xa0"


@pytest.fixture
def built(world):
    return build(world)


def test_dashboard_figures(built):
    figures = dashboard(programme=built.world.programme)
    assert figures.total == 5
    assert [(bar.key, bar.value) for bar in figures.by_state] == [
        ("draft", 1),  # A5
        ("co_construction", 0),
        ("copil_review", 0),
        ("validated", 0),
        ("rejected", 1),  # A3
        ("funding", 0),
        ("implementation", 0),
        ("evaluation", 1),  # A1
        ("closed", 0),
        ("abandoned", 2),  # A2 (in 2026) and A4
        ("declined", 0),
        ("merged", 0),
    ]
    assert [(bar.label, bar.value) for bar in figures.by_axis] == [
        (f"{built.axis1.number}. {built.axis1.title}", 2),
        (f"{built.axis2.number}. Santé mentale", 2),
        ("Sans axe (objectif non renseigné)", 1),
    ]
    # All years: the 2026 request of A2 (7 000 €, undecided) adds to the ARS's requested amount.
    assert [(f.name, f.requests, f.requested, f.granted) for f in figures.funding] == [
        (built.ars.name, 2, Decimal("17000"), Decimal("8000")),
        (built.cpam.name, 1, Decimal("5000"), Decimal("5000")),
    ]
    assert (figures.requested, figures.granted) == (Decimal("22000"), Decimal("13000"))
    # Latest measurements: 5 for a target of 20 (not reached), 18 % for 20 % sought down
    # from 30 % (reached).
    assert [
        (k.label, k.total, k.measured, k.with_target, k.reached) for k in figures.indicators
    ] == [
        ("Processus", 2, 1, 1, 0),
        ("Résultat", 1, 1, 1, 1),
        ("Impact", 1, 0, 0, 0),
    ]
    t = figures.indicators_total
    assert (t.total, t.measured, t.with_target, t.reached) == (4, 2, 2, 1)


def test_dashboard_page_draws_charts_with_their_figures_as_text(client, built):
    world = built.world
    client.force_login(world.wg_member)  # any member of the programme
    response = client.get(reverse("coordo:dashboard", args=[world.programme.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    svgs = re.findall(r"<svg [^>]*>\s*<title>([^<]*)</title>", page)
    assert svgs == [
        "Fiches actions par état",
        "Fiches actions par axe stratégique",
        "Financements demandés et accordés par financeur",
        "Indicateurs atteignant leur cible, par type",
    ]
    assert page.count('role="img"') == 4
    assert 'aria-label="Fiches actions par état"' in page
    # The same figures as a table under each chart.
    assert re.search(r'<th scope="row">Abandonnée</th><td class="num">2</td>', page)
    assert re.search(
        rf'<th scope="row">{re.escape(built.ars.name)}</th>'
        rf'<td class="num">17{NBSP}000,00{NBSP}€</td><td class="num">8{NBSP}000,00{NBSP}€</td>',
        page,
    )
    assert f"Total demandé : 22{NBSP}000,00{NBSP}€ · total accordé : 13{NBSP}000,00{NBSP}€" in page
    assert "Cible atteinte : 1 sur 2 (indicateurs mesurés et dotés d'une cible)" in page
    # No chart library: nothing loaded from elsewhere for the charts.
    assert "cdn" not in page.lower() and "chart.js" not in page.lower()


def test_programme_page_and_drawer_link_to_the_dashboard(client, world):
    client.force_login(world.cotech)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert reverse("coordo:dashboard", args=[world.programme.pk]) in page
    assert reverse("coordo:annual-reports", args=[world.programme.pk]) in page


def test_dashboard_refused_to_non_members(client, world):
    action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.outsider)
    response = client.get(reverse("coordo:dashboard", args=[world.programme.pk]))
    assert response.status_code == 404
    assert world.programme.name not in response.content.decode()


def test_dashboard_needs_a_login(client, world):
    response = client.get(reverse("coordo:dashboard", args=[world.programme.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_does_not_grow_with_the_fiches(client, world):
    action_in(world, ActionState.CLOSED)
    client.force_login(world.coordinator)
    url = reverse("coordo:dashboard", args=[world.programme.pk])
    few = _queries(client, url)
    for n, state in enumerate(
        [ActionState.CLOSED, ActionState.IMPLEMENTATION, ActionState.REJECTED] * 4
    ):
        action_in(world, state)
        new_action(world, title=f"Brouillon {n}")
    assert _queries(client, url) == few
