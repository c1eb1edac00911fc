"""Evaluation of an action: indicators, their measurements and the evaluation report."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models import Action


class Indicator(models.Model):
    class Kind(models.TextChoices):
        PROCESS = "process", _("Processus")
        RESULT = "result", _("Résultat")
        IMPACT = "impact", _("Impact")

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("fiche action")
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("libellé"), max_length=300)
    unit = models.CharField(_("unité"), max_length=50, blank=True)
    baseline = models.DecimalField(
        _("valeur de référence"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    target = models.DecimalField(_("cible"), max_digits=14, decimal_places=2, null=True, blank=True)
    collection_method = models.CharField(_("méthode de recueil"), max_length=300, blank=True)
    frequency = models.CharField(_("fréquence"), max_length=100, blank=True)

    class Meta:
        ordering = ["action", "id"]
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")

    def __str__(self) -> str:
        return self.label

    def target_reached(self, value: Decimal | None) -> bool | None:
        """Whether ``value`` reaches the target (None when there is no value or no target).
        A target below the baseline is a decrease to obtain (e.g. a waiting time)."""
        if value is None or self.target is None:
            return None
        if self.baseline is not None and self.target < self.baseline:
            return value <= self.target
        return value >= self.target


class Measurement(models.Model):
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="measurements",
        verbose_name=_("indicateur"),
    )
    date = models.DateField(_("date"))
    # Optional: the period the value covers (« 1er semestre 2026 »), dated by ``date``.
    period = models.CharField(_("période"), max_length=100, blank=True)
    value = models.DecimalField(_("valeur"), max_digits=14, decimal_places=2)
    source = models.CharField(_("source"), max_length=300, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("saisie par"),
    )

    class Meta:
        ordering = ["indicator", "date"]
        verbose_name = _("mesure")
        verbose_name_plural = _("mesures")

    def __str__(self) -> str:
        return f"{self.indicator} : {self.value} ({self.date:%d/%m/%Y})"


class EvaluationReport(models.Model):
    action = models.OneToOneField(
        Action,
        on_delete=models.CASCADE,
        related_name="evaluation_report",
        verbose_name=_("fiche action"),
    )
    achievements = models.TextField(_("réalisations"))
    difficulties = models.TextField(_("difficultés rencontrées"), blank=True)
    participation = models.TextField(
        _("participation des habitants et des personnes concernées"), blank=True
    )
    recommendations = models.TextField(_("recommandations"), blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rédigé par"),
    )
    written_at = models.DateTimeField(_("rédigé le"), auto_now=True)

    class Meta:
        verbose_name = _("rapport d'évaluation")
        verbose_name_plural = _("rapports d'évaluation")

    def __str__(self) -> str:
        return f"Évaluation — {self.action}"
