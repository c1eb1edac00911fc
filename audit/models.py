"""The audit event: one row per change, append-only (database triggers) and hash-chained per
programme. The table keeps the name it had when the model lived in ``workflows``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    programme = models.ForeignKey(
        "projects.Programme",
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("dispositif"),
    )
    # Position in the programme's chain, from 1, without gaps.
    seq = models.PositiveBigIntegerField(_("n°"))
    at = models.DateTimeField(_("date (UTC)"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    actor_label = models.CharField(_("auteur (nom)"), max_length=300)
    object_type = models.CharField(_("type d'objet"), max_length=100)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64)
    object_repr = models.CharField(_("objet"), max_length=300)
    # The fiche action the event concerns (itself, or its budget, funding, indicators...), so
    # that its timeline is complete. Not a foreign key: the trail outlives what it describes.
    action_id = models.BigIntegerField(_("fiche action"), null=True, blank=True)
    event = models.CharField(_("événement"), max_length=64)
    from_state = models.CharField(_("état de départ"), max_length=30, blank=True)
    to_state = models.CharField(_("état d'arrivée"), max_length=30, blank=True)
    # {field: [before, after]} with JSON-native values (text, numbers as text, dates ISO).
    changes = models.JSONField(_("modifications"), default=dict, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    # The key that sealed the event (its id: the secret lives outside the database,
    # AUDIT_CHAIN_KEYS); empty for an event sealed by a plain SHA-256 (no key configured).
    key_id = models.CharField(_("clé"), max_length=32, blank=True, default="")
    # Whether the names shown (``actor_label``, ``object_repr``) are inside the seal: they are
    # for events written before account erasure existed; newer events seal the actor's id and
    # the object's type and id only, so that erasing an account can replace the person's name
    # by a pseudonym (the only update the database lets through) and the chain still verifies.
    names_sealed = models.BooleanField(_("noms scellés"), default=True)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64)
    hash = models.CharField(_("empreinte"), max_length=64, unique=True)

    class Meta:
        db_table = "workflows_auditevent"
        ordering = ["programme", "seq"]
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        constraints = [
            models.UniqueConstraint(fields=["programme", "seq"], name="audit_chain_position_unique")
        ]
        indexes = [
            models.Index(
                fields=["object_type", "object_id", "seq"], name="workflows_a_object__5fa035_idx"
            ),
            models.Index(fields=["action_id", "seq"], name="workflows_a_action__8cfcdf_idx"),
            # A period of a programme's trail: annual report, audit-trail export.
            models.Index(fields=["programme", "at"], name="workflows_a_program_051921_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} — {self.object_repr}"
