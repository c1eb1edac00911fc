"""The CLSM's own work: its resource unit's sessions (anonymous counts), its trainings and
awareness events, its observation of the territory. Only a CLSM has them: for a CLS (or
outside the programme) these pages answer 404. Every member reads; the coordination writes
(403 for the others)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from clsm.models import ObservationIndicator, ResourceSession, TrainingSession
from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Programme
from projects.permissions import get_visible_programme
from reporting.directory import organisations
from workflows import services

from ..clsm_forms import IndicatorForm, ResourceSessionForm, TrainingForm, ValueForm
from ..pages import client_ip, form_errors, form_messages, run_from_page, seen, status


def _clsm(request: HttpRequest, pk: int) -> Programme:
    programme = get_visible_programme(request.user, pk)
    if not programme.is_clsm:
        raise Http404(_("Ces travaux n'existent que pour un conseil local de santé mentale."))
    return programme


def _writer(request: HttpRequest, programme: Programme) -> None:
    refusal = services.KEEP_CLSM.refusal(request.user, programme)
    if refusal:
        raise PermissionDenied(refusal.message)


def _item(model, programme: Programme, pk: int):
    found = model.objects.filter(programme=programme, pk=pk).first()
    if found is None:
        raise Http404(_("Aucun enregistrement du CLSM à ce numéro."))
    return found


def _number(value: Decimal) -> int | float:
    """A value for the chart (which draws numbers): whole when it is."""
    return int(value) if value == value.to_integral_value() else float(value)


@login_required
def clsm_home(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _clsm(request, pk)
    indicators = list(
        ObservationIndicator.objects.filter(programme=programme).prefetch_related("values")
    )
    versions = chain.versions(ObservationIndicator, [i.pk for i in indicators])
    for indicator in indicators:
        indicator.version = versions.get(indicator.pk, 0)
        indicator.rows = [(str(v.year), _number(v.value)) for v in indicator.values.all()]
    return render(
        request,
        "coordo/clsm/home.html",
        {
            "programme": programme,
            "can_write": services.KEEP_CLSM.allows(request.user, programme),
            "sessions": ResourceSession.objects.filter(programme=programme)
            .prefetch_related("partners")
            .order_by("-date", "-pk"),
            "trainings": TrainingSession.objects.filter(programme=programme)
            .select_related("action")
            .order_by("-date", "-pk"),
            "indicators": indicators,
            "first_year": FIRST_YEAR,
            "last_year": LAST_YEAR,
        },
    )


@login_required
def resource_session(request: HttpRequest, pk: int, item: int | None = None) -> HttpResponse:
    """A new session of the resource unit, or a correction of one."""
    programme = _clsm(request, pk)
    session = _item(ResourceSession, programme, item) if item else None
    _writer(request, programme)
    form = ResourceSessionForm(
        request.POST or None,
        instance=session,
        programme=programme,
        partners=organisations(programme).order_by("name"),
    )
    version = (
        seen(request) if request.method == "POST" else (chain.version(session) if session else 0)
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if session is None:
                services.record_resource_session(
                    programme=programme,
                    actor=request.user,
                    partners=form.cleaned_data["partners"],
                    ip=client_ip(request),
                    **data,
                )
            else:
                services.update_resource_session(
                    session=session,
                    actor=request.user,
                    data=data,
                    partners=form.cleaned_data["partners"],
                    seen=version,
                    ip=client_ip(request),
                )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
            if session is not None and exc.rule == "already_moved":
                version = chain.version(session)
        else:
            messages.success(request, _("Séance de la cellule ressource enregistrée."))
            return redirect("coordo:clsm", pk=programme.pk)
    return render(
        request,
        "coordo/clsm/session_form.html",
        {
            "programme": programme,
            "form": form,
            "session": session,
            "version": version,
            "need_fields": [form[n] for n, _label in ResourceSession.NEEDS],
            "outcome_fields": [form[n] for n, _label in ResourceSession.OUTCOMES],
        },
        status=status(form),
    )


@login_required
def training(request: HttpRequest, pk: int, item: int | None = None) -> HttpResponse:
    """A training or an awareness event held, or a correction of one."""
    programme = _clsm(request, pk)
    session = _item(TrainingSession, programme, item) if item else None
    _writer(request, programme)
    form = TrainingForm(request.POST or None, instance=session, programme=programme)
    version = (
        seen(request) if request.method == "POST" else (chain.version(session) if session else 0)
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if session is None:
                services.record_training(
                    programme=programme, actor=request.user, data=data, ip=client_ip(request)
                )
            else:
                services.update_training(
                    session=session,
                    actor=request.user,
                    data=data,
                    seen=version,
                    ip=client_ip(request),
                )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
            if session is not None and exc.rule == "already_moved":
                version = chain.version(session)
        else:
            messages.success(request, _("Formation ou sensibilisation enregistrée."))
            return redirect("coordo:clsm", pk=programme.pk)
    return render(
        request,
        "coordo/clsm/training_form.html",
        {"programme": programme, "form": form, "session": session, "version": version},
        status=status(form),
    )


@login_required
def indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _clsm(request, pk)
    _writer(request, programme)
    form = IndicatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_observation_indicator(
                programme=programme, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
        except services.Refused as exc:
            if exc.rule == "role":
                raise PermissionDenied(exc.message) from exc
            form_errors(form, exc)
        else:
            messages.success(request, _("Indicateur d'observation ajouté."))
            return redirect("coordo:clsm", pk=programme.pk)
    return render(
        request,
        "coordo/clsm/indicator_form.html",
        {"programme": programme, "form": form},
        status=status(form),
    )


@require_POST
@login_required
def observation_value(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    """A year's value of an observation indicator, from the CLSM's page."""
    programme = _clsm(request, pk)
    indicator = _item(ObservationIndicator, programme, item)
    _writer(request, programme)
    form = ValueForm(request.POST)
    if not form.is_valid():
        form_messages(request, form, prefix=f"{indicator.name} — ")
    else:
        run_from_page(
            request,
            lambda: services.set_observation_value(
                indicator=indicator,
                actor=request.user,
                seen=seen(request),
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Valeur enregistrée."),
        )
    return redirect(reverse("coordo:clsm", args=[programme.pk]) + f"#indicateur-{indicator.pk}")
