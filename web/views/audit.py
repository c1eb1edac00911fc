"""The audit-trail export page of a programme (xlsx and CSV), for the coordination and the ARS
referent of that programme only: other members get 403, people outside the programme 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from audit import chain, export
from projects.models import Programme
from projects.permissions import get_visible_programme, roles_in
from reporting import replica
from spreadsheet import xlsx_response

from ..forms import PeriodForm
from ..pages import status


def _exportable_programme(user, pk: int) -> Programme:
    programme = get_visible_programme(user, pk)  # 404 outside the programme
    if not roles_in(user, programme.pk) & export.EXPORT_ROLES:
        raise PermissionDenied(
            _(
                "Le journal d'audit est exporté par la coordination ou le référent ARS du "
                "dispositif."
            )
        )
    return programme


def _page(request: HttpRequest, programme: Programme, form: PeriodForm) -> HttpResponse:
    return render(
        request,
        "coordo/audit_export.html",
        {"programme": programme, "form": form},
        status=status(form),
    )


@login_required
def audit_export_page(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _exportable_programme(request.user, pk)
    return _page(request, programme, PeriodForm(request.GET or None))


@login_required
@replica.on_replica
def audit_export_download(request: HttpRequest, pk: int, extension: str) -> HttpResponse:
    """The trail of the period, with the chain verified at this moment, as xlsx or CSV."""
    programme = _exportable_programme(request.user, pk)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _page(request, programme, form)
    start, end = form.cleaned_data["du"], form.cleaned_data["au"]
    header = export.export_header(
        programme=programme, start=start, end=end, actor_label=chain.actor_label(request.user)
    )
    events = export.period_events(
        programme_id=programme.pk, start=start, end=end, last_seq=header.last_seq
    )
    filename = export.export_filename(programme.name, timezone.localdate(), extension)
    if extension == "xlsx":
        return xlsx_response(
            lambda out: export.write_audit_workbook(header=header, events=events, out=out),
            filename,
        )
    response = StreamingHttpResponse(
        replica.streamed(export.audit_csv(header=header, events=events)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
