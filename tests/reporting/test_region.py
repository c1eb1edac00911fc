"""The region's view of one person: the figures of the programmes they belong to (A, a CLS;
B, a CLSM), consolidated and written out here; C, where their membership was ended, and the
other programmes of the three worlds are never counted. Then the kind and year filters, the
axis themes, and the workbook.

    A (CLS)   fiches: implementation (18 000 € requested and granted in 2026, 5 000 € received),
              draft (no axis), submitted to the COPIL (its task past due: late)
              séances: COPIL held on 12/06/2025; residents: one idea of 2025 (waiting),
              one of 2026 (declined)
    B (CLSM)  fiches: closed (18 000 € requested and granted, budget year 2025; its indicator
              measured 12 for a target of 10), in co-construction (no axis)
              séances: plenary held ten days ago; a COPIL to come; a COPIL cancelled
              its axis is titled « Axe 1 : accès aux droits  et aux soins » (A's theme)
    C         the same as A, and a séance, a proposal: none of it is the person's
"""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from funding.models import FundingRequest
from projects.models import ActionState, Programme, Role
from reporting.region import region, theme_key
from reporting.region_export import region_filename, write_region_workbook
from tests.factories import MembershipFactory, UserFactory
from tests.world import action_in, build_world
from workflows import queues, services

from .report_world import INJECTION, at

E = Decimal
S = ActionState


def _late(action) -> None:
    """The fiche's open task is past its due date (as if it had opened long ago)."""
    task = queues.open_task(action)
    task.data = {**task.data, "due": "2020-01-01"}
    task.save(update_fields=["data"])


def _receive(world, action, amount: str) -> None:
    request = action.funding_requests.get()
    tranche = services.add_tranche(
        request=request,
        actor=world.coordinator,
        label="advance",
        expected_date=datetime.date(2026, 3, 1),
        expected_amount=E(amount),
    )
    services.record_tranche_receipt(
        tranche=tranche,
        actor=world.coordinator,
        received_date=datetime.date(2026, 3, 2),
        received_amount=E(amount),
    )


def _held(world, body: str, when: datetime.datetime):
    with at(when.year, when.month, when.day, 9):
        return services.create_meeting(
            programme=world.programme,
            actor=world.coordinator,
            body=body,
            date=when,
            place="Mairie",
        )


def _resident_idea(world, *, year: int | None = None):
    programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"public_page": True}
    )
    submit = {"programme": programme, "idea": "Un banc à l'ombre", "need": "Attendre debout."}
    if year is None:
        return services.submit_resident_proposal(**submit)
    with at(year, 5, 4, 10):
        return services.submit_resident_proposal(**submit)


@pytest.fixture
def scene(db):
    a, b, c = build_world("a-"), build_world("b-"), build_world("c-")
    b.programme = services.save_structure(b.programme, actor=b.coordinator, data={"kind": "CLSM"})
    services.save_structure(
        b.objective.axis,
        actor=b.coordinator,
        data={"title": "Axe 1 : accès aux droits  et aux soins"},
    )
    person = UserFactory(username="referente-region")
    for world in (a, b):
        MembershipFactory(user=person, programme=world.programme, role=Role.ARS_REFERENT)
    MembershipFactory(user=person, programme=c.programme, role=Role.ARS_REFERENT, is_active=False)

    a_running = action_in(a, S.IMPLEMENTATION)
    _receive(a, a_running, "5000")
    action_in(a, S.DRAFT)
    _late(action_in(a, S.COPIL_REVIEW))
    _held(a, "copil", datetime.datetime(2025, 6, 12, 12, tzinfo=datetime.UTC))
    _resident_idea(a, year=2025)
    declined = _resident_idea(a)
    services.transition(declined, "decline", actor=a.coordinator, comment="Hors du contrat.")

    b_closed = action_in(b, S.CLOSED)
    FundingRequest.objects.filter(action=b_closed).update(year=2025)  # a budget year gone by
    b_closed.indicators.update(target=10)  # measured 12: reached
    action_in(b, S.CO_CONSTRUCTION)
    now = timezone.now()
    _held(b, "plenary", now - datetime.timedelta(days=10))
    services.create_meeting(
        programme=b.programme,
        actor=b.coordinator,
        body="copil",
        date=now + datetime.timedelta(days=20),
        place="Mairie",
    )
    cancelled = _held(b, "copil", now - datetime.timedelta(days=5))
    services.cancel_meeting(meeting=cancelled, actor=b.coordinator, reason="Quorum non atteint")

    c_running = action_in(c, S.IMPLEMENTATION)
    _receive(c, c_running, "9000")
    _late(action_in(c, S.COPIL_REVIEW))
    _held(c, "copil", now - datetime.timedelta(days=3))
    _resident_idea(c)
    return a, b, c, person


