"""A programme (CLS / CLSM), its structure (axes, objectives, working groups), its partner
organisations and its memberships — the source of every permission — and its own lifecycle."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from viewflow.fsm import FSMField, State


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordonnateur·rice")
    WG_MEMBER = "wg_member", _("Membre d'un groupe de travail")
    ACTION_LEAD = "action_lead", _("Porteur de l'action")
    COPIL = "copil", _("Comité de pilotage (COPIL)")
    COTECH = "cotech", _("Comité technique (COTECH)")
    FUNDER = "funder", _("Financeur")
    SIGNATORY = "signatory", _("Signataire du contrat")
    ARS_REFERENT = "ars_referent", _("Référent ARS")


class OrganisationKind(models.TextChoices):
    ARS = "ars", _("ARS")
    COMMUNE = "commune", _("Commune")
    EPCI = "epci", _("EPCI / intercommunalité")
    DEPARTEMENT = "departement", _("Département")
    PREFECTURE = "prefecture", _("Préfecture")
    CPAM = "cpam", _("CPAM")
    CAF = "caf", _("CAF")
    HOSPITAL = "hospital", _("Hôpital / EPSM")
    ASSOCIATION = "association", _("Association")
    SOCIAL_LANDLORD = "social_landlord", _("Bailleur social")
    CPTS = "cpts", _("CPTS")
    CCAS = "ccas", _("CCAS")
    # The other sectors an intersectorial programme works with.
    SOCIAL_CENTRE = "social_centre", _("Centre social / maison de quartier")
    MEDICO_SOCIAL = "medico_social", _("Établissement ou service médico-social")
    EDUCATION = "education", _("Éducation / établissement scolaire")
    HOUSING = "housing", _("Logement / hébergement")
    EMPLOYMENT = "employment", _("Emploi / insertion")
    CARE = "care", _("Soins de ville (MSP, DAC, professionnel·les)")
    CULTURE_SPORT = "culture_sport", _("Culture / sport")
    JUSTICE = "justice", _("Justice / sécurité")
    RESIDENTS = "residents", _("Collectif d'habitant·es / usager·es (GEM…)")
    OTHER = "other", _("Autre")


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    kind = models.CharField(_("type"), max_length=30, choices=OrganisationKind.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation partenaire")
        verbose_name_plural = _("organisations partenaires")

    def __str__(self) -> str:
        return self.name


class Programme(models.Model):
    class Kind(models.TextChoices):
        CLS = "CLS", _("Contrat local de santé (CLS)")
        CLSM = "CLSM", _("Conseil local de santé mentale (CLSM)")

    class Status(models.TextChoices):
        DRAFTING = "drafting", _("En rédaction")
        AWAITING_SIGNATURES = "awaiting_signatures", _("En attente de signatures")
        IN_FORCE = "in_force", _("En vigueur")
        FINAL_EVALUATION = "final_evaluation", _("Évaluation finale")
        ENDED = "ended", _("Terminé")

    kind = models.CharField(_("dispositif"), max_length=4, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200, unique=True)
    territory = models.CharField(_("territoire"), max_length=200)
    # Its communes, EPCI and QPV are its places (``Place``), not text.
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"))
    status = FSMField(
        _("statut"), max_length=30, choices=Status.choices, default=Status.DRAFTING, protected=True
    )
    signatories = models.ManyToManyField(
        Organisation, blank=True, related_name="signed_programmes", verbose_name=_("signataires")
    )
    task_due_days = models.PositiveIntegerField(
        _("délai de traitement des tâches (jours)"), default=30
    )
    # How the programme works: its own choices, set by its coordination.
    has_cotech = models.BooleanField(
        _("un comité technique (COTECH) rend un avis avant chaque décision du COPIL"),
        default=False,
    )
    cotech_days = models.PositiveSmallIntegerField(
        _("délai de l'avis du COTECH (jours)"), default=15
    )
    leads_file_requests = models.BooleanField(
        _("les porteurs déposent eux-mêmes leurs demandes de financement"), default=False
    )
    public_page = models.BooleanField(
        _(
            "page publique du dispositif (ses actions, ses séances plénières, les propositions des "
            "habitant·es)"
        ),
        default=False,
    )
    public_amounts = models.BooleanField(
        _("la page publique montre les montants des actions"), default=False
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("rappel avant l'échéance d'une tâche (jours)"), default=7
    )
    contact_retention_months = models.PositiveSmallIntegerField(
        _("conservation des contacts des habitant·es (mois)"), default=12
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("dispositif")
        verbose_name_plural = _("dispositifs")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="programme_period_order"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_clsm(self) -> bool:
        """A mental-health council: it alone has the CLSM's own work (``clsm``)."""
        return self.kind == self.Kind.CLSM

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": gettext("La fin doit suivre le début.")})

    # Lifecycle: the coordinator prepares, the COPIL (governance) decides, the signatories sign.
    # What the contract's other objects say (signatures, evaluations: ``contracts``) is read
    # through their reverse relations.
    def has_signatories(self) -> State.CONDITION:
        if self.signatories.exists():
            return State.CONDITION(True)
        return State.CONDITION(False, gettext("Désignez d'abord les signataires du contrat."))

    def signed_by_all(self) -> State.CONDITION:
        signing = self.signings.filter(subject="contract").order_by("-pk").first()
        pending = (
            signing.signatures.exclude(state="signed").values_list("organisation__name", flat=True)
            if signing
            else None
        )
        if signing is None or pending:
            names = ", ".join(pending or [])
            return State.CONDITION(
                False, gettext("Signatures attendues de : {names}.").format(names=names or "—")
            )
        return State.CONDITION(True)

    def final_evaluation_adopted(self) -> State.CONDITION:
        if self.evaluations.filter(kind="final", status="adopted").exists():
            return State.CONDITION(True)
        return State.CONDITION(
            False, gettext("L'évaluation finale doit d'abord être adoptée par le COPIL.")
        )

    def no_active_fiche(self) -> State.CONDITION:
        active = self.actions.filter(state__in=self.actions.model.ACTIVE_STATES).count()
        if not active:
            return State.CONDITION(True)
        return State.CONDITION(
            False,
            ngettext(
                "{n} fiche action est encore active : clôturez-la ou abandonnez-la d'abord.",
                "{n} fiches actions sont encore actives : clôturez-les ou abandonnez-les d'abord.",
                active,
            ).format(n=active),
        )

    @status.transition(
        source=Status.DRAFTING,
        target=Status.AWAITING_SIGNATURES,
        label=_("Envoyer en signature"),
        conditions=[has_signatories],
        custom={"roles": {Role.COPIL}},
    )
    def send_for_signature(self) -> None:
        pass

    @status.transition(
        source=Status.AWAITING_SIGNATURES,
        target=Status.IN_FORCE,
        label=_("Entrée en vigueur"),
        conditions=[signed_by_all],
        # Run by the last signature, by itself: never offered as a button.
        custom={"roles": {Role.SIGNATORY}, "automatic": True},
    )
    def enter_into_force(self) -> None:
        pass

    @status.transition(
        source=Status.AWAITING_SIGNATURES,
        target=Status.DRAFTING,
        label=_("Signature refusée : retour en rédaction"),
        custom={"roles": {Role.SIGNATORY}, "reason_required": True, "automatic": True},
    )
    def signature_refused(self) -> None:
        pass

    @status.transition(
        source=Status.IN_FORCE,
        target=Status.FINAL_EVALUATION,
        label=_("Ouvrir l'évaluation finale"),
        custom={"roles": {Role.COORDINATOR}},
    )
    def start_final_evaluation(self) -> None:
        pass

    @status.transition(
        source=Status.FINAL_EVALUATION,
        target=Status.ENDED,
        label=_("Clore le dispositif"),
        conditions=[final_evaluation_adopted, no_active_fiche],
        custom={"roles": {Role.COPIL}},
    )
    def end(self) -> None:
        pass


