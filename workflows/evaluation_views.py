"""Evaluation of an action in the UI: indicator measurements and the evaluation report.

Measurements are entered from the fiche page during implementation and evaluation; the report
is written (and reworked, in several passes) on its own page while the action is in evaluation.
The coordinator and the lead of the action do both; every change goes through a service and is
audited. The fiche page also shows why the COPIL cannot close the action yet.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evaluation.forms import EvaluationReportForm, MeasurementForm
from evaluation.models import EvaluationReport, Indicator
from projects.models import Action, ActionState
from projects.permissions import action_scopes, get_visible_action, roles_for

from . import services
from .evaluation_section import indicator_results, measurement_prefix
from .views import _form_errors, _status, client_ip


def _back_to_fiche(action: Action) -> HttpResponse:
    return redirect(reverse("coordo:action", args=[action.pk]) + "#evaluation")


def _require_measurer(user, action: Action, message: str) -> None:
    roles = roles_for(user, programme_id=action.programme_id, scopes=action_scopes(action))
    if not roles & services.MEASURERS:
        raise PermissionDenied(message)


@require_POST
@login_required
def measurement_add(request: HttpRequest, pk: int, indicator_pk: int) -> HttpResponse:
    """A measurement of one indicator, from the fiche page."""
    action = get_visible_action(request.user, pk)
    indicator = Indicator.objects.filter(pk=indicator_pk, action=action).first()
    if indicator is None:
        raise Http404(_("Indicateur introuvable pour cette fiche."))
    _require_measurer(
        request.user,
        action,
        _("Les mesures sont saisies par la coordination ou le porteur de l'action."),
    )
    form = MeasurementForm(request.POST, prefix=measurement_prefix(indicator.pk))
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(
                request,
                _("Mesure de « {indicator} » non enregistrée — {field} : {errors}").format(
                    indicator=indicator.label, field=label, errors=" ".join(errors)
                )
                if label
                else " ".join(errors),
            )
        return _back_to_fiche(action)
    try:
        services.record_measurement(
            indicator=indicator, actor=request.user, ip=client_ip(request), **form.cleaned_data
        )
    except services.Refused as exc:
        if exc.rule == "role":
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Mesure enregistrée pour « {indicator} ».").format(indicator=indicator.label)
        )
    return _back_to_fiche(action)


def _seen_version(value: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def evaluation_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the evaluation report, or rework it until the COPIL closes the action."""
    action = get_visible_action(request.user, pk)
    _require_measurer(
        request.user,
        action,
        _("Le rapport d'évaluation est rédigé par la coordination ou le porteur de l'action."),
    )
    if action.state != ActionState.EVALUATION:
        messages.error(
            request,
            _("Le rapport d'évaluation se rédige quand l'action est en évaluation."),
        )
        return _back_to_fiche(action)
    report = EvaluationReport.objects.filter(action=action).first()
    form = EvaluationReportForm(
        request.POST or None,
        initial=model_to_dict(report, fields=services.REPORT_FIELDS) if report else None,
        prefix="rapport",
    )
    conflict = False
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.REPORT_FIELDS}
        try:
            if report is None:
                services.write_evaluation_report(
                    action=action, actor=request.user, ip=client_ip(request), **data
                )
            else:
                services.update_evaluation_report(
                    action=action,
                    actor=request.user,
                    seen_written_at=_seen_version(request.POST.get("seen", "")),
                    ip=client_ip(request),
                    **data,
                )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            _form_errors(form, exc)
            if exc.rule == "already_moved":
                # Show the colleague's version beside the text typed; saving again is deliberate.
                report = EvaluationReport.objects.filter(action=action).first()
                conflict = True
        else:
            messages.success(request, _("Rapport d'évaluation enregistré."))
            return _back_to_fiche(action)
    if conflict or not form.is_bound:
        seen = report.written_at.isoformat() if report else ""
    else:
        seen = request.POST.get("seen", "")
    return render(
        request,
        "coordo/evaluation_report.html",
        {
            "action": action,
            "report": report,
            "conflict": conflict,
            "form": form,
            "rows": indicator_results(action),
            "seen": seen,
        },
        status=_status(form),
    )
