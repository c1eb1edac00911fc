import datetime

import factory
from django.contrib.auth import get_user_model

from projects.models import (
    Axis,
    Membership,
    Objective,
    Organisation,
    OrganisationKind,
    Programme,
    WorkingGroup,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("motdepasse-test")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganisationKind.ASSOCIATION


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    kind = Programme.Kind.CLS
    name = factory.Sequence(lambda n: f"CLS de test {n}")
    territory = "Val-de-Lys Agglomération"
    start_date = datetime.date(2024, 1, 1)
    end_date = datetime.date(2028, 12, 31)


class AxisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Axis

    programme = factory.SubFactory(ProgrammeFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Accès aux droits et aux soins"


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    axis = factory.SubFactory(AxisFactory)
    level = Objective.Level.OPERATIONAL
    title = "Réduire le renoncement aux soins"


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Groupe {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    programme = factory.SubFactory(ProgrammeFactory)
