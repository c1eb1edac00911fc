"""The import template: French headers, an example row per sheet, an « Explications » sheet
and the programme's « Listes » (with drop-downs), in French whatever the reader's language."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from itertools import zip_longest
from typing import BinaryIO

from django.conf import settings
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from funding.models import BudgetLine
from projects.models import Objective, Organisation, ParticipationLevel
from spreadsheet import BOLD, Sheet, for_file_name, looks_like_formula

from .archive import MAX_ROWS
from .columns import (
    ACTIONS,
    BUDGET,
    COLUMNS,
    DATA_SHEETS,
    EXAMPLE_REFERENCE,
    EXPLANATIONS,
    FUNDING,
    LISTS,
    Column,
)

GENERAL_RULES = (
    "Modèle d'import des fiches actions et de leurs financements dans Coordo",
    "Remplissez une ligne par fiche action dans la feuille Actions, puis, si vous le souhaitez, "
    "leurs lignes budgétaires (feuille Budget) et leurs demandes de financement (feuille "
    "Financements), reliées à la fiche par sa référence.",
    "Les fiches importées arrivent à l'état « Proposée » et les demandes de financement à "
    "l'état « Brouillon » : la suite de leur cycle de vie (co-construction, COPIL, dépôt des "
    "demandes, décisions des financeurs…) se fait ensuite dans Coordo.",
    "Le fichier est vérifié en entier avant tout enregistrement : si une seule ligne est "
    "fausse, rien n'est importé et chaque erreur est indiquée (feuille, ligne, colonne).",
    "Montants : 12 500,00 € ou 12500,5 ou un nombre Excel. Dates : jj/mm/aaaa ou date Excel. "
    "Les espaces autour des valeurs sont ignorés, les lignes vides aussi.",
    "Ne renommez ni les feuilles ni les en-têtes ; n'ajoutez pas d'autre feuille. Les colonnes "
    "marquées * sont obligatoires. Limites : 10 Mo et 50 000 lignes par fichier.",
    "Aucune donnée nominative de patient ou d'usager : Coordo n'est pas un hébergement de "
    "données de santé (HDS).",
)


def write_template(*, programme, out: BinaryIO) -> None:
    """The import template for ``programme``, in French whatever the reader's language."""
    with translation.override(settings.LANGUAGE_CODE):
        _write_template(programme, out)


def _write_template(programme, out: BinaryIO) -> None:
    workbook = Workbook(write_only=True)
    lists = _lists(programme)
    _write_explanations(workbook)
    examples = _examples(programme, lists)
    for sheet in DATA_SHEETS:
        columns = COLUMNS[sheet]
        ws_sheet = Sheet(
            workbook,
            sheet,
            [
                (f"{c.header} *" if c.required else c.header, _template_kind(c), c.width)
                for c in columns
            ],
        )
        ws_sheet.append([examples[sheet].get(c.key) for c in columns])
        last = get_column_letter(len(columns))
        ws_sheet.ws.auto_filter.ref = f"A1:{last}2"
        _add_dropdowns(ws_sheet.ws, columns, lists)
    listing = Sheet(
        workbook,
        LISTS,
        [
            ("Objectifs (axe · intitulé)", "text", 50),
            ("Organisations partenaires", "text", 40),
            ("Groupes de travail", "text", 30),
            ("Catégories budgétaires", "text", 28),
            ("Niveaux de participation", "text", 24),
        ],
    )
    for row in zip_longest(*lists.values(), fillvalue=None):
        listing.append(row)
    workbook.save(out)


def _template_kind(column: Column) -> str:
    return {"money": "money", "date": "date", "year": "int"}.get(column.kind, "text")


def _lists(programme) -> dict[str, list[str]]:
    objectives = Objective.objects.filter(axis__programme=programme).select_related("axis")
    return {
        "objective": [
            f"{o.axis.number} · {o.title}" for o in objectives.order_by("axis__number", "id")
        ],
        "organisation": list(Organisation.objects.order_by("name").values_list("name", flat=True)),
        "group": list(programme.working_groups.order_by("name").values_list("name", flat=True)),
        "category": [str(label) for _, label in BudgetLine.Category.choices],
        "level": [str(label) for _, label in ParticipationLevel.choices],
    }


