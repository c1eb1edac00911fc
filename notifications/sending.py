"""Delivering the outbox: the rows due now, locked so that two senders running at once never
take the same one (``skip_locked`` on PostgreSQL; SQLite's write transactions run one at a
time), each marked sent, or failed with the reason and when it will be tried again. A
recipient who left the programme before the message went gets nothing."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from projects.models import Membership

from .models import Mode, Notification, State
from .outbox import absolute, settings_of

log = logging.getLogger(__name__)
# Seconds before the next try after each failure; then it is given up (still listed).
BACKOFF = (60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600)


@dataclass
class Result:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0


def _due(now: datetime.datetime, mode: str):
    return Notification.objects.filter(
        state__in=[State.PENDING, State.FAILED], mode=mode, next_attempt_at__lte=now
    )


def _lock(queryset, batch: int) -> list[Notification]:
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient")
        .order_by("pk")[:batch]
    )


def _still_members(rows: list[Notification]) -> set[tuple[int, int]]:
    """(user, programme) pairs of the rows whose recipient is still a member (one query)."""
    wanted = {(r.recipient_id, r.programme_id) for r in rows if r.recipient_id and r.programme_id}
    if not wanted:
        return set()
    condition = Q()
    for user_id, programme_id in wanted:
        condition |= Q(user_id=user_id, programme_id=programme_id)
    return set(Membership.objects.active().filter(condition).values_list("user_id", "programme_id"))


def _cancel_if_gone(row: Notification, members: set) -> bool:
    pair = (row.recipient_id, row.programme_id)
    if row.recipient_id and row.programme_id and pair not in members:
        row.state, row.next_attempt_at = State.CANCELLED, None
        row.error = "Plus membre du dispositif."
        return True
    return False


def _failed(row: Notification, exc: Exception, now) -> None:
    row.attempts += 1
    row.state, row.error = State.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
    row.next_attempt_at = (
        now + datetime.timedelta(seconds=BACKOFF[row.attempts - 1])
        if row.attempts <= len(BACKOFF)
        else None  # given up
    )


def _email(row: Notification) -> EmailMultiAlternatives:
    mail = EmailMultiAlternatives(row.subject, row.text, settings.DEFAULT_FROM_EMAIL, [row.email])
    mail.attach_alternative(row.html, "text/html")
    if row.calendar:
        mail.attach("seance.ics", row.calendar, "text/calendar; charset=utf-8")
    return mail


FIELDS = ["state", "attempts", "next_attempt_at", "sent_at", "error"]


def send_pending(*, now: datetime.datetime | None = None, batch: int = 100) -> Result:
    """Send every immediate notification due now, batch by batch."""
    result = Result()
    while True:
        now_ = now or timezone.now()
        with transaction.atomic():
            rows = _lock(_due(now_, Mode.IMMEDIATE), batch)
            if not rows:
                return result
            members = _still_members(rows)
            try:
                connection = get_connection()
                connection.open()
            except Exception as exc:  # noqa: BLE001 - the server is down: every row waits
                log.warning("Mail server unavailable: %s", exc)
                for row in rows:
                    _failed(row, exc, now_)
                result.failed += len(rows)
                Notification.objects.bulk_update(rows, FIELDS)
                return result
            try:
                for row in rows:
                    if _cancel_if_gone(row, members):
                        result.cancelled += 1
                        continue
                    try:
                        connection.send_messages([_email(row)])
                    except Exception as exc:  # noqa: BLE001 - kept on the row, tried again
                        _failed(row, exc, now_)
                        result.failed += 1
                    else:
                        row.state, row.sent_at, row.next_attempt_at = State.SENT, now_, None
                        row.error = ""
                        result.sent += 1
            finally:
                connection.close()
            Notification.objects.bulk_update(rows, FIELDS)


def send_digests(*, now: datetime.datetime | None = None) -> Result:
    """One e-mail per person grouping their digest notifications due now.

    Each person is a transaction of their own whose rows are locked *waiting* (not skipped):
    a second run at the same moment waits for the first to finish with that person, then finds
    their rows sent and sends nothing — skipping locked rows instead would let each run take a
    part of someone's rows and send them two digests."""
    now = now or timezone.now()
    result = Result()
    due = _due(now, Mode.DIGEST).order_by("recipient_id")
    people = list(due.values_list("recipient_id", flat=True).distinct())
    if not people:
        return result
    languages = settings_of(p for p in people if p)
    with get_connection() as connection:
        for person_id in people:
            with transaction.atomic():
                rows = list(
                    _due(now, Mode.DIGEST)
                    .filter(recipient_id=person_id)
                    .select_for_update(of=("self",))
                    .order_by("pk")
                )
                members = _still_members(rows)
                own = [row for row in rows if not _cancel_if_gone(row, members)]
                result.cancelled += len(rows) - len(own)
                if own:
                    chosen = languages.get(person_id)
                    try:
                        connection.send_messages([_digest(own, chosen and chosen.language)])
                    except Exception as exc:  # noqa: BLE001
                        for row in own:
                            _failed(row, exc, now)
                        result.failed += len(own)
                    else:
                        for row in own:
                            row.state, row.sent_at, row.next_attempt_at = State.SENT, now, None
                        result.sent += 1
                Notification.objects.bulk_update(rows, FIELDS)
    return result


def _digest(rows: list[Notification], language: str | None) -> EmailMultiAlternatives:
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {
            "rows": [(row, absolute(row.link) if row.link else "") for row in rows],
            "notifications_url": absolute(reverse("coordo:notifications")),
        }
        subject = _("Coordo — votre résumé : {n} nouveauté(s)").format(n=len(rows))
        text = render_to_string("notifications/digest.txt", context)
        html = render_to_string("notifications/digest.html", context)
    mail = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [rows[0].email])
    mail.attach_alternative(html, "text/html")
    return mail
