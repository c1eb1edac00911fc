"""The diagnostic and the contribution to the other schemes in the annual report's workbook:
the findings (and how many fiches answer each), the fiches answering no finding, and per
scheme and objective the fiches contributing to it with their state and planned budget."""

from __future__ import annotations

from openpyxl import Workbook

from projects.models import Programme
from spreadsheet import Sheet

from .diagnostic import contribution, coverage, findings_with_answers


def write_diagnostic_sheets(workbook: Workbook, *, programme: Programme) -> None:
    """Add the sheets to ``workbook`` (call in the application's language)."""
    cover = coverage(programme)
    sheet = Sheet(
        workbook,
        "Diagnostic – constats",
        [
            ("Constat ou besoin", "text", 44),
            ("Thème", "text", 28),
            ("Déterminant de santé", "text", 28),
            ("Population", "text", 28),
            ("Territoire ou QPV", "text", 24),
            ("Donnée", "text", 30),
            ("Source", "text", 28),
            ("Année", "int", 8),
            ("Fiches qui y répondent", "count", 12),
        ],
    )
    for f in findings_with_answers(programme):
        sheet.append(
            [
                f.title,
                f.get_theme_display(),
                f.get_determinant_display(),
                f.population,
                f.territory,
                f.data,
                f.source,
                f.year,
                f.answers,
            ]
        )
    sheet.close()

    sheet = Sheet(
        workbook,
        "Fiches sans constat",
        [("N° fiche", "int", 9), ("Fiche action", "text", 50), ("État", "text", 24)],
    )
    for a in cover.fiches_without_finding.first:
        sheet.append([a.pk, a.title, a.get_state_display()])
    sheet.close()

    sheet = Sheet(
        workbook,
        "Contribution aux démarches",
        [
            ("Démarche", "text", 36),
            ("Nature", "text", 30),
            ("Objectif ou axe", "text", 44),
            ("N° fiche", "int", 9),
            ("Fiche action", "text", 44),
            ("État", "text", 22),
            ("Budget prévisionnel", "money", 16),
        ],
    )
    for row in contribution(programme):
        for line in row.objectives:
            if not line.actions:
                sheet.append(
                    [row.scheme.name, row.scheme.get_kind_display(), line.objective.title]
                    + [None] * 4
                )
            for a in line.actions:
                sheet.append(
                    [
                        row.scheme.name,
                        row.scheme.get_kind_display(),
                        line.objective.title,
                        a.pk,
                        a.title,
                        a.get_state_display(),
                        a.budget,
                    ]
                )
    sheet.close()
