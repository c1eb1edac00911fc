"""A programme's local health diagnostic (its findings: needs, determinants, data with their
sources), the other schemes of the territory it works with (PRS, PTSM, contrat de ville, ASV…)
and their objectives, and the link between a CLS and its CLSM.

The links to the programme's axes, objectives and fiches are declared here, so that the
``projects`` models know nothing of them. Nothing here changes by itself: every write goes
through ``workflows.services.diagnostic``. The diagnostic's document is a document of the
programme of nature « Diagnostic » (``documents``), attached from the programme's page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Action, Axis, Objective, Programme


class Theme(models.TextChoices):
    """What a finding is about; two programmes' fiches answering findings of the same theme
    are shown to each other when the programmes are linked."""

    ACCESS = "access", _("Accès aux droits et aux soins")
    PREVENTION = "prevention", _("Prévention et promotion de la santé")
    MENTAL_HEALTH = "mental_health", _("Santé mentale")
    ADDICTIONS = "addictions", _("Addictions")
    NUTRITION = "nutrition", _("Nutrition et activité physique")
    ENVIRONMENT = "environment", _("Santé-environnement et habitat")
    AGEING = "ageing", _("Vieillissement et autonomie")
    CHILDHOOD = "childhood", _("Périnatalité, enfance et jeunesse")
    OTHER = "other", _("Autre")


class Determinant(models.TextChoices):
    """The determinant of health a finding names."""

    CARE = "care", _("Accès aux soins")
    LIVING = "living", _("Conditions de vie et logement")
    ENVIRONMENT = "environment", _("Environnement")
    BEHAVIOUR = "behaviour", _("Comportements et modes de vie")
    MENTAL_HEALTH = "mental_health", _("Santé mentale")
    SOCIAL = "social", _("Lien social")
    EDUCATION = "education", _("Éducation, emploi et revenus")


class Diagnostic(models.Model):
    """The programme's diagnostic local de santé: when, by whom, from which sources."""

    programme = models.OneToOneField(
        Programme,
        on_delete=models.CASCADE,
        related_name="diagnostic",
        verbose_name=_("dispositif"),
    )
    date = models.DateField(_("date du diagnostic"))
    authors = models.CharField(_("auteurs"), max_length=300)
    sources = models.TextField(_("sources"), blank=True)

    class Meta:
        verbose_name = _("diagnostic local de santé")
        verbose_name_plural = _("diagnostics locaux de santé")

    def __str__(self) -> str:
        return gettext("Diagnostic local de santé du {date}").format(
            date=self.date.strftime("%d/%m/%Y") if self.date else "—"
        )


