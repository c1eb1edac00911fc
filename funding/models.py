"""Money of an action: its planned budget and the funding requested from each funder."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.fsm import FSMField
from viewflow.fsm import State as FSM

from projects.calendar import check_programme_year
from projects.models import Action, Organisation, Role, money


class BudgetLine(models.Model):
    class Category(models.TextChoices):
        STAFF = "staff", _("Frais de personnel")
        OPERATING = "operating", _("Fonctionnement")
        SERVICES = "services", _("Prestations de services")
        COMMUNICATION = "communication", _("Communication")
        EQUIPMENT = "equipment", _("Investissement / matériel")
        OTHER = "other", _("Autres")

    action = models.ForeignKey(
        Action,
        on_delete=models.CASCADE,
        related_name="budget_lines",
        verbose_name=_("fiche action"),
    )
    year = models.PositiveSmallIntegerField(_("année"))
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    # Several lines per category and year, told apart by what they pay for.
    label = models.CharField(_("libellé"), max_length=200)
    planned = money(_("prévisionnel"), default=Decimal("0"))
    actual = money(_("réalisé"), default=Decimal("0"))

    class Meta:
        ordering = ["action", "year", "category", "pk"]
        verbose_name = _("ligne budgétaire")
        verbose_name_plural = _("lignes budgétaires")
        constraints = [
            # The same label twice in one category and year is a double entry, not a plan.
            models.UniqueConstraint(
                fields=["action", "year", "category", "label"],
                name="budget_line_unique_label",
                violation_error_message=_(
                    "Cette fiche a déjà une ligne de ce libellé pour cette catégorie et cette "
                    "année : précisez le libellé ou modifiez la ligne existante."
                ),
            ),
            models.CheckConstraint(condition=~Q(label=""), name="budget_line_labelled"),
            models.CheckConstraint(
                condition=Q(planned__gte=0) & Q(actual__gte=0), name="budget_line_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} — {self.year} — {self.get_category_display()} : {self.label}"

    def clean(self) -> None:
        try:
            check_programme_year(self.year, self.action.programme if self.action_id else None)
        except ValidationError as exc:
            raise ValidationError({"year": exc.messages}) from exc


class FundingRequest(models.Model):
    """A subsidy request (demande de subvention) of one action to one funder."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Déposée")
        GRANTED = "granted", _("Accordée")
        PARTIALLY_GRANTED = "partially_granted", _("Accordée partiellement")
        REFUSED = "refused", _("Refusée")
        WITHDRAWN = "withdrawn", _("Retirée")
        AGREEMENT_SIGNED = "agreement_signed", _("Convention signée")
        PAID = "paid", _("Versée")
        JUSTIFIED = "justified", _("Justifiée")
        CLOSED = "closed", _("Soldée")

    UNDECIDED_STATES = (State.DRAFT, State.SUBMITTED)
    GRANTED_STATES = (
        State.GRANTED,
        State.PARTIALLY_GRANTED,
        State.AGREEMENT_SIGNED,
        State.PAID,
        State.JUSTIFIED,
        State.CLOSED,
    )
    # What a financing plan counts as asked of a funder: every request but a withdrawn one.
    REQUESTED_STATES = (*UNDECIDED_STATES, *GRANTED_STATES, State.REFUSED)

    action = models.ForeignKey(
        Action,
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name=_("fiche action"),
    )
    funder = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name=_("financeur"),
    )
    scheme = models.CharField(_("dispositif de financement"), max_length=200)
    year = models.PositiveSmallIntegerField(_("année"))
    requested_amount = money(_("montant demandé"))
    granted_amount = money(_("montant accordé"), null=True, blank=True)
    decision_date = models.DateField(_("date de décision"), null=True, blank=True)
    decision_reference = models.CharField(_("référence de la décision"), max_length=100, blank=True)
    decision_letter = models.FileField(
        _("courrier de décision"), upload_to="financements/decisions/", blank=True
    )
    agreement_reference = models.CharField(
        _("référence de la convention"), max_length=100, blank=True
    )
    agreement_date = models.DateField(_("date de la convention"), null=True, blank=True)
    state = FSMField(
        _("état"),
        max_length=20,
        choices=State.choices,
        default=State.DRAFT,
        protected=True,
        db_index=True,
    )

    class Meta:
        ordering = ["action", "year", "funder"]
        verbose_name = _("demande de financement")
        verbose_name_plural = _("demandes de financement")
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0)
                & (Q(granted_amount__isnull=True) | Q(granted_amount__gte=0)),
                name="funding_amounts_positive",
            ),
            # One request per fiche, funder, scheme and year: a second one is a double entry.
            models.UniqueConstraint(
                fields=["action", "funder", "scheme", "year"],
                name="funding_request_unique",
                violation_error_message=_(
                    "Cette fiche a déjà une demande à ce financeur, pour ce dispositif de "
                    "financement et cette année."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} — {self.funder} ({self.scheme} {self.year})"

    def clean(self) -> None:
        try:
            check_programme_year(self.year, self.action.programme if self.action_id else None)
        except ValidationError as exc:
            raise ValidationError({"year": exc.messages}) from exc

    def _grant_target(self, *, amount: Decimal, **kwargs) -> str:
        if amount >= self.requested_amount:
            return self.State.GRANTED
        return self.State.PARTIALLY_GRANTED

    @state.transition(
        source=State.DRAFT,
        target=State.SUBMITTED,
        label=_("Déposer"),
        custom={
            "roles": {Role.COORDINATOR},
            "setting_roles": {"leads_file_requests": {Role.ACTION_LEAD}},
        },
    )
    def submit(self) -> None:
        pass

    @state.transition(
        source=State.SUBMITTED,
        target=FSM.GET_STATE(_grant_target, states=[State.GRANTED, State.PARTIALLY_GRANTED]),
        label=_("Accorder"),
        custom={"roles": {Role.FUNDER}, "on_behalf": {Role.COORDINATOR}},
    )
    def grant(self, *, amount: Decimal, decision_date, reference: str = "", letter="") -> None:
        self.granted_amount = amount
        self.decision_date = decision_date
        self.decision_reference = reference
        if letter:
            self.decision_letter = letter

    @state.transition(
        source=State.SUBMITTED,
        target=State.REFUSED,
        label=_("Refuser"),
        custom={
            "roles": {Role.FUNDER},
            "on_behalf": {Role.COORDINATOR},
            "reason_required": True,
        },
    )
    def refuse(self, *, decision_date, reference: str = "", letter="") -> None:
        self.granted_amount = Decimal("0")
        self.decision_date = decision_date
        self.decision_reference = reference
        if letter:
            self.decision_letter = letter

    @state.transition(
        source=[State.DRAFT, State.SUBMITTED],
        target=State.WITHDRAWN,
        label=_("Retirer"),
        custom={"roles": {Role.COORDINATOR}, "reason_required": True, "awaited": False},
    )
    def withdraw(self) -> None:
        pass

    @state.transition(
        source=[State.GRANTED, State.PARTIALLY_GRANTED],
        target=State.AGREEMENT_SIGNED,
        label=_("Enregistrer la convention signée"),
        custom={"roles": {Role.COORDINATOR, Role.FUNDER}},
    )
    def sign_agreement(self, *, reference: str = "", date=None) -> None:
        self.agreement_reference = reference
        self.agreement_date = date

    def all_tranches_received(self) -> FSM.CONDITION:
        tranches = self.tranches.all()
        ok = tranches.exists() and not tranches.filter(received_date__isnull=True).exists()
        return FSM.CONDITION(
            ok, gettext("Chaque versement prévu doit avoir été reçu (et il en faut au moins un).")
        )

    @state.transition(
        source=State.AGREEMENT_SIGNED,
        target=State.PAID,
        label=_("Enregistrer le versement"),
        conditions=[all_tranches_received],
        custom={"roles": {Role.COORDINATOR, Role.FUNDER}},
    )
    def mark_paid(self) -> None:
        pass

    @state.transition(
        source=State.PAID,
        target=State.JUSTIFIED,
        label=_("Justifier l'emploi des fonds"),
        custom={"roles": {Role.COORDINATOR, Role.ACTION_LEAD}},
    )
    def justify(self) -> None:
        pass

    @state.transition(
        source=State.JUSTIFIED,
        target=State.CLOSED,
        label=_("Solder"),
        custom={"roles": {Role.FUNDER}},
    )
    def close(self) -> None:
        pass


class Tranche(models.Model):
    """A payment of a funding request (versement): advance, instalment or balance."""

    class Label(models.TextChoices):
        ADVANCE = "advance", _("Avance")
        INSTALMENT = "instalment", _("Acompte")
        BALANCE = "balance", _("Solde")

    request = models.ForeignKey(
        FundingRequest,
        on_delete=models.CASCADE,
        related_name="tranches",
        verbose_name=_("demande de financement"),
    )
    label = models.CharField(_("versement"), max_length=12, choices=Label.choices)
    expected_date = models.DateField(_("date prévue"))
    expected_amount = money(_("montant prévu"))
    supporting_documents = models.TextField(_("pièces justificatives demandées"), blank=True)
    received_date = models.DateField(_("date de réception"), null=True, blank=True)
    received_amount = money(_("montant reçu"), null=True, blank=True)

    class Meta:
        ordering = ["request", "expected_date"]
        verbose_name = _("versement")
        verbose_name_plural = _("versements")
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_amount__gte=0)
                & (Q(received_amount__isnull=True) | Q(received_amount__gte=0)),
                name="tranche_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_label_display()} — {self.request}"
