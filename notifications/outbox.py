"""Writing notifications: called by the services inside their transaction, so that a change
that is refused or rolled back leaves no message behind, and one that commits leaves exactly
its messages. Each is rendered in its recipient's language and delivered as they chose."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from projects.models import Programme

from .models import Kind, Mode, Notification, Settings, State


@dataclass
class Message:
    """What one notification says: its subject, a few paragraphs, and the page it points to."""

    subject: str
    paragraphs: list[str] = field(default_factory=list)
    link: str = ""  # a path of the application (made absolute with SITE_URL)
    link_label: str = ""
    member: bool = True  # False for someone without an account (no preferences to set)


def absolute(path: str) -> str:
    return django_settings.SITE_URL.rstrip("/") + path if path.startswith("/") else path


def render(message: Message) -> tuple[str, str]:
    """The plain text and the HTML of a message, in the current language."""
    context = {"message": message, "url": absolute(message.link) if message.link else ""}
    return (
        render_to_string("notifications/message.txt", context),
        render_to_string("notifications/message.html", context),
    )


def settings_of(user_ids) -> dict[int, Settings]:
    return {s.user_id: s for s in Settings.objects.filter(user__in=list(user_ids))}


def queue(
    *,
    kind: str,
    recipients: Iterable = (),
    programme: Programme | None = None,
    compose: Callable[[], Message],
    key: str = "",
    calendar: str = "",
    emails: Iterable[str] = (),
) -> int:
    """A notification of ``kind`` for each recipient (members: in their language, as they
    chose; ``emails``: people without an account, such as a resident who left a contact), all
    composed by ``compose`` in the recipient's language. With a ``key``, a recipient who has
    that notification already does not get it twice. Returns how many were written."""
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    chosen = settings_of(users)
    rows = []
    for user in users.values():
        own = chosen.get(user.pk)
        mode = own.mode(kind) if own else Mode.IMMEDIATE
        if mode == Mode.NONE:
            continue
        rows.append(_row(kind, mode, own.language if own else None, compose, user=user))
    rows += [_row(kind, Mode.IMMEDIATE, None, compose, email=e) for e in set(emails) if e]
    for row in rows:
        row.programme, row.key, row.calendar = programme, key, calendar
    created = Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return len(created)


def _row(kind, mode, language, compose, *, user=None, email="") -> Notification:
    with translation.override(language or django_settings.LANGUAGE_CODE):
        message = compose()
        text, html = render(message)
    address = user.email if user is not None else email
    return Notification(
        recipient=user,
        email=address,
        kind=kind,
        mode=mode,
        subject=message.subject[:300],
        text=text,
        html=html,
        link=message.link,
        # Nowhere to send it: it stays in the person's notifications page only.
        state=State.PENDING if address else State.CANCELLED,
        error="" if address else "Aucune adresse électronique.",
        next_attempt_at=timezone.now(),
    )


def remember_language(user, language: str) -> None:
    """The language the person chose in the interface is the language of their e-mails."""
    Settings.objects.update_or_create(user=user, defaults={"language": language})


def set_modes(user, modes: dict[str, str]) -> Settings:
    """How each kind reaches the person (the mandatory kinds are never silenced)."""
    clean = {
        kind: mode for kind, mode in modes.items() if kind in Kind.values and mode in Mode.values
    }
    own, _created = Settings.objects.get_or_create(
        user=user, defaults={"language": translation.get_language() or "fr"}
    )
    own.modes = clean
    own.save(update_fields=["modes"])
    return own


def mark_read(user, ids) -> int:
    """The notifications the person has now seen on their page."""
    return Notification.objects.filter(
        recipient=user, pk__in=list(ids), read_at__isnull=True
    ).update(read_at=timezone.now())


def unread(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
