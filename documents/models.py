"""Documents attached to what the programme's people work on: the programme itself (contract,
charter, diagnostic, amendments), a fiche, a séance (invitation, minutes), a funding request
(decision letter, agreement) and its payments (proof of payment).

A document belongs to one object, the most precise one set: a payment's document also names
its request and its fiche, so that the fiche's history and its request's page show it. Its
content was checked when it arrived (``uploads``); its SHA-256 is in the audit trail with its
upload and its removal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from funding.models import FundingRequest, Tranche
from projects.models import Action, Meeting, Programme


class Document(models.Model):
    class Kind(models.TextChoices):
        CONTRACT = "contract", _("Contrat")
        CHARTER = "charter", _("Charte")
        DIAGNOSTIC = "diagnostic", _("Diagnostic")
        AMENDMENT = "amendment", _("Avenant")
        INVITATION = "invitation", _("Invitation")
        MINUTES = "minutes", _("Compte rendu")
        DECISION_LETTER = "decision_letter", _("Courrier de décision")
        AGREEMENT = "agreement", _("Convention")
        PROOF_OF_PAYMENT = "proof_of_payment", _("Justificatif de paiement")
        REPORT = "report", _("Bilan, rapport")
        OTHER = "other", _("Autre document")

    # The kinds offered for each object a document can belong to (the first: the default).
    KINDS = {
        "programme": ("contract", "charter", "diagnostic", "amendment", "report", "other"),
        "action": ("report", "other"),
        "meeting": ("invitation", "minutes", "other"),
        "funding_request": ("decision_letter", "agreement", "other"),
        "tranche": ("proof_of_payment", "other"),
    }

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="documents", verbose_name=_("dispositif")
    )
    action = models.ForeignKey(
        Action,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("fiche action"),
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("séance"),
    )
    funding_request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("demande de financement"),
    )
    tranche = models.ForeignKey(
        Tranche,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("versement"),
    )
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("titre"), max_length=200)
    file = models.FileField(_("fichier"), upload_to="documents/", max_length=200)
    format = models.CharField(_("format"), max_length=30)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte (SHA-256)"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("déposé par"),
    )
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            # A meeting's document is the programme's; a fiche's may belong to its request,
            # and a request's to its payment — never a séance and a fiche at once.
            models.CheckConstraint(
                condition=Q(meeting__isnull=True) | Q(action__isnull=True),
                name="document_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(funding_request__isnull=True) | Q(action__isnull=False),
                name="document_request_has_fiche",
            ),
            models.CheckConstraint(
                condition=Q(tranche__isnull=True) | Q(funding_request__isnull=False),
                name="document_tranche_has_request",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def owner_kind(self) -> str:
        """What the document belongs to: its most precise object."""
        for name in ("tranche", "funding_request", "meeting", "action"):
            if getattr(self, f"{name}_id"):
                return name
        return "programme"