def _region(person, **filters):
    return region(user=person, overdue=queues.overdue_actions(), **filters)


def _rows(figures) -> dict[int, tuple]:
    return {
        p.pk: (
            p.kind,
            p.status,
            p.fiches,
            p.active,
            p.late,
            p.meetings,
            p.resident_proposals,
            p.requests,
            p.requested,
            p.granted,
            p.paid,
        )
        for p in figures.programmes
    }


def test_the_persons_programmes_consolidated_and_no_other(scene):
    a, b, c, person = scene
    figures = _region(person)
    assert (figures.kind, figures.year) == (None, None)
    assert _rows(figures) == {
        a.programme.pk: ("CLS", "drafting", 3, 3, 1, 1, 2, 1, E(18000), E(18000), E(5000)),
        b.programme.pk: ("CLSM", "drafting", 2, 1, 0, 1, 0, 1, E(18000), E(18000), E(0)),
    }
    assert [p.name for p in figures.programmes] == sorted(
        [a.programme.name, b.programme.name], key=lambda name: name
    )
    t = figures.totals
    assert (t.programmes, t.fiches, t.active, t.late, t.meetings, t.resident_proposals) == (
        2,
        5,
        4,
        1,
        2,
        2,
    )
    assert (t.requests, t.requested, t.granted, t.paid) == (2, E(36000), E(36000), E(5000))
    assert {bar.key: bar.value for bar in figures.fiches_by_state if bar.value} == {
        "draft": 1,
        "co_construction": 1,
        "copil_review": 1,
        "implementation": 1,
        "closed": 1,
    }
    assert len(figures.fiches_by_state) == len(ActionState.choices)  # zero-filled
    assert {bar.key: bar.value for bar in figures.meetings_by_body} == {
        "copil": 1,  # A's; B's next COPIL is to come, the other was cancelled
        "cotech": 0,
        "plenary": 1,
        "working_group": 0,
    }
    assert {bar.key: bar.value for bar in figures.resident_proposals_by_state} == {
        "pending": 1,
        "published": 0,
        "merged": 0,
        "declined": 1,
    }
    k = figures.indicators_total
    assert (k.total, k.measured, k.with_target, k.reached) == (3, 1, 1, 1)


def test_axis_themes_are_grouped_by_their_words(scene):
    a, b, c, person = scene
    themes = [
        (t.key, t.label, t.programmes, t.fiches, t.active) for t in _region(person).fiches_by_theme
    ]
    assert themes == [
        # A's two completed fiches and B's closed one; A's spelling wins the tie (A < a).
        ("acces aux droits et aux soins", "Accès aux droits et aux soins", 2, 3, 2),
        ("", "Sans axe (objectif non renseigné)", 2, 2, 2),  # the draft, the co-construction
    ]


@pytest.mark.parametrize(
    "title, key",
    [
        ("Santé mentale", "sante mentale"),
        ("Axe 3 – santé  mentale", "sante mentale"),
        ("3. Santé Mentale", "sante mentale"),
        ("II - Santé mentale", "sante mentale"),
        ("AXE IV : Santé-environnement", "sante environnement"),
        ("1000 premiers jours", "1000 premiers jours"),  # a number, not a numbering
        ("Axe prioritaire : jeunesse", "axe prioritaire jeunesse"),
        ("Axe 2", "axe 2"),  # nothing but a numbering: kept
    ],
)
def test_theme_key(title, key):
    assert theme_key(title) == key


def test_funding_per_funder_and_year(scene):
    a, b, c, person = scene
    figures = _region(person)
    by_year = {
        (f.funder_id, f.year): (f.requests, f.requested, f.granted, f.paid)
        for f in figures.funding_by_funder_year
    }
    assert by_year == {
        (a.funder_org.pk, 2026): (1, E(18000), E(18000), E(5000)),
        (b.funder_org.pk, 2025): (1, E(18000), E(18000), E(0)),
    }
    # Per funder: the dashboard's own helper, the same sums.
    assert {
        f.funder_id: (f.requests, f.requested, f.granted, f.paid) for f in figures.funding_by_funder
    } == {funder: figures for (funder, _year), figures in by_year.items()}


