"""A member's personal data (RGPD): everything Coordo holds about them in one file, and their
account's erasure.

Erasure keeps what the programmes are accountable for and removes who the person was: the
account loses its name, login, address and password and cannot sign in; its memberships end;
its tasks go back to the queue; its second factor, API tokens, notifications and settings are
deleted; in the audit trail, every event written since names were kept outside the seal
(``AuditEvent.names_sealed``) shows the pseudonym « Personne effacée (compte n° N) » instead of
their name, where they acted and where the event is about them, and the chain still verifies,
because what is sealed is the account's number. What people wrote and signed stays as written
(comments, minutes, attendance lists of séances — records of the bodies), as do events sealed
before this existed: docs/rgpd.md says so.
"""

from __future__ import annotations

import logging

from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Replace
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit import chain
from audit.models import AuditEvent
from documents.models import Document
from notifications.models import Notification
from notifications.models import Settings as NotificationSettings
from projects.models import Membership

from .. import flows
from .programme import is_last_coordinator
from .runner import Refused

security_log = logging.getLogger("coordo.security")


# For the layers above (the API's tokens): ``collect`` asks each receiver for a dict of sections
# of the member's data export; ``erased`` tells them to delete what they hold about the person.
collect = Signal()  # user
erased = Signal()  # user


def rows(queryset, *fields) -> list[dict]:
    """Rows of a queryset as JSON-ready dicts (for a member's data export)."""
    return [
        {k: v if isinstance(v, dict | list) else chain.json_value(v) for k, v in row.items()}
        for row in queryset.values(*fields)
    ]


def member_data(user) -> dict:
    """Everything Coordo holds about the member, as JSON-ready data (their right of access)."""
    data = {
        "exported_at": chain.json_value(timezone.now()),
        "account": {
            "id": user.pk,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": chain.json_value(user.date_joined),
            "last_login": chain.json_value(user.last_login),
            "second_factor": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        },
        "memberships": rows(
            Membership.objects.filter(user=user).order_by("pk"),
            "programme__name",
            "role",
            "organisation__name",
            "working_group__name",
            "is_active",
        ),
        "notification_settings": rows(
            NotificationSettings.objects.filter(user=user), "language", "modes"
        ),
        "notifications": rows(
            Notification.objects.filter(recipient=user).order_by("pk"),
            "created_at",
            "programme__name",
            "kind",
            "subject",
            "state",
            "sent_at",
            "read_at",
        ),
        "documents_uploaded": rows(
            Document.objects.filter(uploaded_by=user).order_by("pk"),
            "title",
            "kind",
            "uploaded_at",
            "size",
        ),
        "audit_events": rows(
            AuditEvent.objects.filter(actor=user).order_by("pk"),
            "programme__name",
            "seq",
            "at",
            "event",
            "object_type",
            "object_id",
            "object_repr",
            "comment",
            "ip",
        ),
    }
    for _receiver, sections in collect.send(sender=member_data, user=user):
        data.update(sections)
    return data


@transaction.atomic
def erase_member(*, user, actor, ip: str | None = None) -> str:
    """Erase ``user``'s account at their request; ``actor`` is the administrator (None: the
    operator, from the command line). Returns the pseudonym the trail now shows."""
    if actor is not None and not actor.is_superuser:
        raise Refused("role", _("Seul un·e administrateur·rice de Coordo peut effacer un compte."))
    if actor is not None and actor.pk == user.pk:
        raise Refused(
            "guard", _("Un·e autre administrateur·rice doit effacer votre compte, pas vous.")
        )
    User = get_user_model()
    locked = User.objects.select_for_update().get(pk=user.pk)
    if chain.is_erased(locked):  # a second click, or another administrator meanwhile
        raise Refused("already_moved", _("Ce compte est déjà effacé."))
    memberships = list(Membership.objects.filter(user=locked).select_related("programme"))
    for membership in memberships:
        if is_last_coordinator(membership):
            raise Refused(
                "guard",
                _(
                    "Cette personne est la seule à coordonner « {programme} » : nommez "
                    "quelqu'un d'autre avant d'effacer son compte."
                ).format(programme=membership.programme.name),
            )
    names = {chain.actor_label(locked), locked.get_full_name().strip()} - {""}
    pseudonym = chain.pseudonym(locked.pk)

    for task in Task.objects.filter(owner=locked, status=STATUS.ASSIGNED):
        flows.unassign(task)
    Membership.objects.filter(user=locked, is_active=True).update(is_active=False)
    TOTPDevice.objects.filter(user=locked).delete()
    erased.send(sender=erase_member, user=locked)
    Notification.objects.filter(recipient=locked).delete()
    NotificationSettings.objects.filter(user=locked).delete()
    AccessAttempt.objects.filter(username=locked.username).delete()
    AccessLog.objects.filter(username=locked.username).delete()

    locked.username = chain.ERASED_LOGIN.format(pk=locked.pk)
    locked.first_name = locked.last_name = locked.email = ""
    locked.is_active = locked.is_staff = locked.is_superuser = False
    locked.set_unusable_password()
    locked.save()

    unsealed = AuditEvent.objects.filter(names_sealed=False)
    unsealed.filter(actor=locked).update(actor_label=pseudonym)
    for membership in memberships:
        unsealed.filter(object_type="projects.membership", object_id=str(membership.pk)).update(
            object_repr=str(membership)[:300]
        )
    for name in sorted(names, key=len, reverse=True):  # "Marie Dupont (marie)" before "Marie"
        unsealed.filter(object_repr__contains=name).update(
            object_repr=Replace("object_repr", Value(name), Value(pseudonym))
        )
    for programme_id in sorted({m.programme_id for m in memberships}):
        chain.record(
            programme_id=programme_id,
            actor=actor,
            obj=locked,
            event="erase_account",
            comment=_("Compte effacé à la demande de la personne (RGPD)"),
            ip=ip,
        )
    security_log.info(
        "account_erased",
        extra={
            "event": "account_erased",
            "user_id": locked.pk,
            "actor_id": getattr(actor, "pk", None),
        },
    )
    return pseudonym
