"""Notifications: one row per message and recipient, written with the change that causes it.

A row is delivered once: the sender locks the rows it sends (``skip_locked``, so that two
senders never take the same one), marks each sent, or failed with the reason and the time of
the next try. The text is rendered when the row is written, in the recipient's language, so
that what was sent is what the notifications page shows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from projects.models import Programme


class Kind(models.TextChoices):
    TASK = "task", _("Une tâche pour vous")
    REMINDER = "reminder", _("Une tâche arrive à échéance")
    OVERDUE = "overdue", _("Une tâche est en retard")
    CONVOCATION = "convocation", _("Convocations aux séances")
    MINUTES = "minutes", _("Comptes rendus validés")
    PROPOSAL = "proposal", _("Suite donnée à vos propositions")
    DECISION = "decision", _("Décisions du COPIL sur vos fiches")
    FUNDING = "funding", _("Décisions des financeurs")
    PAYMENT = "payment", _("Versements attendus ou en retard")
    EVALUATION = "evaluation", _("Rapports d'évaluation attendus")


# What is addressed to the person as a task can be grouped in the digest, never silenced.
MANDATORY = frozenset({Kind.TASK, Kind.OVERDUE})


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", _("Tout de suite")
    DIGEST = "digest", _("Dans le résumé quotidien")
    NONE = "none", _("Jamais")


class State(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")  # retried at ``next_attempt_at`` while it is set
    CANCELLED = "cancelled", _("Annulé")  # the recipient left the programme before it went


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("destinataire"),
    )
    # The address it goes to: a member's at the time of writing, or a resident's contact.
    email = models.EmailField(_("adresse"), blank=True)
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispositif"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    mode = models.CharField(_("envoi"), max_length=20, choices=Mode.choices)
    subject = models.CharField(_("objet"), max_length=300)
    text = models.TextField(_("texte"))
    html = models.TextField(_("texte (HTML)"))
    link = models.CharField(_("lien"), max_length=500, blank=True)
    calendar = models.TextField(_("événement (iCalendar)"), blank=True)
    # Written once per key and recipient (a reminder, an overdue task): never twice.
    key = models.CharField(_("clé"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)
    state = models.CharField(_("état"), max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["state", "mode", "next_attempt_at"], name="notification_outbox"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "email", "key"],
                condition=~Q(key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Settings(models.Model):
    """A person's choices: the language of their e-mails, and how each kind reaches them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("personne"),
    )
    language = models.CharField(_("langue"), max_length=10, default="fr")
    modes = models.JSONField(_("envois"), default=dict, blank=True)  # kind -> mode

    class Meta:
        verbose_name = _("préférences de notification")
        verbose_name_plural = _("préférences de notification")

    def __str__(self) -> str:
        return str(self.user)

    def mode(self, kind: str) -> str:
        mode = self.modes.get(kind, Mode.IMMEDIATE)
        if kind in MANDATORY and mode == Mode.NONE:
            return Mode.DIGEST
        return mode
