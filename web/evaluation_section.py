"""What the fiche page shows of an action's evaluation: each indicator with its measurements
and whether it reaches its target, the report, and what still prevents closing. Used by the
fiche page (``views.actions``) and by the evaluation pages (``views.evaluation``)."""

from __future__ import annotations

from django.db.models import Prefetch

from evaluation.models import EvaluationReport, Measurement
from projects.models import Action, ActionState
from workflows import services

from .forms import MeasurementForm

# States in which the fiche page shows the evaluation part: from implementation on.
SHOWN_STATES = (*services.MEASURE.states, ActionState.CLOSED)


def measurement_prefix(indicator_id: int) -> str:
    return f"mesure-{indicator_id}"


def indicator_results(action: Action) -> list[dict]:
    """Each indicator with its measurements (oldest first), the latest one and whether it
    reaches the target. Three queries whatever the number of indicators and measurements."""
    indicators = action.indicators.prefetch_related(
        Prefetch(
            "measurements",
            queryset=Measurement.objects.select_related("entered_by").order_by("date", "pk"),
        )
    )
    rows = []
    for indicator in indicators:
        measurements = list(indicator.measurements.all())
        latest = measurements[-1] if measurements else None
        rows.append(
            {
                "indicator": indicator,
                "measurements": measurements,
                "latest": latest,
                "reached": indicator.target_reached(latest.value if latest else None),
            }
        )
    return rows


def evaluation_section(user, action: Action, roles: set[str]) -> dict | None:
    """What the fiche page shows of the evaluation (None before implementation)."""
    if action.state not in SHOWN_STATES:
        return None
    rows = indicator_results(action)
    can_measure = services.MEASURE.allows(user, action, roles=roles)
    for row in rows:
        row["form"] = (
            MeasurementForm(prefix=measurement_prefix(row["indicator"].pk)) if can_measure else None
        )
    report = EvaluationReport.objects.filter(action=action).select_related("written_by").first()
    in_evaluation = action.state == ActionState.EVALUATION
    return {
        "rows": rows,
        "report": report,
        "can_measure": can_measure,
        "can_write": services.WRITE_REPORT.allows(user, action, roles=roles),
        "in_evaluation": in_evaluation,
        "blockers": action.missing_for_close() if in_evaluation else [],
    }
