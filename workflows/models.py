"""The audit trail: append-only (database triggers) and hash-chained per programme."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    programme = models.ForeignKey(
        "projects.Programme",
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name="dispositif",
    )
    # Position in the programme's chain, from 1, without gaps.
    seq = models.PositiveBigIntegerField("n°")
    at = models.DateTimeField("date (UTC)")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    actor_label = models.CharField("auteur (nom)", max_length=300)
    object_type = models.CharField("type d'objet", max_length=100)
    object_id = models.CharField("identifiant de l'objet", max_length=64)
    object_repr = models.CharField("objet", max_length=300)
    # The fiche action the event concerns (itself, or its budget, funding, indicators...), so
    # that its timeline is complete. Not a foreign key: the trail outlives what it describes.
    action_id = models.BigIntegerField("fiche action", null=True, blank=True)
    event = models.CharField("événement", max_length=64)
    from_state = models.CharField("état de départ", max_length=30, blank=True)
    to_state = models.CharField("état d'arrivée", max_length=30, blank=True)
    # {field: [before, after]} with JSON-native values (text, numbers as text, dates ISO).
    changes = models.JSONField("modifications", default=dict, blank=True)
    comment = models.TextField("commentaire", blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    prev_hash = models.CharField("empreinte précédente", max_length=64)
    hash = models.CharField("empreinte", max_length=64, unique=True)

    class Meta:
        ordering = ["programme", "seq"]
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        constraints = [
            models.UniqueConstraint(fields=["programme", "seq"], name="audit_chain_position_unique")
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            models.Index(fields=["action_id", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} — {self.object_repr}"
