"""The territory's page (vue du territoire) and its workbook: for the people who belong to two
programmes or more; a person with one programme is sent to its dashboard (403), an anonymous
visitor to the login page; filters checked before anything is counted (400 with a French
message, never a 500); the number of queries depends neither on the number of programmes nor
on the number of fiches; the drawer offers the page to those who may open it, at no cost."""

from html import unescape

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import ActionState, Role
from spreadsheet import XLSX
from tests.factories import MembershipFactory, ProgrammeFactory, UserFactory
from tests.world import action_in, new_action
from web.frontend import menu
from workflows import services

URL = "/coordo/territoire/"
XLSX_URL = "/coordo/territoire/territoire.xlsx"


@pytest.fixture
def referent(world):
    """The world's ARS referent, also referent of a second programme (a CLSM)."""
    second = ProgrammeFactory(kind="CLSM", name="CLSM des Deux-Rives")
    MembershipFactory(user=world.ars_referent, programme=second, role=Role.ARS_REFERENT)
    return world.ars_referent


def test_urls():
    assert reverse("coordo:region") == URL
    assert reverse("coordo:region-xlsx") == XLSX_URL


def test_a_person_with_two_programmes_sees_both(client, world, referent):
    action_in(world, ActionState.IMPLEMENTATION)
    client.force_login(referent)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Vue du territoire" in page
    assert world.programme.name in _listed(page) and "CLSM des Deux-Rives" in _listed(page)
    assert world.other_programme.name not in page  # not theirs
    assert reverse("coordo:dashboard", args=[world.programme.pk]) in _listed(page)
    assert f'href="{XLSX_URL}?type=&amp;annee=2026"' in page
    # The dashboard's charts, drawn on the server.
    assert page.count('role="img"') == 5


def test_a_person_with_one_programme_is_sent_to_its_dashboard(client, world):
    client.force_login(world.coordinator)
    for url in (URL, XLSX_URL):
        response = client.get(url)
        assert response.status_code == 403
        text = unescape(response.content.decode())
        assert "membres d'au moins deux dispositifs" in text and "tableau de bord" in text


def test_an_ended_membership_does_not_count(client, world):
    MembershipFactory(
        user=world.coordinator, programme=ProgrammeFactory(), role=Role.COPIL, is_active=False
    )
    client.force_login(world.coordinator)
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_log_in_first(client):
    for url in (URL, XLSX_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/login/")


@pytest.mark.parametrize(
    "query, message",
    [
        ("type=PTSM", "Dispositifs : Sélectionnez un choix valide."),
        ("type=%00", "Dispositifs : Sélectionnez un choix valide."),
        ("annee=abc", "Année : Saisissez un nombre entier."),
        ("annee=1e309", "Année : Saisissez un nombre entier."),
        ("annee=%00", "Année : "),
        ("annee=99999999999999999999", "Année : Assurez-vous que cette valeur est inférieure"),
        ("annee=1789", "Année : Assurez-vous que cette valeur est supérieure ou égale à 1990."),
        ("annee=-1", "Année : Assurez-vous que cette valeur est supérieure ou égale à 1990."),
        ("annee=" + "9" * 3000, "Année : "),
    ],
)
def test_bad_filters_are_a_clear_400(client, referent, query, message):
    client.force_login(referent)
    for url in (URL, XLSX_URL):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in unescape(response.content.decode()).replace("’", "'")


def _listed(page: str) -> str:
    """The table of the programmes (the drawer names every programme too)."""
    return page[page.index('<table class="programmes') : page.index("</table>")]


def test_filters(client, world, referent):
    client.force_login(referent)
    page = client.get(URL + "?type=CLSM&annee=").content.decode()
    assert "CLSM des Deux-Rives" in _listed(page) and world.programme.name not in _listed(page)
    assert '<option value="" selected>Toutes les années</option>' in page
    page = client.get(URL + "?type=CLS&annee=2025").content.decode()
    assert world.programme.name in _listed(page)
    assert "CLSM des Deux-Rives" not in _listed(page)
    assert '<option value="2025" selected>' in page


def test_workbook(client, referent):
    client.force_login(referent)
    response = client.get(XLSX_URL + "?type=CLSM&annee=2025")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert 'filename="territoire-CLSM-2025.xlsx"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:2] == b"PK"


def _queries(client, url: str = URL) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _programme_with_fiches(person, fiches: int):
    """Another programme of ``person``'s, with its coordinator and ``fiches`` proposed fiches."""
    programme = ProgrammeFactory()
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, programme=programme, role=Role.COORDINATOR)
    MembershipFactory(user=person, programme=programme, role=Role.ARS_REFERENT)
    for n in range(fiches):
        services.create_action(programme=programme, actor=coordinator, data={"title": f"Fiche {n}"})
    return programme


def test_queries_do_not_grow_with_the_programmes(client, world, referent):
    action_in(world, ActionState.IMPLEMENTATION)
    client.force_login(referent)
    two = _queries(client)
    for _ in range(4):
        _programme_with_fiches(referent, 2)
    assert _queries(client) == two  # six programmes
    assert _queries(client, XLSX_URL) == _queries(client, XLSX_URL + "?annee=")


def test_queries_do_not_grow_with_the_fiches(client, world, referent):
    action_in(world, ActionState.IMPLEMENTATION)
    action_in(world, ActionState.CLOSED)
    for _ in range(8):
        new_action(world)
    client.force_login(referent)
    ten = _queries(client)
    for _ in range(90):
        new_action(world)
    assert world.programme.actions.count() == 100
    assert _queries(client) == ten


def _menu(user) -> tuple[list, int]:
    request = RequestFactory().get("/coordo/")
    request.user = user
    with CaptureQueriesContext(connection) as queries:
        items = menu(request)["coordo_menu"]
    return items, len(queries)


def test_the_drawer_offers_the_page_to_members_of_several_programmes(world, referent):
    entry = (URL, "map", "Vue du territoire")
    items, several = _menu(referent)
    assert entry in items
    items, one = _menu(world.coordinator)
    assert entry not in items
    assert several == one  # the programmes the drawer lists already: no query of its own
