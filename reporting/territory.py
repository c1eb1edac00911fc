"""The effort toward reducing social inequalities of health, read from the fiches' territory:
how many fiches, and how much of their planned budget, target a priority neighbourhood (QPV)
or a public facing inequality (``projects.models.reduces_inequalities``), and per QPV.

For the annual report: the fiches active in the year and their budget lines of the year; for
the dashboard: every fiche neither rejected, abandoned, declined nor merged, all years. The
number of queries does not depend on the number of fiches (five: the counts, the planned
budget by fiche, the fiches reducing inequalities, the fiches by QPV, the QPV)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from funding.models import BudgetLine
from projects.models import (
    NOT_CARRIED_OUT,
    Action,
    Place,
    Programme,
    reduces_inequalities,
    targets_qpv,
)
from spreadsheet import Sheet

from .annual import actions_in_year

ZERO = Decimal("0")


@dataclass(frozen=True)
class QpvRow:
    name: str
    fiches: int
    planned: Decimal


@dataclass(frozen=True)
class TerritoryPart:
    year: int | None  # None: all years (the dashboard)
    fiches: int
    planned: Decimal
    reducing: int  # fiches toward reducing social inequalities of health
    reducing_planned: Decimal
    targeting_qpv: int
    vulnerable_public: int
    whole_territory: int  # fiches that pick no place
    by_qpv: list[QpvRow]

    @property
    def reducing_share(self) -> int | None:
        """Percentage of the fiches (None without any fiche)."""
        return round(100 * self.reducing / self.fiches) if self.fiches else None

    @property
    def reducing_planned_share(self) -> int | None:
        return round(100 * self.reducing_planned / self.planned) if self.planned else None


def territory_part(*, programme: Programme, actions: QuerySet[Action], year: int | None):
    """The figures of ``actions`` (fiches of ``programme``), their budget lines of ``year``
    (all years when None)."""
    ids = actions.values("pk")
    counts = Action.objects.filter(pk__in=ids).aggregate(
        fiches=Count("pk"),
        targeting_qpv=Count("pk", filter=targets_qpv()),
        vulnerable_public=Count("pk", filter=Q(vulnerable_public=True)),
        whole_territory=Count(
            "pk", filter=~Q(pk__in=Action.places.through.objects.values("action_id"))
        ),
    )
    lines = BudgetLine.objects.filter(action__in=ids)
    if year is not None:
        lines = lines.filter(year=year)
    planned_by_action = dict(
        lines.order_by().values_list("action_id").annotate(total=Coalesce(Sum("planned"), ZERO))
    )
    reducing_ids = set(
        Action.objects.filter(pk__in=ids)
        .filter(reduces_inequalities())
        .values_list("pk", flat=True)
    )
    per_qpv: dict[int, set[int]] = defaultdict(set)
    for place_id, action_id in Action.places.through.objects.filter(
        place__programme=programme, place__kind=Place.Kind.QPV, action__in=ids
    ).values_list("place_id", "action_id"):
        per_qpv[place_id].add(action_id)
    rows = [
        QpvRow(
            name=place.name,
            fiches=len(per_qpv[place.pk]),
            planned=sum((planned_by_action.get(a, ZERO) for a in per_qpv[place.pk]), ZERO),
        )
        for place in Place.objects.filter(
            programme=programme, kind=Place.Kind.QPV
        ).in_reading_order()
    ]
    return TerritoryPart(
        year=year,
        reducing=len(reducing_ids),
        planned=sum(planned_by_action.values(), ZERO),
        reducing_planned=sum((v for a, v in planned_by_action.items() if a in reducing_ids), ZERO),
        by_qpv=rows,
        **counts,
    )


def annual_territory(*, programme: Programme, year: int) -> TerritoryPart:
    """The fiches active in the year (as the annual report counts them) and their budget of
    the year."""
    actions, _as_of = actions_in_year(programme=programme, year=year)
    return territory_part(programme=programme, actions=actions.filter(active=True), year=year)


def current_territory(*, programme: Programme) -> TerritoryPart:
    """Today, for the dashboard: every fiche still the programme's work, all years."""
    actions = Action.objects.filter(programme=programme).exclude(state__in=NOT_CARRIED_OUT)
    return territory_part(programme=programme, actions=actions, year=None)


def write_territory_sheet(workbook, *, programme: Programme, year: int) -> None:
    """The same figures as a sheet of the annual workbook (in the application's language; no
    totals row: the rows overlap)."""
    part = annual_territory(programme=programme, year=year)
    sheet = Sheet(
        workbook,
        _("Inégalités sociales de santé")[:31],
        [
            (_("Périmètre"), "text", 50),
            (_("Fiches"), "int", 10),
            (_("Budget prévisionnel de l'année"), "money", 22),
        ],
    )
    sheet.append([_("Fiches actives dans l'année"), part.fiches, part.planned])
    sheet.append(
        [_("dont réduction des inégalités sociales de santé"), part.reducing, part.reducing_planned]
    )
    sheet.append([_("dont ciblant au moins un QPV"), part.targeting_qpv, None])
    sheet.append([_("dont public en situation de vulnérabilité"), part.vulnerable_public, None])
    sheet.append([_("dont tout le territoire (aucun lieu choisi)"), part.whole_territory, None])
    for row in part.by_qpv:
        sheet.append([_("QPV : {name}").format(name=row.name), row.fiches, row.planned])
    sheet.ws.append([])
    sheet.ws.append([_("Une fiche visant plusieurs QPV compte dans chacun, avec tout son budget.")])
