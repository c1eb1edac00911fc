"""The territory's places and the CLSM's own work, as the shared pages include them (one tag
each: the programme page, the fiche page, the list's filters, the annual report and the
dashboard), so that those pages need no more than one line for them."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from projects.models import Place, Programme, action_reduces_inequalities, places_target_qpv
from reporting.clsm import clsm_part
from reporting.territory import annual_territory, current_territory
from workflows import services

register = template.Library()


def ordered_places(programme: Programme) -> list[Place]:
    """The programme's places as a reader expects them: its EPCI, its communes, its QPV."""
    return sorted(programme.places.all(), key=Place.reading_key)


@register.simple_tag
def place_choices(programme: Programme) -> list[Place]:
    return ordered_places(programme)


@register.simple_tag
def territory_groups(programme: Programme) -> list[tuple[str, str]]:
    """The programme's places by kind, as pages list them: (« EPCI », « Val-de-Lys
    Agglomération »), (« Communes », « Bois-Joli, Hautmesnil »)… — the kinds it has only, from
    ``programme.places`` (prefetched where a page lists several programmes)."""
    places = ordered_places(programme)
    groups = [
        (label, ", ".join(p.name for p in places if p.kind == kind))
        for kind, label in (
            (Place.Kind.EPCI, _("EPCI")),
            (Place.Kind.COMMUNE, _("Communes")),
            (Place.Kind.QPV, _("Quartiers prioritaires (QPV)")),
        )
    ]
    return [(label, names) for label, names in groups if names]


@register.inclusion_tag("coordo/includes/programme_territory.html", takes_context=True)
def programme_territory(context, programme: Programme) -> dict:
    """The programme's territory (its places by kind) and the links to maintain it and, for a
    CLSM, to its own work."""
    user = context["request"].user
    return {
        "programme": programme,
        "groups": territory_groups(programme),
        "can_set_up": services.may_set_up(user, [programme.pk]),
        "is_clsm": programme.is_clsm,
    }


@register.inclusion_tag("coordo/includes/fiche_territory.html")
def fiche_territory(action) -> dict:
    """The fiche's territory and whether it counts toward reducing inequalities."""
    places = sorted(action.places.all(), key=Place.reading_key)
    return {
        "action": action,
        "places": places,
        "reducing": action_reduces_inequalities(action, places),
        "targets_qpv": places_target_qpv(places),
    }


@register.inclusion_tag("coordo/includes/territory_part.html")
def territory_report(programme: Programme, year: int | None = None, number: str = "") -> dict:
    """The effort toward reducing social inequalities of health: of the year (annual report)
    or today (dashboard, ``year`` None)."""
    part = (
        current_territory(programme=programme)
        if year is None
        else annual_territory(programme=programme, year=year)
    )
    return {
        "part": part,
        "number": number,
        "qpv_rows": [(row.name, row.fiches) for row in part.by_qpv],
    }


@register.inclusion_tag("coordo/includes/clsm_part.html")
def clsm_report(programme: Programme, year: int, number: str = "") -> dict:
    """The CLSM's own work in the annual report (nothing for a CLS)."""
    if not programme.is_clsm:
        return {"part": None}
    part = clsm_part(programme=programme, year=year)
    return {
        "part": part,
        "number": number,
        "needs": part.resource.by_need,
        "outcomes": part.resource.by_outcome,
    }