def test_kind_filter(scene):
    a, b, c, person = scene
    figures = _region(person, kind="CLSM")
    assert list(_rows(figures)) == [b.programme.pk]
    assert figures.totals.fiches == 2
    assert [t.key for t in figures.fiches_by_theme] == ["acces aux droits et aux soins", ""]
    assert [f.funder_id for f in figures.funding_by_funder] == [b.funder_org.pk]
    assert figures.indicators_total.total == 1
    assert _region(person, kind="CLS").totals.programmes == 1
    with pytest.raises(ValueError):
        _region(person, kind="PTSM")


def test_year_filter_keeps_what_is_dated(scene):
    a, b, c, person = scene
    this_year = timezone.localdate().year
    assert this_year == 2026, "the scene's dates assume 2026"
    now = _rows(_region(person, year=2026))
    # Séances, proposals received and funding of the budget year; fiches as they are today.
    assert now == {
        a.programme.pk: ("CLS", "drafting", 3, 3, 1, 0, 1, 1, E(18000), E(18000), E(5000)),
        b.programme.pk: ("CLSM", "drafting", 2, 1, 0, 1, 0, 0, E(0), E(0), E(0)),
    }
    before = _region(person, year=2025)
    assert _rows(before) == {
        a.programme.pk: ("CLS", "drafting", 3, 3, 1, 1, 1, 0, E(0), E(0), E(0)),
        b.programme.pk: ("CLSM", "drafting", 2, 1, 0, 0, 0, 1, E(18000), E(18000), E(0)),
    }
    assert {bar.key: bar.value for bar in before.resident_proposals_by_state if bar.value} == {
        "pending": 1
    }
    assert [(f.funder_id, f.year) for f in before.funding_by_funder_year] == [
        (b.funder_org.pk, 2025)
    ]


def test_nobody_elses_programmes(scene):
    a, b, c, person = scene
    # C's coordinator sees C only (their world's other programme has no fiche).
    figures = _region(c.coordinator)
    assert [p.pk for p in figures.programmes] == [c.programme.pk]
    assert figures.totals.paid == E(9000)
    assert _region(UserFactory()).totals.programmes == 0


def test_workbook_sheets_and_totals(scene):
    a, b, c, person = scene
    b.programme = services.save_structure(
        b.programme, actor=b.coordinator, data={"name": INJECTION}
    )
    figures = _region(person)
    out = io.BytesIO()
    write_region_workbook(region=figures, out=out)
    out.seek(0)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == [
        "Périmètre",
        "Dispositifs",
        "Fiches par état",
        "Fiches par thème",
        "Financements par financeur",
        "Financements par année",
        "Indicateurs",
        "Séances tenues",
        "Propositions d'habitant·es",
    ]
    sheet = workbook["Dispositifs"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Dispositif", "Type", "Statut")
    assert len(rows) == 4  # header, A and B, totals
    assert rows[-1][0] == "Total"
    assert rows[-1][6:] == tuple(f"=SUM({col}2:{col}3)" for col in "GHIJKLMNO")
    by_name = {row[0]: row for row in rows[1:3]}
    assert by_name[INJECTION][6:] == (2, 1, 0, 1, 0, 1, 18000, 18000, 0)
    # The formula-like name is text, never a formula.
    cell = next(c for c in sheet["A"] if c.value == INJECTION)
    assert cell.data_type == "s"
    states = list(workbook["Fiches par état"].iter_rows(values_only=True))
    assert len(states) == 1 + len(ActionState.choices) + 1
    assert states[-1] == ("Total", f"=SUM(B2:B{len(ActionState.choices) + 1})")
    years = list(workbook["Financements par année"].iter_rows(values_only=True))
    assert sorted(row[1] for row in years[1:-1]) == [2025, 2026]
    assert region_filename(figures) == "territoire-CLS-CLSM-toutes-annees.xlsx"
    assert region_filename(_region(person, kind="CLS", year=2026)) == "territoire-CLS-2026.xlsx"


def test_programmes_listed_whatever_their_lifecycle(scene):
    a, b, c, person = scene
    Programme.objects.filter(pk=a.programme.pk).update(status="awaiting_signatures")
    figures = _region(person)
    status = {p.pk: (p.status, p.status_label) for p in figures.programmes}
    assert status[a.programme.pk] == ("awaiting_signatures", "En attente de signatures")
    assert status[b.programme.pk] == (Programme.Status.DRAFTING, "En rédaction")
