"""What the fiche page shows of an action's evaluation: each indicator with its measurements
and whether it reaches its target, the report, and what still prevents closing. Used by the
fiche page (``views.action_detail``) and by the evaluation pages (``evaluation_views``)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from evaluation.forms import MeasurementForm
from evaluation.models import EvaluationReport, Measurement
from projects.models import Action, ActionState

from . import services

# States in which the fiche page shows the evaluation part, and those that accept measurements.
SHOWN_STATES = (ActionState.IMPLEMENTATION, ActionState.EVALUATION, ActionState.CLOSED)
MEASURE_STATES = (ActionState.IMPLEMENTATION, ActionState.EVALUATION)


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


def close_blockers(report, rows: list[dict]) -> list[str]:
    """What still prevents the COPIL from closing the action (empty when it may)."""
    blockers = []
    if report is None:
        blockers.append(_("le rapport d'évaluation n'est pas rédigé"))
    unmeasured = [row["indicator"].label for row in rows if not row["measurements"]]
    if unmeasured:
        blockers.append(
            _("indicateurs sans aucune mesure : {labels}").format(
                labels=", ".join(f"« {label} »" for label in unmeasured)
            )
        )
    return blockers


def evaluation_section(action: Action, roles: set[str]) -> dict | None:
    """What the fiche page shows of the evaluation (None before implementation)."""
    if action.state not in SHOWN_STATES:
        return None
    rows = indicator_results(action)
    can_measure = action.state in MEASURE_STATES and bool(roles & services.MEASURERS)
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
        "can_write": in_evaluation and bool(roles & services.MEASURERS),
        "in_evaluation": in_evaluation,
        "blockers": close_blockers(report, rows) if in_evaluation else [],
    }
