"""A programme in short, for people outside its governance: what its public page and its news
feed show residents, and the one-page note de synthèse for elected officials.

The public parts name no person and carry no comment: they read organisations, states, dates
and places only, and amounts only when the programme publishes them (the page's caller says
so). A fiche is public once the COPIL has validated it and as long as it is carried out or
done (``PUBLIC_STATES``); its news are the transitions of the lifecycle that lead to a public
milestone, read from the audit trail without their actor or comment. Every part is one
aggregate or capped query: the number of queries does not depend on the number of fiches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from audit.models import AuditEvent
from funding.models import BudgetLine, FundingRequest
from projects import lifecycle
from projects.models import (
    Action,
    ActionState,
    Axis,
    Meeting,
    Objective,
    Origin,
    Programme,
)

from .figures import ZERO, ActionsPart, FundingPart, ProposalsPart
from .parts import actions_part, funding_per_funder, held_meetings, proposals_part

# Validated by the COPIL and carried out, or done. Fiches being prepared or deliberated,
# rejected, abandoned, declined or merged are the governance's business, not the public's.
RUNNING_STATES = (
    ActionState.VALIDATED,
    ActionState.FUNDING,
    ActionState.IMPLEMENTATION,
    ActionState.EVALUATION,
)
PUBLIC_STATES = (*RUNNING_STATES, ActionState.CLOSED)
# The milestones announced in the news and recalled as highlights.
NEWS_STATES = (ActionState.VALIDATED, ActionState.IMPLEMENTATION, ActionState.CLOSED)
HIGHLIGHT_STATES = (ActionState.VALIDATED, ActionState.CLOSED)
ACTION_TYPE = Action._meta.label_lower
MEETING_TYPE = Meeting._meta.label_lower
NEWS_LIMIT = 30
UPCOMING_LIMIT = 5
HIGHLIGHTS = 5
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def transitions_to(states: tuple[str, ...]) -> tuple[str, ...]:
    """The fiche's transitions that lead to one of ``states`` (from its lifecycle): an imported
    fiche or an edit never makes news, only a decision or a step of the lifecycle."""
    return tuple(
        dict.fromkeys(s.name for s in lifecycle.steps(Action) if set(s.targets) & set(states))
    )


# --- what the public sees ------------------------------------------------------------------


@dataclass(frozen=True)
class PublicAxis:
    number: int
    title: str
    objectives: list[str]  # its operational objectives


@dataclass(frozen=True)
class Seance:
    pk: int
    date: datetime.datetime  # in the programme's time zone
    body_label: str
    place: str
    cancelled: bool = False


@dataclass(frozen=True)
class NewsItem:
    """A public milestone: a fiche reaching ``state`` (``action_id`` set) or a plenary séance
    convened (``seance`` set). ``key`` is unique and stable across the feed's readings."""

    key: str
    at: datetime.datetime
    state: str = ""
    state_label: str = ""
    action_id: int | None = None
    title: str = ""
    lead: str = ""
    planned_start: datetime.date | None = None
    planned_end: datetime.date | None = None
    seance: Seance | None = None


def public_axes(programme: Programme) -> list[PublicAxis]:
    """The programme's axes and their operational objectives (two queries)."""
    operational = Objective.objects.filter(level=Objective.Level.OPERATIONAL).order_by("pk")
    return [
        PublicAxis(axis.number, axis.title, [o.title for o in axis.operational])
        for axis in Axis.objects.filter(programme=programme)
        .order_by("number")
        .prefetch_related(Prefetch("objectives", queryset=operational, to_attr="operational"))
    ]


