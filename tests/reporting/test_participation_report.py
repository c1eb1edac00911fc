"""Participation counted honestly: who proposed the fiches (coordination, members,
residents) and what became of them, the residents' proposals and their outcome — in the annual
report (page and workbook) and on the dashboard, with a query count that does not grow."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from projects.models import Action, ResidentProposal
from reporting.dashboard import dashboard
from reporting.parts import proposals_part
from tests.world import new_action
from workflows import services

YEAR = timezone.localdate().year


def resident(world, idea: str) -> ResidentProposal:
    return services.submit_resident_proposal(
        programme=world.programme, idea=idea, need="Un besoin du quartier"
    )


@pytest.fixture
def proposals(world):
    """Coordination: 1 taken up, 1 waiting; members: 1 merged, 1 declined, 1 waiting;
    residents: 1 published (waiting as a fiche), 1 attached, 1 declined, 1 pending."""
    world.programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"public_page": True}
    )
    taken = new_action(world)
    services.take_up(action=taken, actor=world.coordinator)
    new_action(world)
    for who, title in ((world.funder, "Fusionnée"), (world.cotech, "Écartée")):
        services.create_action(programme=world.programme, actor=who, data={"title": title})
    services.create_action(programme=world.programme, actor=world.copil, data={"title": "En vue"})
    services.transition(
        Action.objects.get(title="Fusionnée"), "merge", actor=world.coordinator, into=taken
    )
    services.transition(
        Action.objects.get(title="Écartée"),
        "decline",
        actor=world.coordinator,
        comment="Hors champ",
    )
    services.transition(resident(world, "Un banc"), "publish", actor=world.coordinator)
    services.transition(
        resident(world, "Des marches"), "attach", actor=world.coordinator, into=taken
    )
    services.transition(
        resident(world, "Un parking"), "decline", actor=world.coordinator, comment="Pas de santé"
    )
    resident(world, "En attente")
    return world


def counts(part):
    origins = {
        r.origin: (r.proposed, r.taken_up, r.merged, r.declined, r.waiting) for r in part.by_origin
    }
    residents = {state: n for state, _label, n in part.residents.by_state}
    return origins, part.residents.received, residents


EXPECTED = (
    {
        "coordination": (2, 1, 0, 0, 1),
        "member": (3, 0, 1, 1, 1),
        "resident": (1, 0, 0, 0, 1),
    },
    4,
    {"pending": 1, "published": 1, "merged": 1, "declined": 1},
)


def test_who_proposed_and_what_became_of_it(proposals):
    assert counts(proposals_part(programme=proposals.programme)) == EXPECTED
    assert counts(dashboard(programme=proposals.programme).proposals) == EXPECTED


def test_the_period_counts_only_what_was_proposed_in_it(proposals):
    last_year = proposals_part(
        programme=proposals.programme,
        since=datetime.datetime(YEAR - 1, 1, 1, tzinfo=datetime.UTC),
        until=datetime.datetime(YEAR, 1, 1, tzinfo=datetime.UTC),
    )
    assert all(r.proposed == 0 for r in last_year.by_origin)
    assert last_year.residents.received == 0
    assert counts(proposals_part(programme=proposals.other_programme))[1] == 0


def test_the_annual_report_and_its_workbook_say_it(client, proposals):
    client.force_login(proposals.ars_referent)
    page = client.get(
        reverse("coordo:annual-report", args=[proposals.programme.pk, YEAR])
    ).content.decode()
    assert "Qui propose les fiches" in page and "Des habitant·es" in page
    assert "4 propositions d'habitant·es reçues en ligne" in page
    response = client.get(reverse("coordo:annual-report-xlsx", args=[proposals.programme.pk, YEAR]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [[c.value for c in r] for r in book["6. Origine des propositions"].iter_rows()]
    assert rows[1:4] == [
        ["La coordination", 2, 1, 0, 0, 1],
        ["Un membre du dispositif", 3, 0, 1, 1, 1],
        ["Des habitant·es", 1, 0, 0, 0, 1],
    ]
    residents = [[c.value for c in r] for r in book["6. Propositions d'habitants"].iter_rows()]
    assert residents[1:5] == [
        ["À modérer", 1],
        ["Publiée comme fiche proposée", 1],
        ["Rattachée à une fiche existante", 1],
        ["Non retenue", 1],
    ]


def test_the_dashboard_shows_it_and_its_query_count_does_not_grow(client, proposals):
    client.force_login(proposals.coordinator)
    url = reverse("coordo:dashboard", args=[proposals.programme.pk])
    with CaptureQueriesContext(connection) as before:
        page = client.get(url).content.decode()
    assert "Propositions de fiches" in page and "Non retenues" in page
    for n in range(20):
        services.create_action(
            programme=proposals.programme, actor=proposals.funder, data={"title": f"Idée {n}"}
        )
        resident(proposals, f"Idée d'habitant {n}")
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)
