"""The fiche action, its lifecycle (the backbone of Coordo) and the versions submitted to the
COPIL."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from viewflow.fsm import FSMField, State

from ..financing import FinancingPlan, euros
from .programme import Objective, Organisation, Programme, Role, WorkingGroup


class ParticipationLevel(models.TextChoices):
    INFORMATION = "information", _("Information")
    CONSULTATION = "consultation", _("Consultation")
    CONCERTATION = "concertation", _("Concertation")
    CO_CONSTRUCTION = "co_construction", _("Co-construction")


class ActionState(models.TextChoices):
    DRAFT = "draft", _("Proposée")
    CO_CONSTRUCTION = "co_construction", _("En co-construction")
    COPIL_REVIEW = "copil_review", _("Soumise au COPIL")
    VALIDATED = "validated", _("Validée")
    REJECTED = "rejected", _("Rejetée")
    FUNDING = "funding", _("En recherche de financement")
    IMPLEMENTATION = "implementation", _("En mise en œuvre")
    EVALUATION = "evaluation", _("En évaluation")
    CLOSED = "closed", _("Clôturée")
    ABANDONED = "abandoned", _("Abandonnée")
    # Proposals the coordination did not take up (not a decision of the COPIL).
    DECLINED = "declined", _("Non retenue")
    MERGED = "merged", _("Fusionnée avec une autre fiche")


class Origin(models.TextChoices):
    """Who put the fiche forward: counted in the reports on participation."""

    COORDINATION = "coordination", _("La coordination")
    MEMBER = "member", _("Un membre du dispositif")
    RESIDENT = "resident", _("Des habitant·es")


ACTIVE_STATES = (
    ActionState.DRAFT,
    ActionState.CO_CONSTRUCTION,
    ActionState.COPIL_REVIEW,
    ActionState.VALIDATED,
    ActionState.FUNDING,
    ActionState.IMPLEMENTATION,
    ActionState.EVALUATION,
)
# Fiches that were never carried out, or no longer are the programme's work: they answer no
# need, contribute to no scheme and count in no effort.
NOT_CARRIED_OUT = (
    ActionState.REJECTED,
    ActionState.ABANDONED,
    ActionState.DECLINED,
    ActionState.MERGED,
)
# The fiche can be edited while it is being prepared; afterwards only through a transition back.
EDITABLE_STATES = (ActionState.DRAFT, ActionState.CO_CONSTRUCTION)


class MoneyField(models.DecimalField):
    """An amount in euros (so that labels show it as « 4 500,00 € »)."""


def money(verbose_name, **kwargs) -> MoneyField:
    """An amount in euros: two decimals, never negative."""
    return MoneyField(
        verbose_name,
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        **kwargs,
    )


class Action(models.Model):
    """A fiche action and its lifecycle (see DESIGN.md, "Action lifecycle")."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="actions", verbose_name=_("dispositif")
    )
    objective = models.ForeignKey(
        Objective,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("objectif"),
    )
    title = models.CharField(_("intitulé"), max_length=300)
    context = models.TextField(_("contexte et besoins"), blank=True)
    target_public = models.TextField(_("public visé"), blank=True)
    territory = models.CharField(_("territoire"), max_length=300, blank=True)
    lead_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_actions",
        verbose_name=_("porteur"),
    )
    partners = models.ManyToManyField(
        Organisation, blank=True, related_name="partner_actions", verbose_name=_("partenaires")
    )
    # The fiche's territory, picked from the programme's places (none: the whole territory).
    places = models.ManyToManyField(
        "projects.Place", blank=True, related_name="actions", verbose_name=_("lieux ciblés")
    )
    vulnerable_public = models.BooleanField(
        _("public en situation de vulnérabilité / d'inégalité"),
        default=False,
        help_text=_(
            "Cochez si l'action s'adresse d'abord à des personnes exposées aux inégalités "
            "sociales de santé (précarité, isolement, handicap…) : elle est alors comptée dans "
            "la réduction des inégalités sociales de santé, comme toute action ciblant un QPV."
        ),
    )
    working_group = models.ForeignKey(
        WorkingGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("groupe de travail"),
    )
    participation_level = models.CharField(
        _("niveau de participation"),
        max_length=20,
        choices=ParticipationLevel.choices,
        default=ParticipationLevel.CONSULTATION,
    )
    planned_start = models.DateField(_("début prévu"), null=True, blank=True)
    planned_end = models.DateField(_("fin prévue"), null=True, blank=True)
    own_funds = money(_("fonds propres déclarés"), default=Decimal("0"))
    state = FSMField(
        _("état"),
        max_length=20,
        choices=ActionState.choices,
        default=ActionState.DRAFT,
        protected=True,
        db_index=True,
    )
    # Who submitted the current version to the COPIL: that person may not approve it.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("soumise par"),
    )
    funding_waiver = models.TextField(
        _("dérogation du COPIL (mise en œuvre sans financement complet)"), blank=True
    )
    # Who proposed the fiche (credited on it; for a residents' idea, who published it).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposée par"),
    )
    origin = models.CharField(
        _("origine de la proposition"),
        max_length=20,
        choices=Origin.choices,
        default=Origin.COORDINATION,
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_proposals",
        verbose_name=_("fusionnée avec"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    # Fields of the fiche that co-construction edits and the audit trail follows.
    # The states of a fiche still under way (for the models that reach fiches by relation).
    ACTIVE_STATES = ACTIVE_STATES
    FICHE_FIELDS = (
        "objective",
        "title",
        "context",
        "target_public",
        "vulnerable_public",
        "territory",
        "lead_organisation",
        "working_group",
        "participation_level",
        "planned_start",
        "planned_end",
        "own_funds",
    )

    class Meta:
        ordering = ["programme", "id"]
        verbose_name = _("fiche action")
        verbose_name_plural = _("fiches actions")
        indexes = [
            models.Index(fields=["programme", "state"]),
            # The list's year filter reads the first and last start of a programme's fiches.
            models.Index(fields=["programme", "planned_start"]),
        ]
        constraints = [
            # Two fiches of a programme never share a title (whatever the case): a second one
            # is a double submission or a double import.
            models.UniqueConstraint(
                Lower("title"),
                "programme",
                name="action_title_unique_in_programme",
                violation_error_message=_(
                    "Une fiche action de ce dispositif porte déjà cet intitulé."
                ),
            ),
            models.CheckConstraint(condition=Q(own_funds__gte=0), name="action_own_funds_positive"),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gte=models.F("planned_start")),
                name="action_dates_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors["planned_end"] = gettext("La fin prévue doit suivre le début prévu.")
        if self.objective_id and self.objective.axis.programme_id != self.programme_id:
            errors["objective"] = "L'objectif doit appartenir au dispositif de l'action."
        if self.working_group_id and self.working_group.programme_id != self.programme_id:
            errors["working_group"] = "Le groupe de travail doit appartenir au dispositif."
        if errors:
            raise ValidationError(errors)

    # --- rules about this action (guards) ------------------------------------------------

    def has_group_or_lead(self) -> State.CONDITION:
        ok = bool(self.working_group_id or self.lead_organisation_id)
        return State.CONDITION(ok, gettext("Désignez un groupe de travail ou un porteur."))

    def opinions_in(self) -> State.CONDITION:
        """Where the programme has a COTECH, the COPIL decides once its members have given their
        opinion on the version submitted — or once the date they were due has passed."""
        if not self.programme.has_cotech:
            return State.CONDITION(True)
        latest = self.snapshots.order_by("-version").values_list("version", flat=True).first()
        missing = list(self.opinions.filter(version=latest, verdict="").select_related("member"))
        if not missing or max(o.due for o in missing) < timezone.localdate():
            return State.CONDITION(True)
        return State.CONDITION(
            False,
            gettext(
                "Le COPIL décide après l'avis du COTECH, attendu jusqu'au {due} : il manque "
                "celui de {members}."
            ).format(
                due=f"{max(o.due for o in missing):%d/%m/%Y}",
                members=", ".join(o.member.get_full_name() or o.member.username for o in missing),
            ),
        )

    def missing_for_copil(self) -> list[str]:
        """What the fiche still lacks before it can go to the COPIL (empty: complete)."""
        missing = []
        if not self.objective_id:
            missing.append(gettext("l'objectif"))
        if not self.target_public.strip():
            missing.append(gettext("le public visé"))
        if not self.lead_organisation_id:
            missing.append(gettext("le porteur"))
        if not (self.planned_start and self.planned_end):
            missing.append(gettext("les dates prévues"))
        if not self.budget_lines.filter(planned__gt=0).exists():
            missing.append(gettext("un budget prévisionnel"))
        if not self.indicators.exists():
            missing.append(gettext("au moins un indicateur"))
        return missing

    def is_complete(self) -> State.CONDITION:
        missing = self.missing_for_copil()
        return State.CONDITION(
            not missing,
            gettext("La fiche est incomplète : {missing}.").format(missing=", ".join(missing)),
        )

    def has_funding_request(self) -> State.CONDITION:
        return State.CONDITION(
            self.funding_requests.exists(), gettext("Ajoutez au moins une demande de financement.")
        )

    def financing_plan(self) -> FinancingPlan:
        """The fiche's financing plan (``projects.financing``: the one statement of it)."""
        return FinancingPlan(self)

    def funding_covers_plan(self) -> bool:
        return self.financing_plan().covered

    def can_start_implementation(self) -> State.CONDITION:
        if self.funding_waiver.strip():
            return State.CONDITION(True)
        undecided = self.funding_requests.filter(
            state__in=self.funding_requests.model.UNDECIDED_STATES
        ).count()
        if undecided:
            return State.CONDITION(
                False,
                gettext("Demandes de financement attendant encore une décision : {n}.").format(
                    n=undecided
                ),
            )
        plan = self.financing_plan().totals
        if not plan.covered:
            return State.CONDITION(
                False,
                gettext(
                    "Les financements accordés ({granted}) et les fonds propres ({own}) ne "
                    "couvrent pas le budget prévu ({planned}) : reste à financer {gap}, et "
                    "aucune dérogation du COPIL n'est enregistrée."
                ).format(
                    granted=euros(plan.granted),
                    own=euros(plan.own_funds),
                    planned=euros(plan.planned),
                    gap=euros(plan.gap),
                ),
            )
        return State.CONDITION(True)

    def funding_refused(self) -> State.CONDITION:
        refused = self.funding_requests.filter(
            state=self.funding_requests.model.State.REFUSED
        ).exists()
        ok = refused and not self.funding_covers_plan()
        return State.CONDITION(
            ok,
            gettext(
                "Le retour en co-construction suppose un financement refusé qui laisse le budget "
                "non couvert."
            ),
        )

    def missing_for_close(self) -> list[str]:
        """What the fiche still lacks before the COPIL can close it (empty: complete)."""
        missing = []
        if not hasattr(self, "evaluation_report"):
            missing.append(gettext("le rapport d'évaluation n'est pas rédigé"))
        unmeasured = list(
            self.indicators.filter(measurements__isnull=True).values_list("label", flat=True)
        )
        if unmeasured:
            missing.append(
                gettext("indicateurs sans aucune mesure : {labels}").format(
                    labels=", ".join(f"« {label} »" for label in unmeasured)
                )
            )
        return missing

    def evaluation_complete(self) -> State.CONDITION:
        missing = self.missing_for_close()
        return State.CONDITION(
            not missing,
            gettext("La clôture attend encore : {missing}.").format(missing=" ; ".join(missing)),
        )

    # --- lifecycle (the ``custom`` keys are described in ``projects.lifecycle``) -------------

    @state.transition(
        source=ActionState.DRAFT,
        target=ActionState.CO_CONSTRUCTION,
        label=_("Lancer la co-construction"),
        conditions=[has_group_or_lead],
        custom={"roles": {Role.COORDINATOR}},
    )
    def start_co_construction(self) -> None:
        pass

    def merge_targets(self) -> models.QuerySet[Action]:
        """The fiches this one may be merged into: the programme's other active fiches."""
        return Action.objects.filter(
            programme_id=self.programme_id, state__in=ACTIVE_STATES
        ).exclude(pk=self.pk)

    @state.transition(
        source=ActionState.DRAFT,
        target=ActionState.MERGED,
        label=_("Fusionner avec une autre fiche"),
        custom={"roles": {Role.COORDINATOR}},
    )
    def merge(self, *, into: Action | None) -> None:
        """Into another fiche of the programme, still active (its history gets the text)."""
        if into is None or not self.merge_targets().filter(pk=into.pk).exists():
            raise ValidationError(
                {
                    "merged_into": gettext(
                        "Choisissez une autre fiche active du dispositif pour y fusionner celle-ci."
                    )
                }
            )
        self.merged_into = into

    @state.transition(
        source=ActionState.DRAFT,
        target=ActionState.DECLINED,
        label=_("Ne pas retenir"),
        custom={"roles": {Role.COORDINATOR}, "reason_required": True},
    )
    def decline(self) -> None:
        pass

    @state.transition(
        source=ActionState.CO_CONSTRUCTION,
        target=ActionState.COPIL_REVIEW,
        label=_("Soumettre au COPIL"),
        conditions=[is_complete],
        custom={"roles": {Role.COORDINATOR}},
    )
    def submit_to_copil(self, *, by) -> None:
        self.submitted_by = by

    @state.transition(
        source=ActionState.COPIL_REVIEW,
        target=ActionState.VALIDATED,
        label=_("Valider"),
        conditions=[opinions_in],
        custom={"roles": {Role.COPIL}, "preparer_excluded": True},
    )
    def approve(self) -> None:
        pass

    @state.transition(
        source=ActionState.COPIL_REVIEW,
        target=ActionState.CO_CONSTRUCTION,
        label=_("Demander des modifications"),
        conditions=[opinions_in],
        custom={"roles": {Role.COPIL}, "reason_required": True},
    )
    def request_changes(self) -> None:
        self.submitted_by = None

    @state.transition(
        source=ActionState.COPIL_REVIEW,
        target=ActionState.REJECTED,
        label=_("Rejeter"),
        conditions=[opinions_in],
        custom={"roles": {Role.COPIL}, "reason_required": True},
    )
    def reject(self) -> None:
        pass

    @state.transition(
        source=ActionState.VALIDATED,
        target=ActionState.FUNDING,
        label=_("Ouvrir les financements"),
        conditions=[has_funding_request],
        custom={"roles": {Role.COORDINATOR}},
    )
    def open_funding(self) -> None:
        pass

    @state.transition(
        source=[ActionState.VALIDATED, ActionState.FUNDING],
        target=ActionState.IMPLEMENTATION,
        label=_("Démarrer la mise en œuvre"),
        conditions=[can_start_implementation],
        custom={"roles": {Role.COORDINATOR}},
    )
    def start_implementation(self) -> None:
        pass

    @state.transition(
        source=ActionState.FUNDING,
        target=ActionState.CO_CONSTRUCTION,
        label=_("Retravailler la fiche"),
        conditions=[funding_refused],
        custom={"roles": {Role.COORDINATOR}},
    )
    def rework(self) -> None:
        self.submitted_by = None
        self.funding_waiver = ""  # a waiver was given to the version that is being reworked

    @state.transition(
        source=ActionState.IMPLEMENTATION,
        target=ActionState.EVALUATION,
        label=_("Terminer la mise en œuvre"),
        custom={"roles": {Role.COORDINATOR, Role.ACTION_LEAD}},
    )
    def finish_implementation(self) -> None:
        pass

    @state.transition(
        source=ActionState.EVALUATION,
        target=ActionState.CLOSED,
        label=_("Clôturer"),
        conditions=[evaluation_complete],
        custom={"roles": {Role.COPIL}},
    )
    def close(self) -> None:
        pass

    @state.transition(
        source=list(ACTIVE_STATES),
        target=ActionState.ABANDONED,
        label=_("Abandonner"),
        custom={"roles": {Role.COPIL}, "reason_required": True, "awaited": False},
    )
    def abandon(self) -> None:
        pass


class ActionSnapshot(models.Model):
    """The fiche as it was when submitted to the COPIL (frozen: never edited)."""

    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("fiche action")
    )
    version = models.PositiveIntegerField(_("version"))
    submitted_at = models.DateTimeField(_("soumise le"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("par")
    )
    data = models.JSONField(_("contenu de la fiche"))

    class Meta:
        ordering = ["action", "version"]
        verbose_name = _("version soumise au COPIL")
        verbose_name_plural = _("versions soumises au COPIL")
        constraints = [
            models.UniqueConstraint(fields=["action", "version"], name="snapshot_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.action} — v{self.version}"
