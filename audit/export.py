"""The audit trail of a programme, exported for the ARS (xlsx and CSV).

The export starts with a header stating whether the programme's hash chain verified intact at
export time, with the number and hash of its last event: kept by the ARS, that hash lets anyone
check later that nothing up to it was rewritten (the chain must still contain it at the same
number and verify). Then one row per event of the chosen period, with readable labels and the
before/after values. Rows are streamed from ``.iterator()``: memory stays flat and the number
of queries does not depend on the number of events. User text never becomes a formula.
"""

from __future__ import annotations

import csv
import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from openpyxl import Workbook

from projects.models import Programme, Role
from spreadsheet import Sheet, csv_value, for_file_name

from .chain import GENESIS_HASH, verify_chain
from .labels import Labels
from .models import AuditEvent

logger = logging.getLogger(__name__)

# Who may export a programme's trail (in that programme).
EXPORT_ROLES = frozenset({Role.COORDINATOR, Role.ARS_REFERENT})

PARIS = ZoneInfo("Europe/Paris")
ROWS_PER_CHUNK = 500

COLUMNS = [
    ("N°", "int", 8),
    ("Date et heure (Paris)", "datetime", 20),
    ("Auteur", "text", 30),
    ("Type d'objet", "text", 22),
    ("Objet", "text", 40),
    ("Fiche action n°", "int", 10),
    ("Événement", "text", 30),
    ("État : avant → après", "text", 32),
    ("Modifications (champ : avant → après)", "text", 70),
    ("Commentaire", "text", 50),
    ("Adresse IP", "text", 16),
    ("Empreinte (SHA-256)", "text", 66),
    ("Empreinte précédente", "text", 66),
]

EXPORTED_FIELDS = (
    "seq",
    "at",
    "actor_label",
    "object_type",
    "object_repr",
    "action_id",
    "event",
    "from_state",
    "to_state",
    "changes",
    "comment",
    "ip",
    "hash",
    "prev_hash",
)


@dataclass(frozen=True)
class ExportHeader:
    """What the export states about the programme's whole chain, at export time."""

    programme: str
    start: datetime.date | None
    end: datetime.date | None
    exported_at: datetime.datetime
    exported_by: str
    intact: bool
    chain_events: int
    last_seq: int  # 0 for an empty chain; rows are limited to it (later events wait)
    last_hash: str
    broken_seq: int | None
    reason: str
    exported_events: int

    def period_label(self) -> str:
        if self.start and self.end:
            return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"
        if self.start:
            return f"depuis le {self.start:%d/%m/%Y}"
        if self.end:
            return f"jusqu'au {self.end:%d/%m/%Y}"
        return "tout le journal"

    def lines(self) -> list[tuple[str, object]]:
        lines: list[tuple[str, object]] = [
            ("Journal d'audit du dispositif", self.programme),
            ("Période exportée", self.period_label()),
            (
                "Exporté le (heure de Paris)",
                f"{self.exported_at.astimezone(PARIS):%d/%m/%Y %H:%M:%S}",
            ),
            ("Exporté par", self.exported_by),
            ("Chaîne d'empreintes vérifiée intacte", "oui" if self.intact else "non"),
        ]
        if not self.intact:
            lines.append(("Premier événement rompu", f"n° {self.broken_seq} : {self.reason}"))
        lines += [
            ("Événements dans la chaîne", self.chain_events),
            ("N° du dernier événement", self.last_seq),
            (
                "Empreinte du dernier événement (SHA-256)",
                self.last_hash if self.last_seq else "aucun événement",
            ),
            ("Événements exportés pour la période", self.exported_events),
            (
                "Contrôle ultérieur",
                "Conservez l'empreinte du dernier événement : tant que la chaîne du dispositif "
                "vérifie intacte et porte cette empreinte au même numéro, aucun événement "
                "jusqu'à celui-ci n'a été modifié, supprimé ni réordonné.",
            ),
        ]
        return lines


def _period_bounds(start, end) -> dict:
    """Filters for the events of the days from ``start`` to ``end`` included, Paris time."""
    bounds = {}
    if start:
        bounds["at__gte"] = datetime.datetime.combine(start, datetime.time(), tzinfo=PARIS)
    if end:
        after = end + datetime.timedelta(days=1)
        bounds["at__lt"] = datetime.datetime.combine(after, datetime.time(), tzinfo=PARIS)
    return bounds


def period_events(
    *, programme_id: int, start=None, end=None, last_seq: int
) -> QuerySet[AuditEvent]:
    """The events of the period, in chain order, up to the last one the header describes."""
    return (
        AuditEvent.objects.filter(
            programme_id=programme_id, seq__lte=last_seq, **_period_bounds(start, end)
        )
        .order_by("seq")
        .only(*EXPORTED_FIELDS)
    )


