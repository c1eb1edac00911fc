"""The region's view as one workbook: a sheet per part of the page (what the view covers, the
programmes, fiches per state and per axis theme, funding per funder and per funder and year,
indicators, séances, residents' proposals), in the house style of ``spreadsheet.Sheet``
(French headers, ``SUM`` totals, user text never read as a formula), written in openpyxl's
write-only mode from the ``Region`` already computed: no query here.
"""

from __future__ import annotations

from typing import BinaryIO

from openpyxl import Workbook

from projects.models import Programme
from spreadsheet import Sheet

from .region import Region


def _scope(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(workbook, "Périmètre", [("Élément", "text", 46), ("Valeur", "text", 50)])
    kind = str(Programme.Kind(region.kind).label) if region.kind else "CLS et CLSM"
    sheet.append(["Dispositifs", kind])
    sheet.append(["Année", str(region.year) if region.year else "Toutes les années"])
    sheet.append(["Fiches, indicateurs et retards au", f"{region.as_of:%d/%m/%Y}"])
    sheet.append(["Dispositifs couverts", str(region.totals.programmes)])
    sheet.append(
        [
            "Filtré par l'année",
            "séances tenues, demandes de financement de l'année budgétaire, "
            "propositions d'habitant·es reçues",
        ]
    )
    sheet.close()


def _programmes(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(
        workbook,
        "Dispositifs",
        [
            ("Dispositif", "text", 40),
            ("Type", "text", 8),
            ("Statut", "text", 22),
            ("Territoire", "text", 34),
            ("Début", "date", 12),
            ("Fin", "date", 12),
            ("Fiches", "count", 9),
            ("Fiches actives", "count", 10),
            ("Tâches en retard", "count", 10),
            ("Séances tenues", "count", 10),
            ("Propositions d'habitant·es", "count", 13),
            ("Demandes de financement", "count", 12),
            ("Demandé", "money", 15),
            ("Accordé", "money", 15),
            ("Versé", "money", 15),
        ],
    )
    for p in region.programmes:
        sheet.append(
            [
                p.name,
                p.kind,
                p.status_label,
                p.territory,
                p.start_date,
                p.end_date,
                p.fiches,
                p.active,
                p.late,
                p.meetings,
                p.resident_proposals,
                p.requests,
                p.requested,
                p.granted,
                p.paid,
            ]
        )
    sheet.close()


def _fiches(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(workbook, "Fiches par état", [("État", "text", 32), ("Fiches", "count", 10)])
    for bar in region.fiches_by_state:
        sheet.append([bar.label, bar.value])
    sheet.close()
    sheet = Sheet(
        workbook,
        "Fiches par thème",
        [
            ("Thème (axe stratégique)", "text", 50),
            ("Dispositifs", "int", 11),
            ("Fiches", "count", 10),
            ("Fiches actives", "count", 10),
        ],
    )
    for theme in region.fiches_by_theme:
        sheet.append([theme.label, theme.programmes, theme.fiches, theme.active])
    sheet.close()


def _funding(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(
        workbook,
        "Financements par financeur",
        [
            ("Financeur", "text", 40),
            ("Demandes", "count", 11),
            ("Demandé", "money", 16),
            ("Accordé", "money", 16),
            ("Versé", "money", 16),
            ("Reste à percevoir", "money", 17),
        ],
    )
    for f in region.funding_by_funder:
        sheet.append([f.name, f.requests, f.requested, f.granted, f.paid, f.remaining])
    sheet.close()
    sheet = Sheet(
        workbook,
        "Financements par année",
        [
            ("Financeur", "text", 40),
            ("Année", "int", 8),
            ("Demandes", "count", 11),
            ("Demandé", "money", 16),
            ("Accordé", "money", 16),
            ("Versé", "money", 16),
        ],
    )
    for f in region.funding_by_funder_year:
        sheet.append([f.name, f.year, f.requests, f.requested, f.granted, f.paid])
    sheet.close()


def _indicators(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(
        workbook,
        "Indicateurs",
        [
            ("Type", "text", 16),
            ("Indicateurs", "count", 12),
            ("Mesurés", "count", 10),
            ("Mesurés avec cible", "count", 18),
            ("Cible atteinte", "count", 14),
        ],
    )
    for k in region.indicators_by_kind:
        sheet.append([k.label, k.total, k.measured, k.with_target, k.reached])
    sheet.close()


def _participation(workbook: Workbook, region: Region) -> None:
    sheet = Sheet(workbook, "Séances tenues", [("Instance", "text", 32), ("Séances", "count", 10)])
    for bar in region.meetings_by_body:
        sheet.append([bar.label, bar.value])
    sheet.close()
    sheet = Sheet(
        workbook,
        "Propositions d'habitant·es",
        [("Suite donnée", "text", 34), ("Propositions reçues", "count", 14)],
    )
    for bar in region.resident_proposals_by_state:
        sheet.append([bar.label, bar.value])
    sheet.close()


def write_region_workbook(*, region: Region, out: BinaryIO) -> None:
    """Write the region's view to ``out``. Call it in the application's language: the labels
    of the view (states, bodies, kinds of indicator) are written as they are."""
    workbook = Workbook(write_only=True)
    _scope(workbook, region)
    _programmes(workbook, region)
    _fiches(workbook, region)
    _funding(workbook, region)
    _indicators(workbook, region)
    _participation(workbook, region)
    workbook.save(out)


def region_filename(region: Region) -> str:
    kind = region.kind or "CLS-CLSM"
    year = region.year or "toutes-annees"
    return f"territoire-{kind}-{year}.xlsx"
