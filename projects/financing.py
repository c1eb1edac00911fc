"""A fiche's financing plan — its budget lines, its own funds, what each funder was asked,
granted and paid, and the remaining gap — stated once here for the fiche page, the funding
workbook and the guard that opens implementation; and amounts written the French way.

It lives in ``projects`` because the guard does (on ``Action``): it reads the budget lines and
funding requests through the fiche's relations and their model's state lists, never by
importing ``funding``, which sits above. It reads what it is given (prefetched rows are used
as they are) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from itertools import groupby

from django.utils import formats

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def euros(amount: object) -> str:
    """« 12 500,00 € » in the active language (grouped thousands, two decimals); what is not
    an amount is returned as it is."""
    try:
        value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(amount)
    shown = formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{shown} €"


def remaining_gap(*, planned: Decimal, own_funds: Decimal, granted: Decimal) -> Decimal:
    """What the plan still lacks: the planned budget less the own funds and the grants
    (negative: a surplus)."""
    return planned - own_funds - granted


@dataclass(frozen=True)
class Totals:
    """The plan's figures (from a fiche's rows, or from sums a workbook's query made)."""

    planned: Decimal = ZERO
    actual: Decimal = ZERO
    own_funds: Decimal = ZERO
    requested: Decimal = ZERO
    granted: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def gap(self) -> Decimal:
        return remaining_gap(planned=self.planned, own_funds=self.own_funds, granted=self.granted)

    @property
    def covered(self) -> bool:
        return self.gap <= 0

    @property
    def surplus(self) -> Decimal:
        return max(-self.gap, ZERO)


@dataclass(frozen=True)
class YearBudget:
    """A year of the plan: its lines (by category, in the categories' order, then as they
    were entered) and its sums."""

    year: int
    lines: tuple
    planned: Decimal
    actual: Decimal


@dataclass(frozen=True)
class FunderFunding:
    """What one funder was asked, granted and paid for the fiche."""

    funder: object  # the Organisation
    requested: Decimal
    granted: Decimal
    paid: Decimal
    undecided: int  # requests still awaiting its decision


class FinancingPlan:
    """The plan of one fiche, from its budget lines and funding requests. The totals read
    the lines and requests only; ``funders`` and ``paid`` also read each request's funder
    and tranches (prefetch them where they are shown)."""

    def __init__(self, action, *, lines: Iterable | None = None, requests: Iterable | None = None):
        self.action = action
        self.lines = list(action.budget_lines.all() if lines is None else lines)
        self.requests = list(action.funding_requests.all() if requests is None else requests)
        states = action.funding_requests.model
        self._requested_states = set(states.REQUESTED_STATES)
        self._granted_states = set(states.GRANTED_STATES)
        self._undecided_states = set(states.UNDECIDED_STATES)

    def _requested(self, request) -> Decimal:
        return request.requested_amount if request.state in self._requested_states else ZERO

    def _granted(self, request) -> Decimal:
        if request.state in self._granted_states:
            return request.granted_amount or ZERO
        return ZERO

    @staticmethod
    def _paid(request) -> Decimal:
        return sum((t.received_amount or ZERO for t in request.tranches.all()), ZERO)

    @cached_property
    def totals(self) -> Totals:
        """Planned, actual, own funds, requested and granted (no payments: see ``paid``)."""
        return Totals(
            planned=sum((line.planned for line in self.lines), ZERO),
            actual=sum((line.actual for line in self.lines), ZERO),
            own_funds=self.action.own_funds or ZERO,
            requested=sum((self._requested(r) for r in self.requests), ZERO),
            granted=sum((self._granted(r) for r in self.requests), ZERO),
        )

    @cached_property
    def paid(self) -> Decimal:
        return sum((self._paid(r) for r in self.requests), ZERO)

    @property
    def gap(self) -> Decimal:
        return self.totals.gap

    @property
    def covered(self) -> bool:
        return self.totals.covered

    @cached_property
    def years(self) -> tuple[YearBudget, ...]:
        rank = {c: i for i, c in enumerate(self.action.budget_lines.model.Category.values)}
        ordered = sorted(
            self.lines, key=lambda line: (line.year, rank.get(line.category, 99), line.pk or 0)
        )
        years = []
        for year, rows in groupby(ordered, key=lambda line: line.year):
            lines = tuple(rows)
            planned = sum((line.planned for line in lines), ZERO)
            years.append(YearBudget(year, lines, planned, sum((x.actual for x in lines), ZERO)))
        return tuple(years)

    @cached_property
    def funders(self) -> tuple[FunderFunding, ...]:
        """Per funder, by name: requested, granted, paid, requests awaiting a decision."""
        by_funder: dict[int, list] = {}
        for request in self.requests:
            by_funder.setdefault(request.funder_id, []).append(request)
        rows = [
            FunderFunding(
                funder=requests[0].funder,
                requested=sum((self._requested(r) for r in requests), ZERO),
                granted=sum((self._granted(r) for r in requests), ZERO),
                paid=sum((self._paid(r) for r in requests), ZERO),
                undecided=sum(r.state in self._undecided_states for r in requests),
            )
            for requests in by_funder.values()
        ]
        return tuple(sorted(rows, key=lambda row: str(row.funder)))