class Axis(models.Model):
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="axes", verbose_name=_("dispositif")
    )
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("intitulé"), max_length=300)
    # Retired, never deleted: the fiches that answer it keep it, and so do the reports; new
    # fiches can no longer choose it (nor its objectives).
    retired_at = models.DateTimeField(_("retiré le"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "number"]
        verbose_name = _("axe stratégique")
        verbose_name_plural = _("axes stratégiques")
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="axis_number_unique")
        ]

    def __str__(self) -> str:
        return f"Axe {self.number} — {self.title}"


class ObjectiveQuerySet(models.QuerySet):
    def choosable(self, keep: int | None = None) -> ObjectiveQuerySet:
        """The objectives a fiche may choose: neither they nor their axis retired — and
        ``keep``, the one a fiche already answers, whatever became of it."""
        open_ = Q(retired_at=None, axis__retired_at=None)
        return self.filter(open_ | Q(pk=keep) if keep else open_)


class Objective(models.Model):
    class Level(models.TextChoices):
        GENERAL = "general", _("Général")
        SPECIFIC = "specific", _("Spécifique")
        OPERATIONAL = "operational", _("Opérationnel")

    axis = models.ForeignKey(
        Axis, on_delete=models.CASCADE, related_name="objectives", verbose_name=_("axe")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("objectif parent"),
    )
    level = models.CharField(_("niveau"), max_length=12, choices=Level.choices)
    title = models.CharField(_("intitulé"), max_length=300)
    position = models.PositiveSmallIntegerField(_("rang dans l'axe"), default=0)
    retired_at = models.DateTimeField(_("retiré le"), null=True, blank=True)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["axis", "position", "id"]
        verbose_name = _("objectif")
        verbose_name_plural = _("objectifs")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.parent_id and self.parent.axis_id != self.axis_id:
            raise ValidationError(
                {"parent": gettext("L'objectif parent doit appartenir au même axe.")}
            )


