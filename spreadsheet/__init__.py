"""Coordo's spreadsheets: one write-only sheet, one rule for user text, one download helper.

Every workbook Coordo writes (funding follow-up, annual report, audit trail, import template)
and the audit trail's CSV go through here, so that they share one house style — bold frozen
header, widths, autofilter, French number and date formats, real ``SUM`` totals — and one
defence: user text never becomes a formula (in xlsx it is stored as text; in CSV it is
prefixed with an apostrophe) and pasted control characters are dropped. Nothing here knows
about Coordo's models: it sits below every other package.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Iterable
from typing import BinaryIO

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

MONEY = '#,##0.00\\ "€"'  # shown as « 12 500,00 € » by a French spreadsheet
DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM:SS"
BOLD = Font(bold=True)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts with one of these as a formula (or, for the tab and
# carriage return, as the start of one once the cell is trimmed).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Column kinds added up in the totals row: amounts, counts and per-row sums of the counts.
SUMMED = ("money", "count", "row_sum")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def clean_text(value: str) -> str:
    """Text as a workbook can hold it: control characters pasted from elsewhere dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def csv_value(value: object) -> object:
    """A value for a CSV cell: dates in French, nothing for None, formulas neutralised."""
    if isinstance(value, datetime.datetime):
        return f"{value:%d/%m/%Y %H:%M:%S}"
    if value is None:
        return ""
    if looks_like_formula(value):
        return "'" + value  # shown as text by the spreadsheet, never run as a formula
    return value


class Sheet:
    """One write-only sheet. ``columns`` are ``(header, kind, width)``; the kinds:

    ``text``, ``int`` (a number that is not added up, such as a year), ``count`` (an integer
    that is), ``number`` (a measured value), ``money``, ``date``, ``datetime``, and
    ``row_sum`` (a ``SUM`` formula of the row's ``count`` columns before it).
    ``close()`` adds a totals row when a column adds up, and the autofilter."""

    def __init__(self, workbook: Workbook, title: str, columns: list[tuple[str, str, int]]):
        self.ws = workbook.create_sheet(title)
        self.kinds = [kind for _, kind, _ in columns]
        for index, (_, _, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        self.ws.append([self._bold(header) for header, _, _ in columns])
        self.rows = 0

    def _bold(self, value) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        cell.font = BOLD
        return cell

    def _cell(self, value, kind: str):
        if kind == "row_sum":
            first = get_column_letter(self.kinds.index("count") + 1)
            last = get_column_letter(self.kinds.index("row_sum"))  # the column before it
            row = self.rows + 2
            return WriteOnlyCell(self.ws, value=f"=SUM({first}{row}:{last}{row})")
        if value is None or value == "":
            return None  # no cell at all
        if isinstance(value, str):
            value = clean_text(value)
            if not looks_like_formula(value):
                return value  # plain text: openpyxl makes the cell (cheaper)
            cell = WriteOnlyCell(self.ws, value=value)
            cell.data_type = "s"  # user text is text, even when it looks like a formula
            return cell
        if kind in ("date", "datetime"):
            cell = WriteOnlyCell(self.ws, value=to_excel(value))  # a serial number, formatted
            cell.number_format = DATETIME if kind == "datetime" else DATE
            return cell
        if kind == "money":
            cell = WriteOnlyCell(self.ws, value=value)
            cell.number_format = MONEY
            return cell
        return value

    def append(self, values: Iterable) -> None:
        self.ws.append([self._cell(v, k) for v, k in zip(values, self.kinds, strict=True)])
        self.rows += 1

    def close(self) -> None:
        """Totals of the columns that add up, as ``SUM`` formulas, then the autofilter."""
        last_row = self.rows + 1
        if any(kind in SUMMED for kind in self.kinds):
            totals = []
            for index, kind in enumerate(self.kinds, start=1):
                letter = get_column_letter(index)
                if index == 1:
                    totals.append(self._bold("Total"))
                elif kind in SUMMED:
                    cell = self._bold(f"=SUM({letter}2:{letter}{last_row})" if self.rows else 0)
                    if kind == "money":
                        cell.number_format = MONEY
                    totals.append(cell)
                else:
                    totals.append(None)
            self.ws.append(totals)
        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.kinds))}{last_row}"


def for_file_name(name: str) -> str:
    """A name (a programme's) as it may appear in a download's file name on every system."""
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def xlsx_response(write: Callable[[BinaryIO], None], filename: str) -> FileResponse:
    """A workbook download: ``write(out)`` fills a spooled temporary file (in memory up to
    8 MB, on disk beyond), which is then streamed as an attachment."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
