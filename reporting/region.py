"""The region's view: every programme a person belongs to (an ARS delegation, a department),
consolidated — each programme's lifecycle state, period and figures, then fiches per state and
per axis theme, funding per funder and year, indicators reaching their target, séances held
and residents' proposals, for all of them at once.

Read-only, like the rest of ``reporting``, and computed with aggregate queries grouped by
programme: the number of queries depends neither on the number of programmes nor on the
number of fiches. The result is a frozen tree of plain values (ints, strings, Decimals, dates)
that the page, the workbook and the API serialise as they are.

What the filters mean:

- ``kind`` (``"CLS"`` or ``"CLSM"``) keeps the programmes of that kind;
- ``year`` keeps what is dated: séances held in the year, funding requests of that budget year
  (the same year as the funding workbook's), residents' proposals received in the year.
  Fiches, their states, their axes, their indicators and late tasks are counted **today**,
  whatever the year (a fiche's state on a past date is in the annual report, which reads the
  audit trail — too costly across 200 programmes).

Late tasks: ``reporting`` may not import ``workflows`` (where the tasks live), so the caller
passes ``overdue``, the condition on ``Action`` that says its open task is past due
(``workflows.queues.overdue_actions()``): the rule is stated once, there.

Axis themes: each programme names its axes freely. Fiches are grouped by the axis title
*normalised* (case, accents, punctuation, spacing and a leading « Axe 2 : » numbering
ignored), so that « Santé mentale » and « Axe 3 – santé  mentale » are one theme, shown with
its most common spelling; titles that differ in words stay apart.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import Indicator
from funding.models import FundingRequest, Tranche
from projects.calendar import check_year
from projects.models import (
    ACTIVE_STATES,
    Action,
    ActionState,
    Meeting,
    Programme,
    ResidentProposal,
)
from projects.permissions import visible_programmes

from .figures import ZERO, Bar, FunderRow, IndicatorKindRow, year_bounds
from .parts import funding_per_funder, indicator_kinds, indicators_with_latest

_ZERO_SQL = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))
CENT = Decimal("0.01")  # amounts in cents whatever the database (SQLite drops the decimals)
NOTHING = Decimal("0.00")
NO_AXIS = ""  # the theme key of the fiches whose objective (hence axis) is not set


# --- what the page, the workbook and the API show --------------------------------------------


@dataclass(frozen=True)
class ProgrammeRow:
    """One programme and its figures."""

    pk: int
    name: str
    kind: str  # "CLS" or "CLSM"
    kind_label: str  # « Contrat local de santé (CLS) »
    status: str  # the programme's lifecycle state (Programme.Status)
    status_label: str  # « En vigueur »
    territory: str
    start_date: datetime.date
    end_date: datetime.date
    fiches: int  # every fiche of the programme, whatever its state (today)
    active: int  # fiches in an active state today: proposed … in evaluation
    late: int  # fiches whose open task is past its due date (today)
    meetings: int  # séances held (dated in the year, past, not cancelled)
    resident_proposals: int  # residents' proposals received in the year
    requests: int  # funding requests of the year (budget year)
    requested: Decimal  # … their amounts requested
    granted: Decimal  # … granted (requests decided in favour, up to closed)
    paid: Decimal  # … received (tranches received)


@dataclass(frozen=True)
class RegionTotals:
    """The programmes' figures added up (same meaning as in ``ProgrammeRow``)."""

    programmes: int
    fiches: int
    active: int
    late: int
    meetings: int
    resident_proposals: int
    requests: int
    requested: Decimal
    granted: Decimal
    paid: Decimal


@dataclass(frozen=True)
class ThemeRow:
    """Fiches under one axis theme, across the programmes."""

    key: str  # the normalised axis title ("" for fiches without an axis)
    label: str  # the title as most programmes write it
    programmes: int  # programmes with at least one fiche under this theme
    fiches: int
    active: int  # in an active state today


@dataclass(frozen=True)
class FunderYearRow:
    """Funding requests of one budget year addressed to one funder, across the programmes."""

    funder_id: int
    name: str
    year: int
    requests: int
    requested: Decimal
    granted: Decimal
    paid: Decimal


