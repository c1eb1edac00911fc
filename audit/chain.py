"""Writing, verifying and reading back the audit trail.

Every event stores the hash of the previous event of its programme and the SHA-256 of its own
canonical content (which includes that previous hash): altering, removing or reordering any
event breaks the chain from that point, and ``verify_chain`` names the first broken event.

The trail is also the version of every object: ``version(obj)`` is the id of the last event
that changed it (ids grow with time, across every programme's chain), which a page shows and
posts back, and ``changes_since`` says what changed after the version someone saw, and who
changed it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise

from projects.models import Programme

from .models import AuditEvent

GENESIS_HASH = "0" * 64

security_log = logging.getLogger("coordo.security")


def json_value(value: object) -> object:
    """A value as the audit trail stores it: JSON-native and stable across databases."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, AbstractBaseUser):
        return person(value)
    if isinstance(value, Promise):  # a translatable label: stored in the trail's language
        with translation.override(settings.LANGUAGE_CODE):
            return str(value)
    return str(value)


def field_changes(before: dict[str, object], after: dict[str, object]) -> dict[str, list[object]]:
    """{field: [before, after]} for the fields whose value differs (empty text and no value
    count as the same)."""
    changes = {}
    for name in after:
        old, new = json_value(before.get(name)), json_value(after[name])
        if old != new and (old or new):
            changes[name] = [old, new]
    return changes


def in_trail_language(value) -> str:
    """Text for the trail, rendered in the application's language (French) whatever the
    language of the person acting: the ARS reads one language. ``value`` may be a callable
    (such as ``obj.get_state_display``), called in that language."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(value() if callable(value) else value)


# What an event's shown names become once its author's account is erased (the actor's id stays
# sealed, the name goes): ``workflows.services.accounts``.
def pseudonym(user_id: int) -> str:
    return f"Personne effacée (compte n° {user_id})"


ERASED_LOGIN = "efface-{pk}"  # an erased account's login


def is_erased(user) -> bool:
    return not user.is_active and user.username == ERASED_LOGIN.format(pk=user.pk)


def person(user) -> str | None:
    """A person as the sealed content of an event refers to them: their account's number, never
    their name (a name inside the seal could not be erased)."""
    return None if user is None else f"compte n° {user.pk}"


def canonical_content(event: AuditEvent) -> str:
    content = {
        "programme": event.programme_id,
        "seq": event.seq,
        "at": event.at.astimezone(datetime.UTC).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "object_type": event.object_type,
        "object_id": str(event.object_id),
        "object_repr": event.object_repr,
        "action": event.action_id,
        "event": event.event,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "changes": event.changes,
        "comment": event.comment,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    if event.key_id:  # bound to the seal: a keyed event cannot pass for an unkeyed one
        content["key"] = event.key_id
    if not event.names_sealed:  # names outside the seal, and said so inside it
        del content["actor_label"], content["object_repr"]
        content["names"] = "outside"
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(event: AuditEvent) -> str:
    """The event's seal: HMAC-SHA256 with its key (held outside the database, so that whoever
    holds only the database cannot recompute it), or SHA-256 for an unkeyed event."""
    content = canonical_content(event).encode("utf-8")
    if event.key_id:
        key = settings.AUDIT_CHAIN_KEYS.get(event.key_id)
        if key is None:
            raise UnknownKey(event.key_id)
        return hmac.new(key, content, hashlib.sha256).hexdigest()
    return hashlib.sha256(content).hexdigest()


class UnknownKey(Exception):
    """An event sealed with a key this installation does not hold (AUDIT_CHAIN_KEYS)."""


def action_of(obj: models.Model) -> int | None:
    """The fiche action an audited object belongs to (None for programmes, meetings...)."""
    if obj._meta.label_lower == "projects.action":
        return obj.pk
    if hasattr(obj, "action_id"):
        return obj.action_id
    if hasattr(obj, "request"):  # a tranche of a funding request
        return obj.request.action_id
    if hasattr(obj, "indicator"):
        return obj.indicator.action_id
    return None


def actor_label(user) -> str:
    if user is None:
        return "Système"
    full = user.get_full_name().strip()
    label = f"{full} ({user.get_username()})" if full else user.get_username()
    return label[: AuditEvent._meta.get_field("actor_label").max_length]


def stored_ip(ip: str | None) -> str | None:
    """The address as the database will store it (hashed in that form, so that the chain
    verifies after the round trip); anything that is not an IP address is not kept."""
    if not ip:
        return None
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    return AuditEvent._meta.get_field("ip").get_prep_value(ip.strip())


def record(
    *,
    programme_id: int,
    actor,
    obj: models.Model,
    event: str,
    from_state: str = "",
    to_state: str = "",
    changes: dict[str, list[object]] | None = None,
    comment: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the programme's chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit events are written inside the transaction of the change.")
    # One writer per programme chain at a time: lock the programme row (NO KEY UPDATE, so rows
    # referencing the programme can still be inserted meanwhile). SQLite has no row locks: there
    # the IMMEDIATE transaction already holds the whole database's write lock.
    connection = transaction.get_connection()
    if connection.features.has_select_for_update:
        Programme.objects.select_for_update(no_key=True).only("id").get(pk=programme_id)
    last = (
        AuditEvent.objects.filter(programme_id=programme_id)
        .order_by("-seq")
        .values("seq", "hash")
        .first()
    )
    ev = AuditEvent(
        programme_id=programme_id,
        seq=(last["seq"] + 1) if last else 1,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label(actor),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        action_id=action_of(obj),
        event=event,
        from_state=from_state or "",
        to_state=to_state or "",
        changes=changes or {},
        comment=json_value(comment) or "",  # a translatable label is kept in French
        ip=stored_ip(ip),
        key_id=settings.AUDIT_CHAIN_KEY_ID,
        names_sealed=False,
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    ev.hash = compute_hash(ev)
    ev.save(force_insert=True)
    if ev.object_type == "projects.membership":  # who may do what changed: the security log
        security_log.info(
            "permission_change",
            extra={
                "event": "permission_change",
                "change": event,
                "membership_id": obj.pk,
                "user_id": getattr(obj, "user_id", None),
                "actor_id": getattr(actor, "pk", None),
                "programme_id": programme_id,
            },
        )
    return ev


@dataclass(frozen=True)
class ChainReport:
    programme_id: int
    events: int
    ok: bool
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""
    last_hash: str = GENESIS_HASH


def verify_chain(*, programme_id: int, using: str = "default") -> ChainReport:
    """Walk the programme's chain in order (in the database ``using``); stop at the first
    event that does not fit."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    events = AuditEvent.objects.using(using).filter(programme_id=programme_id).order_by("seq")
    for ev in events.iterator(chunk_size=2000):
        reason = ""
        if ev.seq != expected_seq:
            reason = (
                f"n° {ev.seq} trouvé où le n° {expected_seq} était attendu "
                "(événement supprimé ou déplacé)"
            )
        elif ev.prev_hash != prev_hash:
            reason = (
                "le lien vers l'événement précédent est rompu "
                "(événement supprimé, inséré ou réordonné)"
            )
        elif settings.AUDIT_CHAIN_KEYS and not ev.key_id and ev.pk > settings.AUDIT_UNKEYED_UNTIL:
            reason = "événement non scellé par une clé alors qu'une clé est exigée (falsifié)"
        else:
            try:
                sealed = compute_hash(ev) == ev.hash
            except UnknownKey:
                sealed = False
            if not sealed:
                reason = (
                    "le contenu ne correspond plus à son empreinte (événement modifié, ou "
                    "scellé sans la clé)"
                )
        if reason:
            return ChainReport(programme_id, count, False, ev.pk, ev.seq, reason, prev_hash)
        count += 1
        expected_seq += 1
        prev_hash = ev.hash
    return ChainReport(programme_id, count, True, last_hash=prev_hash)


