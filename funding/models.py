"""Money of an action: its planned budget and the funding requested from each funder."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from viewflow.fsm import FSMField
from viewflow.fsm import State as FSM

from projects.models import Action, Organisation, Role


def money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        **kwargs,
    )


class BudgetLine(models.Model):
    class Category(models.TextChoices):
        STAFF = "staff", "Frais de personnel"
        OPERATING = "operating", "Fonctionnement"
        SERVICES = "services", "Prestations de services"
        COMMUNICATION = "communication", "Communication"
        EQUIPMENT = "equipment", "Investissement / matériel"
        OTHER = "other", "Autres"

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="budget_lines", verbose_name="fiche action"
    )
    year = models.PositiveSmallIntegerField("année")
    category = models.CharField("catégorie", max_length=20, choices=Category.choices)
    planned = money("prévisionnel", default=Decimal("0"))
    actual = money("réalisé", default=Decimal("0"))

    class Meta:
        ordering = ["action", "year", "category"]
        verbose_name = "ligne budgétaire"
        verbose_name_plural = "lignes budgétaires"
        constraints = [
            models.UniqueConstraint(
                fields=["action", "year", "category"], name="budget_line_unique"
            ),
            models.CheckConstraint(
                condition=Q(planned__gte=0) & Q(actual__gte=0), name="budget_line_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} — {self.year} — {self.get_category_display()}"


class FundingRequest(models.Model):
    """A subsidy request (demande de subvention) of one action to one funder."""

    class State(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SUBMITTED = "submitted", "Déposée"
        GRANTED = "granted", "Accordée"
        PARTIALLY_GRANTED = "partially_granted", "Accordée partiellement"
        REFUSED = "refused", "Refusée"
        WITHDRAWN = "withdrawn", "Retirée"
        AGREEMENT_SIGNED = "agreement_signed", "Convention signée"
        PAID = "paid", "Versée"
        JUSTIFIED = "justified", "Justifiée"
        CLOSED = "closed", "Soldée"

    UNDECIDED_STATES = (State.DRAFT, State.SUBMITTED)
    GRANTED_STATES = (
        State.GRANTED,
        State.PARTIALLY_GRANTED,
        State.AGREEMENT_SIGNED,
        State.PAID,
        State.JUSTIFIED,
        State.CLOSED,
    )

    action = models.ForeignKey(
        Action,
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name="fiche action",
    )
    funder = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name="financeur",
    )
    scheme = models.CharField("dispositif de financement", max_length=200)
    year = models.PositiveSmallIntegerField("année")
    requested_amount = money("montant demandé")
    granted_amount = money("montant accordé", null=True, blank=True)
    decision_date = models.DateField("date de décision", null=True, blank=True)
    decision_reference = models.CharField("référence de la décision", max_length=100, blank=True)
    state = FSMField(
        "état",
        max_length=20,
        choices=State.choices,
        default=State.DRAFT,
        protected=True,
        db_index=True,
    )

    class Meta:
        ordering = ["action", "year", "funder"]
        verbose_name = "demande de financement"
        verbose_name_plural = "demandes de financement"
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0)
                & (Q(granted_amount__isnull=True) | Q(granted_amount__gte=0)),
                name="funding_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} — {self.funder} ({self.scheme} {self.year})"

    def _grant_target(self, *, amount: Decimal, **kwargs) -> str:
        if amount >= self.requested_amount:
            return self.State.GRANTED
        return self.State.PARTIALLY_GRANTED

    @state.transition(
        source=State.DRAFT,
        target=State.SUBMITTED,
        label="Déposer",
        custom={"roles": {Role.COORDINATOR}},
    )
    def submit(self) -> None:
        pass

    @state.transition(
        source=State.SUBMITTED,
        target=FSM.GET_STATE(_grant_target, states=[State.GRANTED, State.PARTIALLY_GRANTED]),
        label="Accorder",
        custom={"roles": {Role.FUNDER}, "funder_decision": True},
    )
    def grant(self, *, amount: Decimal, decision_date, reference: str = "") -> None:
        self.granted_amount = amount
        self.decision_date = decision_date
        self.decision_reference = reference

    @state.transition(
        source=State.SUBMITTED,
        target=State.REFUSED,
        label="Refuser",
        custom={"roles": {Role.FUNDER}, "funder_decision": True, "reason_required": True},
    )
    def refuse(self, *, decision_date, reference: str = "") -> None:
        self.granted_amount = Decimal("0")
        self.decision_date = decision_date
        self.decision_reference = reference

    @state.transition(
        source=[State.DRAFT, State.SUBMITTED],
        target=State.WITHDRAWN,
        label="Retirer",
        custom={"roles": {Role.COORDINATOR}, "reason_required": True},
    )
    def withdraw(self) -> None:
        pass

    @state.transition(
        source=[State.GRANTED, State.PARTIALLY_GRANTED],
        target=State.AGREEMENT_SIGNED,
        label="Enregistrer la convention signée",
        custom={"roles": {Role.COORDINATOR, Role.FUNDER}},
    )
    def sign_agreement(self) -> None:
        pass

    @state.transition(
        source=State.AGREEMENT_SIGNED,
        target=State.PAID,
        label="Enregistrer le versement",
        custom={"roles": {Role.FUNDER}},
    )
    def mark_paid(self) -> None:
        pass

    @state.transition(
        source=State.PAID,
        target=State.JUSTIFIED,
        label="Justifier l'emploi des fonds",
        custom={"roles": {Role.COORDINATOR, Role.ACTION_LEAD}},
    )
    def justify(self) -> None:
        pass

    @state.transition(
        source=State.JUSTIFIED,
        target=State.CLOSED,
        label="Solder",
        custom={"roles": {Role.FUNDER}},
    )
    def close(self) -> None:
        pass

    TRANSITIONS = (
        "submit",
        "grant",
        "refuse",
        "withdraw",
        "sign_agreement",
        "mark_paid",
        "justify",
        "close",
    )
