"""The dashboard and the annual report of a programme (page and workbook).

Who: every member of the programme, whatever their role — the figures are those the funding
follow-up and the fiches already show to every member, and the report is meant for the ARS
and the steering committee. Non-members get a 404 (they must not learn the programme exists).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.dates import MONTHS_AP
from django.utils.translation import gettext as _

from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.permissions import get_visible_programme
from reporting import replica
from reporting.annual import annual_report
from reporting.annual_export import report_filename, write_annual_workbook
from reporting.dashboard import dashboard as dashboard_figures
from spreadsheet import xlsx_response


def _year(value) -> int:
    year = int(value) if str(value).isdigit() and len(str(value)) <= 4 else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404(_("Année hors de la période couverte par Coordo."))
    return year


def _years(programme) -> list[int]:
    """The years offered by the picker: the programme's period and the current year."""
    today = timezone.localdate().year
    first = min(programme.start_date.year, today)
    last = max(min(programme.end_date.year, today + 1), today)
    return list(range(last, first - 1, -1))


@login_required
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    figures = dashboard_figures(programme=programme)
    return render(
        request,
        "coordo/dashboard.html",
        {
            "programme": programme,
            "dashboard": figures,
            "by_state": [(bar.label, bar.value) for bar in figures.by_state],
            "by_axis": [(bar.label, bar.value) for bar in figures.by_axis],
            "funding": [(f.name, f.requested, f.granted) for f in figures.funding],
            "indicators": [(k.label, k.reached, k.with_target) for k in figures.indicators],
            "year": timezone.localdate().year,
        },
    )


@login_required
def annual_report_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """``rapport/?annee=2025`` (the year picker) → ``rapport/2025/``; no year: this year."""
    programme = get_visible_programme(request.user, pk)
    value = request.GET.get("annee", "")
    year = _year(value) if value else timezone.localdate().year
    return redirect("coordo:annual-report", pk=programme.pk, year=year)


@login_required
def annual_report_page(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    report = annual_report(programme=programme, year=_year(year))
    return render(
        request,
        "coordo/annual_report.html",
        {
            "programme": programme,
            "report": report,
            "years": _years(programme),
            "months": [MONTHS_AP[m] for m in range(1, 13)],
            "by_state": [
                (label, report.actions.totals[state]) for state, label in report.actions.states
            ],
            "funding": [(f.name, f.requested, f.granted, f.paid) for f in report.funding.rows],
        },
    )


@login_required
@replica.on_replica
def annual_report_xlsx(request: HttpRequest, pk: int, year: int) -> FileResponse:
    """The report as a workbook, in the application's language, written to a spooled
    temporary file and streamed."""
    programme = get_visible_programme(request.user, pk)
    year = _year(year)

    def write(out) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            write_annual_workbook(report=annual_report(programme=programme, year=year), out=out)

    return xlsx_response(write, report_filename(programme.name, year))