# Events that change nothing of the object they concern: they never make a page stale.
NOT_CHANGES = ("comment", "take_task", "release_task", "escalate")


def scope(obj: models.Model) -> Q:
    """The events that change ``obj``: for a fiche, also those of its parts (budget, funding,
    indicators, measurements, report); for a funding request, also those of its payments."""
    label = obj._meta.label_lower
    if label == "projects.action":
        return Q(action_id=obj.pk)
    own = Q(object_type=label, object_id=str(obj.pk))
    if label == "funding.fundingrequest":
        tranches = [str(pk) for pk in obj.tranches.values_list("pk", flat=True)]
        return own | Q(object_type="funding.tranche", object_id__in=tranches)
    return own


def _changes(obj: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(scope(obj)).exclude(event__in=NOT_CHANGES)


def version(obj: models.Model) -> int:
    """The id of the last event that changed ``obj`` (0: none yet)."""
    return _changes(obj).order_by("-pk").values_list("pk", flat=True).first() or 0


def versions(model: type[models.Model], pks) -> dict[int, int]:
    """The versions of several objects of a model whose events are their own (not fiches nor
    funding requests, whose parts count too), in one query: pk → version (absent: 0)."""
    label = model._meta.label_lower
    assert label not in ("projects.action", "funding.fundingrequest"), label
    rows = (
        AuditEvent.objects.filter(object_type=label, object_id__in=[str(pk) for pk in pks])
        .exclude(event__in=NOT_CHANGES)
        .order_by()
        .values_list("object_id")
        .annotate(last=models.Max("pk"))
    )
    return {int(object_id): last for object_id, last in rows}


def changes_since(obj: models.Model, seen: int) -> list[AuditEvent]:
    """The events that changed ``obj`` after version ``seen``, oldest first (a few at most)."""
    return list(_changes(obj).filter(pk__gt=seen).order_by("pk")[:5])
