"""Untrusted workbooks bounded before openpyxl parses them (``check_archive``).

The file:

- at most ``MAX_FILE_BYTES`` (10 MB);
- a zip archive holding an Excel workbook (not an old ``.xls``, not a ``.ods`` or ``.csv``);
- no zip bomb: at most ``MAX_MEMBERS`` members, their declared uncompressed sizes add up to at
  most ``MAX_UNCOMPRESSED_BYTES``, the shared strings to at most ``MAX_SHARED_STRINGS_BYTES``,
  and no large member inflates more than ``MAX_RATIO`` times. Declared sizes can be trusted as
  bounds: Python's ``zipfile`` never inflates a member beyond its declared size (a member that
  lies fails its CRC check, and the file is refused).

Its worksheets, found as openpyxl finds them and streamed once (memory flat):

- no row numbered past ``MAX_ROW_NUMBER``, and the last row numbers of all the sheets add up to
  at most ``MAX_ROW_NUMBERS``: openpyxl fills every gap between row numbers with empty rows, so
  a lone row numbered 20,000,000 in a 12 KB file would hold the request for many seconds;
- no filled cell past column ``MAX_COLUMN``;
- no formula without its calculated value in a data sheet: openpyxl reads the value Excel or
  LibreOffice stored with the formula, and would read a formula without one as an empty cell
  (an optional amount as 0).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from django.utils.translation import gettext as _
from openpyxl.packaging.relationship import get_rels_path
from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple, get_column_letter
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_SHARED_STRINGS,
    ARC_WORKBOOK,
    REL_NS,
    SHARED_STRINGS,
    SHEET_MAIN_NS,
    XLSM,
    XLSX,
    XLTM,
    XLTX,
)

from .cells import header_key
from .columns import DATA_SHEETS

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_MEMBERS = 1_000
# A 50,000-row workbook of the template's columns inflates to about 40 MB (sheet XML and
# shared strings); 200 MB leaves room for wide text without letting a bomb through.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# openpyxl keeps every shared string in memory (190 MB of them cost 222 MB). Shared strings are
# stored once however many cells repeat them (references, categories, names); 50,000 rows each
# with 300 characters of text of their own (a long « Contexte et besoins » on every fiche) make
# about 17 MB, markup included. And a file under 10 MB holds at most 40 to 50 MB of real text,
# which deflates 4 to 5 times: past 50 MB, it is padding.
MAX_SHARED_STRINGS_BYTES = 50 * 1024 * 1024
# Spreadsheet XML deflates 5 to 30 times; a run of zeros deflates 1,000 times.
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024  # small members are not ratio-checked (tiny files vary widely)
# The data rows, their header and some blank rows; every row number up to the last one costs
# openpyxl (and the reader) an empty row, filled or not.
MAX_ROW_NUMBER = MAX_ROWS + 1_000
# The reader goes through every sheet it does not know looking for a value, so a thousand
# sheets (or one sheet listed a thousand times in the workbook) each ending at row 50,000 would
# add up; MAX_ROWS data rows span that many row numbers over all the sheets, the rest is slack.
MAX_ROW_NUMBERS = 2 * MAX_ROWS
# The template has 12 columns; the reader never looks past 60. A cell with nothing in it (only
# a style, which spreadsheet programs sometimes write far to the right) is harmless.
MAX_COLUMN = 200
FORMULAS_LISTED = 20

_WORKBOOK_TYPES = frozenset({XLTM, XLTX, XLSM, XLSX})
_ROW, _FORMULA, _VALUE, _INLINE = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "f", "v", "is"))
_SHEET_ID = f"{{{REL_NS}}}id"
_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")  # the usual form; others go to openpyxl
_DATA_KEYS = frozenset(header_key(sheet) for sheet in DATA_SHEETS)
# What reading a member may raise besides FileRefused: bad XML, a bad CRC or deflate stream,
# truncated data, an encrypted member or an unknown compression method.
_UNREADABLE = (
    ParseError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


class FileRefused(Exception):
    """The whole file is refused before its rows are looked at (size, format, zip bomb,
    too many rows); ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unreadable() -> FileRefused:
    return FileRefused(
        _(
            "Ce classeur n'a pas pu être lu. Enregistrez-le au format « Classeur Excel (.xlsx) » "
            "depuis Excel ou LibreOffice, en partant du modèle, puis déposez-le à nouveau."
        )
    )


