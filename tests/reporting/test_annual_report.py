"""The annual report of a small programme built by hand (report_world.py): every figure below
is written out from the scenario, not recomputed by the code."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from projects.models import ActionState
from reporting.annual import annual_report
from spreadsheet import MONEY
from tests.world import action_in, new_action
from workflows import services

from .report_world import INJECTION, build

NBSP = "\xa0"
SHEETS = [
    "1. Fiches par axe et état",
    "2. Transitions par mois",
    "3. Séances et décisions",
    "4. Financements",
    "5. Indicateurs par type",
    "5. Indicateurs",
    "6. Origine des propositions",
    "6. Propositions d'habitants",
    "6. Niveaux de participation",
    "6. Présences aux séances",
    "6. Groupes de travail",
    "6. Membres par rôle",
    "6. Rapports d'évaluation",
    # The diagnostic and the other schemes (reporting.diagnostic_export).
    "Diagnostic – constats",
    "Fiches sans constat",
    "Contribution aux démarches",
    # The territory (reporting.territory); a CLSM adds its own work (reporting.clsm).
    "Inégalités sociales de santé",
]


@pytest.fixture
def built(world):
    return build(world)


def _values(sheet, min_row=2):
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=min_row)]


def test_fiches_per_axis_and_state_at_the_end_of_the_year(built):
    report = annual_report(programme=built.world.programme, year=2025)
    part = report.actions
    assert part.as_of == datetime.date(2025, 12, 31)
    rows = {row.label: row for row in part.rows}
    assert list(rows) == [
        f"{built.axis1.number}. {built.axis1.title}",
        f"{built.axis2.number}. Santé mentale",
        "Sans axe (objectif non renseigné)",
    ]
    axis1, axis2, no_axis = part.rows
    # A1 was still in implementation at midnight, Paris time (it moved at 00:30 on 1 January).
    assert {s: n for s, n in axis1.by_state.items() if n} == {"implementation": 1}
    assert {s: n for s, n in axis2.by_state.items() if n} == {"validated": 1, "rejected": 1}
    assert {s: n for s, n in no_axis.by_state.items() if n} == {"abandoned": 1}
    assert (axis1.total, axis2.total, no_axis.total) == (1, 2, 1)
    # A4 was abandoned before 2025: it exists but was not active; A5 (2026) is not counted.
    assert (axis1.active, axis2.active, no_axis.active) == (1, 2, 0)
    assert (part.total, part.active) == (4, 3)
    assert [label for _, label in part.shown_states] == [
        "Validée",
        "Rejetée",
        "En mise en œuvre",
        "Abandonnée",
    ]


def test_transitions_of_the_year_per_month_in_paris_time(built):
    part = annual_report(programme=built.world.programme, year=2025).transitions
    rows = [(r.label, r.from_label, r.to_label, r.per_month[:6], r.total) for r in part.rows]
    assert rows == [
        ("Lancer la co-construction", "Proposée", "En co-construction", [2, 1, 0, 0, 0, 0], 3),
        ("Soumettre au COPIL", "En co-construction", "Soumise au COPIL", [0, 1, 0, 0, 2, 0], 3),
        ("Valider", "Soumise au COPIL", "Validée", [0, 0, 1, 0, 0, 1], 2),
        ("Rejeter", "Soumise au COPIL", "Rejetée", [0, 0, 0, 0, 0, 1], 1),
        (
            "Ouvrir les financements",
            "Validée",
            "En recherche de financement",
            [0, 0, 1, 0, 0, 0],
            1,
        ),
        (
            "Démarrer la mise en œuvre",
            "En recherche de financement",
            "En mise en œuvre",
            [0, 0, 0, 1, 0, 0],
            1,
        ),
    ]
    assert all(r.per_month[6:] == [0] * 6 for r in part.rows)
    assert part.per_month == [2, 2, 2, 1, 2, 2, 0, 0, 0, 0, 0, 0]
    assert part.total == 11

    later = annual_report(programme=built.world.programme, year=2026).transitions
    assert [(r.event, r.from_state, r.to_state, r.per_month, r.total) for r in later.rows] == [
        ("finish_implementation", "implementation", "evaluation", [1] + [0] * 11, 1),
        ("abandon", "validated", "abandoned", [0, 0, 0, 1] + [0] * 8, 1),
    ]


def test_meetings_held_and_their_decisions(built):
    part = annual_report(programme=built.world.programme, year=2025).meetings
    assert len(part.meetings) == 1  # the COTECH of March 2026 belongs to 2026
    meeting = part.meetings[0]
    assert meeting.date.replace(tzinfo=None) == datetime.datetime(2025, 6, 12, 14, 0)  # Paris
    assert meeting.body_label == "Comité de pilotage (COPIL)"
    assert (meeting.place, meeting.attendees) == ("Mairie, salle du conseil", 3)
    assert meeting.other_attendees == "Mme Durand (habitante)"
    assert meeting.applied is True
    assert [(i.position, i.action_title, i.decision_label, i.comment) for i in meeting.items] == [
        (1, "Ateliers mémoire", "Valider", ""),
        (2, INJECTION, "Rejeter", "Hors du champ du contrat"),
    ]
    assert part.decisions == 2
    assert part.by_decision == [("Rejeter", 1), ("Valider", 1)]


def test_funding_per_funder_requested_granted_paid(built):
    part = annual_report(programme=built.world.programme, year=2025).funding
    rows = [(r.name, r.requests, r.requested, r.granted, r.paid, r.remaining) for r in part.rows]
    assert rows == [
        (built.ars.name, 1, Decimal("10000"), Decimal("8000"), Decimal("4000"), Decimal("4000")),
        (built.cpam.name, 1, Decimal("5000"), Decimal("5000"), Decimal("5000"), Decimal("0")),
    ]
    assert (part.requests, part.requested, part.granted, part.paid) == (2, 15000, 13000, 9000)
    # The 2026 request of A2 (7 000 €) is in the 2026 report only.
    later = annual_report(programme=built.world.programme, year=2026).funding
    assert [(r.name, r.requested, r.granted, r.paid) for r in later.rows] == [
        (built.ars.name, Decimal("7000"), Decimal("0"), Decimal("0"))
    ]


def test_indicators_against_targets_at_the_end_of_the_year(built):
    part = annual_report(programme=built.world.programme, year=2025).indicators
    kinds = [(k.label, k.total, k.measured, k.with_target, k.reached) for k in part.kinds]
    assert kinds == [
        ("Processus", 2, 1, 1, 1),  # 22 ≥ 20 on 15/12/2025 (the 5 of January 2026 is later)
        ("Résultat", 1, 1, 1, 0),  # 25 %, a decrease to 20 % is sought
        ("Impact", 1, 0, 0, 0),
    ]
    total = part.total
    assert (total.total, total.measured, total.with_target, total.reached) == (4, 2, 2, 1)
    assert [(r.label, r.value, r.measured_on, r.reached) for r in part.rows] == [
        ("Nombre de permanences", Decimal("22"), datetime.date(2025, 12, 15), True),
        ("Taux de renoncement aux soins", Decimal("25"), datetime.date(2025, 11, 30), False),
    ]


def test_participation(built):
    report = annual_report(programme=built.world.programme, year=2025)
    part = report.participation
    assert [(label, n) for _, label, n in part.by_level] == [
        ("Information", 0),  # A4 (information) was not active in 2025
        ("Consultation", 1),
        ("Concertation", 1),
        ("Co-construction", 1),
    ]
    assert [
        (a.label, a.meetings, a.attendances, a.people, a.with_others) for a in part.attendance
    ] == [("Comité de pilotage (COPIL)", 1, 3, 3, 1)]
    assert [(g.name, g.members, g.actions) for g in part.groups] == [
        (built.world.working_group.name, 1, 0)
    ]
    assert part.members_by_role == [
        ("Porteur de l'action", 2),
        ("Référent ARS", 1),
        ("Coordonnateur·rice", 2),
        ("Comité de pilotage (COPIL)", 2),
        ("Comité technique (COTECH)", 1),
        ("Financeur", 2),
        ("Membre d'un groupe de travail", 1),
    ]
    assert (part.reports_written, part.reports_with_participation, part.reports) == (0, 0, [])
    later = annual_report(programme=built.world.programme, year=2026).participation
    assert (later.reports_written, later.reports_with_participation) == (1, 1)
    assert [(r.action_title, r.participation) for r in later.reports] == [
        ("Permanences d'accès aux droits", "Habitants associés au comité de suivi.")
    ]
    assert [(a.label, a.meetings, a.attendances) for a in later.attendance] == [
        ("Comité technique (COTECH)", 1, 0)
    ]


def test_report_page_shows_every_part(client, built):
    world = built.world
    client.force_login(world.ars_referent)  # reads everything, changes nothing
    response = client.get(
        reverse("coordo:annual-reports", args=[world.programme.pk]), {"annee": 2025}
    )
    url = reverse("coordo:annual-report", args=[world.programme.pk, 2025])
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "Rapport annuel 2025" in page
    assert "Période du 01/01/2025 au 31/12/2025" in page
    assert "État de chaque fiche au 31/12/2025" in page
    assert "11 changements d&#x27;état" in page or "11 changements d'état" in page
    assert "Mairie, salle du conseil" in page and "Hors du champ du contrat" in page
    assert escape(INJECTION) in page and INJECTION not in page
    for amount in ("10 000,00 €", "8 000,00 €", "4 000,00 €", "15 000,00 €", "9 000,00 €"):
        assert amount.replace(" ", NBSP) in page  # 10 000 (no break), nor before the sign
    assert "Taux de renoncement aux soins" in page
    assert 'role="img"' in page and "<title>Financements demandés, accordés et versés" in page
    assert reverse("coordo:annual-report-xlsx", args=[world.programme.pk, 2025]) in page


def test_workbook_sheets_values_formats_and_injection(client, built):
    world = built.world
    client.force_login(world.funder)
    response = client.get(reverse("coordo:annual-report-xlsx", args=[world.programme.pk, 2025]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert "rapport-annuel-" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == SHEETS

    axes = wb["1. Fiches par axe et état"]
    assert axes.freeze_panes == "A2" and axes["A1"].font.b
    assert [c.value for c in axes[1]][:3] == ["Axe", "Proposée", "En co-construction"]
    assert [c.value for c in axes[1]][-2:] == ["Total", "Actives dans l'année"]
    assert _values(axes) == [
        [
            f"{built.axis1.number}. {built.axis1.title}",
            *[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
            "=SUM(B2:M2)",
            1,
        ],
        [
            f"{built.axis2.number}. Santé mentale",
            *[0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0],
            "=SUM(B3:M3)",
            2,
        ],
        [
            "Sans axe (objectif non renseigné)",
            *[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
            "=SUM(B4:M4)",
            0,
        ],
        ["Total", *(f"=SUM({c}2:{c}4)" for c in "BCDEFGHIJKLMNO")],
    ]
    assert axes.auto_filter.ref == "A1:O4"

    months = _values(wb["2. Transitions par mois"])
    assert months[0][:9] == [
        "Lancer la co-construction",
        "Proposée",
        "En co-construction",
        2,
        1,
        0,
        0,
        0,
        0,
    ]
    assert months[0][-1] == "=SUM(D2:O2)"
    assert months[-1][0] == "Total" and months[-1][3] == "=SUM(D2:D7)"

    meetings = wb["3. Séances et décisions"]
    rows = _values(meetings)
    assert [r[:7] for r in rows] == [
        [
            datetime.datetime(2025, 6, 12, 14, 0),
            "Comité de pilotage (COPIL)",
            "Mairie, salle du conseil",
            3,
            1,
            "Ateliers mémoire",
            "Valider",
        ],
        [
            datetime.datetime(2025, 6, 12, 14, 0),
            "Comité de pilotage (COPIL)",
            "Mairie, salle du conseil",
            3,
            2,
            INJECTION,
            "Rejeter",
        ],
    ]
    assert rows[1][7] == "Hors du champ du contrat"
    assert meetings["F3"].data_type == "s"

    funding = wb["4. Financements"]
    assert _values(funding) == [
        [built.ars.name, 1, 10000, 8000, 4000, 4000],
        [built.cpam.name, 1, 5000, 5000, 5000, 0],
        ["Total", "=SUM(B2:B3)", "=SUM(C2:C3)", "=SUM(D2:D3)", "=SUM(E2:E3)", "=SUM(F2:F3)"],
    ]
    assert funding["C2"].number_format == MONEY and funding["F4"].number_format == MONEY

    assert _values(wb["5. Indicateurs par type"]) == [
        ["Processus", 2, 1, 1, 1],
        ["Résultat", 1, 1, 1, 0],
        ["Impact", 1, 0, 0, 0],
        ["Total", "=SUM(B2:B4)", "=SUM(C2:C4)", "=SUM(D2:D4)", "=SUM(E2:E4)"],
    ]
    indicators = {r[3]: r for r in _values(wb["5. Indicateurs"])}
    assert set(indicators) == {
        "Nombre de permanences",
        "Taux de renoncement aux soins",
        "Ateliers tenus",
        "Qualité de vie ressentie",
    }
    assert indicators["Nombre de permanences"][6:] == [
        None,
        20,
        22,
        datetime.datetime(2025, 12, 15),
        "Oui",
    ]
    assert indicators["Taux de renoncement aux soins"][6:] == [
        30,
        20,
        25,
        datetime.datetime(2025, 11, 30),
        "Non",
    ]
    assert indicators["Ateliers tenus"][7:9] == [10, None]
    assert indicators["Qualité de vie ressentie"][2] == INJECTION

    assert _values(wb["6. Niveaux de participation"]) == [
        ["Information", 0],
        ["Consultation", 1],
        ["Concertation", 1],
        ["Co-construction", 1],
        ["Total", "=SUM(B2:B5)"],
    ]
    assert _values(wb["6. Présences aux séances"])[0] == ["Comité de pilotage (COPIL)", 1, 3, 3, 1]
    assert _values(wb["6. Rapports d'évaluation"]) == []


@pytest.mark.parametrize("name", ["annual-reports", "annual-report", "annual-report-xlsx"])
def test_report_refused_to_non_members(client, world, name):
    action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.outsider)  # member of another programme only
    args = [world.programme.pk] if name == "annual-reports" else [world.programme.pk, 2026]
    response = client.get(reverse(f"coordo:{name}", args=args))
    assert response.status_code == 404
    assert world.programme.name not in response.content.decode()


def test_report_years_out_of_range_are_not_found(client, world):
    client.force_login(world.coordinator)
    response = client.get(reverse("coordo:annual-report", args=[world.programme.pk, 1850]))
    assert response.status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


def _more_fiches(world, n: int) -> None:
    for i in range(n):
        state = [
            ActionState.CLOSED,
            ActionState.REJECTED,
            ActionState.IMPLEMENTATION,
            ActionState.COPIL_REVIEW,
        ][i % 4]
        action_in(world, state)
        new_action(world, title=f"Brouillon {i}")


def test_report_query_counts_do_not_grow_with_the_fiches(client, world):
    year = timezone.localdate().year
    action_in(world, ActionState.CLOSED)
    action_in(world, ActionState.IMPLEMENTATION)
    client.force_login(world.coordinator)
    urls = [
        reverse("coordo:annual-report", args=[world.programme.pk, year]),
        reverse("coordo:annual-report", args=[world.programme.pk, year - 1]),
        reverse("coordo:annual-report-xlsx", args=[world.programme.pk, year]),
    ]
    few = [_queries(client, url) for url in urls]
    _more_fiches(world, 12)
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now() - datetime.timedelta(days=1),
        place="Mairie",
    )
    assert meeting.agenda_items.exists()
    many = [_queries(client, url) for url in urls]
    assert many == few
