"""An outside witness of the audit chains: the head of each programme's chain (its last event's
number and seal) written after each verification to a file kept off the database's machine (or
mailed to the ARS referent). Removing the last events leaves a chain that still verifies, but
no longer holds the head the witness saw."""

from __future__ import annotations

import json
from pathlib import Path

from django.db.models import Max
from django.utils import timezone

from .models import AuditEvent


def heads() -> dict[int, tuple[int, str]]:
    """programme id → (seq, hash) of its last event."""
    last = AuditEvent.objects.values("programme_id").annotate(seq=Max("seq"))
    found = AuditEvent.objects.filter(
        programme_id__in=[row["programme_id"] for row in last],
        seq__in={row["seq"] for row in last},
    ).values_list("programme_id", "seq", "hash")
    wanted = {(row["programme_id"], row["seq"]) for row in last}
    return {p: (seq, h) for p, seq, h in found if (p, seq) in wanted}


def witnessed(path: Path) -> dict[int, tuple[int, str]]:
    """The last head the witness file holds for each programme."""
    seen: dict[int, tuple[int, str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                seen[entry["programme"]] = (entry["seq"], entry["hash"])
    return seen


def missing(path: Path) -> list[str]:
    """What the witness saw that the database no longer holds, in words."""
    problems = []
    for programme, (seq, sealed) in witnessed(path).items():
        if not AuditEvent.objects.filter(programme_id=programme, seq=seq, hash=sealed).exists():
            problems.append(
                f"dispositif n°{programme} : l'événement n° {seq} vu par le témoin "
                "n'est plus dans la base (événements supprimés ou réécrits)"
            )
    return problems


def publish(path: Path) -> int:
    """Append today's heads to the witness file; the number of programmes written."""
    at = timezone.now().isoformat(timespec="seconds")
    current = heads()
    with path.open("a") as out:
        for programme, (seq, sealed) in sorted(current.items()):
            out.write(
                json.dumps({"at": at, "programme": programme, "seq": seq, "hash": sealed}) + "\n"
            )
    return len(current)
