"""The CLSM's own work: the resource unit's sessions (anonymous counts), the trainings and
awareness events, and the observation indicators of the territory with their yearly values.
Each belongs to a CLSM programme (``clean`` says so); each change is audited by its service."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Action, Organisation, Programme

from .anonymity import validate_anonymous

# More people than this at one training or event is a typing error.
MAX_ATTENDANCE = 100_000


def _clsm_only(programme: Programme | None) -> dict[str, str]:
    if programme is not None and not programme.is_clsm:
        return {"programme": gettext("Les travaux propres du CLSM n'existent que pour un CLSM.")}
    return {}


class ResourceSession(models.Model):
    """A session of the resource unit (cellule ressource / cas complexes): who took part and
    how many situations it examined — by kind of need and by outcome — never who."""

    NEEDS = (
        ("need_housing", _("Logement")),
        ("need_care", _("Soins")),
        ("need_isolation", _("Isolement")),
        ("need_rights", _("Accès aux droits")),
        ("need_other", _("Autre besoin")),
    )
    OUTCOMES = (
        ("outcome_referral", _("Orientation")),
        ("outcome_follow_up", _("Suivi")),
        ("outcome_closed", _("Clôturé")),
        ("outcome_no_action", _("Sans suite")),
    )

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="resource_sessions",
        verbose_name=_("dispositif"),
    )
    date = models.DateField(_("date de la séance"))
    partners = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="resource_sessions",
        verbose_name=_("partenaires présents"),
    )
    need_housing = models.PositiveSmallIntegerField(_("logement"), default=0)
    need_care = models.PositiveSmallIntegerField(_("soins"), default=0)
    need_isolation = models.PositiveSmallIntegerField(_("isolement"), default=0)
    need_rights = models.PositiveSmallIntegerField(_("accès aux droits"), default=0)
    need_other = models.PositiveSmallIntegerField(_("autre besoin"), default=0)
    outcome_referral = models.PositiveSmallIntegerField(_("orientation"), default=0)
    outcome_follow_up = models.PositiveSmallIntegerField(_("suivi"), default=0)
    outcome_closed = models.PositiveSmallIntegerField(_("clôturé"), default=0)
    outcome_no_action = models.PositiveSmallIntegerField(_("sans suite"), default=0)
    notes = models.TextField(
        _("observations générales (sans aucune donnée nominative)"),
        blank=True,
        max_length=2000,
        validators=[validate_anonymous],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["programme", "-date", "-pk"]
        verbose_name = _("séance de la cellule ressource")
        verbose_name_plural = _("séances de la cellule ressource")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "date"],
                name="resource_session_one_per_day",
                violation_error_message=_(
                    "Une séance de la cellule ressource est déjà enregistrée à cette date."
                ),
            )
        ]

    def __str__(self) -> str:
        return gettext("Cellule ressource du {date}").format(date=f"{self.date:%d/%m/%Y}")

    @property
    def situations(self) -> int:
        return sum(getattr(self, name) for name, _label in self.NEEDS)

    @property
    def outcomes_total(self) -> int:
        return sum(getattr(self, name) for name, _label in self.OUTCOMES)

    def totals_error(self) -> str | None:
        """The rule of the counts: each situation examined has one outcome (the model's
        ``clean`` and the page's form both ask it)."""
        if self.situations == self.outcomes_total:
            return None
        return gettext(
            "Chaque situation examinée a une suite : {needs} situations par besoin, "
            "{outcomes} par suite donnée. Les deux totaux doivent être égaux."
        ).format(needs=self.situations, outcomes=self.outcomes_total)

    def clean(self) -> None:
        errors = _clsm_only(self.programme if self.programme_id else None)
        if self.totals_error():
            errors["outcome_referral"] = self.totals_error()
        if errors:
            raise ValidationError(errors)


class TrainingSession(models.Model):
    """A training (PSSM first aid…) or an awareness event (the SISM week…) held by the CLSM."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Formation")
        AWARENESS = "awareness", _("Sensibilisation / événement")

    class Audience(models.TextChoices):
        PROFESSIONALS = "professionals", _("Professionnel·les")
        ELECTED = "elected", _("Élu·es")
        RESIDENTS = "residents", _("Habitant·es")
        PUPILS = "pupils", _("Scolaires / jeunes")
        PEERS = "peers", _("Usager·es, pairs, familles")
        MIXED = "mixed", _("Public mixte")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="training_sessions",
        verbose_name=_("dispositif"),
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("intitulé"), max_length=300)
    date = models.DateField(_("date"))
    audience = models.CharField(_("public"), max_length=15, choices=Audience.choices)
    attendance = models.PositiveIntegerField(
        _("participant·es"), validators=[MaxValueValidator(MAX_ATTENDANCE)]
    )
    satisfied_percent = models.PositiveSmallIntegerField(
        _("participant·es satisfait·es (%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
    )
    mean_score = models.DecimalField(
        _("note moyenne (sur 5)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    action = models.ForeignKey(
        Action,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
        verbose_name=_("fiche action"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["programme", "-date", "-pk"]
        verbose_name = _("formation ou sensibilisation")
        verbose_name_plural = _("formations et sensibilisations")
        constraints = [
            models.UniqueConstraint(
                Lower("title"),
                "programme",
                "date",
                name="training_session_unique",
                violation_error_message=_(
                    "Une session de même intitulé est déjà enregistrée à cette date."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d/%m/%Y})"

    def clean(self) -> None:
        errors = _clsm_only(self.programme if self.programme_id else None)
        if self.action_id and self.programme_id and self.action.programme_id != self.programme_id:
            errors["action"] = gettext("La fiche action doit appartenir au même dispositif.")
        if errors:
            raise ValidationError(errors)


class ObservationIndicator(models.Model):
    """A figure of the territory the CLSM follows over the years (not a fiche's indicator)."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="observation_indicators",
        verbose_name=_("dispositif"),
    )
    name = models.CharField(_("indicateur"), max_length=200)
    unit = models.CharField(_("unité"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        ordering = ["programme", "name"]
        verbose_name = _("indicateur d'observation")
        verbose_name_plural = _("indicateurs d'observation")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "programme",
                name="observation_indicator_unique",
                violation_error_message=_("Un indicateur d'observation porte déjà ce nom."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = _clsm_only(self.programme if self.programme_id else None)
        if errors:
            raise ValidationError(errors)


class ObservationValue(models.Model):
    indicator = models.ForeignKey(
        ObservationIndicator,
        on_delete=models.CASCADE,
        related_name="values",
        verbose_name=_("indicateur"),
    )
    year = models.PositiveSmallIntegerField(
        _("année"), validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    value = models.DecimalField(_("valeur"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["indicator", "year"]
        verbose_name = _("valeur observée")
        verbose_name_plural = _("valeurs observées")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"],
                name="observation_value_one_per_year",
                violation_error_message=_("Une valeur est déjà saisie pour cette année."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}"
