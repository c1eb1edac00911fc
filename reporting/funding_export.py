"""The funding follow-up workbook (suivi des financements), streamed from the database.

openpyxl in write-only mode: rows go to the file as they come from ``.iterator()``, so memory
stays flat and the number of queries does not depend on the number of rows. User text never
becomes a formula; totals are real ``SUM`` formulas; French number and date formats. The
« Plan de financement » sheet gives each fiche of the selection its whole plan and the gap
the fiche page shows (``projects.financing``), whatever the filters.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from openpyxl import Workbook

from funding.models import BudgetLine, FundingRequest, Tranche
from projects.financing import Totals
from projects.models import Action, ActionState
from spreadsheet import Sheet, for_file_name

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))


def _paid() -> Coalesce:
    received = (
        Tranche.objects.filter(request=OuterRef("pk"))
        .values("request")
        .annotate(total=Sum("received_amount"))
        .values("total")
    )
    return Coalesce(Subquery(received), ZERO)


def write_funding_workbook(
    *, requests: QuerySet[FundingRequest], budget_lines: QuerySet[BudgetLine], out: BinaryIO
) -> None:
    """Write the five sheets for ``requests`` (already limited to what the reader may see and
    filtered) and ``budget_lines`` (same actions) to ``out``."""
    with translation.override(settings.LANGUAGE_CODE):
        _write(requests, budget_lines, out)


def _write(requests, budget_lines, out) -> None:
    workbook = Workbook(write_only=True)
    states = {value: str(label) for value, label in FundingRequest.State.choices}
    today = timezone.localdate()

    follow_up = Sheet(
        workbook,
        "Suivi des financements",
        [
            ("Fiche action", "text", 45),
            ("Axe", "text", 30),
            ("Porteur", "text", 28),
            ("Financeur", "text", 28),
            ("Dispositif de financement", "text", 28),
            ("Année", "int", 8),
            ("Demandé", "money", 14),
            ("Accordé", "money", 14),
            ("Versé", "money", 14),
            ("Reste à percevoir", "money", 16),
            ("État", "text", 20),
            ("Date de décision", "date", 14),
            ("Date de convention", "date", 16),
        ],
    )
    rows = (
        requests.annotate(paid=_paid())
        .order_by("action__title", "year", "funder__name", "pk")
        .values_list(
            "action__title",
            "action__objective__axis__number",
            "action__objective__axis__title",
            "action__lead_organisation__name",
            "funder__name",
            "scheme",
            "year",
            "requested_amount",
            "granted_amount",
            "paid",
            "state",
            "decision_date",
            "agreement_date",
        )
    )
    for (
        title, axis_no, axis, lead, funder, scheme, year, requested, granted, paid, state,
        decided, agreed,
    ) in rows.iterator(chunk_size=2000):  # fmt: skip
        remaining = (granted - paid) if granted is not None else None
        follow_up.append(
            [
                title,
                f"{axis_no}. {axis}" if axis else "",
                lead or "",
                funder,
                scheme,
                year,
                requested,
                granted,
                paid,
                remaining,
                states.get(state, state),
                decided,
                agreed,
            ]
        )
    follow_up.close()

    per_funder = Sheet(
        workbook,
        "Par financeur",
        [
            ("Financeur", "text", 32),
            ("Année", "int", 8),
            ("Demandé", "money", 16),
            ("Accordé", "money", 16),
            ("Versé", "money", 16),
        ],
    )
    totals: dict[tuple[str, int], list[Decimal]] = defaultdict(lambda: [Decimal("0")] * 3)
    for funder, year, requested, granted in (
        requests.order_by()
        .values_list("funder__name", "year")
        .annotate(requested=Sum("requested_amount"), granted=Coalesce(Sum("granted_amount"), ZERO))
    ):
        totals[(funder, year)][0] += requested
        totals[(funder, year)][1] += granted
    for funder, year, paid in (
        Tranche.objects.filter(request__in=requests.values("pk"))
        .order_by()
        .values_list("request__funder__name", "request__year")
        .annotate(paid=Coalesce(Sum("received_amount"), ZERO))
    ):
        totals[(funder, year)][2] += paid
    for (funder, year), amounts in sorted(totals.items()):
        per_funder.append([funder, year, *amounts])
    per_funder.close()

    payments = Sheet(
        workbook,
        "Versements",
        [
            ("Fiche action", "text", 45),
            ("Financeur", "text", 28),
            ("Versement", "text", 12),
            ("Date prévue", "date", 13),
            ("Montant prévu", "money", 15),
            ("Date de réception", "date", 16),
            ("Montant reçu", "money", 15),
            ("Retard", "text", 10),
        ],
    )
    labels = {value: str(label) for value, label in Tranche.Label.choices}
    for title, funder, label, expected, expected_amount, received, received_amount in (
        Tranche.objects.filter(request__in=requests.values("pk"))
        .order_by("request__action__title", "expected_date", "pk")
        .values_list(
            "request__action__title",
            "request__funder__name",
            "label",
            "expected_date",
            "expected_amount",
            "received_date",
            "received_amount",
        )
        .iterator(chunk_size=2000)
    ):
        late = received is None and expected < today
        payments.append(
            [
                title,
                funder,
                labels.get(label, label),
                expected,
                expected_amount,
                received,
                received_amount,
                "En retard" if late else "",
            ]
        )
    payments.close()

    budget = Sheet(
        workbook,
        "Budget",
        [
            ("Fiche action", "text", 45),
            ("Année", "int", 8),
            ("Prévisionnel", "money", 16),
            ("Réalisé", "money", 16),
            ("Écart", "money", 16),
        ],
    )
    for title, year, planned, actual in (
        budget_lines.order_by("action__title", "year")
        .values_list("action__title", "year")
        .annotate(planned=Sum("planned"), actual=Sum("actual"))
        .iterator(chunk_size=2000)
    ):
        budget.append([title, year, planned, actual, actual - planned])
    budget.close()
    _write_plans(workbook, requests, budget_lines)
    workbook.save(out)


def _per_action(rows: QuerySet, amount: str, action: str = "action") -> Coalesce:
    """The sum of ``amount`` over ``rows`` of the fiche of the outer query (0 without any)."""
    total = (
        rows.filter(**{action: OuterRef("pk")})
        .order_by()
        .values(action)
        .annotate(total=Sum(amount))
        .values("total")
    )
    return Coalesce(Subquery(total), ZERO)


def _write_plans(workbook: Workbook, requests: QuerySet, budget_lines: QuerySet) -> None:
    """One row per fiche of the selection (a request selected, or a budget line): its whole
    financing plan — every year, every request — and the gap, in one query."""
    sheet = Sheet(
        workbook,
        "Plan de financement",
        [
            ("Fiche action", "text", 45),
            ("Porteur", "text", 28),
            ("État de la fiche", "text", 22),
            ("Budget prévisionnel", "money", 18),
            ("Réalisé", "money", 15),
            ("Fonds propres", "money", 15),
            ("Demandé", "money", 15),
            ("Accordé", "money", 15),
            ("Versé", "money", 15),
            ("Reste à financer (négatif : excédent)", "money", 22),
        ],
    )
    states = {value: str(label) for value, label in ActionState.choices}
    rows = (
        Action.objects.filter(
            Q(pk__in=requests.order_by().values("action_id"))
            | Q(pk__in=budget_lines.order_by().values("action_id"))
        )
        .annotate(
            planned=_per_action(BudgetLine.objects.all(), "planned"),
            actual=_per_action(BudgetLine.objects.all(), "actual"),
            requested=_per_action(
                FundingRequest.objects.filter(state__in=FundingRequest.REQUESTED_STATES),
                "requested_amount",
            ),
            granted=_per_action(
                FundingRequest.objects.filter(state__in=FundingRequest.GRANTED_STATES),
                "granted_amount",
            ),
            paid=_per_action(Tranche.objects.all(), "received_amount", "request__action"),
        )
        .order_by("title", "pk")
        .values_list(
            "title",
            "lead_organisation__name",
            "state",
            "planned",
            "actual",
            "own_funds",
            "requested",
            "granted",
            "paid",
        )
    )
    for title, lead, state, planned, actual, own, requested, granted, paid in rows.iterator(
        chunk_size=2000
    ):
        plan = Totals(
            planned=planned,
            actual=actual,
            own_funds=own,
            requested=requested,
            granted=granted,
            paid=paid,
        )
        sheet.append(
            [
                title,
                lead or "",
                states.get(state, state),
                plan.planned,
                plan.actual,
                plan.own_funds,
                plan.requested,
                plan.granted,
                plan.paid,
                plan.gap,
            ]
        )
    sheet.close()


def export_filename(programme_name: str, when: datetime.date) -> str:
    return f"suivi-financements-{for_file_name(programme_name)}-{when:%Y-%m-%d}.xlsx"
