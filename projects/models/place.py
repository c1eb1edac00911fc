"""The places of a programme's territory — its communes, its EPCI (intercommunality) and its
priority neighbourhoods (QPV) — maintained by its coordination, from which each fiche picks its
own territory (none picked: the whole territory). A fiche that targets a QPV counts toward the
reduction of social inequalities of health (``reporting.territory``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .action import Action
from .programme import Programme


class PlaceKind(models.TextChoices):
    EPCI = "epci", _("EPCI / intercommunalité")
    COMMUNE = "commune", _("Commune")
    QPV = "qpv", _("Quartier prioritaire (QPV)")


# The order a reader expects — the intercommunality, its communes, then the QPV; within a kind,
# by name whatever the case — stated once, in its two forms side by side: ``reading_order()``
# for SQL (the model's default ordering, ``Place.objects.in_reading_order()``) and
# ``Place.reading_key`` to sort places already in hand (prefetched).
KIND_ORDER = {PlaceKind.EPCI: 0, PlaceKind.COMMUNE: 1, PlaceKind.QPV: 2}


def reading_order() -> list:
    """The ``order_by`` arguments of the reading order."""
    rank = Case(
        *(When(kind=kind.value, then=Value(n)) for kind, n in KIND_ORDER.items()),
        output_field=IntegerField(),
    )
    return [rank, Lower("name")]


class PlaceQuerySet(models.QuerySet):
    def in_reading_order(self):
        return self.order_by(*reading_order())


class Place(models.Model):
    Kind = PlaceKind

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="places", verbose_name=_("dispositif")
    )
    kind = models.CharField(_("type de lieu"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)

    KIND_ORDER = KIND_ORDER

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["programme", *reading_order()]
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

    @staticmethod
    def reading_key(place: Place) -> tuple[int, str]:
        """``sorted(places, key=Place.reading_key)``: the reading order of ``reading_order()``."""
        return (KIND_ORDER[place.kind], place.name.casefold())


# The fiches counted toward the reduction of social inequalities of health: those whose public
# faces inequality (``vulnerable_public``) and those that target a QPV. Each rule is stated once
# per form, side by side — keep them together: a Q for SQL (the reports, the dashboard, the
# list's filter), a predicate for a fiche in hand with its places prefetched (the fiche page).


def targets_qpv() -> Q:
    """The fiches that pick at least one QPV among their places."""
    targeting = Action.places.through.objects.filter(place__kind=PlaceKind.QPV)
    return Q(pk__in=targeting.values("action_id"))


def reduces_inequalities() -> Q:
    return Q(vulnerable_public=True) | targets_qpv()


def places_target_qpv(places) -> bool:
    """``targets_qpv()`` for places in hand."""
    return any(place.kind == PlaceKind.QPV for place in places)


def action_reduces_inequalities(action: Action, places=None) -> bool:
    """``reduces_inequalities()`` for a fiche in hand (``places``: its places, else
    ``action.places.all()``, prefetched to cost no query)."""
    places = action.places.all() if places is None else places
    return bool(action.vulnerable_public) or places_target_qpv(places)
