"""The CLSM's own work in a year, for its annual report: the resource unit's sessions (their
anonymous counts by need and by outcome), the trainings and awareness events (attendance,
audience, satisfaction) and the observation indicators of the territory (their values up to
the year). A handful of queries whatever the number of sessions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Sum
from django.utils.translation import gettext as _

from clsm.models import ObservationIndicator, ResourceSession, TrainingSession
from projects.models import Programme
from spreadsheet import Sheet


@dataclass(frozen=True)
class ResourcePart:
    sessions: int
    situations: int
    by_need: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    partners: int  # distinct organisations present at least once


@dataclass(frozen=True)
class TrainingRow:
    kind: str
    kind_label: str
    sessions: int
    attendance: int
    satisfied_percent: Decimal | None  # mean of the sessions that measured it
    mean_score: Decimal | None


@dataclass(frozen=True)
class ObservationRow:
    name: str
    unit: str
    source: str
    values: list[tuple[int, Decimal]]  # (year, value), up to the report's year


@dataclass(frozen=True)
class ClsmPart:
    year: int
    resource: ResourcePart
    trainings: list[TrainingRow]
    training_sessions: list[TrainingSession]
    observation: list[ObservationRow]


def resource_part(*, programme: Programme, year: int) -> ResourcePart:
    sessions = ResourceSession.objects.filter(programme=programme, date__year=year)
    names = [n for n, _l in ResourceSession.NEEDS] + [n for n, _l in ResourceSession.OUTCOMES]
    sums = sessions.aggregate(sessions=Count("pk"), **{n: Sum(n) for n in names})
    partners = (
        ResourceSession.partners.through.objects.filter(resourcesession__in=sessions)
        .values("organisation_id")
        .distinct()
        .count()
    )
    by_need = [(str(label), sums[n] or 0) for n, label in ResourceSession.NEEDS]
    return ResourcePart(
        sessions=sums["sessions"],
        situations=sum(n for _l, n in by_need),
        by_need=by_need,
        by_outcome=[(str(label), sums[n] or 0) for n, label in ResourceSession.OUTCOMES],
        partners=partners,
    )


def clsm_part(*, programme: Programme, year: int) -> ClsmPart:
    trainings = TrainingSession.objects.filter(programme=programme, date__year=year)
    per_kind = {
        row["kind"]: row
        for row in trainings.order_by()
        .values("kind")
        .annotate(
            sessions=Count("pk"),
            people=Sum("attendance"),
            satisfied=Avg("satisfied_percent"),
            score=Avg("mean_score"),
        )
    }
    rows = [
        TrainingRow(
            kind=kind,
            kind_label=str(label),
            sessions=per_kind.get(kind, {}).get("sessions", 0),
            attendance=per_kind.get(kind, {}).get("people") or 0,
            satisfied_percent=per_kind.get(kind, {}).get("satisfied"),
            mean_score=per_kind.get(kind, {}).get("score"),
        )
        for kind, label in TrainingSession.Kind.choices
    ]
    indicators = ObservationIndicator.objects.filter(programme=programme).prefetch_related("values")
    observation = [
        ObservationRow(
            name=i.name,
            unit=i.unit,
            source=i.source,
            values=[(v.year, v.value) for v in i.values.all() if v.year <= year],
        )
        for i in indicators
    ]
    return ClsmPart(
        year=year,
        resource=resource_part(programme=programme, year=year),
        trainings=rows,
        training_sessions=list(trainings.select_related("action").order_by("date", "pk")),
        observation=observation,
    )


def write_clsm_sheets(workbook, *, programme: Programme, year: int) -> None:
    """The CLSM's own work as sheets of the annual workbook (nothing for a CLS)."""
    if not programme.is_clsm:
        return
    part = clsm_part(programme=programme, year=year)
    sheet = Sheet(
        workbook,
        _("CLSM cellule ressource")[:31],
        [(_("Situations examinées"), "text", 40), (_("Nombre"), "count", 12)],
    )
    for label, n in part.resource.by_need:
        sheet.append([_("Besoin : {label}").format(label=label), n])
    sheet.close()
    sheet = Sheet(
        workbook,
        _("CLSM suites données")[:31],
        [(_("Suite donnée"), "text", 40), (_("Situations"), "count", 12)],
    )
    for label, n in part.resource.by_outcome:
        sheet.append([label, n])
    sheet.close()
    sheet = Sheet(
        workbook,
        _("CLSM formations")[:31],
        [
            (_("Date"), "date", 12),
            (_("Type"), "text", 24),
            (_("Intitulé"), "text", 44),
            (_("Public"), "text", 24),
            (_("Participant·es"), "count", 14),
            (_("Satisfait·es (%)"), "number", 14),
            (_("Note moyenne /5"), "number", 14),
            (_("Fiche action"), "text", 40),
        ],
    )
    for s in part.training_sessions:
        sheet.append(
            [
                s.date,
                str(s.get_kind_display()),
                s.title,
                str(s.get_audience_display()),
                s.attendance,
                s.satisfied_percent,
                s.mean_score,
                s.action.title if s.action else "",
            ]
        )
    sheet.close()
    sheet = Sheet(
        workbook,
        _("CLSM observation")[:31],
        [
            (_("Indicateur"), "text", 40),
            (_("Unité"), "text", 12),
            (_("Source"), "text", 40),
            (_("Année"), "int", 8),
            (_("Valeur"), "number", 12),
        ],
    )
    for row in part.observation:
        for y, value in row.values:
            sheet.append([row.name, row.unit, row.source, y, value])
    sheet.close()
