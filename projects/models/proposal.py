"""Ideas put forward by residents (habitant·es, usagers, pair-aidants, members of a GEM)
through a programme's public page, without an account. They wait in a moderation queue: the
coordination publishes one as a proposed fiche (credited « proposition d'habitant »), merges
it into an existing fiche, or declines it with a public reason. The optional contact (an
e-mail, with explicit consent) is erased when its retention period ends."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.fsm import FSMField

from .action import Action
from .programme import Programme, Role


class ResidentProposal(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("À modérer")
        PUBLISHED = "published", _("Publiée comme fiche proposée")
        MERGED = "merged", _("Rattachée à une fiche existante")
        DECLINED = "declined", _("Non retenue")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="resident_proposals",
        verbose_name=_("dispositif"),
    )
    idea = models.CharField(_("votre idée"), max_length=300)
    need = models.TextField(_("le besoin constaté"), max_length=3000)
    neighbourhood = models.CharField(_("quartier ou commune"), max_length=200, blank=True)
    contact_email = models.EmailField(_("courriel (facultatif)"), blank=True)
    contact_consent = models.BooleanField(_("accord pour être recontacté·e"), default=False)
    contact_until = models.DateField(_("contact conservé jusqu'au"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("déposée le"), auto_now_add=True)
    # Likely personal data found by the detector, for the moderator to check (labels only).
    flags = models.JSONField(_("données personnelles possibles"), default=list, blank=True)
    state = FSMField(
        _("état"), max_length=20, choices=State.choices, default=State.PENDING, protected=True
    )
    public_reason = models.TextField(_("réponse publique"), blank=True)
    action = models.ForeignKey(
        Action,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_proposals",
        verbose_name=_("fiche action"),
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("proposition d'habitant")
        verbose_name_plural = _("propositions d'habitant·es")
        indexes = [models.Index(fields=["programme", "state"])]

    def __str__(self) -> str:
        # Not the idea: this is how the audit trail names the proposal, and the resident's
        # text stays out of it until a moderator has read it.
        return gettext("Proposition d'habitant n° {pk}").format(pk=self.pk)

    # --- moderation (the ``custom`` keys are described in ``projects.lifecycle``) ------------

    @state.transition(
        source=State.PENDING,
        target=State.PUBLISHED,
        label=_("Publier comme fiche proposée"),
        custom={"roles": {Role.COORDINATOR}},
    )
    def publish(self, *, action: Action) -> None:
        self.action = action

    @state.transition(
        source=State.PENDING,
        target=State.MERGED,
        label=_("Rattacher à une fiche existante"),
        custom={"roles": {Role.COORDINATOR}},
    )
    def attach(self, *, action: Action) -> None:
        self.action = action

    @state.transition(
        source=State.PENDING,
        target=State.DECLINED,
        label=_("Ne pas retenir"),
        custom={"roles": {Role.COORDINATOR}, "reason_required": True},
    )
    def decline(self, *, public_reason: str = "") -> None:
        self.public_reason = public_reason
