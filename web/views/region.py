"""The territory's view (vue du territoire): every programme a person belongs to, consolidated,
filtered by kind of programme and year — page and workbook.

Who: a person with an active membership in two programmes or more (typically the ARS
delegation or a department); the figures are those of the dashboards of these programmes,
which every member reads. A person with one programme gets a 403 that sends them to its
dashboard; anonymous visitors, the login page.

Late tasks are the services' own definition (``workflows.queues.overdue_actions``), passed to
``reporting.region`` which may not import ``workflows``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Programme
from projects.permissions import visible_programmes
from reporting import replica
from reporting.region import Region, region
from reporting.region_export import region_filename, write_region_workbook
from spreadsheet import xlsx_response
from workflows.queues import overdue_actions

PAGE_THEMES = 20  # axis themes on the page (all of them are in the workbook)


class RegionFilter(forms.Form):
    """``?type=CLS&annee=2026``: no ``annee`` at all is this year; an empty one, all years."""

    type = forms.ChoiceField(
        label=gettext_lazy("Dispositifs"),
        required=False,
        choices=[("", gettext_lazy("CLS et CLSM"))] + Programme.Kind.choices,
    )
    annee = forms.IntegerField(
        label=gettext_lazy("Année"), required=False, min_value=FIRST_YEAR, max_value=LAST_YEAR
    )

    @classmethod
    def from_query(cls, query: QueryDict) -> RegionFilter:
        data = query.copy()
        data.setdefault("annee", str(timezone.localdate().year))
        return cls(data)

    def errors_with_labels(self) -> list[str]:
        return [
            f"{self.fields[name].label} : {error}" if name in self.fields else error
            for name, errors in self.errors.items()
            for error in errors
        ]


def _check_territory_member(user) -> None:
    """Two programmes or more (one query); otherwise the programme's dashboard says it all."""
    if len(visible_programmes(user).values("pk")[:2]) < 2:
        raise PermissionDenied(
            _(
                "La vue du territoire rassemble plusieurs dispositifs : elle est proposée aux "
                "personnes membres d'au moins deux dispositifs. Les chiffres de votre "
                "dispositif sont sur son tableau de bord."
            )
        )


def _figures(form: RegionFilter, user) -> Region:
    return region(
        user=user,
        overdue=overdue_actions(),
        kind=form.cleaned_data["type"] or None,
        year=form.cleaned_data["annee"],
    )


def _years(figures: Region | None) -> list[int]:
    """The years offered by the picker: from the first programme's start to next year (and
    the year shown, wherever it is)."""
    today = timezone.localdate().year
    starts = [p.start_date.year for p in figures.programmes] if figures else [today - 4]
    years = set(range(max(FIRST_YEAR, min([*starts, today])), today + 2))
    if figures and figures.year:
        years.add(figures.year)
    return sorted(years, reverse=True)


def _refused_filters(request: HttpRequest, form: RegionFilter) -> HttpResponse:
    return render(
        request,
        "coordo/region.html",
        {"form": form, "filter_errors": form.errors_with_labels(), "years": _years(None)},
        status=400,
    )


@login_required
def region_page(request: HttpRequest) -> HttpResponse:
    _check_territory_member(request.user)
    form = RegionFilter.from_query(request.GET)
    if not form.is_valid():
        return _refused_filters(request, form)
    figures = _figures(form, request.user)
    return render(
        request,
        "coordo/region.html",
        {
            "form": form,
            "region": figures,
            "years": _years(figures),
            "query": urlencode({"type": figures.kind or "", "annee": figures.year or ""}),
            "by_state": [(bar.label, bar.value) for bar in figures.fiches_by_state],
            "themes": figures.fiches_by_theme[:PAGE_THEMES],
            "by_theme": [(t.label, t.fiches, t.active) for t in figures.fiches_by_theme][
                :PAGE_THEMES
            ],
            "funding": [(f.name, f.requested, f.granted) for f in figures.funding_by_funder],
            "indicators": [(k.label, k.reached, k.with_target) for k in figures.indicators_by_kind],
            "meetings": [(bar.label, bar.value) for bar in figures.meetings_by_body],
        },
    )


@login_required
@replica.on_replica
def region_xlsx(request: HttpRequest) -> HttpResponse | FileResponse:
    """The same figures as a workbook, in the application's language."""
    _check_territory_member(request.user)
    form = RegionFilter.from_query(request.GET)
    if not form.is_valid():
        return _refused_filters(request, form)
    with translation.override(settings.LANGUAGE_CODE):
        figures = _figures(form, request.user)
    return xlsx_response(
        lambda out: write_region_workbook(region=figures, out=out), region_filename(figures)
    )