def check_archive(file: IO[bytes], size: int) -> None:
    """Refuse (``FileRefused``) what must not reach openpyxl. ``file`` is rewound."""
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            _("Le fichier pèse {size} Mo : la limite est de {limit} Mo.").format(
                size=_megabytes(size), limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    file.seek(0)
    magic = file.read(8)
    file.seek(0)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            _(
                "Ce fichier est au format Excel 97-2003 (.xls) : ouvrez-le et enregistrez-le au "
                "format « Classeur Excel (.xlsx) », puis déposez-le à nouveau."
            )
        )
    if not magic.startswith(b"PK"):
        raise _not_xlsx()
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        file.seek(0)
        raise _not_xlsx() from exc
    try:
        with archive:
            _check_sizes(archive.infolist())
            try:
                _check_parts(archive)
            except _UNREADABLE as exc:
                raise unreadable() from exc
    finally:
        file.seek(0)


def _not_xlsx() -> FileRefused:
    return FileRefused(
        _(
            "Ce fichier n'est pas un classeur Excel (.xlsx). Partez du modèle à télécharger sur "
            "cette page et enregistrez-le au format « Classeur Excel (.xlsx) »."
        )
    )


def _check_sizes(members: list[zipfile.ZipInfo]) -> None:
    names = {m.filename for m in members}
    if ARC_CONTENT_TYPES not in names or ARC_WORKBOOK not in names:
        raise _not_xlsx()
    bomb = FileRefused(
        _(
            "Ce fichier a une structure anormale (une fois décompressé, il serait démesuré) : "
            "il est refusé. Enregistrez vos données dans le modèle et déposez-le à nouveau."
        )
    )
    if len(members) > MAX_MEMBERS:
        raise bomb
    total = 0
    for member in members:
        total += member.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise bomb
        if member.file_size > RATIO_MIN_BYTES and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise bomb


def _check_parts(archive: zipfile.ZipFile) -> None:
    """The shared strings' budget, then the worksheets. Raises what reading a member raises
    when the archive or its XML is broken."""
    # Of two members with the same name, zipfile (and so openpyxl) reads the last.
    members = {m.filename: m for m in archive.infolist()}
    sheets, strings = _parts(archive, members)
    for name in strings:
        if members[name].file_size > MAX_SHARED_STRINGS_BYTES:
            raise FileRefused(
                _(
                    "Les textes de ce classeur pèseraient {size} Mo une fois décompressés : la "
                    "limite est de {limit} Mo. Découpez-le en plusieurs fichiers, puis "
                    "déposez-les un par un."
                ).format(
                    size=_megabytes(members[name].file_size),
                    limit=MAX_SHARED_STRINGS_BYTES // (1024 * 1024),
                )
            )
    scan = _Scan()
    for member, names in sheets.items():
        scan.sheet(archive, member, names)
    scan.refuse_formulas()


# --- the parts openpyxl reads --------------------------------------------------------------------
# Found as openpyxl finds them (openpyxl.reader.excel, openpyxl.packaging.relationship), not by
# their usual names: a sheet can live anywhere in the archive, the shared strings too. Where
# openpyxl picks one candidate (the first workbook part of the content types, say), every
# candidate is taken, so that what openpyxl reads is always among what is checked here.


