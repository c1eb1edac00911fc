"""The annual report as a workbook: one sheet per table of the report, in the house style of
the funding workbook (bold frozen header, autofilter, widths, French number and date formats,
``SUM`` totals, user text never read as a formula), written in openpyxl's write-only mode.

The long lists (every indicator, every evaluation report) are streamed from the database; the
other sheets come from the ``AnnualReport`` already computed. The transitions are counted per
month: event by event, they are in the audit-trail export (``audit.export``).
"""

from __future__ import annotations

from typing import BinaryIO

from django.utils.dates import MONTHS_AP
from openpyxl import Workbook

from spreadsheet import Sheet, for_file_name

from .clsm import write_clsm_sheets
from .diagnostic_export import write_diagnostic_sheets
from .figures import AnnualReport
from .parts import evaluation_rows, indicator_rows
from .territory import write_territory_sheet


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Oui" if value else "Non")


def write_annual_workbook(*, report: AnnualReport, out: BinaryIO) -> None:
    """Write the report to ``out``. Call it in the application's language: the labels of the
    report are written as they are."""
    workbook = Workbook(write_only=True)
    programme, year = report.programme, report.year

    # 1. Fiches per axis and state.
    actions = report.actions
    sheet = Sheet(
        workbook,
        "1. Fiches par axe et état",
        [("Axe", "text", 40)]
        + [(label, "count", 13) for _, label in actions.states]
        + [("Total", "row_sum", 10), ("Actives dans l'année", "count", 14)],
    )
    for row in actions.rows:
        sheet.append([row.label, *(row.by_state[s] for s, _ in actions.states), None, row.active])
    sheet.close()

    # 2. Transitions per month (event by event, they are in the audit-trail export).
    sheet = Sheet(
        workbook,
        "2. Transitions par mois",
        [("Transition", "text", 28), ("De", "text", 24), ("Vers", "text", 24)]
        + [(str(MONTHS_AP[m]), "count", 8) for m in range(1, 13)]
        + [("Total", "row_sum", 10)],
    )
    for row in report.transitions.rows:
        sheet.append([row.label, row.from_label, row.to_label, *row.per_month, None])
    sheet.close()

    # 3. Meetings held and their decisions: one row per agenda item.
    sheet = Sheet(
        workbook,
        "3. Séances et décisions",
        [
            ("Date", "datetime", 17),
            ("Instance", "text", 28),
            ("Lieu", "text", 30),
            ("Présents", "int", 10),
            ("Point", "int", 7),
            ("Fiche action", "text", 45),
            ("Décision", "text", 26),
            ("Motif / commentaire", "text", 50),
        ],
    )
    for m in report.meetings.meetings:
        meeting = [m.date.replace(tzinfo=None), m.body_label, m.place, m.attendees]
        if not m.items:
            sheet.append([*meeting, None, "", "", ""])
        for item in m.items:
            sheet.append(
                [*meeting, item.position, item.action_title, item.decision_label, item.comment]
            )
    sheet.close()

    # 4. Funding of the year per funder.
    sheet = Sheet(
        workbook,
        "4. Financements",
        [
            ("Financeur", "text", 36),
            ("Demandes", "count", 11),
            ("Demandé", "money", 16),
            ("Accordé", "money", 16),
            ("Versé", "money", 16),
            ("Reste à percevoir", "money", 17),
        ],
    )
    for f in report.funding.rows:
        sheet.append([f.name, f.requests, f.requested, f.granted, f.paid, f.remaining])
    sheet.close()

    # 5. Indicators against their targets.
    sheet = Sheet(
        workbook,
        "5. Indicateurs par type",
        [
            ("Type", "text", 16),
            ("Indicateurs", "count", 12),
            ("Mesurés", "count", 10),
            ("Mesurés avec cible", "count", 18),
            ("Cible atteinte", "count", 14),
        ],
    )
    for k in report.indicators.kinds:
        sheet.append([k.label, k.total, k.measured, k.with_target, k.reached])
    sheet.close()

    sheet = Sheet(
        workbook,
        "5. Indicateurs",
        [
            ("Axe", "text", 30),
            ("N° fiche", "int", 9),
            ("Fiche action", "text", 40),
            ("Indicateur", "text", 40),
            ("Type", "text", 12),
            ("Unité", "text", 12),
            ("Valeur de référence", "number", 12),
            ("Cible", "number", 10),
            (f"Dernière mesure au 31/12/{year}", "number", 14),
            ("Date de la mesure", "date", 13),
            ("Cible atteinte", "text", 10),
        ],
    )
    for i in indicator_rows(programme=programme, year=year):
        sheet.append(
            [
                i.axis,
                i.action_id,
                i.action_title,
                i.label,
                i.kind_label,
                i.unit,
                i.baseline,
                i.target,
                i.value,
                i.measured_on,
                _yes_no(i.reached),
            ]
        )
    sheet.close()

    # 6. Participation.
    part = report.participation
    sheet = Sheet(
        workbook,
        "6. Origine des propositions",
        [
            ("Proposée par", "text", 26),
            ("Fiches proposées dans l'année", "count", 14),
            ("Retenues", "count", 10),
            ("Fusionnées", "count", 10),
            ("Non retenues", "count", 10),
            ("À examiner", "count", 10),
        ],
    )
    for o in part.proposals.by_origin:
        sheet.append([o.label, o.proposed, o.taken_up, o.merged, o.declined, o.waiting])
    sheet.close()
    sheet = Sheet(
        workbook,
        "6. Propositions d'habitants",
        [("Suite donnée", "text", 30), ("Propositions reçues dans l'année", "count", 16)],
    )
    for _, label, n in part.proposals.residents.by_state:
        sheet.append([label, n])
    sheet.close()

    sheet = Sheet(
        workbook,
        "6. Niveaux de participation",
        [("Niveau de participation", "text", 26), ("Fiches actives dans l'année", "count", 16)],
    )
    for _, label, n in part.by_level:
        sheet.append([label, n])
    sheet.close()

    sheet = Sheet(
        workbook,
        "6. Présences aux séances",
        [
            ("Instance", "text", 30),
            ("Séances tenues", "count", 10),
            ("Présences", "count", 11),
            ("Personnes présentes", "int", 14),
            ("Séances avec d'autres participants", "count", 18),
        ],
    )
    for a in part.attendance:
        sheet.append([a.label, a.meetings, a.attendances, a.people, a.with_others])
    sheet.close()

    sheet = Sheet(
        workbook,
        "6. Groupes de travail",
        [("Groupe de travail", "text", 36), ("Membres", "int", 10), ("Fiches", "count", 10)],
    )
    for g in part.groups:
        sheet.append([g.name, g.members, g.actions])
    sheet.close()

    sheet = Sheet(
        workbook,
        "6. Membres par rôle",
        [("Rôle", "text", 36), ("Personnes", "int", 11)],
    )
    for label, n in part.members_by_role:
        sheet.append([label, n])
    sheet.close()

    sheet = Sheet(
        workbook,
        "6. Rapports d'évaluation",
        [
            ("N° fiche", "int", 9),
            ("Fiche action", "text", 40),
            ("Porteur", "text", 30),
            ("Participation des habitants et des personnes concernées", "text", 70),
        ],
    )
    for r in evaluation_rows(programme=programme, year=year):
        sheet.append([r.action_id, r.action_title, r.lead, r.participation])
    sheet.close()

    write_diagnostic_sheets(workbook, programme=programme)
    write_territory_sheet(workbook, programme=programme, year=year)
    write_clsm_sheets(workbook, programme=programme, year=year)
    workbook.save(out)


def report_filename(programme_name: str, year: int) -> str:
    return f"rapport-annuel-{for_file_name(programme_name)}-{year}.xlsx"