LIST_COLUMNS = {"objective": "A", "organisation": "B", "group": "C", "category": "D", "level": "E"}


def _add_dropdowns(ws, columns: Iterable[Column], lists: dict[str, list[str]]) -> None:
    """Drop-down lists from the « Listes » sheet (a warning only: other spellings that the
    import understands, such as an objective's title alone, stay possible)."""
    for index, column in enumerate(columns, start=1):
        kind = column.kind
        if kind not in LIST_COLUMNS or not lists[kind]:
            continue
        letter = LIST_COLUMNS[kind]
        validation = DataValidation(
            type="list",
            formula1=f"{LISTS}!${letter}$2:${letter}${len(lists[kind]) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error="Valeur absente de la feuille Listes : l'import la refusera sans doute.",
        )
        target = get_column_letter(index)
        validation.add(f"{target}2:{target}{MAX_ROWS + 1}")
        ws.data_validations.append(validation)


def _examples(programme, lists: dict[str, list[str]]) -> dict[str, dict]:
    first = {kind: (values[0] if values else "") for kind, values in lists.items()}
    funder = (
        Organisation.objects.filter(kind="ars").order_by("name").values_list("name", flat=True)
    ).first() or first["organisation"]
    return {
        ACTIONS: {
            "reference": EXAMPLE_REFERENCE,
            "title": "Exemple : permanences d'accès aux droits de santé en quartier prioritaire",
            "objective": first["objective"],
            "lead_organisation": first["organisation"],
            "working_group": first["group"],
            "participation_level": str(ParticipationLevel.CO_CONSTRUCTION.label),
            "target_public": "Habitants des quartiers prioritaires",
            "territory": programme.territory,
            "context": "Renoncement aux soins constaté par les partenaires du territoire.",
            "planned_start": datetime.date(2026, 1, 15),
            "planned_end": datetime.date(2026, 12, 31),
            "own_funds": Decimal("1500"),
        },
        BUDGET: {
            "reference": EXAMPLE_REFERENCE,
            "year": 2026,
            "category": str(BudgetLine.Category.STAFF.label),
            "planned": Decimal("12500"),
            "actual": Decimal("0"),
            "label": "Médiatrice santé (0,5 ETP)",
        },
        FUNDING: {
            "reference": EXAMPLE_REFERENCE,
            "funder": funder,
            "scheme": "FIR prévention",
            "year": 2026,
            "requested_amount": Decimal("11000"),
        },
    }


def _write_explanations(workbook: Workbook) -> None:
    ws = workbook.create_sheet(EXPLANATIONS)
    for letter, width in zip("ABCDEF", (16, 26, 12, 44, 30, 70), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, GENERAL_RULES[0], bold=True)])
    for line in GENERAL_RULES[1:]:
        ws.append([_cell(ws, line)])
    ws.append([])
    headers = ("Feuille", "Colonne", "Obligatoire", "Format", "Exemple", "Remarques")
    ws.append([_cell(ws, h, bold=True) for h in headers])
    examples = {
        "text": "",
        "money": "12 500,00 €",
        "date": "15/01/2026",
        "year": "2026",
    }
    for sheet in DATA_SHEETS:
        for column in COLUMNS[sheet]:
            fmt = column.fmt or {
                "objective": "Texte",
                "organisation": "Nom d'organisation",
                "group": "Nom de groupe",
                "level": "Valeur de la liste",
                "category": "Valeur de la liste",
            }.get(column.kind, "Texte")
            example = examples.get(column.kind, "")
            if column.key == "reference":
                example = "A1"
            elif column.kind == "level":
                example = str(ParticipationLevel.CO_CONSTRUCTION.label)
            elif column.kind == "category":
                example = str(BudgetLine.Category.STAFF.label)
            ws.append(
                [
                    _cell(ws, sheet),
                    _cell(ws, column.header),
                    _cell(ws, "Oui" if column.required else "Non"),
                    _cell(ws, fmt),
                    _cell(ws, example),
                    _cell(ws, column.notes),
                ]
            )


def _cell(ws, value: str, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if bold:
        cell.font = BOLD
    if looks_like_formula(value):
        cell.data_type = "s"
    return cell


def template_filename(programme_name: str) -> str:
    return f"modele-import-{for_file_name(programme_name)}.xlsx"
