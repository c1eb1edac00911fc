"""The filters of the list pages (django-filter): each query-string parameter is a form field,
validated before it reaches the database — a value out of range is shown as an error on the
page, never a server error."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from funding.models import FundingRequest
from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import ActionState, reduces_inequalities
from workflows import queues

MAX_ID = 2**63 - 1  # the largest id a database column holds


class IdFilter(django_filters.Filter):
    """An object's number: a positive integer a database can hold (anything else is an error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=FIRST_YEAR, max_value=LAST_YEAR, **kwargs)


class TextFilter(django_filters.CharFilter):
    """Searched text: at most 200 characters (a NUL, which PostgreSQL refuses, is an error of
    the form like any other)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, max_length=200, strip=True, **kwargs)


class ActionFilter(django_filters.FilterSet):
    q = TextFilter(field_name="title", lookup_expr="icontains", label=_("Recherche"))
    etat = django_filters.ChoiceFilter(
        field_name="state", choices=ActionState.choices, label=_("État")
    )
    axe = IdFilter(field_name="objective__axis_id", label=_("Axe"))
    objectif = IdFilter(field_name="objective_id", label=_("Objectif"))
    porteur = IdFilter(field_name="lead_organisation_id", label=_("Porteur"))
    annee = YearFilter(field_name="planned_start__year", label=_("Année"))
    demarche = IdFilter(
        field_name="scheme_objectives__scheme_id",
        distinct=True,
        label=_("Contribue à la démarche"),
    )
    lieu = IdFilter(field_name="places", distinct=True, label=_("Lieu ciblé"))
    inegalites = django_filters.BooleanFilter(
        method="reducing_inequalities",
        widget=forms.CheckboxInput,
        label=_("Réduction des inégalités sociales de santé"),
    )
    retard = django_filters.BooleanFilter(
        method="overdue", widget=forms.CheckboxInput, label=_("En retard")
    )

    def reducing_inequalities(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(reduces_inequalities()) if value else queryset

    def overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(queues.overdue_actions()) if value else queryset


class FundingFilter(django_filters.FilterSet):
    annee = YearFilter(field_name="year", label=_("Année"))
    financeur = IdFilter(field_name="funder_id", label=_("Financeur"))
    etat = django_filters.ChoiceFilter(
        field_name="state", choices=FundingRequest.State.choices, label=_("État")
    )