def public_actions(
    programme: Programme, *, amounts: bool, state: str | None = None
) -> QuerySet[Action]:
    """The public fiches as rows (``values``): title, lead organisation, state, planned dates,
    axis — and ``planned_budget`` (the sum of its planned budget lines) only when ``amounts``.
    Ordered by axis and title; the caller pages them."""
    actions = Action.objects.filter(programme=programme, state__in=PUBLIC_STATES)
    if state:
        actions = actions.filter(state=state)
    columns = [
        "pk",
        "title",
        "state",
        "planned_start",
        "planned_end",
        "lead_organisation__name",
        "objective__axis__number",
    ]
    if amounts:
        budget = (
            BudgetLine.objects.filter(action=OuterRef("pk"))
            .order_by()
            .values("action")
            .annotate(total=Sum("planned"))
            .values("total")
        )
        actions = actions.annotate(
            planned_budget=Coalesce(Subquery(budget, output_field=_MONEY), Value(ZERO, _MONEY))
        )
        columns.append("planned_budget")
    return actions.order_by(
        F("objective__axis__number").asc(nulls_last=True), "title", "pk"
    ).values(*columns)


def public_state_counts(programme: Programme) -> list[tuple[str, str, int]]:
    """(state, label, fiches) for each public state, in lifecycle order (one query)."""
    found = dict(
        Action.objects.filter(programme=programme, state__in=PUBLIC_STATES)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    return [(s, str(ActionState(s).label), found.get(s, 0)) for s in PUBLIC_STATES]


def public_budget_total(programme: Programme) -> Decimal:
    """The planned budget of the public fiches, summed (for a programme that publishes it)."""
    total = BudgetLine.objects.filter(
        action__programme=programme, action__state__in=PUBLIC_STATES
    ).aggregate(total=Sum("planned"))["total"]
    return total or ZERO


def _seance(meeting: Meeting) -> Seance:
    body = meeting.working_group.name if meeting.working_group_id else meeting.get_body_display()
    return Seance(
        meeting.pk,
        timezone.localtime(meeting.date),
        str(body),
        meeting.place,
        meeting.cancelled_at is not None,
    )


def upcoming_seances(
    programme: Programme, *, bodies: tuple[str, ...] | None = None, limit: int = UPCOMING_LIMIT
) -> list[Seance]:
    """The next séances (of ``bodies``, or of every body), soonest first: date and place only,
    and whether it was cancelled (so that nobody comes to a séance that will not be held)."""
    meetings = Meeting.objects.filter(programme=programme, date__gte=timezone.now())
    if bodies is not None:
        meetings = meetings.filter(body__in=bodies)
    return [
        _seance(m)
        for m in meetings.select_related("working_group")
        .only("pk", "date", "place", "body", "cancelled_at", "working_group__name")
        .order_by("date", "pk")[:limit]
    ]


def _action_news(programme: Programme, states: tuple[str, ...], limit: int) -> list[NewsItem]:
    """The latest transitions of the programme's public fiches to ``states`` (audit trail):
    when and to what — never who, nor the comment. Titles and leads are today's."""
    fiche = Action.objects.filter(pk=OuterRef("action_id"))
    labels = {value: str(label) for value, label in ActionState.choices}
    events = (
        AuditEvent.objects.filter(
            programme=programme,
            object_type=ACTION_TYPE,
            event__in=transitions_to(states),
            to_state__in=states,
            action_id__in=Action.objects.filter(
                programme=programme, state__in=PUBLIC_STATES
            ).values("pk"),
        )
        .annotate(
            title=Subquery(fiche.values("title")[:1]),
            lead=Subquery(fiche.values("lead_organisation__name")[:1]),
            planned_start=Subquery(fiche.values("planned_start")[:1]),
            planned_end=Subquery(fiche.values("planned_end")[:1]),
        )
        .order_by("-seq")
        .values_list(
            "pk", "at", "to_state", "action_id", "title", "lead", "planned_start", "planned_end"
        )[:limit]
    )
    return [
        NewsItem(
            key=f"evenement-{pk}",
            at=at,
            state=state,
            state_label=labels.get(state, state),
            action_id=action_id,
            title=title,
            lead=lead or "",
            planned_start=start,
            planned_end=end,
        )
        for pk, at, state, action_id, title, lead, start, end in events
    ]


def _seance_news(programme: Programme, limit: int) -> list[NewsItem]:
    """The plenary séances, latest convened first (the time of their convening in the audit
    trail; the séance's own date for one convened outside the services)."""
    convened = AuditEvent.objects.filter(
        object_type=MEETING_TYPE,
        object_id=Cast(OuterRef("pk"), CharField()),
        event="create_meeting",
    ).order_by("seq")
    meetings = (
        Meeting.objects.filter(programme=programme, body=Meeting.Body.PLENARY)
        .annotate(convened_at=Coalesce(Subquery(convened.values("at")[:1]), F("date")))
        .select_related("working_group")
        .only("pk", "date", "place", "body", "cancelled_at", "working_group__name")
        .order_by("-convened_at", "-pk")[:limit]
    )
    return [NewsItem(key=f"seance-{m.pk}", at=m.convened_at, seance=_seance(m)) for m in meetings]


def public_news(programme: Programme, *, limit: int = NEWS_LIMIT) -> list[NewsItem]:
    """The programme's public news, latest first: its public fiches validated, started or
    closed, and its plenary séances convened (two queries)."""
    items = _action_news(programme, NEWS_STATES, limit) + _seance_news(programme, limit)
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]


