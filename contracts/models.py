"""Signatures, amendments and evaluations of a programme's contract.

A **signing** is one round of signatures: the contract itself when the COPIL sends it for
signature, an amendment the COPIL approved, or a funding agreement once the funder granted the
request. Each organisation expected to sign has its own **signature** (its own task, in
parallel: viewflow split/join); the round succeeds when the last one signs, and fails — back
to drafting, with the reason — when one refuses.

An **amendment** (avenant) is numbered per programme; prepared by the coordination, approved by
the COPIL, signed by the signatories; when it enters into force its changes apply (a new end
date, new signatories) and stay readable in the history.

An **evaluation** of the contract (mid-term, final) is prefilled from the data, written by the
coordination and adopted by the COPIL; the final one is required before the programme ends.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.fsm import FSMField, State

from funding.models import FundingRequest
from projects.calendar import check_date
from projects.models import Action, Organisation, Programme, Role


class Amendment(models.Model):
    class Status(models.TextChoices):
        DRAFTING = "drafting", _("En préparation")
        COPIL_REVIEW = "copil_review", _("Soumis au COPIL")
        AWAITING_SIGNATURES = "awaiting_signatures", _("En attente de signatures")
        IN_FORCE = "in_force", _("En vigueur")
        REJECTED = "rejected", _("Rejeté")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="amendments", verbose_name=_("dispositif")
    )
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("objet"), max_length=300)
    summary = models.TextField(
        _("ce qui change"),
        help_text=_("Nouveaux axes ou objectifs, nouvelles fiches annexées, raisons de l'avenant."),
    )
    new_end_date = models.DateField(_("nouvelle date de fin"), null=True, blank=True)
    new_signatories = models.ManyToManyField(
        Organisation, blank=True, related_name="+", verbose_name=_("nouveaux signataires")
    )
    annexed_actions = models.ManyToManyField(
        Action, blank=True, related_name="amendments", verbose_name=_("fiches annexées")
    )
    status = FSMField(
        _("état"), max_length=30, choices=Status.choices, default=Status.DRAFTING, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    in_force_at = models.DateTimeField(_("en vigueur le"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "number"]
        verbose_name = _("avenant")
        verbose_name_plural = _("avenants")
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="amendment_number_unique")
        ]

    def __str__(self) -> str:
        return gettext("Avenant n° {number} — {title}").format(number=self.number, title=self.title)

    def clean(self) -> None:
        if self.new_end_date:
            try:
                check_date(self.new_end_date)
            except ValidationError as exc:
                raise ValidationError({"new_end_date": exc.messages}) from exc
            if self.programme_id and self.new_end_date <= self.programme.end_date:
                raise ValidationError(
                    {"new_end_date": gettext("La nouvelle fin doit suivre la fin actuelle.")}
                )

    # --- lifecycle (the ``custom`` keys are described in ``projects.lifecycle``) -------------

    @status.transition(
        source=Status.DRAFTING,
        target=Status.COPIL_REVIEW,
        label=_("Soumettre l'avenant au COPIL"),
        custom={"roles": {Role.COORDINATOR}},
    )
    def submit(self) -> None:
        pass

    @status.transition(
        source=Status.COPIL_REVIEW,
        target=Status.AWAITING_SIGNATURES,
        label=_("Approuver l'avenant et l'envoyer en signature"),
        custom={"roles": {Role.COPIL}},
    )
    def approve(self) -> None:
        pass

    @status.transition(
        source=Status.COPIL_REVIEW,
        target=Status.DRAFTING,
        label=_("Demander des modifications"),
        custom={"roles": {Role.COPIL}, "reason_required": True},
    )
    def request_changes(self) -> None:
        pass

    @status.transition(
        source=Status.COPIL_REVIEW,
        target=Status.REJECTED,
        label=_("Rejeter l'avenant"),
        custom={"roles": {Role.COPIL}, "reason_required": True},
    )
    def reject(self) -> None:
        pass

    def signatures_in(self) -> State.CONDITION:
        return signed_by_all(self.signings.order_by("-pk").first())

    @status.transition(
        source=Status.AWAITING_SIGNATURES,
        target=Status.IN_FORCE,
        label=_("Entrée en vigueur de l'avenant"),
        conditions=[signatures_in],
        # Run by the last signature, never offered as a button.
        custom={"roles": {Role.SIGNATORY}, "automatic": True},
    )
    def enter_into_force(self) -> None:
        pass

    @status.transition(
        source=Status.AWAITING_SIGNATURES,
        target=Status.DRAFTING,
        label=_("Signature refusée : retour en préparation"),
        custom={"roles": {Role.SIGNATORY}, "reason_required": True, "automatic": True},
    )
    def signature_refused(self) -> None:
        pass


class Signing(models.Model):
    """A round of signatures of one document: the contract, an amendment, or an agreement."""

    class Subject(models.TextChoices):
        CONTRACT = "contract", _("Le contrat")
        AMENDMENT = "amendment", _("Un avenant")
        AGREEMENT = "agreement", _("Une convention de financement")

    class Outcome(models.TextChoices):
        OPEN = "", _("En cours")
        SIGNED = "signed", _("Signé par tous")
        REFUSED = "refused", _("Signature refusée")
        CANCELLED = "cancelled", _("Annulé")

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="signings", verbose_name=_("dispositif")
    )
    subject = models.CharField(_("objet"), max_length=20, choices=Subject.choices)
    amendment = models.ForeignKey(
        Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="signings"
    )
    funding_request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="signings"
    )
    opened_at = models.DateTimeField(_("ouvert le"), auto_now_add=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    outcome = models.CharField(
        _("issue"), max_length=20, choices=Outcome.choices, default="", blank=True
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("tour de signatures")
        verbose_name_plural = _("tours de signatures")
        constraints = [
            models.CheckConstraint(
                condition=Q(subject="contract", amendment=None, funding_request=None)
                | Q(subject="amendment", amendment__isnull=False, funding_request=None)
                | Q(subject="agreement", amendment=None, funding_request__isnull=False),
                name="signing_subject_matches",
            )
        ]

    def __str__(self) -> str:
        if self.amendment_id:
            return str(self.amendment)
        if self.funding_request_id:
            return gettext("Convention — {request}").format(request=self.funding_request)
        return gettext("Contrat — {programme}").format(programme=self.programme)


def signed_by_all(signing: Signing | None) -> State.CONDITION:
    """Every organisation of the round has signed."""
    if signing is None:
        return State.CONDITION(False, gettext("Aucun tour de signatures ouvert."))
    missing = [
        s.organisation.name
        for s in signing.signatures.select_related("organisation")
        if s.state != Signature.State.SIGNED
    ]
    if missing:
        return State.CONDITION(
            False, gettext("Signatures attendues de : {names}.").format(names=", ".join(missing))
        )
    return State.CONDITION(True)


class Signature(models.Model):
    """One organisation's signature in a round: signed by one of its people (who hold the role
    the round asks of that organisation), or refused with the reason."""

    class State(models.TextChoices):
        PENDING = "pending", _("À signer")
        SIGNED = "signed", _("Signé")
        REFUSED = "refused", _("Refusé")
        CANCELLED = "cancelled", _("Sans objet")

    signing = models.ForeignKey(Signing, on_delete=models.CASCADE, related_name="signatures")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="signatures"
    )
    # The role that signs for the organisation: signatory (contract, amendment), or funder and
    # action lead (a funding agreement).
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    state = models.CharField(_("état"), max_length=20, choices=State.choices, default=State.PENDING)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signé par"),
    )
    signed_at = models.DateTimeField(_("le"), null=True, blank=True)
    signed_copy = models.CharField(_("copie signée"), max_length=300, blank=True)
    signed_copy_sha256 = models.CharField(max_length=64, blank=True)
    reason = models.TextField(_("motif du refus"), blank=True)

    class Meta:
        ordering = ["signing", "organisation__name"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["signing", "organisation", "role"], name="signature_once_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.signing} — {self.organisation}"


class Evaluation(models.Model):
    """An evaluation of the contract: prefilled with the figures of each axis, written by the
    coordination, adopted by the COPIL."""

    class Kind(models.TextChoices):
        MIDTERM = "midterm", _("Évaluation à mi-parcours")
        FINAL = "final", _("Évaluation finale")

    class Status(models.TextChoices):
        DRAFTING = "drafting", _("En rédaction")
        COPIL_REVIEW = "copil_review", _("Soumise au COPIL")
        ADOPTED = "adopted", _("Adoptée")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("dispositif"),
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    # Per axis: fiches done / running / dropped, indicators reached, funding obtained,
    # participation — as computed when the evaluation was (re)prefilled.
    figures = models.JSONField(_("chiffres par axe"), default=dict, blank=True)
    figures_at = models.DateTimeField(_("chiffres au"), null=True, blank=True)
    findings = models.TextField(_("constats"), blank=True)
    recommendations = models.TextField(_("recommandations"), blank=True)
    status = FSMField(
        _("état"), max_length=20, choices=Status.choices, default=Status.DRAFTING, protected=True
    )
    adopted_at = models.DateTimeField(_("adoptée le"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "kind"]
        verbose_name = _("évaluation du contrat")
        verbose_name_plural = _("évaluations du contrat")
        constraints = [
            models.UniqueConstraint(fields=["programme", "kind"], name="evaluation_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.programme}"

    def written(self) -> State.CONDITION:
        if self.findings.strip() and self.recommendations.strip():
            return State.CONDITION(True)
        return State.CONDITION(
            False, gettext("Écrivez les constats et les recommandations avant de la soumettre.")
        )

    @status.transition(
        source=Status.DRAFTING,
        target=Status.COPIL_REVIEW,
        label=_("Soumettre l'évaluation au COPIL"),
        conditions=[written],
        custom={"roles": {Role.COORDINATOR}},
    )
    def submit(self) -> None:
        pass

    @status.transition(
        source=Status.COPIL_REVIEW,
        target=Status.ADOPTED,
        label=_("Adopter l'évaluation"),
        custom={"roles": {Role.COPIL}},
    )
    def adopt(self) -> None:
        from django.utils import timezone

        self.adopted_at = timezone.now()

    @status.transition(
        source=Status.COPIL_REVIEW,
        target=Status.DRAFTING,
        label=_("Demander des compléments"),
        custom={"roles": {Role.COPIL}, "reason_required": True},
    )
    def request_changes(self) -> None:
        pass
