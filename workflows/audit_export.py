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
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Max, QuerySet
from django.utils import timezone, translation
from openpyxl import Workbook
from viewflow.fsm import FSMField

from funding.exports import _Sheet, for_file_name
from projects.models import Programme, Role

from .audit import GENESIS_HASH, verify_chain
from .models import AuditEvent

# Who may export a programme's trail (in that programme).
EXPORT_ROLES = frozenset({Role.COORDINATOR, Role.ARS_REFERENT})

PARIS = ZoneInfo("Europe/Paris")
# A spreadsheet opening the CSV would run a cell starting with one of these as a formula.
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
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

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def readable(value: object) -> str:
    """A value of the trail's ``changes`` as a French reader expects it."""
    if value is None or value == "":
        return "∅"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    try:
        if _ISO_DATE.match(text):
            return f"{datetime.date.fromisoformat(text):%d/%m/%Y}"
        if _ISO_DATETIME.match(text):
            moment = datetime.datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                moment = moment.astimezone(PARIS)
            return f"{moment:%d/%m/%Y %H:%M:%S}"
    except ValueError:
        return text
    if _DECIMAL.match(text):
        return text.replace(".", ",")
    return text


class Describer:
    """Labels of object types, events, states and fields, in the trail's language (French),
    looked up once each (no queries: model metadata only)."""

    def __init__(self, event_labels: Mapping[str, object]):
        self.event_labels = event_labels
        self._cache: dict[tuple, object] = {}

    def _model(self, object_type: str):
        try:
            return apps.get_model(object_type)
        except (LookupError, ValueError):
            return None

    def _cached(self, key: tuple, compute) -> str:
        if key not in self._cache:
            with translation.override(settings.LANGUAGE_CODE):
                self._cache[key] = str(compute())
        return self._cache[key]

    def type_label(self, object_type: str) -> str:
        def compute():
            model = self._model(object_type)
            return model._meta.verbose_name if model else object_type

        return self._cached(("type", object_type), compute)

    def event_label(self, object_type: str, event: str) -> str:
        def compute():
            model = self._model(object_type)
            if model is not None and event in getattr(model, "TRANSITIONS", ()):
                return next(iter(getattr(model, event).get_transitions())).label
            return self.event_labels.get(event, event)

        return self._cached(("event", object_type, event), compute)

    def state_label(self, object_type: str, state: str) -> str:
        if not state:
            return "—"

        def compute():
            model = self._model(object_type)
            for field in model._meta.concrete_fields if model else ():
                if isinstance(field, FSMField):
                    return dict(field.choices).get(state, state)
            return state

        return self._cached(("state", object_type, state), compute)

    def field_label(self, object_type: str, name: str) -> str:
        def compute():
            model = self._model(object_type)
            try:
                return model._meta.get_field(name).verbose_name if model else name
            except FieldDoesNotExist:
                return name

        return self._cached(("field", object_type, name), compute)

    def _choices(self, object_type: str, name: str) -> dict[str, str]:
        """Labels of a field's coded values (« process » → « Processus »), if it has any."""
        key = ("choices", object_type, name)
        if key not in self._cache:
            model = self._model(object_type)
            try:
                choices = model._meta.get_field(name).choices if model else None
            except FieldDoesNotExist:
                choices = None
            with translation.override(settings.LANGUAGE_CODE):
                self._cache[key] = {str(k): str(v) for k, v in choices or ()}
        return self._cache[key]

    def _value(self, object_type: str, name: str, value: object) -> str:
        if isinstance(value, str):
            value = self._choices(object_type, name).get(value, value)
        return readable(value)

    def changes(self, object_type: str, changes: object) -> str:
        if not isinstance(changes, dict):
            return readable(changes) if changes else ""
        parts = []
        for name, pair in changes.items():
            label = self.field_label(object_type, name)
            if isinstance(pair, list) and len(pair) == 2:
                before, after = (self._value(object_type, name, v) for v in pair)
                parts.append(f"{label} : {before} → {after}")
            else:
                parts.append(f"{label} : {self._value(object_type, name, pair)}")
        return " | ".join(parts)

    def row(self, event: AuditEvent) -> list[object]:
        kind = event.object_type
        states = ""
        if event.from_state or event.to_state:
            states = (
                f"{self.state_label(kind, event.from_state)} → "
                f"{self.state_label(kind, event.to_state)}"
            )
        return [
            event.seq,
            timezone.localtime(event.at, PARIS).replace(tzinfo=None),
            event.actor_label,
            self.type_label(kind),
            event.object_repr,
            event.action_id,
            self.event_label(kind, event.event),
            states,
            self.changes(kind, event.changes),
            event.comment,
            event.ip or "",
            event.hash,
            event.prev_hash,
        ]


# --- Writers ------------------------------------------------------------------------------------


def write_audit_workbook(
    *,
    header: ExportHeader,
    events: QuerySet[AuditEvent],
    event_labels: Mapping[str, object],
    out: BinaryIO,
) -> None:
    """Two sheets: « Vérification » (the header) then « Journal » (one row per event)."""
    workbook = Workbook(write_only=True)
    check = _Sheet(workbook, "Vérification", [("Élément", "text", 45), ("Valeur", "text", 100)])
    for label, value in header.lines():
        check.append([label, value])
    check.close()
    journal = _Sheet(workbook, "Journal", COLUMNS)
    describe = Describer(event_labels)
    for event in events.iterator(chunk_size=2000):
        journal.append(describe.row(event))
    journal.close()
    workbook.save(out)


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return f"{value:%d/%m/%Y %H:%M:%S}"
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value  # shown as text by the spreadsheet, never run as a formula
    return value


def audit_csv(
    *,
    header: ExportHeader,
    events: QuerySet[AuditEvent],
    event_labels: Mapping[str, object],
) -> Iterator[str]:
    """The CSV, line by line, for a streaming response: UTF-8 with a byte-order mark and ``;``
    as separator, so that a French spreadsheet opens it as is."""
    writer = csv.writer(_Echo(), delimiter=";")

    def line(values: Iterable[object]) -> str:
        return writer.writerow([_csv_value(v) for v in values])

    yield "\ufeff" + "".join(line(pair) for pair in header.lines()) + line([])
    yield line(title for title, _, _ in COLUMNS)
    describe = Describer(event_labels)
    chunk: list[str] = []
    for event in events.iterator(chunk_size=2000):
        chunk.append(line(describe.row(event)))
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def export_filename(programme_name: str, when: datetime.date, extension: str) -> str:
    return f"journal-audit-{for_file_name(programme_name)}-{when:%Y-%m-%d}.{extension}"