@dataclass(frozen=True)
class Region:
    """The region's view of one person. Lists are in display order; counts per state, body,
    kind or outcome list every value of their choices, zero-filled, in their declared order."""

    kind: str | None  # the filter: "CLS", "CLSM" or None (both)
    year: int | None  # the filter: a year, or None (all years)
    as_of: datetime.date  # the day of the fiches' states, indicators and late tasks
    programmes: tuple[ProgrammeRow, ...]  # by name
    totals: RegionTotals
    fiches_by_state: tuple[Bar, ...]  # key: ActionState value; lifecycle order
    fiches_by_theme: tuple[ThemeRow, ...]  # most fiches first; fiches without an axis last
    funding_by_funder: tuple[FunderRow, ...]  # (of the year, or all years) by funder name
    funding_by_funder_year: tuple[FunderYearRow, ...]  # by funder name, then year
    indicators_by_kind: tuple[IndicatorKindRow, ...]  # key: Indicator.Kind value
    indicators_total: IndicatorKindRow
    meetings_by_body: tuple[Bar, ...]  # key: Meeting.Body value; séances held
    resident_proposals_by_state: tuple[Bar, ...]  # key: ResidentProposal.State value
    generated_at: datetime.datetime = field(default_factory=timezone.now)


# --- computing it ----------------------------------------------------------------------------


# A numbering before the words: « Axe 2 : », « Axe III », « 3. », « II – ».
_NUMBERING = re.compile(
    r"^\s*(?:axe\s+(?:[0-9]+|[ivx]+)\b\s*[-–—.:)]?|(?:[0-9]+|[ivx]+)\s*[-–—.:)])\s*",
    re.IGNORECASE,
)


def theme_key(title: str) -> str:
    """An axis title reduced to its words: without a leading numbering, in lower case,
    without accents, punctuation or repeated spaces."""

    def words(text: str) -> str:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
        return re.sub(r"[\W_]+", " ", text).strip()

    return words(_NUMBERING.sub("", title, count=1)) or words(title)


def region(
    *, user, overdue: Expression | Q, kind: str | None = None, year: int | None = None
) -> Region:
    """The figures of every programme where ``user`` has an active membership, of ``kind`` if
    given; what is dated, of ``year`` if given. ``overdue``: the condition on ``Action`` that
    its open task is past due (``workflows.queues.overdue_actions()``). An unknown ``kind`` is
    a ``ValueError``, a year outside 1990–2100 a ``ValidationError``: check them first."""
    if kind is not None and kind not in Programme.Kind.values:
        raise ValueError(f"Unknown programme kind: {kind!r}")
    if year is not None:
        check_year(year)
    programmes = visible_programmes(user)
    if kind is not None:
        programmes = programmes.filter(kind=kind)
    ids = programmes.values("pk")
    now = timezone.now()

    by_state = _fiches_per_programme_and_state(ids, overdue)
    meetings = _meetings_per_programme_and_body(ids, year, now)
    proposals = _proposals_per_programme_and_state(ids, year)
    requests = FundingRequest.objects.filter(action__programme_id__in=ids)
    if year is not None:
        requests = requests.filter(year=year)
    funding = _funding_per_programme_funder_year(requests)
    indicators, indicators_total = indicator_kinds(
        indicators_with_latest(Indicator.objects.filter(action__programme_id__in=ids))
    )

    rows = _programme_rows(programmes, by_state, meetings, proposals, funding)
    return Region(
        kind=kind,
        year=year,
        as_of=timezone.localdate(),
        programmes=rows,
        totals=_totals(rows),
        fiches_by_state=_zero_filled(ActionState.choices, by_state, column=0),
        fiches_by_theme=_themes(ids),
        funding_by_funder=tuple(
            replace(
                row,
                requested=row.requested.quantize(CENT),
                granted=row.granted.quantize(CENT),
                paid=row.paid.quantize(CENT),
            )
            for row in funding_per_funder(requests)
        ),
        funding_by_funder_year=_funder_years(funding),
        indicators_by_kind=tuple(indicators),
        indicators_total=indicators_total,
        meetings_by_body=_zero_filled(Meeting.Body.choices, meetings),
        resident_proposals_by_state=_zero_filled(ResidentProposal.State.choices, proposals),
        generated_at=now,
    )


# Each query below is grouped by programme (and one other column): {(programme_id, value): n}.