def _elements(archive: zipfile.ZipFile, member: str) -> Iterator[tuple[int, str, dict]]:
    """(depth, local name, attributes) of each element of ``member``, in document order,
    streamed: each element is dropped once read, whatever the member's size."""
    stack: list[Element] = []
    with archive.open(member) as source:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                stack.append(element)
                yield len(stack), element.tag.rpartition("}")[2], element.attrib
            else:
                stack.pop()
                if stack:
                    del stack[-1][:]


def _parts(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]
) -> tuple[dict[str, list[str]], set[str]]:
    """({worksheet member: its sheet names}, shared-strings members). A member listed under
    several names counts once per name (the reader goes through it once per name); a worksheet
    member the workbook does not list is named after itself."""
    workbooks, strings = {ARC_WORKBOOK}, {ARC_SHARED_STRINGS}
    for depth, tag, attrib in _elements(archive, ARC_CONTENT_TYPES):
        if depth == 2 and tag == "Override":
            part = (attrib.get("PartName") or "")[1:]
            if attrib.get("ContentType") in _WORKBOOK_TYPES:
                workbooks.add(part)
            elif attrib.get("ContentType") == SHARED_STRINGS:
                strings.add(part)
    sheets: dict[str, list[str]] = {}
    for workbook in sorted(workbooks & members.keys()):
        targets = _targets(archive, members, workbook)
        in_sheets = False
        for depth, tag, attrib in _elements(archive, workbook):
            if depth == 2:
                in_sheets = tag == "sheets"
            elif depth == 3 and in_sheets and attrib.get(_SHEET_ID):
                target = targets.get(attrib[_SHEET_ID])
                if target in members:
                    sheets.setdefault(target, []).append(attrib.get("name") or target)
    for name in members:
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            sheets.setdefault(name, [name])
    return sheets, strings & members.keys()


def _targets(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], part: str
) -> dict[str, str]:
    """{relationship id: member} of ``part``'s relationships, resolved as openpyxl's
    ``get_dependents`` resolves them (an external target is left as written)."""
    rels = get_rels_path(part)
    if rels not in members:
        return {}
    parent = posixpath.split(posixpath.dirname(rels))[0]
    targets = {}
    for depth, _tag, attrib in _elements(archive, rels):
        if depth != 2:
            continue
        target = attrib.get("Target") or ""
        if attrib.get("TargetMode") != "External":
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(parent, target))
        targets[attrib.get("Id")] = target
    return targets


# --- the worksheets ------------------------------------------------------------------------------