def export_header(*, programme: Programme, start=None, end=None, actor_label: str) -> ExportHeader:
    """Verify the programme's whole chain now and describe it (three queries when intact)."""
    report = verify_chain(programme_id=programme.pk)
    if report.ok:
        chain_events, last_seq, last_hash = report.events, report.events, report.last_hash
    else:
        events = AuditEvent.objects.filter(programme_id=programme.pk)
        totals = events.aggregate(n=Count("pk"), last=Max("seq"))
        chain_events, last_seq = totals["n"], totals["last"]
        last_hash = events.filter(seq=last_seq).values_list("hash", flat=True).first()
    return ExportHeader(
        programme=programme.name,
        start=start,
        end=end,
        exported_at=timezone.now(),
        exported_by=actor_label,
        intact=report.ok,
        chain_events=chain_events,
        last_seq=last_seq or 0,
        last_hash=last_hash or GENESIS_HASH,
        broken_seq=report.broken_seq,
        reason=report.reason,
        exported_events=period_events(
            programme_id=programme.pk, start=start, end=end, last_seq=last_seq or 0
        ).count(),
    )


# --- Readable rows ------------------------------------------------------------------------------


def row(labels: Labels, event: AuditEvent) -> list[object]:
    """One event as a row of the export, in the labels' language."""
    kind = event.object_type
    states = ""
    if event.from_state or event.to_state:
        before = labels.state_label(kind, event.from_state)
        states = f"{before} → {labels.state_label(kind, event.to_state)}"
    return [
        event.seq,
        timezone.localtime(event.at, PARIS).replace(tzinfo=None),
        event.actor_label,
        labels.type_label(kind),
        event.object_repr,
        event.action_id,
        labels.event_label(kind, event.event),
        states,
        labels.changes_text(kind, event.changes),
        labels.people(event.comment),
        event.ip or "",
        event.hash,
        event.prev_hash,
    ]


# --- Writers ------------------------------------------------------------------------------------


def write_audit_workbook(
    *, header: ExportHeader, events: QuerySet[AuditEvent], out: BinaryIO
) -> None:
    """Two sheets: « Vérification » (the header) then « Journal » (one row per event). Every
    row is labelled before the file is written: a row that cannot be fails the whole export
    (an error page), never a file whose header claims events it does not hold."""
    workbook = Workbook(write_only=True)
    check = Sheet(workbook, "Vérification", [("Élément", "text", 45), ("Valeur", "text", 100)])
    for label, value in header.lines():
        check.append([label, value])
    check.close()
    journal = Sheet(workbook, "Journal", COLUMNS)
    labels = Labels(settings.LANGUAGE_CODE)
    for event in events.iterator(chunk_size=2000):
        journal.append(row(labels, event))
    journal.close()
    workbook.save(out)


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def audit_csv(*, header: ExportHeader, events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The CSV, line by line, for a streaming response: UTF-8 with a byte-order mark and ``;``
    as separator, so that a French spreadsheet opens it as is. The header is already sent when
    the rows are read: if one fails, the file ends with a line saying that it is incomplete
    and how many of the announced events it holds — it never claims rows it did not write."""
    writer = csv.writer(_Echo(), delimiter=";")

    def line(values: Iterable[object]) -> str:
        return writer.writerow([csv_value(v) for v in values])

    yield "\ufeff" + "".join(line(pair) for pair in header.lines()) + line([])
    yield line(title for title, _, _ in COLUMNS)
    labels = Labels(settings.LANGUAGE_CODE)
    chunk: list[str] = []
    written = 0
    try:
        for event in events.iterator(chunk_size=2000):
            chunk.append(line(row(labels, event)))
            if len(chunk) >= ROWS_PER_CHUNK:
                yield "".join(chunk)
                written += len(chunk)
                chunk = []
    except Exception:
        logger.exception("Audit-trail CSV export interrupted")
        yield "".join(chunk)
        written += len(chunk)
        yield line(
            [
                "EXPORT INCOMPLET",
                f"Une erreur a interrompu l'export : {written} événement(s) écrit(s) sur "
                f"{header.exported_events} annoncé(s). Ce fichier ne doit pas être utilisé ; "
                "signalez-le à l'administrateur.",
            ]
        )
        return
    if chunk:
        yield "".join(chunk)


def export_filename(programme_name: str, when: datetime.date, extension: str) -> str:
    return f"journal-audit-{for_file_name(programme_name)}-{when:%Y-%m-%d}.{extension}"
