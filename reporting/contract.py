"""The figures an evaluation of the contract starts from, per strategic axis: fiches done,
running and dropped, indicators reaching their target, funding granted, participation levels.
Stored with the evaluation (JSON: what the COPIL adopted stays as it was)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from evaluation.models import Indicator
from funding.models import FundingRequest
from projects.models import ACTIVE_STATES, ActionState, Axis, ParticipationLevel, Programme

from .parts import REACHED, indicators_with_latest

DROPPED = (ActionState.ABANDONED, ActionState.REJECTED)


def contract_figures(programme: Programme) -> dict:
    """Per axis (and fiches without one), as plain JSON values; a handful of queries."""
    axes = {a.pk: f"{a.number}. {a.title}" for a in Axis.objects.filter(programme=programme)}
    rows: dict = defaultdict(
        lambda: {
            "fiches": 0,
            "done": 0,
            "running": 0,
            "dropped": 0,
            "indicators": 0,
            "reached": 0,
            "granted": "0.00",
            "participation": {level: 0 for level in ParticipationLevel.values},
        }
    )
    for axis_id, state, level, n in (
        programme.actions.order_by()
        .values_list("objective__axis_id", "state", "participation_level")
        .annotate(n=Count("pk"))
    ):
        row = rows[axis_id]
        row["fiches"] += n
        row["done"] += n if state == ActionState.CLOSED else 0
        row["running"] += n if state in ACTIVE_STATES else 0
        row["dropped"] += n if state in DROPPED else 0
        if state in ACTIVE_STATES or state == ActionState.CLOSED:
            row["participation"][level] += n
    indicators = indicators_with_latest(Indicator.objects.filter(action__programme=programme))
    for axis_id, total, reached in (
        indicators.order_by()
        .values_list("action__objective__axis_id")
        .annotate(total=Count("pk"), reached=Count("pk", filter=REACHED))
    ):
        rows[axis_id]["indicators"] += total
        rows[axis_id]["reached"] += reached
    zero = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))
    for axis_id, granted in (
        FundingRequest.objects.filter(
            action__programme=programme, state__in=FundingRequest.GRANTED_STATES
        )
        .order_by()
        .values_list("action__objective__axis_id")
        .annotate(granted=Coalesce(Sum("granted_amount"), zero))
    ):
        rows[axis_id]["granted"] = f"{granted:.2f}"
    ordered = [
        {"axis": label, **rows[pk]} for pk, label in sorted(axes.items(), key=lambda i: i[1])
    ]
    if None in rows:
        ordered.append({"axis": _("Sans axe (objectif non renseigné)"), **rows[None]})
    return {"axes": ordered}
