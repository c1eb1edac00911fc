"""The audit-trail export page of a programme (xlsx and CSV), for the coordination and the ARS
referent of that programme only: other members get 403, people outside the programme 404."""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects.models import Programme
from projects.permissions import get_visible_programme, roles_in

from . import audit, audit_export
from .views import EVENT_LABELS, FUNDING_EVENT_LABELS, _status

# Labels of the events that are not transitions of the object they concern.
EXPORT_EVENT_LABELS = {**FUNDING_EVENT_LABELS, **EVENT_LABELS}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodForm(forms.Form):
    du = forms.DateField(
        label=gettext_lazy("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    au = forms.DateField(
        label=gettext_lazy("Au (inclus)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            raise ValidationError(_("La date de début doit précéder la date de fin."))
        return data


def _exportable_programme(user, pk: int) -> Programme:
    programme = get_visible_programme(user, pk)  # 404 outside the programme
    if not roles_in(user, programme.pk) & audit_export.EXPORT_ROLES:
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
        status=_status(form),
    )


@login_required
def audit_export_page(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _exportable_programme(request.user, pk)
    return _page(request, programme, PeriodForm(request.GET or None))


@login_required
def audit_export_download(request: HttpRequest, pk: int, extension: str) -> HttpResponse:
    """The trail of the period, with the chain verified at this moment, as xlsx or CSV."""
    programme = _exportable_programme(request.user, pk)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _page(request, programme, form)
    start, end = form.cleaned_data["du"], form.cleaned_data["au"]
    header = audit_export.export_header(
        programme=programme, start=start, end=end, actor_label=audit.actor_label(request.user)
    )
    events = audit_export.period_events(
        programme_id=programme.pk, start=start, end=end, last_seq=header.last_seq
    )
    filename = audit_export.export_filename(programme.name, timezone.localdate(), extension)
    if extension == "xlsx":
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        audit_export.write_audit_workbook(
            header=header, events=events, event_labels=EXPORT_EVENT_LABELS, out=out
        )
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
    response = StreamingHttpResponse(
        audit_export.audit_csv(header=header, events=events, event_labels=EXPORT_EVENT_LABELS),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