def _fiches_per_programme_and_state(
    ids: QuerySet, overdue: Expression | Q
) -> dict[tuple[int, str], tuple[int, int]]:
    """(fiches, late fiches) per programme and state."""
    return {
        (programme_id, state): (n, late)
        for programme_id, state, n, late in Action.objects.filter(programme_id__in=ids)
        .order_by()
        .values_list("programme_id", "state")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(overdue)))
    }


def _meetings_per_programme_and_body(
    ids: QuerySet, year: int | None, now: datetime.datetime
) -> dict[tuple[int, str], int]:
    """Séances held: dated in the year (if any) and not in the future, not cancelled."""
    held = Q(programme_id__in=ids, date__lt=now, cancelled_at__isnull=True)
    if year is not None:
        start, end = year_bounds(year)
        held &= Q(date__gte=start, date__lt=end)
    return {
        (programme_id, body): n
        for programme_id, body, n in Meeting.objects.filter(held)
        .order_by()
        .values_list("programme_id", "body")
        .annotate(n=Count("pk"))
    }


def _proposals_per_programme_and_state(
    ids: QuerySet, year: int | None
) -> dict[tuple[int, str], int]:
    """Residents' proposals received (in the year, if any), by what became of them."""
    received = Q(programme_id__in=ids)
    if year is not None:
        start, end = year_bounds(year)
        received &= Q(submitted_at__gte=start, submitted_at__lt=end)
    return {
        (programme_id, state): n
        for programme_id, state, n in ResidentProposal.objects.filter(received)
        .order_by()
        .values_list("programme_id", "state")
        .annotate(n=Count("pk"))
    }


@dataclass
class _Funding:
    name: str
    requests: int = 0
    requested: Decimal = NOTHING
    granted: Decimal = NOTHING
    paid: Decimal = NOTHING

    def add(self, other: _Funding) -> None:
        self.requests += other.requests
        self.requested += other.requested
        self.granted += other.granted
        self.paid += other.paid


def _funding_per_programme_funder_year(
    requests: QuerySet[FundingRequest],
) -> dict[tuple[int, int, int], _Funding]:
    """Requested, granted and paid per (programme, funder, year): the definitions of
    ``parts.funding_per_funder`` (the dashboard's), one level finer (two queries)."""
    key = ("action__programme_id", "funder_id", "year")
    cells = {
        (programme_id, funder_id, year): _Funding(
            name, n, requested.quantize(CENT), granted.quantize(CENT)
        )
        for programme_id, funder_id, year, name, n, requested, granted in requests.order_by()
        .values_list(*key, "funder__name")
        .annotate(
            n=Count("pk"),
            requested=Coalesce(Sum("requested_amount"), _ZERO_SQL),
            granted=Coalesce(
                Sum("granted_amount", filter=Q(state__in=FundingRequest.GRANTED_STATES)),
                _ZERO_SQL,
            ),
        )
    }
    for programme_id, funder_id, year, paid in (
        Tranche.objects.filter(request__in=requests.values("pk"))
        .order_by()
        .values_list(*(f"request__{column}" for column in key))
        .annotate(paid=Coalesce(Sum("received_amount"), _ZERO_SQL))
    ):
        cells[(programme_id, funder_id, year)].paid = paid.quantize(CENT)
    return cells


def _per_programme(counts: dict, column: int | None = None) -> Counter[int]:
    """The counts of a ``{(programme_id, …): n}`` dict added up per programme."""
    totals: Counter[int] = Counter()
    for key, n in counts.items():
        totals[key[0]] += n if column is None else n[column]
    return totals


