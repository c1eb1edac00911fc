"""The note de synthèse of a programme: one printable A4 page for elected officials — its
identity and period, its fiches per state and per axis, its funding, its participation, its
next séances and its latest milestones.

Who: every member of the programme, whatever their role (the figures are those of the
dashboard, which every member reads). Non-members get a 404: they must not learn the
programme exists.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from projects.permissions import get_visible_programme
from reporting.summary import programme_summary

from ..templatetags.territory import territory_groups


@login_required
def summary_page(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    return render(
        request,
        "coordo/summary.html",
        {
            "programme": programme,
            "places": territory_groups(programme),
            "summary": programme_summary(programme=programme),
        },
    )
