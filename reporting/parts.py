"""The parts of the annual report and of the dashboard, each computed with aggregate queries
(``GROUP BY``): the number of queries does not depend on the number of fiches. Lists that grow
with the programme (every indicator, every evaluation report) are cut for the page and
streamed in full to the workbook."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import FundingRequest, Tranche
from projects.models import (
    NOT_CARRIED_OUT,
    Action,
    ActionState,
    AgendaItem,
    Axis,
    Meeting,
    Membership,
    Origin,
    ParticipationLevel,
    Programme,
    ResidentProposal,
    Role,
    WorkingGroup,
    decision_choices,
)

from .figures import (
    ZERO,
    ActionsPart,
    AttendanceRow,
    AxisRow,
    DecisionRow,
    FunderRow,
    FundingPart,
    GroupRow,
    IndicatorKindRow,
    IndicatorRow,
    IndicatorsPart,
    MeetingRow,
    MeetingsPart,
    OriginRow,
    ParticipationPart,
    ProposalsPart,
    ReportParticipation,
    ResidentsPart,
    programme_zone,
    year_bounds,
)

FINAL_STATES = (ActionState.CLOSED, *NOT_CARRIED_OUT)
PAGE_INDICATORS = 100  # indicators listed on the page (all of them are in the workbook)
PAGE_REPORTS = 50  # evaluation reports quoted on the page (all of them are in the workbook)
_ZERO_SQL = Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))


# --- fiches per axis and state -----------------------------------------------------------


def _axis_labels(programme: Programme) -> dict[int | None, str]:
    labels: dict[int | None, str] = {
        axis.pk: f"{axis.number}. {axis.title}"
        for axis in Axis.objects.filter(programme=programme).order_by("number")
    }
    labels[None] = _("Sans axe (objectif non renseigné)")
    return labels


def actions_part(*, programme: Programme, actions: QuerySet[Action], as_of) -> ActionsPart:
    """Fiches per axis and state. ``actions`` carries two annotations: ``state_then`` (the
    state to count the fiche in) and ``active`` (whether it was active during the period)."""
    labels = _axis_labels(programme)
    states = [(value, str(label)) for value, label in ActionState.choices]
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    active: dict[int | None, int] = defaultdict(int)
    levels: dict[str, int] = defaultdict(int)
    for axis_id, state, is_active, level, n in (
        actions.order_by()
        .values_list("objective__axis_id", "state_then", "active", "participation_level")
        .annotate(n=Count("pk"))
    ):
        counts[axis_id][state] = counts[axis_id].get(state, 0) + n
        if is_active:
            active[axis_id] += n
            levels[level] += n
    rows = []
    for axis_id, label in labels.items():
        if axis_id is None and axis_id not in counts:
            continue  # no fiche without an axis: no such line
        by_state = {s: counts[axis_id].get(s, 0) for s, _ in states}
        rows.append(AxisRow(axis_id, label, by_state, sum(by_state.values()), active[axis_id]))
    totals = {s: sum(row.by_state[s] for row in rows) for s, _ in states}
    return ActionsPart(
        as_of=as_of,
        states=states,
        rows=rows,
        totals=totals,
        total=sum(totals.values()),
        active=sum(row.active for row in rows),
        by_level=[(v, str(label), levels.get(v, 0)) for v, label in ParticipationLevel.choices],
    )


# --- meetings and their decisions ----------------------------------------------------------


def held_meetings(*, programme: Programme, year: int) -> QuerySet[Meeting]:
    start, end = year_bounds(year)
    return Meeting.objects.filter(
        programme=programme, date__gte=start, date__lt=min(end, timezone.now())
    )


def meetings_part(*, programme: Programme, year: int) -> MeetingsPart:
    meetings = held_meetings(programme=programme, year=year)
    items: dict[int, list[DecisionRow]] = defaultdict(list)
    decision_labels = dict(decision_choices())
    by_decision: dict[str, int] = defaultdict(int)
    for meeting_id, position, action_id, title, decision, comment in (
        AgendaItem.objects.filter(meeting__in=meetings.values("pk"))
        .order_by("meeting_id", "position")
        .values_list("meeting_id", "position", "action_id", "action__title", "decision", "comment")
    ):
        items[meeting_id].append(
            DecisionRow(
                position, action_id, title, decision, str(decision_labels[decision]), comment
            )
        )
        if decision:
            by_decision[str(decision_labels[decision])] += 1
    zone = programme_zone()
    rows = [
        MeetingRow(
            pk=m.pk,
            date=m.date.astimezone(zone),
            body=m.body,
            body_label=m.get_body_display(),
            place=m.place,
            attendees=m.present,
            other_attendees=m.other_attendees,
            applied=m.applied_at is not None,
            items=items[m.pk],
        )
        for m in meetings.annotate(present=Count("attendees")).order_by("date", "pk")
    ]
    return MeetingsPart(
        meetings=rows,
        decisions=sum(by_decision.values()),
        by_decision=sorted(by_decision.items()),
    )


# --- funding per funder --------------------------------------------------------------------


def funding_per_funder(requests: QuerySet[FundingRequest]) -> list[FunderRow]:
    """Requested, granted (decided requests) and paid (received tranches) per funder."""
    paid = dict(
        Tranche.objects.filter(request__in=requests.values("pk"))
        .order_by()
        .values_list("request__funder_id")
        .annotate(paid=Coalesce(Sum("received_amount"), _ZERO_SQL))
    )
    return [
        FunderRow(funder_id, name, n, requested, granted, paid.get(funder_id, ZERO))
        for funder_id, name, n, requested, granted in (
            requests.order_by()
            .values_list("funder_id", "funder__name")
            .annotate(
                n=Count("pk"),
                requested=Coalesce(Sum("requested_amount"), _ZERO_SQL),
                granted=Coalesce(
                    Sum(
                        "granted_amount",
                        filter=Q(state__in=FundingRequest.GRANTED_STATES),
                    ),
                    _ZERO_SQL,
                ),
            )
            .order_by("funder__name")
        )
    ]


def funding_part(*, programme: Programme, year: int) -> FundingPart:
    requests = FundingRequest.objects.filter(action__programme=programme, year=year)
    return FundingPart(rows=funding_per_funder(requests))


# --- indicators against their targets ------------------------------------------------------


def _latest(field: str, until: datetime.date | None) -> Subquery:
    measurements = Measurement.objects.filter(indicator=OuterRef("pk"))
    if until is not None:
        measurements = measurements.filter(date__lte=until)
    return Subquery(measurements.order_by("-date", "-pk").values(field)[:1])


# ``Indicator.target_reached`` in SQL: a target below the baseline is a decrease to obtain.
_DECREASE = Q(baseline__isnull=False, target__lt=F("baseline"))
REACHED = Q(latest__isnull=False, target__isnull=False) & (
    (_DECREASE & Q(latest__lte=F("target"))) | (~_DECREASE & Q(latest__gte=F("target")))
)


def indicators_with_latest(
    indicators: QuerySet[Indicator], until: datetime.date | None = None
) -> QuerySet[Indicator]:
    """``latest`` and ``latest_date``: the last measurement (up to ``until``)."""
    return indicators.annotate(latest=_latest("value", until), latest_date=_latest("date", until))


def indicator_kinds(
    indicators: QuerySet[Indicator],
) -> tuple[list[IndicatorKindRow], IndicatorKindRow]:
    """Per kind: indicators, measured, measured with a target, target reached (one query)."""
    found = {
        kind: (total, measured, with_target, reached)
        for kind, total, measured, with_target, reached in (
            indicators.order_by()
            .values_list("kind")
            .annotate(
                total=Count("pk"),
                measured=Count("pk", filter=Q(latest__isnull=False)),
                with_target=Count("pk", filter=Q(latest__isnull=False, target__isnull=False)),
                reached_n=Count("pk", filter=REACHED),
            )
        )
    }
    rows = [
        IndicatorKindRow(kind, str(label), *found.get(kind, (0, 0, 0, 0)))
        for kind, label in Indicator.Kind.choices
    ]
    total = IndicatorKindRow(
        "",
        _("Total"),
        sum(r.total for r in rows),
        sum(r.measured for r in rows),
        sum(r.with_target for r in rows),
        sum(r.reached for r in rows),
    )
    return rows, total


def _year_indicators(programme: Programme, year: int) -> QuerySet[Indicator]:
    _, end = year_bounds(year)
    return indicators_with_latest(
        Indicator.objects.filter(action__programme=programme, action__created_at__lt=end),
        until=datetime.date(year, 12, 31),
    )


def indicator_rows(
    *, programme: Programme, year: int, limit: int | None = None, measured_only: bool = False
) -> Iterator[IndicatorRow]:
    """Every indicator of the year's fiches with its latest value up to 31 December, by axis
    and fiche (streamed: the workbook takes them all, the page the first ones)."""
    labels = _axis_labels(programme)
    kinds = dict(Indicator.Kind.choices)
    indicators = _year_indicators(programme, year)
    if measured_only:
        indicators = indicators.filter(latest__isnull=False)
    rows = indicators.order_by(
        "action__objective__axis__number", "action__title", "pk"
    ).values_list(
        "pk",
        "action__objective__axis_id",
        "action_id",
        "action__title",
        "label",
        "kind",
        "unit",
        "baseline",
        "target",
        "latest",
        "latest_date",
    )
    if limit is not None:
        rows = rows[:limit]
    for pk, axis_id, action_id, title, *fields in rows.iterator(chunk_size=2000):
        label, kind, unit, baseline, target, value, on = fields
        yield IndicatorRow(
            pk,
            labels.get(axis_id, labels[None]),
            action_id,
            title,
            label,
            str(kinds.get(kind, kind)),
            unit,
            baseline,
            target,
            value,
            on,
            Indicator(target=target, baseline=baseline).target_reached(value),
        )


def indicators_part(*, programme: Programme, year: int) -> IndicatorsPart:
    kinds, total = indicator_kinds(_year_indicators(programme, year))
    rows = list(
        indicator_rows(programme=programme, year=year, limit=PAGE_INDICATORS, measured_only=True)
    )
    return IndicatorsPart(kinds=kinds, total=total, rows=rows, measured=total.measured)


# --- participation -------------------------------------------------------------------------


def proposals_part(*, programme: Programme, since=None, until=None) -> ProposalsPart:
    """Who proposed the fiches created in the period (coordination, members, residents) and
    what became of them today; the residents' proposals received and their outcome."""
    period = Q()
    if since is not None:
        period &= Q(created_at__gte=since)
    if until is not None:
        period &= Q(created_at__lt=until)
    outcome = {
        "merged": Count("pk", filter=Q(state=ActionState.MERGED)),
        "declined": Count("pk", filter=Q(state=ActionState.DECLINED)),
        "waiting": Count("pk", filter=Q(state=ActionState.DRAFT)),
    }
    counts = {
        row["origin"]: row
        for row in Action.objects.filter(period, programme=programme)
        .order_by()
        .values("origin")
        .annotate(proposed=Count("pk"), **outcome)
    }
    by_origin = []
    for value, label in Origin.choices:
        row = counts.get(value, {"proposed": 0, "merged": 0, "declined": 0, "waiting": 0})
        by_origin.append(
            OriginRow(
                value,
                str(label),
                row["proposed"],
                row["proposed"] - row["merged"] - row["declined"] - row["waiting"],
                row["merged"],
                row["declined"],
                row["waiting"],
            )
        )
    received = dict(
        ResidentProposal.objects.filter(
            programme=programme,
            **({"submitted_at__gte": since} if since is not None else {}),
            **({"submitted_at__lt": until} if until is not None else {}),
        )
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    return ProposalsPart(
        by_origin=by_origin,
        residents=ResidentsPart(
            received=sum(received.values()),
            by_state=[
                (value, str(label), received.get(value, 0))
                for value, label in ResidentProposal.State.choices
            ],
        ),
    )


def _year_reports(programme: Programme, year: int) -> QuerySet[EvaluationReport]:
    start, end = year_bounds(year)
    return EvaluationReport.objects.filter(
        action__programme=programme, written_at__gte=start, written_at__lt=end
    )


def evaluation_rows(
    *, programme: Programme, year: int, limit: int | None = None, with_text_only: bool = False
) -> Iterator[ReportParticipation]:
    """Evaluation reports written in the year, with their participation text (streamed)."""
    reports = _year_reports(programme, year)
    if with_text_only:
        reports = reports.exclude(participation="")
    rows = reports.order_by("action__title", "pk").values_list(
        "action_id", "action__title", "action__lead_organisation__name", "participation"
    )
    if limit is not None:
        rows = rows[:limit]
    for action_id, title, lead, participation in rows.iterator(chunk_size=2000):
        yield ReportParticipation(action_id, title, lead or "", participation)


def participation_part(
    *, programme: Programme, year: int, actions: ActionsPart
) -> ParticipationPart:
    bodies = dict(Meeting.Body.choices)
    attendance = [
        AttendanceRow(body, str(bodies.get(body, body)), n, attendances, people, others)
        for body, n, attendances, people, others in (
            held_meetings(programme=programme, year=year)
            .order_by()
            .values_list("body")
            .annotate(
                n=Count("pk", distinct=True),
                attendances=Count("attendees"),
                people=Count("attendees", distinct=True),
                others=Count("pk", filter=~Q(other_attendees=""), distinct=True),
            )
            .order_by("body")
        )
    ]
    members = Membership.objects.active().filter(role=Role.WG_MEMBER, working_group=OuterRef("pk"))
    group_actions = Action.objects.filter(working_group=OuterRef("pk"))
    groups = [
        GroupRow(name, n_members or 0, n_actions or 0)
        for name, n_members, n_actions in WorkingGroup.objects.filter(programme=programme)
        .annotate(
            n_members=_count(members, "working_group", "user_id"),
            n_actions=_count(group_actions, "working_group", "pk"),
        )
        .order_by("name")
        .values_list("name", "n_members", "n_actions")
    ]
    roles = dict(Role.choices)
    members_by_role = [
        (str(roles.get(role, role)), n)
        for role, n in Membership.objects.active()
        .filter(programme=programme)
        .order_by()
        .values_list("role")
        .annotate(n=Count("user_id", distinct=True))
        .order_by("role")
    ]
    reports = _year_reports(programme, year).aggregate(
        written=Count("pk"), with_text=Count("pk", filter=~Q(participation=""))
    )
    start, end = year_bounds(year)
    return ParticipationPart(
        proposals=proposals_part(programme=programme, since=start, until=end),
        by_level=actions.by_level,
        attendance=attendance,
        groups=groups,
        members_by_role=members_by_role,
        reports=list(
            evaluation_rows(programme=programme, year=year, limit=PAGE_REPORTS, with_text_only=True)
        ),
        reports_written=reports["written"],
        reports_with_participation=reports["with_text"],
    )


def _count(queryset: QuerySet, outer: str, column: str) -> Subquery:
    """COUNT(DISTINCT column) of ``queryset`` (filtered on ``outer`` = OuterRef), as a
    correlated subquery: no join on the outer query, so no double counting."""
    return Subquery(
        queryset.order_by().values(outer).annotate(n=Count(column, distinct=True)).values("n"),
        output_field=IntegerField(),
    )
