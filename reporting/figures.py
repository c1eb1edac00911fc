"""Figures of a programme for its governance: the dashboard and the annual report.

Everything here is read-only and computed with aggregate queries (``GROUP BY``): the number of
queries does not depend on the number of fiches. Lists that grow with the programme (every
indicator, every evaluation report) are cut for the page and streamed in full to the workbook.

This module holds what the pages and workbooks show (immutable rows and parts) and the
calendar they are computed on; ``parts`` computes them, ``annual`` assembles the annual
report (reading the states and transitions of the year from the audit trail) and
``dashboard`` where the programme stands today.

Definitions (they are also printed on the report):

- **year**: 1 January 00:00 to 31 December 24:00, Europe/Paris time;
- **fiche active during the year**: created before the end of the year, and not closed,
  rejected or abandoned at its start;
- **indicator target reached**: latest measurement (dated up to 31 December) at or above the
  target, or at or below it when the target is lower than the baseline (a decrease is sought);
- **funding of the year**: the requests whose budget year is that year (same figures as the
  "Par financeur" sheet of the funding workbook); *paid* is the sum of their received tranches;
- **meeting held**: dated within the year and not in the future.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from projects.models import Programme

ZERO = Decimal("0")


def programme_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the calendar year in the programme's time zone, as aware datetimes."""
    zone = programme_zone()
    return (
        datetime.datetime(year, 1, 1, tzinfo=zone),
        datetime.datetime(year + 1, 1, 1, tzinfo=zone),
    )


# --- what the pages and the workbook show --------------------------------------------------


@dataclass(frozen=True)
class AxisRow:
    axis_id: int | None
    label: str
    by_state: dict[str, int]  # every state of ActionState, zero-filled
    total: int
    active: int  # fiches active during the year


@dataclass(frozen=True)
class ActionsPart:
    as_of: datetime.date  # the date of the states shown (end of the year, or today)
    states: list[tuple[str, str]]  # (state, label) in lifecycle order
    rows: list[AxisRow]
    totals: dict[str, int]
    total: int
    active: int
    by_level: list[tuple[str, str, int]]  # (participation level, label, active fiches)

    @property
    def shown_states(self) -> list[tuple[str, str]]:
        """The states that at least one fiche is in (the page's columns)."""
        return [(s, label) for s, label in self.states if self.totals[s]]


@dataclass(frozen=True)
class TransitionRow:
    event: str
    label: str
    from_state: str
    from_label: str
    to_state: str
    to_label: str
    per_month: list[int]  # 12 counts, January first
    total: int


@dataclass(frozen=True)
class TransitionsPart:
    rows: list[TransitionRow]
    per_month: list[int]
    total: int


@dataclass(frozen=True)
class DecisionRow:
    position: int
    action_id: int
    action_title: str
    decision: str
    decision_label: str
    comment: str


@dataclass(frozen=True)
class MeetingRow:
    pk: int
    date: datetime.datetime
    body: str
    body_label: str
    place: str
    attendees: int
    other_attendees: str
    applied: bool
    items: list[DecisionRow]

    @property
    def decisions(self) -> list[DecisionRow]:
        return [item for item in self.items if item.decision]


@dataclass(frozen=True)
class MeetingsPart:
    meetings: list[MeetingRow]
    decisions: int
    by_decision: list[tuple[str, int]]  # (decision label, count)


@dataclass(frozen=True)
class FunderRow:
    funder_id: int
    name: str
    requests: int
    requested: Decimal
    granted: Decimal
    paid: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.granted - self.paid


@dataclass(frozen=True)
class FundingPart:
    """Per funder, and the totals of the rows."""

    rows: list[FunderRow]

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.rows)

    @property
    def requested(self) -> Decimal:
        return sum((r.requested for r in self.rows), ZERO)

    @property
    def granted(self) -> Decimal:
        return sum((r.granted for r in self.rows), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((r.paid for r in self.rows), ZERO)

    @property
    def remaining(self) -> Decimal:
        return self.granted - self.paid


@dataclass(frozen=True)
class IndicatorKindRow:
    kind: str
    label: str
    total: int
    measured: int
    with_target: int  # measured and with a target
    reached: int


@dataclass(frozen=True)
class IndicatorRow:
    pk: int
    axis: str
    action_id: int
    action_title: str
    label: str
    kind_label: str
    unit: str
    baseline: Decimal | None
    target: Decimal | None
    value: Decimal | None
    measured_on: datetime.date | None
    reached: bool | None  # None: no target or no measurement


@dataclass(frozen=True)
class IndicatorsPart:
    kinds: list[IndicatorKindRow]
    total: IndicatorKindRow
    rows: list[IndicatorRow]  # the first PAGE_INDICATORS measured indicators
    measured: int


@dataclass(frozen=True)
class AttendanceRow:
    body: str
    label: str
    meetings: int
    attendances: int  # members checked present, summed over the meetings
    people: int  # distinct members present at least once
    with_others: int  # meetings that also list other participants


@dataclass(frozen=True)
class GroupRow:
    name: str
    members: int
    actions: int


@dataclass(frozen=True)
class ReportParticipation:
    action_id: int
    action_title: str
    lead: str
    participation: str


@dataclass(frozen=True)
class OriginRow:
    """Fiches proposed in the period by one kind of proposer, and what became of them."""

    origin: str
    label: str
    proposed: int
    taken_up: int  # beyond the proposal: in co-construction or further, including decided
    merged: int
    declined: int
    waiting: int  # still a proposal


@dataclass(frozen=True)
class ResidentsPart:
    """Residents' proposals received in the period, and what became of them."""

    received: int
    by_state: list[tuple[str, str, int]]  # (state, label, count)


@dataclass(frozen=True)
class ProposalsPart:
    by_origin: list[OriginRow]
    residents: ResidentsPart


@dataclass(frozen=True)
class ParticipationPart:
    proposals: ProposalsPart
    by_level: list[tuple[str, str, int]]
    attendance: list[AttendanceRow]
    groups: list[GroupRow]
    members_by_role: list[tuple[str, int]]  # (role label, distinct people)
    reports: list[ReportParticipation]  # the first PAGE_REPORTS with a participation text
    reports_written: int
    reports_with_participation: int


@dataclass(frozen=True)
class AnnualReport:
    programme: Programme
    year: int
    start: datetime.date
    end: datetime.date
    generated_at: datetime.datetime
    actions: ActionsPart
    transitions: TransitionsPart
    meetings: MeetingsPart
    funding: FundingPart
    indicators: IndicatorsPart
    participation: ParticipationPart


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int


@dataclass(frozen=True)
class Dashboard:
    programme: Programme
    total: int
    by_state: list[Bar]
    by_axis: list[Bar]
    proposals: ProposalsPart
    funding: list[FunderRow]
    indicators: list[IndicatorKindRow]
    indicators_total: IndicatorKindRow
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def requested(self) -> Decimal:
        return FundingPart(self.funding).requested

    @property
    def granted(self) -> Decimal:
        return FundingPart(self.funding).granted
