"""Evaluation of a fiche: measurements of its indicators and its evaluation report, entered by
the coordination or the action's lead during implementation and evaluation."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation.models import EvaluationReport, Indicator, Measurement
from projects.models import Action, ActionState, Role

from .runner import Refused, Rule, check_seen, lock, record

MEASURERS = frozenset({Role.COORDINATOR, Role.ACTION_LEAD})
MEASURE = Rule(
    gettext_lazy("Saisir une mesure"),
    MEASURERS,
    (ActionState.IMPLEMENTATION, ActionState.EVALUATION),
)
WRITE_REPORT = Rule(
    gettext_lazy("Rédiger le rapport d'évaluation"), MEASURERS, (ActionState.EVALUATION,)
)
REPORT_FIELDS = ("achievements", "difficulties", "participation", "recommendations")


def _fiche(action: Action, actor, rule: Rule, seen: int | None) -> Action:
    locked = lock(action)
    rule.check(actor, locked)
    check_seen(locked, seen)
    return locked


@transaction.atomic
def record_measurement(
    *, indicator: Indicator, actor, seen: int | None = None, ip: str | None = None, **fields
) -> Measurement:
    locked = _fiche(indicator.action, actor, MEASURE, seen)
    measurement = Measurement(indicator=indicator, entered_by=actor, **fields)
    return record(
        measurement,
        programme_id=locked.programme_id,
        actor=actor,
        event="record_measurement",
        ip=ip,
    )


@transaction.atomic
def write_evaluation_report(
    *, action: Action, actor, seen: int | None = None, ip: str | None = None, **fields
) -> EvaluationReport:
    locked = _fiche(action, actor, WRITE_REPORT, seen)
    if EvaluationReport.objects.filter(action=locked).exists():
        raise Refused("already_moved", _("Le rapport d'évaluation de cette action existe déjà."))
    report = EvaluationReport(action=locked, written_by=actor, **fields)
    return record(
        report,
        programme_id=locked.programme_id,
        actor=actor,
        event="write_evaluation_report",
        ip=ip,
    )


@transaction.atomic
def update_evaluation_report(
    *, action: Action, actor, seen: int | None = None, ip: str | None = None, **fields
) -> EvaluationReport:
    """Rework the evaluation report while the action is in evaluation (it is written in several
    passes); one audit event with the changed texts, before and after; refused when the fiche
    changed after the version the actor edited (``seen``), so that a colleague's newer text is
    not overwritten unseen."""
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"Not report fields: {sorted(unknown)}")
    locked = _fiche(action, actor, WRITE_REPORT, seen)
    report = EvaluationReport.objects.select_for_update().filter(action=locked).first()
    if report is None:
        raise Refused("state", _("Cette action n'a pas encore de rapport d'évaluation."))
    before = {name: getattr(report, name) for name in REPORT_FIELDS}
    for name, value in fields.items():
        setattr(report, name, value)
    after = {name: getattr(report, name) for name in REPORT_FIELDS}
    if before == after:
        return report
    return record(
        report,
        programme_id=locked.programme_id,
        actor=actor,
        event="update_evaluation_report",
        before=before,
        after=after,
        ip=ip,
    )