def _programme_rows(
    programmes: QuerySet[Programme],
    by_state: dict[tuple[int, str], tuple[int, int]],
    meetings: dict[tuple[int, str], int],
    proposals: dict[tuple[int, str], int],
    funding: dict[tuple[int, int, int], _Funding],
) -> tuple[ProgrammeRow, ...]:
    fiches, late = _per_programme(by_state, 0), _per_programme(by_state, 1)
    active = _per_programme({key: n for key, n in by_state.items() if key[1] in ACTIVE_STATES}, 0)
    held, received = _per_programme(meetings), _per_programme(proposals)
    money: dict[int, _Funding] = defaultdict(lambda: _Funding(""))
    for (programme_id, _funder_id, _year), cell in funding.items():
        money[programme_id].add(cell)
    # Labels translated once, not per programme (get_FOO_display costs a dict per call).
    kinds = {value: str(label) for value, label in Programme.Kind.choices}
    statuses = {value: str(label) for value, label in Programme.Status.choices}
    return tuple(
        ProgrammeRow(
            pk=p.pk,
            name=p.name,
            kind=p.kind,
            kind_label=kinds.get(p.kind, p.kind),
            status=p.status,
            status_label=statuses.get(p.status, p.status),
            territory=p.territory,
            start_date=p.start_date,
            end_date=p.end_date,
            fiches=fiches[p.pk],
            active=active[p.pk],
            late=late[p.pk],
            meetings=held[p.pk],
            resident_proposals=received[p.pk],
            requests=money[p.pk].requests,
            requested=money[p.pk].requested,
            granted=money[p.pk].granted,
            paid=money[p.pk].paid,
        )
        for p in programmes.order_by("name", "pk").only(
            "pk", "name", "kind", "status", "territory", "start_date", "end_date"
        )
    )


def _totals(rows: tuple[ProgrammeRow, ...]) -> RegionTotals:
    return RegionTotals(
        programmes=len(rows),
        fiches=sum(r.fiches for r in rows),
        active=sum(r.active for r in rows),
        late=sum(r.late for r in rows),
        meetings=sum(r.meetings for r in rows),
        resident_proposals=sum(r.resident_proposals for r in rows),
        requests=sum(r.requests for r in rows),
        requested=sum((r.requested for r in rows), NOTHING),
        granted=sum((r.granted for r in rows), NOTHING),
        paid=sum((r.paid for r in rows), NOTHING),
    )


def _zero_filled(choices, counts: dict, column: int | None = None) -> tuple[Bar, ...]:
    """One bar per choice, in the choices' order: the ``{(programme_id, value): n}`` counts of
    every programme added up (``column``: which of ``n``'s numbers, when it holds several)."""
    totals: Counter[str] = Counter()
    for (_programme_id, value), n in counts.items():
        totals[value] += n if column is None else n[column]
    return tuple(Bar(value, str(label), totals[value]) for value, label in choices)


def _themes(ids: QuerySet) -> tuple[ThemeRow, ...]:
    """Fiches per axis theme (one query grouped by programme and axis title)."""
    fiches: Counter[str] = Counter()
    active: Counter[str] = Counter()
    programmes: dict[str, set[int]] = defaultdict(set)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for programme_id, title, n, n_active in (
        Action.objects.filter(programme_id__in=ids)
        .order_by()
        .values_list("programme_id", "objective__axis__title")
        .annotate(n=Count("pk"), n_active=Count("pk", filter=Q(state__in=ACTIVE_STATES)))
    ):
        key = NO_AXIS if title is None else theme_key(title)
        fiches[key] += n
        active[key] += n_active
        programmes[key].add(programme_id)
        if title is not None:
            # Counted once per programme, without its numbering (« Axe 3 : » is not a word).
            spellings[key][_NUMBERING.sub("", title, count=1).strip() or title.strip()] += 1
    rows = [
        ThemeRow(
            key,
            # The spelling most programmes use; on a tie, the first in alphabetical order.
            min(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0]
            if key != NO_AXIS
            else _("Sans axe (objectif non renseigné)"),
            len(programmes[key]),
            fiches[key],
            active[key],
        )
        for key in fiches
    ]
    rows.sort(key=lambda row: (row.key == NO_AXIS, -row.fiches, row.label.casefold()))
    return tuple(rows)


def _funder_years(funding: dict[tuple[int, int, int], _Funding]) -> tuple[FunderYearRow, ...]:
    merged: dict[tuple[int, int], _Funding] = {}
    for (_programme_id, funder_id, year), cell in funding.items():
        merged.setdefault((funder_id, year), _Funding(cell.name)).add(cell)
    rows = [
        FunderYearRow(funder_id, t.name, year, t.requests, t.requested, t.granted, t.paid)
        for (funder_id, year), t in merged.items()
    ]
    rows.sort(key=lambda row: (row.name, row.funder_id, row.year))
    return tuple(rows)
