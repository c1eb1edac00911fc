"""A small programme built by hand, step by step through the services at chosen dates, whose
2025 annual report and dashboard figures are written out in the tests.

Times are UTC; the programme's year runs in Paris time (UTC+1 in winter, UTC+2 in summer).

    axis 1 (world's)   A1 "Permanences d'accès aux droits"  created 01/02/2025, implementation
                          in April 2025, evaluation at 2025-12-31 23:30 UTC (= 01/01/2026 Paris)
                       A5 "Nouvelle action 2026"  created in 2026 (draft)
    no axis            A4 "Forum santé 2024"  created 2024, abandoned in 2024 (no objective)
    axis 2 (second)    A2 "Ateliers mémoire"  created 2024-12-31 23:00 UTC (= 01/01/2025 Paris),
                          approved at the COPIL of 12/06/2025, abandoned in 2026
                       A3 (formula-like title)  rejected at the COPIL of 12/06/2025

    funding 2025: A1 → ARS 10 000 requested, 8 000 granted, 4 000 received (4 000 still due);
                  A1 → CPAM 5 000 requested, 5 000 granted, 5 000 received.
    funding 2026: A2 → ARS 7 000 requested (undecided).
    indicators:   A1 I1 process target 20: 12 (30/06/2025), 22 (15/12/2025), 5 (10/01/2026)
                  A1 I2 result baseline 30 target 20 (decrease): 25 (30/11/2025), 18 (01/02/2026)
                  A2 I3 process target 10, never measured; A3 I4 impact no target, never measured
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from projects.models import Action, Meeting, Membership
from tests.factories import AxisFactory, ObjectiveFactory
from workflows import services

UTC = datetime.UTC
INJECTION = '=HYPERLINK("http://exemple.invalid","clic")'


@contextmanager
def at(*args):
    """Run the services as if it were this UTC date and time."""
    when = datetime.datetime(*args, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


@dataclass
class ReportProgramme:
    world: object
    axis1: object
    axis2: object
    ars: object
    cpam: object
    a1: Action
    a2: Action
    a3: Action
    a4: Action
    a5: Action
    meeting: Meeting


def _prepare(world, action, *, objective, indicators, planned="13000"):
    """What the COPIL needs: objective, public, dates, budget, indicators."""
    c = world.coordinator
    action = services.update_action(
        action=action,
        actor=c,
        data={
            "objective": objective,
            "target_public": "Habitants des quartiers prioritaires",
            "planned_start": datetime.date(2025, 3, 1),
            "planned_end": datetime.date(2025, 12, 31),
        },
    )
    services.add_budget_line(
        action=action, actor=c, year=2025, category="staff", planned=Decimal(planned)
    )
    for fields in indicators:
        services.add_indicator(action=action, actor=c, **fields)
    return Action.objects.get(pk=action.pk)


def _create(world, title, level):
    return services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": title, "lead_organisation": world.lead, "participation_level": level},
    )


def build(world) -> ReportProgramme:
    c, copil = world.coordinator, world.copil
    axis1 = world.objective.axis
    axis2 = AxisFactory(programme=world.programme, number=axis1.number + 1, title="Santé mentale")
    objective2 = ObjectiveFactory(axis=axis2, title="Prévenir l'isolement")
    ars = world.funder_org
    cpam = Membership.objects.get(user=world.other_funder).organisation

    # A4: created and abandoned in 2024.
    with at(2024, 5, 2, 9):
        a4 = _create(world, "Forum santé 2024", "information")
    with at(2024, 9, 1, 9):
        a4 = services.transition(a4, "abandon", actor=copil, comment="Porteur sans moyens")

    # A2 is created at midnight, Paris time, on 1 January 2025, and moves 30 minutes later.
    with at(2024, 12, 31, 23, 0):
        a2 = _create(world, "Ateliers mémoire", "concertation")
    with at(2024, 12, 31, 23, 30):
        a2 = services.transition(a2, "start_co_construction", actor=c)
    with at(2025, 1, 15, 9):
        a3 = _create(world, INJECTION, "consultation")
        a3 = services.transition(a3, "start_co_construction", actor=c)

    # A1: the whole way to implementation in 2025, with two funders.
    with at(2025, 2, 1, 9):
        a1 = _create(world, "Permanences d'accès aux droits", "co_construction")
        a1 = services.transition(a1, "start_co_construction", actor=c)
        a1 = _prepare(
            world,
            a1,
            objective=world.objective,
            indicators=[
                {"kind": "process", "label": "Nombre de permanences", "target": Decimal("20")},
                {
                    "kind": "result",
                    "label": "Taux de renoncement aux soins",
                    "unit": "%",
                    "baseline": Decimal("30"),
                    "target": Decimal("20"),
                },
            ],
        )
    with at(2025, 2, 20, 9):
        a1 = services.transition(a1, "submit_to_copil", actor=c)
    with at(2025, 3, 15, 9):
        a1 = services.transition(a1, "approve", actor=copil)
        ars_request = services.create_funding_request(
            action=a1,
            actor=c,
            funder_id=ars.pk,
            scheme="FIR",
            year=2025,
            requested_amount=Decimal("10000"),
        )
        cpam_request = services.create_funding_request(
            action=a1,
            actor=c,
            funder_id=cpam.pk,
            scheme="Prévention",
            year=2025,
            requested_amount=Decimal("5000"),
        )
        a1 = services.transition(Action.objects.get(pk=a1.pk), "open_funding", actor=c)
        for request, funder, amount in (
            (ars_request, world.funder, "8000"),
            (cpam_request, world.other_funder, "5000"),
        ):
            request = services.transition(request, "submit", actor=c)
            services.transition(
                request,
                "grant",
                actor=funder,
                amount=Decimal(amount),
                decision_date=datetime.date(2025, 3, 15),
            )
    with at(2025, 4, 1, 9):
        a1 = services.transition(Action.objects.get(pk=a1.pk), "start_implementation", actor=c)
        advance = services.add_tranche(
            request=ars_request,
            actor=c,
            label="advance",
            expected_date=datetime.date(2025, 5, 1),
            expected_amount=Decimal("4000"),
        )
        services.add_tranche(
            request=ars_request,
            actor=c,
            label="balance",
            expected_date=datetime.date(2026, 1, 31),
            expected_amount=Decimal("4000"),
        )
        cpam_once = services.add_tranche(
            request=cpam_request,
            actor=c,
            label="balance",
            expected_date=datetime.date(2025, 6, 1),
            expected_amount=Decimal("5000"),
        )
    with at(2025, 5, 2, 9):
        services.record_tranche_receipt(
            tranche=advance,
            actor=c,
            received_date=datetime.date(2025, 5, 2),
            received_amount=Decimal("4000"),
        )
        services.record_tranche_receipt(
            tranche=cpam_once,
            actor=world.other_funder,
            received_date=datetime.date(2025, 5, 2),
            received_amount=Decimal("5000"),
        )

    # A2 and A3 go to the COPIL of 12 June 2025, which approves A2 and rejects A3.
    with at(2025, 5, 10, 9):
        a2 = services.transition(
            _prepare(
                world,
                a2,
                objective=objective2,
                indicators=[{"kind": "process", "label": "Ateliers tenus", "target": 10}],
            ),
            "submit_to_copil",
            actor=c,
        )
        a3 = services.transition(
            _prepare(
                world,
                a3,
                objective=objective2,
                indicators=[{"kind": "impact", "label": "Qualité de vie ressentie"}],
            ),
            "submit_to_copil",
            actor=c,
        )
    with at(2025, 5, 20, 9):
        meeting = services.create_meeting(
            programme=world.programme,
            actor=c,
            body="copil",
            date=datetime.datetime(2025, 6, 12, 12, 0, tzinfo=UTC),
            place="Mairie, salle du conseil",
        )
    items = {item.action_id: item for item in meeting.agenda_items.all()}
    # The register is kept by a colleague: whoever submitted a fiche cannot record its approval.
    secretary = world.coordinator2
    with at(2025, 6, 12, 14):
        services.record_meeting(
            meeting=meeting,
            actor=secretary,
            chair_id=copil.pk,
            attendee_ids=[copil.pk, world.copil2.pk, c.pk],
            other_attendees="Mme Durand (habitante)",
            decisions={
                items[a2.pk].pk: ("approve", ""),
                items[a3.pk].pk: ("reject", "Hors du champ du contrat"),
            },
        )
        services.apply_meeting_decisions(meeting=meeting, actor=secretary)

    # Measurements of A1's indicators, within 2025 and after.
    i1, i2 = a1.indicators.order_by("pk")
    for indicator, date, value in (
        (i1, datetime.date(2025, 6, 30), "12"),
        (i2, datetime.date(2025, 11, 30), "25"),
        (i1, datetime.date(2025, 12, 15), "22"),
    ):
        with at(date.year, date.month, date.day, 18):
            services.record_measurement(
                indicator=indicator, actor=world.action_lead, date=date, value=Decimal(value)
            )

    # 23:30 UTC on 31 December is already 2026 in Paris: not a 2025 transition.
    with at(2025, 12, 31, 23, 30):
        a1 = services.transition(Action.objects.get(pk=a1.pk), "finish_implementation", actor=c)
    with at(2026, 1, 10, 9):
        services.record_measurement(
            indicator=i1,
            actor=world.action_lead,
            date=datetime.date(2026, 1, 10),
            value=Decimal("5"),
        )
    with at(2026, 2, 1, 9):
        a5 = _create(world, "Nouvelle action 2026", "information")
        services.update_action(action=a5, actor=c, data={"objective": world.objective})
        services.record_measurement(
            indicator=i2,
            actor=world.action_lead,
            date=datetime.date(2026, 2, 1),
            value=Decimal("18"),
        )
        services.create_funding_request(
            action=Action.objects.get(pk=a2.pk),
            actor=c,
            funder_id=ars.pk,
            scheme="FIR",
            year=2026,
            requested_amount=Decimal("7000"),
        )
    with at(2026, 3, 1, 9):
        services.write_evaluation_report(
            action=a1,
            actor=world.action_lead,
            achievements="18 permanences tenues.",
            participation="Habitants associés au comité de suivi.",
        )
        services.create_meeting(
            programme=world.programme,
            actor=c,
            body="cotech",
            date=datetime.datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
            place="CCAS",
        )
    with at(2026, 4, 1, 9):
        services.transition(
            Action.objects.get(pk=a2.pk), "abandon", actor=copil, comment="Porteur parti"
        )
    return ReportProgramme(
        world,
        axis1,
        axis2,
        ars,
        cpam,
        *(Action.objects.get(pk=a.pk) for a in (a1, a2, a3, a4, a5)),
        meeting=Meeting.objects.get(pk=meeting.pk),
    )
