"""The technical opinion of the COTECH's members on a fiche submitted to the COPIL: one per
member and per submitted version, asked in parallel, with a due date. The COPIL decides with
the opinions beside the frozen fiche — or once the due date has passed without them all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .action import Action


class Opinion(models.Model):
    class Verdict(models.TextChoices):
        FAVOURABLE = "favourable", _("Favorable")
        RESERVED = "reserved", _("Réservé")
        UNFAVOURABLE = "unfavourable", _("Défavorable")

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="opinions", verbose_name=_("fiche action")
    )
    version = models.PositiveIntegerField(_("version soumise"))
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("membre du COTECH"),
    )
    due = models.DateField(_("avis attendu le"))
    verdict = models.CharField(_("avis"), max_length=20, choices=Verdict.choices, blank=True)
    text = models.TextField(_("motivation"), blank=True)
    given_at = models.DateTimeField(_("rendu le"), null=True, blank=True)

    class Meta:
        ordering = ["action", "version", "member__last_name"]
        verbose_name = _("avis technique")
        verbose_name_plural = _("avis techniques")
        constraints = [
            models.UniqueConstraint(
                fields=["action", "version", "member"], name="opinion_once_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} — v{self.version} — {self.member}"
