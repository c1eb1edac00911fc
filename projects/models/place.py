"""The places of a programme's territory — its communes, its EPCI (intercommunality) and its
priority neighbourhoods (QPV) — maintained by its coordination, from which each fiche picks its
own territory (none picked: the whole territory). A fiche that targets a QPV counts toward the
reduction of social inequalities of health (``reporting.territory``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .action import Action
from .programme import Programme


class Place(models.Model):
    class Kind(models.TextChoices):
        EPCI = "epci", _("EPCI / intercommunalité")
        COMMUNE = "commune", _("Commune")
        QPV = "qpv", _("Quartier prioritaire (QPV)")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="places", verbose_name=_("dispositif")
    )
    kind = models.CharField(_("type de lieu"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)

    # The order a reader expects: the intercommunality, its communes, then the QPV.
    KIND_ORDER = {Kind.EPCI: 0, Kind.COMMUNE: 1, Kind.QPV: 2}

    class Meta:
        ordering = ["programme", "kind", "name"]
        verbose_name = _("lieu du territoire")
        verbose_name_plural = _("lieux du territoire")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "programme",
                "kind",
                name="place_name_unique_in_programme",
                violation_error_message=_("Ce lieu figure déjà dans le territoire du dispositif."),
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.QPV:
            return f"{self.name} (QPV)"
        if self.kind == self.Kind.EPCI:
            return f"{self.name} (EPCI)"
        return self.name


def reduces_inequalities() -> Q:
    """The fiches counted toward the reduction of social inequalities of health: those whose
    public faces inequality (``vulnerable_public``) and those that target a QPV — the one
    statement of the rule, for the reports, the dashboard, the list's filter and the fiche."""
    targeting_qpv = Action.places.through.objects.filter(place__kind=Place.Kind.QPV)
    return Q(vulnerable_public=True) | Q(pk__in=targeting_qpv.values("action_id"))