# --- the note de synthèse ------------------------------------------------------------------


@dataclass(frozen=True)
class AxisLine:
    label: str
    total: int
    running: int
    closed: int


@dataclass(frozen=True)
class Summary:
    """A programme on one page, for elected officials (members of the programme)."""

    programme: Programme
    year: int
    actions: ActionsPart
    axes: list[AxisLine]
    funding: FundingPart
    proposals: ProposalsPart
    seances_held: list[tuple[str, int]]  # (body label, séances held this year)
    next_seances: list[Seance]
    highlights: list[NewsItem]
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def running(self) -> int:
        return sum(self.actions.totals[s] for s in RUNNING_STATES)

    @property
    def residents(self) -> int:
        return next(
            (r.proposed for r in self.proposals.by_origin if r.origin == Origin.RESIDENT), 0
        )

    @property
    def seances_held_total(self) -> int:
        return sum(n for _label, n in self.seances_held)


def _seances_held(programme: Programme, year: int) -> list[tuple[str, int]]:
    bodies = dict(Meeting.Body.choices)
    counts: dict[str, int] = defaultdict(int)
    for body, n in (
        held_meetings(programme=programme, year=year)
        .filter(cancelled_at__isnull=True)
        .order_by()
        .values_list("body")
        .annotate(n=Count("pk"))
    ):
        counts[body] += n
    return [(str(label), counts[body]) for body, label in bodies.items() if counts[body]]


def _highlights(programme: Programme) -> list[NewsItem]:
    """The latest fiches validated or closed, each once (its latest milestone)."""
    seen: set[int] = set()
    found = []
    for item in _action_news(programme, HIGHLIGHT_STATES, HIGHLIGHTS * 3):
        if item.action_id not in seen:
            seen.add(item.action_id)
            found.append(item)
    return found[:HIGHLIGHTS]


def programme_summary(*, programme: Programme) -> Summary:
    """The note de synthèse: identity and period (the programme), fiches per state and per
    axis today, funding requested, granted and paid (all years), who proposed the fiches, the
    séances held this year and the next ones, and the latest fiches validated or closed."""
    year = timezone.localdate().year
    actions = actions_part(
        programme=programme,
        actions=Action.objects.filter(programme=programme).annotate(
            state_then=F("state"), active=Value(True)
        ),
        as_of=timezone.localdate(),
    )
    axes = [
        AxisLine(
            row.label,
            row.total,
            sum(row.by_state[s] for s in RUNNING_STATES),
            row.by_state[ActionState.CLOSED],
        )
        for row in actions.rows
    ]
    return Summary(
        programme=programme,
        year=year,
        actions=actions,
        axes=axes,
        funding=FundingPart(
            funding_per_funder(FundingRequest.objects.filter(action__programme=programme))
        ),
        proposals=proposals_part(programme=programme),
        seances_held=_seances_held(programme, year),
        next_seances=upcoming_seances(programme),
        highlights=_highlights(programme),
    )
