"""Where a programme stands today: fiches per state and per axis, funding requested and
granted per funder (all years), indicators reaching their target (latest measurement), who
proposed the fiches and what became of the residents' proposals."""

from __future__ import annotations

from django.db.models import F, Value
from django.utils import timezone

from evaluation.models import Indicator
from funding.models import FundingRequest
from projects.models import Action, Programme

from .figures import Bar, Dashboard
from .parts import (
    actions_part,
    funding_per_funder,
    indicator_kinds,
    indicators_with_latest,
    proposals_part,
)


def dashboard(*, programme: Programme) -> Dashboard:
    """Where the programme stands today: fiches per state and per axis, funding requested and
    granted per funder (all years), indicators reaching their target (latest measurement)."""
    figures = actions_part(
        programme=programme,
        actions=Action.objects.filter(programme=programme).annotate(
            state_then=F("state"), active=Value(True)
        ),
        as_of=timezone.localdate(),
    )
    funding = funding_per_funder(FundingRequest.objects.filter(action__programme=programme))
    kinds, total = indicator_kinds(
        indicators_with_latest(Indicator.objects.filter(action__programme=programme))
    )
    return Dashboard(
        programme=programme,
        total=figures.total,
        by_state=[Bar(s, label, figures.totals[s]) for s, label in figures.states],
        by_axis=[Bar(str(row.axis_id or ""), row.label, row.total) for row in figures.rows],
        proposals=proposals_part(programme=programme),
        funding=funding,
        indicators=kinds,
        indicators_total=total,
    )
