"""Evaluation of an action: indicators, their measurements and the evaluation report."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Action


class Indicator(models.Model):
    class Kind(models.TextChoices):
        PROCESS = "process", "Processus"
        RESULT = "result", "Résultat"
        IMPACT = "impact", "Impact"

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="indicators", verbose_name="fiche action"
    )
    kind = models.CharField("type", max_length=10, choices=Kind.choices)
    label = models.CharField("libellé", max_length=300)
    unit = models.CharField("unité", max_length=50, blank=True)
    baseline = models.DecimalField(
        "valeur de référence", max_digits=14, decimal_places=2, null=True, blank=True
    )
    target = models.DecimalField("cible", max_digits=14, decimal_places=2, null=True, blank=True)
    collection_method = models.CharField("méthode de recueil", max_length=300, blank=True)
    frequency = models.CharField("fréquence", max_length=100, blank=True)

    class Meta:
        ordering = ["action", "id"]
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"

    def __str__(self) -> str:
        return self.label


class Measurement(models.Model):
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="measurements", verbose_name="indicateur"
    )
    date = models.DateField("date")
    value = models.DecimalField("valeur", max_digits=14, decimal_places=2)
    source = models.CharField("source", max_length=300, blank=True)
    comment = models.TextField("commentaire", blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="saisie par",
    )

    class Meta:
        ordering = ["indicator", "date"]
        verbose_name = "mesure"
        verbose_name_plural = "mesures"

    def __str__(self) -> str:
        return f"{self.indicator} : {self.value} ({self.date:%d/%m/%Y})"


class EvaluationReport(models.Model):
    action = models.OneToOneField(
        Action,
        on_delete=models.CASCADE,
        related_name="evaluation_report",
        verbose_name="fiche action",
    )
    achievements = models.TextField("réalisations")
    difficulties = models.TextField("difficultés rencontrées", blank=True)
    participation = models.TextField(
        "participation des habitants et des personnes concernées", blank=True
    )
    recommendations = models.TextField("recommandations", blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="rédigé par",
    )
    written_at = models.DateTimeField("rédigé le", auto_now=True)

    class Meta:
        verbose_name = "rapport d'évaluation"
        verbose_name_plural = "rapports d'évaluation"

    def __str__(self) -> str:
        return f"Évaluation — {self.action}"
