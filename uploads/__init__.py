"""Documents people upload (a funder's decision letter, a programme's charter…): bounded while
they arrive, checked by their content — never by their name — before anything is stored,
fingerprinted (SHA-256) for the audit trail, and served back only as downloads.

Accepted: PDF, PNG and JPEG images (scans), office documents (Word, Excel, PowerPoint,
OpenDocument) and, where the caller allows it, plain text. Refused: anything else — HTML, SVG
and XML included (they could run in the application's origin), executables and scripts — and
files over the size limit. Nothing here knows about Coordo's models.
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
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024  # a scanned contract or a diagnostic with its maps


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
    _ODF + "presentation": Kind("OpenDocument", "odp", _ODF + "presentation"),
}
TEXT = Kind("Texte", "txt", "text/plain; charset=utf-8")
ACCEPTED = "PDF, PNG, JPEG, Word, Excel, PowerPoint, OpenDocument"
# What a browser could take for a page or a script if it ever rendered a « text » file.
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body")


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def too_large(limit: int = MAX_BYTES) -> UploadRefused:
    return UploadRefused(
        _("Le fichier dépasse {limit} Mo : il est refusé.").format(limit=limit // 2**20)
    )


def check(file: IO[bytes], size: int, *, limit: int = MAX_BYTES, text: bool = False) -> Kind:
    """What the file is, read from its content; ``UploadRefused`` if it is not accepted
    (``text``: plain text is accepted too). ``file`` is rewound."""
    if size > limit:
        raise too_large(limit)
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
    elif text and _plain_text(file):
        kind = TEXT
    if kind is None:
        formats = ACCEPTED + (_(", texte brut") if text else "")
        raise UploadRefused(
            _("Ce type de fichier n'est pas accepté. Formats acceptés : {formats}.").format(
                formats=formats
            )
        )
    return kind


def _plain_text(file: IO[bytes]) -> bool:
    """Text in UTF-8 or Windows-1252 (a CSV saved by Excel), without control characters, that
    no browser would take for a page (markup) and no shell for a script."""
    sample = file.read(64 * 1024)
    file.seek(0)
    if not sample.strip() or sample.startswith(b"#!"):
        return False
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not only a character cut at the sample's end
            try:
                decoded = sample.decode("cp1252")
            except UnicodeDecodeError:
                return False
        else:
            decoded = sample[: exc.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in decoded):
        return False
    lowered = sample.lower()
    return not lowered.lstrip().startswith(b"<") and not any(m in lowered for m in _MARKUP)


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


def download(file: IO[bytes], filename: str, *, text: bool = False) -> FileResponse:
    """The document as an attachment, typed by its content (never rendered by the browser)."""
    kind = check(file, 0, text=text)
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
