"""Documents people upload (a funder's decision letter…): bounded while they arrive, checked by
their content — never by their name — before anything is stored, fingerprinted (SHA-256) for
the audit trail, and served back only as downloads.

Accepted: PDF, PNG and JPEG images (scans), office documents (Word, Excel, OpenDocument).
Refused: anything else, HTML and SVG included (they could run in the application's origin),
and files over ``MAX_BYTES``. Nothing here knows about Coordo's models.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from typing import IO

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse
from django.utils.translation import gettext as _

MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    label: str
    extension: str
    content_type: str


PDF = Kind("PDF", "pdf", "application/pdf")
PNG = Kind("PNG", "png", "image/png")
JPEG = Kind("JPEG", "jpg", "image/jpeg")
OLE = Kind("Word / Excel 97-2003", "doc", "application/octet-stream")
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# Office Open XML documents, by the folder that holds their content.
OFFICE = {
    "word/": Kind("Word", "docx", _OOXML + "wordprocessingml.document"),
    "xl/": Kind("Excel", "xlsx", _OOXML + "spreadsheetml.sheet"),
    "ppt/": Kind("PowerPoint", "pptx", _OOXML + "presentationml.presentation"),
}
# OpenDocument files, by their « mimetype » member.
OPEN_DOCUMENT = {
    _ODF + "text": Kind("OpenDocument", "odt", _ODF + "text"),
    _ODF + "spreadsheet": Kind("OpenDocument", "ods", _ODF + "spreadsheet"),
}
ACCEPTED = "PDF, PNG, JPEG, Word, Excel, OpenDocument"


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def too_large() -> UploadRefused:
    return UploadRefused(
        _("Le fichier dépasse {limit} Mo : il est refusé.").format(limit=MAX_BYTES // 2**20)
    )


def check(file: IO[bytes], size: int) -> Kind:
    """What the file is, read from its content; ``UploadRefused`` if it is not accepted.
    ``file`` is rewound."""
    if size > MAX_BYTES:
        raise too_large()
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    kind = None
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        kind = OLE
    elif head.startswith(b"PK\x03\x04"):
        kind = _zipped_document(file)
    if kind is None:
        raise UploadRefused(
            _("Ce type de fichier n'est pas accepté. Formats acceptés : {formats}.").format(
                formats=ACCEPTED
            )
        )
    return kind


def _zipped_document(file: IO[bytes]) -> Kind | None:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                return OPEN_DOCUMENT.get(archive.read("mimetype")[:100].decode("ascii", "replace"))
            if "[Content_Types].xml" in names:
                return next(
                    (k for prefix, k in OFFICE.items() if any(n.startswith(prefix) for n in names)),
                    None,
                )
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)
    return None


def sha256(file: IO[bytes]) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def download(file: IO[bytes], filename: str) -> FileResponse:
    """The document as an attachment, typed by its content (never rendered by the browser)."""
    kind = check(file, 0)
    response = FileResponse(
        file, as_attachment=True, filename=filename, content_type=kind.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


class SizeLimit(FileUploadHandler):
    """First of the upload handlers: past ``limit`` bytes the file is skipped (what was received
    is dropped, the rest is read and thrown away), so that a huge upload is never stored."""

    too_large = False

    def __init__(self, request=None, limit: int = MAX_BYTES):
        super().__init__(request)
        self.limit = limit

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