class _Scan:
    """One pass over the worksheets, refusing rows and columns past the bounds at once and
    collecting the formulas without a value of the data sheets."""

    def __init__(self):
        self.rows = 0  # the last row numbers of the sheets already read, added up
        self.formulas: list[str] = []
        self.formula_count = 0
        self.columns: dict[str, int] = {}  # column letters already converted

    def sheet(self, archive: zipfile.ZipFile, member: str, names: list[str]) -> None:
        """Read rows as openpyxl does (``WorkSheetParser.parse_row``): when a row element ends,
        its number is its ``r`` or the previous one plus one, and its cells are its children."""
        name = names[0]
        data = any(header_key(n) in _DATA_KEYS for n in names)
        number = last = 0
        stack: list[Element] = []
        open_rows = 0  # a row's cells are kept until the row ends, as openpyxl keeps them
        with archive.open(member) as source:
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    stack.append(element)
                    if element.tag == _ROW:
                        open_rows += 1
                    continue
                stack.pop()
                if element.tag == _ROW:
                    open_rows -= 1
                    r = element.get("r")
                    number = number + 1 if r is None else _row_number(r)
                    if number > last:
                        last = number
                        self._check_row(name, number, len(names))
                    self._cells(name, number, element, data)
                    element.clear()
                if stack and not open_rows:
                    del stack[-1][:]
        self.rows += last * len(names)

    def _check_row(self, sheet: str, number: int, references: int) -> None:
        if number > MAX_ROW_NUMBER:
            raise FileRefused(
                _(
                    "La feuille « {sheet} » a une ligne numérotée {row} : un classeur à importer "
                    "s'arrête à la ligne {limit}. Supprimez les lignes en trop ou découpez le "
                    "classeur, puis déposez-le à nouveau."
                ).format(sheet=sheet, row=_number(number), limit=_number(MAX_ROW_NUMBER))
            )
        if self.rows + number * references > MAX_ROW_NUMBERS:
            raise FileRefused(
                _(
                    "Les feuilles de ce classeur vont ensemble au-delà de {limit} lignes (la "
                    "feuille « {sheet} » va jusqu'à la ligne {row}) : supprimez les feuilles et "
                    "les lignes en trop ou découpez le classeur, puis déposez-le à nouveau."
                ).format(sheet=sheet, row=_number(number), limit=_number(MAX_ROW_NUMBERS))
            )

    def _cells(self, sheet: str, row: int, element: Element, data: bool) -> None:
        column = 0
        for cell in element:
            ref = cell.get("r")
            if ref:
                cell_row, column = self._coordinate(ref)
                if cell_row > MAX_ROW_NUMBER:  # openpyxl goes by the row's number, but still
                    self._check_row(sheet, cell_row, 1)
            else:
                column += 1
            if not len(cell):  # no value, formula or text: a style at most
                continue
            if column > MAX_COLUMN:
                letter = get_column_letter(column)
                raise FileRefused(
                    _(
                        "La feuille « {sheet} » a une cellule remplie en colonne {column} "
                        "({cell}) : un classeur à importer s'arrête à la colonne {limit}. "
                        "Supprimez les colonnes en trop, puis déposez-le à nouveau."
                    ).format(
                        sheet=sheet,
                        column=letter,
                        cell=f"{letter}{row}",
                        limit=get_column_letter(MAX_COLUMN),
                    )
                )
            if (
                data
                and cell.find(_FORMULA) is not None
                and cell.find(_VALUE) is None
                and cell.find(_INLINE) is None
            ):
                self.formula_count += 1
                if len(self.formulas) < FORMULAS_LISTED:
                    self.formulas.append(f"{sheet}!{get_column_letter(column)}{row}")

    def _coordinate(self, ref: str) -> tuple[int, int]:
        """(row, column) of a cell reference, read as openpyxl reads it."""
        match = _CELL.fullmatch(ref)
        if match is None:
            try:
                return coordinate_to_tuple(ref)
            except (ValueError, KeyError, IndexError) as exc:
                raise unreadable() from exc
        letters = match[1]
        column = self.columns.get(letters)
        if column is None:
            column = self.columns[letters] = column_index_from_string(letters)
        return int(match[2]), column

    def refuse_formulas(self) -> None:
        if not self.formula_count:
            return
        if self.formula_count == 1:
            raise FileRefused(
                _(
                    "La cellule {cell} contient une formule sans valeur calculée : ouvrez le "
                    "classeur dans Excel ou LibreOffice et enregistrez-le, puis déposez-le à "
                    "nouveau."
                ).format(cell=self.formulas[0])
            )
        cells = ", ".join(self.formulas)
        if self.formula_count > len(self.formulas):
            cells += ", …"
        raise FileRefused(
            _(
                "{count} cellules contiennent une formule sans valeur calculée ({cells}) : "
                "ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le, puis "
                "déposez-le à nouveau."
            ).format(count=_number(self.formula_count), cells=cells)
        )


def _row_number(text: str) -> int:
    """A row's ``r`` as openpyxl reads it: an integer, or a float with nothing after the
    point; anything else makes openpyxl fail, and the file is refused as unreadable."""
    try:
        return int(text)
    except ValueError:
        pass
    value = float(text)  # ValueError: unreadable
    if not value.is_integer():
        raise ValueError(f"row number {text!r}")
    return int(value)


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _megabytes(size: int) -> str:
    value = Decimal(size) / (1024 * 1024)
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}".replace(".", ",")
