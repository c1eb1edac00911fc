"""The annual report of a programme for a year.

The state of a fiche at a date and the transitions made during a year are in the audit trail
(every state change of Coordo writes one event with ``from_state`` / ``to_state``): this
module reads them with aggregate queries, and ``parts`` computes the others. The number of
queries does not depend on the number of fiches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AuditEvent
from projects import lifecycle
from projects.models import Action, ActionState, Programme

from .figures import AnnualReport, TransitionRow, TransitionsPart, programme_zone, year_bounds
from .parts import (
    FINAL_STATES,
    actions_part,
    funding_part,
    indicators_part,
    meetings_part,
    participation_part,
)

ACTION_TYPE = Action._meta.label_lower


def _state_at(moment: datetime.datetime) -> Subquery:
    """The state of the fiche (OuterRef) just before ``moment``: the arrival state of its last
    audited state change (its creation counts), read through the (action_id, seq) index."""
    return Subquery(
        AuditEvent.objects.filter(action_id=OuterRef("pk"), object_type=ACTION_TYPE, at__lt=moment)
        .exclude(to_state="")
        .order_by("-seq")
        .values("to_state")[:1]
    )


def actions_in_year(*, programme: Programme, year: int) -> tuple[QuerySet[Action], datetime.date]:
    """The fiches that existed at the end of the year, annotated with ``state_then`` (their
    state at the end of the year — today's state for the year in progress) and ``active``
    (created during the year, or not closed, rejected or abandoned at its start).

    A fiche without any audited state change (created outside the services) counts in its
    current state."""
    start, end = year_bounds(year)
    now = timezone.now()
    actions = Action.objects.filter(programme=programme, created_at__lt=end)
    if end > now:  # the year is not over: the state at its end is today's
        state_then = F("state")
        as_of = timezone.localdate()
    else:
        state_then = Coalesce(_state_at(end), F("state"), output_field=CharField())
        as_of = datetime.date(year, 12, 31)
    return (
        actions.annotate(
            state_start=Coalesce(_state_at(start), F("state"), output_field=CharField())
        ).annotate(
            state_then=state_then,
            active=Case(
                When(created_at__gte=start, then=Value(True)),
                When(state_start__in=FINAL_STATES, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            ),
        ),
        as_of,
    )


def _year_transitions(programme: Programme, year: int) -> QuerySet[AuditEvent]:
    start, end = year_bounds(year)
    return AuditEvent.objects.filter(
        programme=programme, object_type=ACTION_TYPE, at__gte=start, at__lt=end
    ).exclude(Q(from_state="") | Q(to_state=""))


def _state_labels() -> dict[str, str]:
    return {value: str(label) for value, label in ActionState.choices}


def _transition_labels() -> dict[str, str]:
    return {name: str(lifecycle.label(Action, name)) for name in lifecycle.names(Action)}


def _month(year: int) -> Case:
    """The month (1-12) of ``at`` in the programme's time zone, by comparing with the first
    instant of each month: plain comparisons, fast on every database (SQLite would otherwise
    call a Python function per row to convert the time zone)."""
    zone = programme_zone()
    starts = [datetime.datetime(year, m, 1, tzinfo=zone) for m in range(2, 13)]
    return Case(
        *(When(at__lt=start, then=Value(m)) for m, start in enumerate(starts, start=1)),
        default=Value(12),
        output_field=IntegerField(),
    )


def transitions_part(*, programme: Programme, year: int) -> TransitionsPart:
    """Number of each transition (event, from, to) per month of the year, Paris time."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 12)
    for event, from_state, to_state, month, n in (
        _year_transitions(programme, year)
        .order_by()
        .annotate(month=_month(year))
        .values_list("event", "from_state", "to_state", "month")
        .annotate(n=Count("pk"))
    ):
        counts[(event, from_state, to_state)][month - 1] += n
    states, labels = _state_labels(), _transition_labels()
    order = {name: i for i, name in enumerate(lifecycle.names(Action))}
    state_order = {value: i for i, value in enumerate(ActionState.values)}
    rows = [
        TransitionRow(
            event=event,
            label=labels.get(event, event),
            from_state=from_state,
            from_label=states.get(from_state, from_state),
            to_state=to_state,
            to_label=states.get(to_state, to_state),
            per_month=months,
            total=sum(months),
        )
        for (event, from_state, to_state), months in sorted(
            counts.items(),
            key=lambda item: (
                order.get(item[0][0], len(order)),
                state_order.get(item[0][1], 99),
                item[0],
            ),
        )
    ]
    per_month = [sum(row.per_month[m] for row in rows) for m in range(12)]
    return TransitionsPart(rows=rows, per_month=per_month, total=sum(per_month))


def _build(
    *,
    programme: Programme,
    year: int,
    actions: QuerySet[Action],
    as_of: datetime.date,
    transitions: TransitionsPart,
) -> AnnualReport:
    """The annual report, from the fiches annotated with their state at the end of the year
    and the transitions of the year (both read from the audit trail by the caller)."""
    actions_figures = actions_part(programme=programme, actions=actions, as_of=as_of)
    return AnnualReport(
        programme=programme,
        year=year,
        start=datetime.date(year, 1, 1),
        end=datetime.date(year, 12, 31),
        generated_at=timezone.now(),
        actions=actions_figures,
        transitions=transitions,
        meetings=meetings_part(programme=programme, year=year),
        funding=funding_part(programme=programme, year=year),
        indicators=indicators_part(programme=programme, year=year),
        participation=participation_part(programme=programme, year=year, actions=actions_figures),
    )


def annual_report(*, programme: Programme, year: int) -> AnnualReport:
    """The annual report of ``programme`` for ``year`` (see ``reporting.parts`` for the
    definition of each part)."""
    actions, as_of = actions_in_year(programme=programme, year=year)
    return _build(
        programme=programme,
        year=year,
        actions=actions,
        as_of=as_of,
        transitions=transitions_part(programme=programme, year=year),
    )
