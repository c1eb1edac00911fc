"""Séances of the governance bodies: agenda, attendance, decisions, minutes. What a body may
decide in session is derived from the fiche's lifecycle."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import lifecycle
from .action import Action, ActionState
from .programme import Programme, Role, WorkingGroup


class Meeting(models.Model):
    """A session of a governance body (instance): agenda, attendance, decisions, minutes."""

    class Body(models.TextChoices):
        COPIL = "copil", _("Comité de pilotage (COPIL)")
        COTECH = "cotech", _("Comité technique (COTECH)")
        PLENARY = "plenary", _("Assemblée plénière")
        WORKING_GROUP = "working_group", _("Groupe de travail")

    # The role each body holds in session: what it decides is derived from the lifecycle, and
    # its members may convene it and keep its register (with the coordination).
    BODY_ROLES = {
        Body.COPIL: Role.COPIL,
        Body.COTECH: Role.COTECH,
        Body.WORKING_GROUP: Role.WG_MEMBER,
    }

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("dispositif")
    )
    body = models.CharField(_("instance"), max_length=20, choices=Body.choices)
    working_group = models.ForeignKey(
        WorkingGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("groupe de travail"),
    )
    date = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=200)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("président·e de séance"),
    )
    co_animators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("co-animation")
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("présents")
    )
    other_attendees = models.TextField(_("autres participants"), blank=True)
    notes = models.TextField(_("relevé des échanges"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("créée par"),
    )
    applied_at = models.DateTimeField(_("décisions appliquées le"), null=True, blank=True)
    # Each change of date or place sends the convocation again, numbered for calendars.
    sequence = models.PositiveIntegerField(_("version de la convocation"), default=0)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    # The minutes: drafted by whoever keeps the register, validated by the chair (then
    # published to the members).
    minutes = models.TextField(_("compte rendu"), blank=True)
    minutes_validated_at = models.DateTimeField(_("compte rendu validé le"), null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("séance")
        verbose_name_plural = _("séances")

    def __str__(self) -> str:
        body = self.working_group.name if self.working_group_id else self.get_body_display()
        return f"{body} du {timezone.localtime(self.date):%d/%m/%Y}"

    def clean(self) -> None:
        if (self.body == self.Body.WORKING_GROUP) != bool(self.working_group_id):
            raise ValidationError(
                {"working_group": gettext("Une séance de groupe de travail nomme son groupe.")}
            )
        if self.working_group_id and self.working_group.programme_id != self.programme_id:
            raise ValidationError(
                {"working_group": gettext("Le groupe doit appartenir au dispositif.")}
            )

    def states_on_agenda(self) -> list[str]:
        """The states of the fiches whose awaited decision belongs to this body."""
        role = self.BODY_ROLES.get(self.body)
        return lifecycle.states_awaiting(Action, role) if role else []


def decision_choices() -> list[tuple[str, object]]:
    """No decision (postponed), or one of the fiche's transitions."""
    return [("", _("Pas de décision (reportée)"))] + [
        (name, lifecycle.label(Action, name)) for name in lifecycle.names(Action)
    ]


class AgendaItem(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("séance")
    )
    # A fiche to decide on or to discuss, or a free topic.
    action = models.ForeignKey(
        Action,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("fiche action"),
    )
    topic = models.CharField(_("sujet"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"))
    state_at_agenda = models.CharField(
        _("état à l'inscription"), max_length=20, choices=ActionState.choices, blank=True
    )
    decision = models.CharField(
        _("décision"), max_length=30, choices=decision_choices, blank=True, default=""
    )
    comment = models.TextField(_("motif / commentaire"), blank=True)

    class Meta:
        ordering = ["meeting", "position"]
        verbose_name = _("point à l'ordre du jour")
        verbose_name_plural = _("ordre du jour")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "action"], name="agenda_action_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.action or self.topic}"

    def outcome(self) -> str:
        """What the decision made of the fiche, as the minutes say it (« Validée »), or
        « Pas de décision (reportée) »."""
        step = self.decision and lifecycle.step(Action, self.decision, self.state_at_agenda)
        if not step:
            return str(self.get_decision_display())
        return str(ActionState(step.targets[0]).label)

    def decision_choices(self) -> list[tuple[str, object]]:
        """What the séance's body may decide about this fiche, in the state it was put on the
        agenda: the transitions from that state whose roles include the body's (none for a
        free topic, which has no state)."""
        role = self.meeting.BODY_ROLES.get(self.meeting.body)
        allowed = (
            [(s.name, s.label) for s in lifecycle.decisions_of(Action, self.state_at_agenda, role)]
            if role and self.state_at_agenda
            else []
        )
        return [decision_choices()[0], *allowed]
