"""Evaluation of an action in the UI: indicator measurements and the evaluation report.

Measurements are entered from the fiche page during implementation and evaluation; the report
is written (and reworked, in several passes) on its own page while the action is in evaluation.
The coordinator and the lead of the action do both; every change goes through a service and is
audited. The fiche page also shows why the COPIL cannot close the action yet.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from evaluation.models import EvaluationReport, Indicator
from projects.models import Action
from projects.permissions import get_visible_action
from workflows import services

from ..evaluation_section import indicator_results, measurement_prefix
from ..forms import EvaluationReportForm, MeasurementForm
from ..pages import client_ip, form_errors, form_messages, run_from_page, seen, status


def _back_to_fiche(action: Action) -> HttpResponse:
    return redirect(reverse("coordo:action", args=[action.pk]) + "#evaluation")


@require_POST
@login_required
def measurement_add(request: HttpRequest, pk: int, indicator_pk: int) -> HttpResponse:
    """A measurement of one indicator, from the fiche page."""
    action = get_visible_action(request.user, pk)
    indicator = Indicator.objects.filter(pk=indicator_pk, action=action).first()
    if indicator is None:
        raise Http404(_("Indicateur introuvable pour cette fiche."))
    form = MeasurementForm(request.POST, prefix=measurement_prefix(indicator.pk))
    if not form.is_valid():
        form_messages(
            request,
            form,
            prefix=_("Mesure de « {indicator} » non enregistrée — ").format(
                indicator=indicator.label
            ),
        )
        return _back_to_fiche(action)
    run_from_page(
        request,
        lambda: services.record_measurement(
            indicator=indicator,
            actor=request.user,
            seen=seen(request),
            ip=client_ip(request),
            **form.cleaned_data,
        ),
        _("Mesure enregistrée pour « {indicator} ».").format(indicator=indicator.label),
    )
    return _back_to_fiche(action)


@login_required
def evaluation_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the evaluation report, or rework it until the COPIL closes the action."""
    action = get_visible_action(request.user, pk)
    refusal = services.WRITE_REPORT.refusal(request.user, action)
    if refusal and refusal.rule == "role":
        raise PermissionDenied(refusal.message)
    if refusal:
        messages.error(request, refusal.message)
        return _back_to_fiche(action)
    report = EvaluationReport.objects.filter(action=action).first()
    form = EvaluationReportForm(
        request.POST or None,
        initial=model_to_dict(report, fields=services.REPORT_FIELDS) if report else None,
        prefix="rapport",
    )
    conflict = False
    version = seen(request) if form.is_bound else chain.version(action)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.REPORT_FIELDS}
        write = services.update_evaluation_report if report else services.write_evaluation_report
        try:
            write(action=action, actor=request.user, seen=version, ip=client_ip(request), **data)
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
            if exc.rule == "already_moved":
                # Show the colleague's version beside the text typed; saving again is deliberate.
                report = EvaluationReport.objects.filter(action=action).first()
                version = chain.version(action)
                conflict = True
        else:
            messages.success(request, _("Rapport d'évaluation enregistré."))
            return _back_to_fiche(action)
    return render(
        request,
        "coordo/evaluation_report.html",
        {
            "action": action,
            "report": report,
            "conflict": conflict,
            "form": form,
            "rows": indicator_results(action),
            "version": version,
        },
        status=status(form),
    )