class WorkingGroup(models.Model):
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="working_groups",
        verbose_name=_("dispositif"),
    )
    name = models.CharField(_("nom"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["programme", "name"]
        verbose_name = _("groupe de travail")
        verbose_name_plural = _("groupes de travail")
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="working_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True)


class Membership(models.Model):
    """User × programme × role: the single source of every permission in Coordo."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("utilisateur"),
    )
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("dispositif"),
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("organisation"),
        help_text=_("Obligatoire pour les financeurs et les porteurs d'action."),
    )
    working_group = models.ForeignKey(
        WorkingGroup,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("groupe de travail"),
        help_text=_("Obligatoire pour les membres d'un groupe de travail."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("appartenance")
        verbose_name_plural = _("appartenances")
        indexes = [models.Index(fields=["user", "programme", "role"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=[Role.FUNDER, Role.ACTION_LEAD, Role.SIGNATORY])
                | Q(organisation__isnull=False),
                name="membership_organisation_required",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.WG_MEMBER) | Q(working_group__isnull=False),
                name="membership_working_group_required",
            ),
        ]

    def __str__(self) -> str:
        extra = self.organisation or self.working_group
        suffix = f" ({extra})" if extra else ""
        return f"{self.user} — {self.get_role_display()}{suffix} — {self.programme}"

    def clean(self) -> None:
        if (
            self.role in (Role.FUNDER, Role.ACTION_LEAD, Role.SIGNATORY)
            and not self.organisation_id
        ):
            raise ValidationError(
                {"organisation": gettext("Précisez l'organisation pour ce rôle.")}
            )
        if self.role == Role.WG_MEMBER and not self.working_group_id:
            raise ValidationError({"working_group": gettext("Précisez le groupe de travail.")})
        if (
            self.working_group_id
            and self.programme_id
            and self.working_group.programme_id != self.programme_id
        ):
            raise ValidationError(
                {"working_group": "Le groupe de travail doit appartenir au même dispositif."}
            )