class Finding(models.Model):
    """A finding (constat, besoin) of the diagnostic, with its data and their source; the
    axes, objectives and fiches that answer it."""

    diagnostic = models.ForeignKey(
        Diagnostic, on_delete=models.CASCADE, related_name="findings", verbose_name=_("diagnostic")
    )
    title = models.CharField(_("constat ou besoin"), max_length=300)
    theme = models.CharField(_("thème"), max_length=20, choices=Theme.choices)
    determinant = models.CharField(
        _("déterminant de santé"), max_length=20, choices=Determinant.choices
    )
    population = models.CharField(_("population concernée"), max_length=300, blank=True)
    territory = models.CharField(_("territoire ou QPV"), max_length=300, blank=True)
    data = models.CharField(_("donnée"), max_length=300, blank=True)
    source = models.CharField(_("source de la donnée"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("année de la donnée"), null=True, blank=True)
    axes = models.ManyToManyField(
        Axis, blank=True, related_name="findings", verbose_name=_("axes qui y répondent")
    )
    objectives = models.ManyToManyField(
        Objective, blank=True, related_name="findings", verbose_name=_("objectifs qui y répondent")
    )
    actions = models.ManyToManyField(
        Action, blank=True, related_name="findings", verbose_name=_("fiches qui y répondent")
    )
    # The other schemes' objectives this need falls under (a PRS objective, a PTSM axis…).
    scheme_objectives = models.ManyToManyField(
        "SchemeObjective",
        blank=True,
        related_name="findings",
        verbose_name=_("objectifs des autres démarches qui le portent"),
    )

    class Meta:
        ordering = ["diagnostic", "theme", "pk"]
        verbose_name = _("constat du diagnostic")
        verbose_name_plural = _("constats du diagnostic")
        constraints = [
            models.UniqueConstraint(
                Lower("title"),
                "diagnostic",
                name="finding_unique_in_diagnostic",
                violation_error_message=_("Le diagnostic compte déjà un constat de cet intitulé."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.year is not None and not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise ValidationError(
                {
                    "year": gettext("Indiquez une année entre {first} et {last}.").format(
                        first=FIRST_YEAR, last=LAST_YEAR
                    )
                }
            )
        if self.data and not self.source:
            raise ValidationError({"source": gettext("Indiquez la source de la donnée.")})


class Scheme(models.Model):
    """Another scheme of the territory the programme works with."""

    class Kind(models.TextChoices):
        PRS = "prs", _("Projet régional de santé (PRS)")
        PTSM = "ptsm", _("Projet territorial de santé mentale (PTSM)")
        CITY = "city", _("Contrat de ville / Engagements Quartiers 2030")
        ASV = "asv", _("Atelier santé ville (ASV)")
        CPTS = "cpts", _("Communauté professionnelle territoriale de santé (CPTS)")
        DAC = "dac", _("Dispositif d'appui à la coordination (DAC)")
        MSP = "msp", _("Maison de santé pluriprofessionnelle (MSP)")
        PTS = "pts", _("Projet territorial de santé")
        CLS_CLSM = "cls_clsm", _("CLS ou CLSM lié")
        OTHER = "other", _("Autre démarche")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="schemes", verbose_name=_("dispositif")
    )
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("nom de la démarche"), max_length=300)

    class Meta:
        ordering = ["programme", "kind", "name", "pk"]
        verbose_name = _("autre démarche")
        verbose_name_plural = _("autres démarches")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "programme",
                name="scheme_unique_in_programme",
                violation_error_message=_("Le dispositif suit déjà une démarche de ce nom."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SchemeObjective(models.Model):
    """An objective (or axis) of another scheme, and the fiches that contribute to it."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.CASCADE, related_name="objectives", verbose_name=_("démarche")
    )
    title = models.CharField(_("objectif ou axe de la démarche"), max_length=300)
    actions = models.ManyToManyField(
        Action,
        blank=True,
        related_name="scheme_objectives",
        verbose_name=_("fiches qui y contribuent"),
    )

    class Meta:
        ordering = ["scheme", "pk"]
        verbose_name = _("objectif d'une autre démarche")
        verbose_name_plural = _("objectifs des autres démarches")
        constraints = [
            models.UniqueConstraint(
                Lower("title"),
                "scheme",
                name="scheme_objective_unique",
                violation_error_message=_("La démarche compte déjà un objectif de cet intitulé."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme.name} — {self.title}"


class ProgrammeLink(models.Model):
    """Two programmes the same coordination links (a CLS and its CLSM): each page shows the
    other's fiches that answer findings of the same theme. Stored once, lower id first."""

    first = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="+", verbose_name=_("dispositif")
    )
    second = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="+", verbose_name=_("dispositif lié")
    )

    class Meta:
        verbose_name = _("lien entre dispositifs")
        verbose_name_plural = _("liens entre dispositifs")
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second"],
                name="programme_link_unique",
                violation_error_message=_("Ces deux dispositifs sont déjà liés."),
            ),
            models.CheckConstraint(
                condition=Q(first__lt=F("second")), name="programme_link_ordered"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Lien entre dispositifs n° {n}").format(n=self.pk)

    @staticmethod
    def linked_to(programme_id: int) -> models.QuerySet[Programme]:
        """The programmes linked to ``programme_id``, either way."""
        links = ProgrammeLink.objects.filter(Q(first_id=programme_id) | Q(second_id=programme_id))
        return Programme.objects.filter(
            Q(pk__in=links.values("first_id")) | Q(pk__in=links.values("second_id"))
        ).exclude(pk=programme_id)
