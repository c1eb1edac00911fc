"""Reading and checking an uploaded workbook (nothing here writes to the database: the import
service does, through the other services).

The coordinator downloads the template (``importer.template``), fills it and uploads it;
``read_workbook`` first bounds the file (``importer.archive``), then reads it with openpyxl in
read-only (streaming) mode, with the columns bounded by the headers (a forged sheet dimension
cannot make rows huge), counts the rows — past ``MAX_ROWS`` non-empty data rows (all sheets
together) the file is refused at once — and returns either the rows to create or every error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from funding.models import BudgetLine
from projects.models import Action, ParticipationLevel

from .archive import MAX_ROWS, FileRefused, check_archive, unreadable
from .cells import BadCell, Lookups, convert, header_key, is_empty, key, text_of
from .columns import (
    ACTIONS,
    BUDGET,
    COLUMNS,
    DATA_SHEETS,
    EXAMPLE_REFERENCE,
    FUNDING,
    SHEETS,
    ActionRow,
    BudgetRow,
    CellError,
    Column,
    ParsedImport,
    RequestRow,
)

logger = logging.getLogger(__name__)

MAX_COLUMNS = 60  # cells read from the header row


class _Reader:
    """One pass over the data sheets, collecting rows and errors."""

    def __init__(self, programme):
        self.lookups = Lookups(programme)
        self.result = ParsedImport()
        self.rows_seen = 0

    def error(self, sheet: str, row: int | None, column: Column | None, message: str, index=None):
        letter = get_column_letter(index + 1) if index is not None else ""
        header = column.header if column else ""
        self.result.errors.append(CellError(sheet, row, letter, header, message))

    def headers(self, sheet: str, ws) -> dict[str, int] | None:
        """{column key: index} from row 1, or None when the header row is unusable."""
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        known = {header_key(c.header): c for c in COLUMNS[sheet]}
        positions: dict[str, int] = {}
        ok = True
        for index, value in enumerate(first):
            if is_empty(value):
                continue
            column = known.get(header_key(text_of(value)))
            letter = get_column_letter(index + 1)
            if column is None:
                expected = ", ".join(c.header for c in COLUMNS[sheet])
                self.result.errors.append(
                    CellError(
                        sheet,
                        1,
                        letter,
                        text_of(value),
                        _("Colonne « {value} » inconnue. Colonnes attendues : {expected}.").format(
                            value=text_of(value), expected=expected
                        ),
                    )
                )
                ok = False
            elif column.key in positions:
                self.error(sheet, 1, column, _("Cette colonne figure deux fois."), index)
                ok = False
            else:
                positions[column.key] = index
        for column in COLUMNS[sheet]:
            if column.required and column.key not in positions:
                self.error(
                    sheet,
                    1,
                    column,
                    _("Colonne obligatoire « {header} » absente de la ligne 1.").format(
                        header=column.header
                    ),
                )
                ok = False
        return positions if ok else None

    def rows(self, sheet: str, ws, positions: dict[str, int]) -> Iterator[tuple[int, dict, bool]]:
        """(row number, {key: converted value}, no error so far) of each non-empty data row;
        conversion errors are recorded and their key is left out."""
        width = max(positions.values()) + 1
        columns = [c for c in COLUMNS[sheet] if c.key in positions]
        required = {
            c.key: _("« {header} » est obligatoire.").format(header=c.header) for c in columns
        }
        example = key(EXAMPLE_REFERENCE)
        for number, values in enumerate(
            ws.iter_rows(min_row=2, max_col=width, values_only=True), start=2
        ):
            if all(is_empty(v) for v in values):
                continue
            self.rows_seen += 1
            if self.rows_seen > MAX_ROWS:
                raise FileRefused(
                    _(
                        "Le classeur compte plus de {max} lignes : découpez-le en plusieurs "
                        "fichiers."
                    ).format(max=f"{MAX_ROWS:,}".replace(",", "\u202f"))
                )
            reference = values[positions["reference"]]
            if isinstance(reference, str) and key(reference) == example:
                continue
            converted: dict = {}
            errors_before = len(self.result.errors)
            for column in columns:
                index = positions[column.key]
                raw = values[index] if index < len(values) else None
                if is_empty(raw):
                    if column.required:
                        self.error(sheet, number, column, required[column.key], index)
                    continue
                try:
                    converted[column.key] = convert(column, raw, self.lookups)
                except BadCell as exc:
                    self.error(sheet, number, column, str(exc), index)
            yield number, converted, len(self.result.errors) == errors_before

    def actions(self, ws, positions) -> dict[str, int]:
        """Read the fiches; returns {reference key: row} of every reference seen."""
        references: dict[str, int] = {}
        column = {c.key: c for c in COLUMNS[ACTIONS]}
        for number, values, ok in self.rows(ACTIONS, ws, positions):
            errors_before = len(self.result.errors)
            reference = values.get("reference")
            reference_key = key(reference) if reference else ""
            if reference:
                first = references.get(reference_key)
                if first:
                    self.error(
                        ACTIONS,
                        number,
                        column["reference"],
                        _("Référence « {ref} » déjà utilisée ligne {row}.").format(
                            ref=reference, row=first
                        ),
                        positions["reference"],
                    )
                else:
                    references[reference_key] = number
            title = values.get("title")
            if title and key(title) in self.lookups.existing_titles:
                self.error(
                    ACTIONS,
                    number,
                    column["title"],
                    _(
                        "Une fiche « {title} » existe déjà dans ce dispositif : a-t-elle déjà été "
                        "importée ?"
                    ).format(title=title),
                    positions["title"],
                )
            start, end = values.get("planned_start"), values.get("planned_end")
            if start and end and end < start:
                self.error(
                    ACTIONS,
                    number,
                    column["planned_end"],
                    _("La fin prévue ({end}) précède le début prévu ({start}).").format(
                        end=f"{end:%d/%m/%Y}", start=f"{start:%d/%m/%Y}"
                    ),
                    positions["planned_end"],
                )
            if ok and len(self.result.errors) == errors_before:
                data = {name: None for name in Action.FICHE_FIELDS}
                data.update(
                    context="",
                    target_public="",
                    territory="",
                    vulnerable_public=False,
                    participation_level=ParticipationLevel.CONSULTATION,
                    own_funds=Decimal("0"),
                )
                data.update({k: v for k, v in values.items() if k in data})
                self.result.actions.append(ActionRow(number, reference_key, data))
        return references

    def budget(self, ws, positions, references: dict[str, int]) -> None:
        column = {c.key: c for c in COLUMNS[BUDGET]}
        seen: dict[tuple, int] = {}
        for number, values, ok in self.rows(BUDGET, ws, positions):
            errors_before = len(self.result.errors)
            reference = self._reference(BUDGET, number, values, positions, references)
            year, category = values.get("year"), values.get("category")
            label = values.get("label", "")
            if reference and year and category:
                # Unlabelled, a line is named after its category: two of them are one too many.
                name = label or str(BudgetLine.Category(category).label)
                first = seen.setdefault((reference, year, category, key(name)), number)
                if first != number:
                    where = "label" if label else "category"
                    self.error(
                        BUDGET,
                        number,
                        column[where],
                        _(
                            "Ligne en double : la fiche « {ref} » a déjà une ligne {year} "
                            "« {category} » intitulée « {label} » (ligne {row}) ; donnez-leur "
                            "des libellés différents."
                        ).format(
                            ref=values["reference"],
                            year=year,
                            category=BudgetLine.Category(category).label,
                            label=name,
                            row=first,
                        ),
                        positions[where],
                    )
            if ok and len(self.result.errors) == errors_before:
                self.result.budget_lines.append(
                    BudgetRow(
                        number,
                        reference,
                        year,
                        category,
                        values["planned"],
                        values.get("actual", Decimal("0")),
                        label,
                    )
                )

    def funding(self, ws, positions, references: dict[str, int]) -> None:
        for number, values, ok in self.rows(FUNDING, ws, positions):
            errors_before = len(self.result.errors)
            reference = self._reference(FUNDING, number, values, positions, references)
            if ok and len(self.result.errors) == errors_before:
                self.result.requests.append(
                    RequestRow(
                        number,
                        reference,
                        values["funder"],
                        values["scheme"],
                        values["year"],
                        values["requested_amount"],
                    )
                )

    def _reference(self, sheet, number, values, positions, references) -> str:
        reference = values.get("reference")
        if not reference:
            return ""
        if key(reference) not in references:
            self.error(
                sheet,
                number,
                COLUMNS[sheet][0],
                _("Aucune fiche de référence « {ref} » dans la feuille Actions.").format(
                    ref=reference
                ),
                positions["reference"],
            )
        return key(reference)


def read_workbook(file: IO[bytes], *, size: int, programme) -> ParsedImport:
    """Check and read an uploaded workbook for ``programme``. Raises ``FileRefused`` for a
    file refused as a whole; otherwise returns the rows and every error found (the rows are
    only to be imported when there is no error at all)."""
    check_archive(file, size)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except FileRefused:
        raise
    except Exception as exc:  # untrusted input: whatever openpyxl trips on
        logger.info("Unreadable workbook: %r", exc)
        raise unreadable() from exc
    try:
        return _read(workbook, programme)
    except FileRefused:
        raise
    except Exception as exc:
        logger.info("Unreadable workbook: %r", exc)
        raise unreadable() from exc
    finally:
        workbook.close()


def _has_values(ws) -> bool:
    """Whether a sheet holds anything (an empty « Feuil1 » left in the file does no harm)."""
    ws.reset_dimensions()
    rows = ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    return any(not is_empty(v) for row in rows for v in row)


def _read(workbook, programme) -> ParsedImport:
    reader = _Reader(programme)
    result = reader.result
    by_key = {header_key(name): name for name in workbook.sheetnames}
    known = {header_key(s) for s in SHEETS}
    for name in workbook.sheetnames:
        if header_key(name) not in known and _has_values(workbook[name]):
            result.errors.append(
                CellError(
                    name,
                    None,
                    "",
                    "",
                    _(
                        "Feuille « {name} » inconnue : ses données ne seraient pas importées. "
                        "Les feuilles lues sont {sheets}."
                    ).format(name=name, sheets=", ".join(DATA_SHEETS)),
                )
            )
    if header_key(ACTIONS) not in by_key:
        result.errors.append(
            CellError(ACTIONS, None, "", "", _("La feuille « Actions » est absente du classeur."))
        )
    sheets = {}
    for sheet in DATA_SHEETS:
        name = by_key.get(header_key(sheet))
        if name is None:
            continue
        ws = workbook[name]
        ws.reset_dimensions()  # never trust the dimension the file declares
        positions = reader.headers(sheet, ws)
        sheets[sheet] = (ws, positions)
    if result.errors:
        return result  # without usable sheets and headers, rows would only add noise
    references = reader.actions(*sheets[ACTIONS])
    if BUDGET in sheets:
        reader.budget(*sheets[BUDGET], references)
    if FUNDING in sheets:
        reader.funding(*sheets[FUNDING], references)
    if not result.errors and not result.actions:
        result.errors.append(
            CellError(
                ACTIONS,
                None,
                "",
                "",
                _("La feuille « Actions » ne contient aucune fiche à importer."),
            )
        )
    return result
