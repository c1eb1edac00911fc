"""Untrusted workbooks bounded before openpyxl parses them (``check_archive``).

- at most ``MAX_FILE_BYTES`` (10 MB);
- a zip archive holding an Excel workbook (not an old ``.xls``, not a ``.ods`` or ``.csv``);
- no zip bomb: at most ``MAX_MEMBERS`` members, their declared uncompressed sizes add up to at
  most ``MAX_UNCOMPRESSED_BYTES``, and no large member inflates more than ``MAX_RATIO`` times.
  Declared sizes can be trusted as bounds: Python's ``zipfile`` never inflates a member beyond
  its declared size (a member that lies fails its CRC check, and the file is refused).
"""

from __future__ import annotations

import zipfile
from decimal import ROUND_HALF_UP, Decimal
from typing import IO

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_MEMBERS = 1_000
# A 50,000-row workbook of the template's columns inflates to about 40 MB (sheet XML and
# shared strings); 200 MB leaves room for wide text without letting a bomb through.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Spreadsheet XML deflates 5 to 30 times; a run of zeros deflates 1,000 times.
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024  # small members are not ratio-checked (tiny files vary widely)


class FileRefused(Exception):
    """The whole file is refused before its rows are looked at (size, format, zip bomb,
    too many rows); ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    not_xlsx = FileRefused(
        _(
            "Ce fichier n'est pas un classeur Excel (.xlsx). Partez du modèle à télécharger sur "
            "cette page et enregistrez-le au format « Classeur Excel (.xlsx) »."
        )
    )
    if not magic.startswith(b"PK"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise not_xlsx from exc
    finally:
        file.seek(0)
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
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


def _megabytes(size: int) -> str:
    value = Decimal(size) / (1024 * 1024)
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}".replace(".", ",")
