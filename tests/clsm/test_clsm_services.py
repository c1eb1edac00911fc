"""The CLSM's own work through its services: only for a CLSM, the coordination writes, the
resource unit refuses whatever names a person (whoever calls the service), a double submit or
a stale page writes nothing twice, each change is one audit event."""

import datetime
from decimal import Decimal

import pytest

from audit import chain
from audit.models import AuditEvent
from clsm.models import ObservationValue, ResourceSession, TrainingSession
from projects.models import ActionState
from tests.world import action_in, build_world
from workflows import services

DAY = datetime.date(2026, 3, 12)
COUNTS = {"need_housing": 2, "need_care": 1, "outcome_referral": 2, "outcome_follow_up": 1}


def _session(world, **extra):
    data = {"date": DAY, **COUNTS} | extra
    return services.record_resource_session(
        programme=world.programme, actor=world.coordinator, **data
    )


def test_the_coordinator_records_a_session_audited_with_its_partners(clsm_world):
    world = clsm_world
    session = _session(world, partners=[world.lead], notes="Délais d'accès au CMP.")
    assert session.situations == 3 and list(session.partners.all()) == [world.lead]
    event = AuditEvent.objects.get(object_type="clsm.resourcesession", object_id=str(session.pk))
    assert event.event == "record_resource_session" and event.actor == world.coordinator
    assert event.changes["need_housing"] == [None, 2]
    assert event.changes["partners"] == [None, world.lead.name]
    assert chain.verify_chain(programme_id=world.programme.pk).ok


@pytest.mark.parametrize(
    "role", ["copil", "wg_member", "action_lead", "ars_referent", "funder", "outsider"]
)
def test_only_the_coordination_writes(clsm_world, role):
    world = clsm_world
    user = getattr(world, role)
    with pytest.raises(services.Refused) as refused:
        services.record_resource_session(programme=world.programme, actor=user, date=DAY, **COUNTS)
    assert refused.value.rule == "role"
    with pytest.raises(services.Refused):
        services.record_training(
            programme=world.programme,
            actor=user,
            data={
                "kind": "training",
                "title": "PSSM",
                "date": DAY,
                "audience": "professionals",
                "attendance": 12,
            },
        )
    with pytest.raises(services.Refused):
        services.add_observation_indicator(
            programme=world.programme, actor=user, name="Urgences", unit="", source="ORS"
        )
    assert not ResourceSession.objects.exists() and not TrainingSession.objects.exists()
    assert not AuditEvent.objects.filter(object_type__startswith="clsm.").exists()


@pytest.mark.parametrize("role", ["copil", "wg_member", "ars_referent", "outsider"])
def test_only_the_coordination_corrects(clsm_world, role):
    world = clsm_world
    user = getattr(world, role)
    session = _session(world)
    training = services.record_training(
        programme=world.programme,
        actor=world.coordinator,
        data={
            "kind": "training",
            "title": "PSSM",
            "date": DAY,
            "audience": "professionals",
            "attendance": 12,
        },
    )
    indicator = services.add_observation_indicator(
        programme=world.programme, actor=world.coordinator, name="Urgences", unit="", source="ORS"
    )
    events = AuditEvent.objects.count()
    for attempt in (
        lambda: services.update_resource_session(
            session=session, actor=user, data={"need_housing": 3, "outcome_closed": 1}
        ),
        lambda: services.update_training(session=training, actor=user, data={"attendance": 99}),
        lambda: services.set_observation_value(
            indicator=indicator, actor=user, year=2025, value=Decimal("3")
        ),
    ):
        with pytest.raises(services.Refused) as refused:
            attempt()
        assert refused.value.rule == "role"
    assert ResourceSession.objects.get().need_housing == 2
    assert TrainingSession.objects.get().attendance == 12
    assert not ObservationValue.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_cls_has_no_clsm_work(db):
    world = build_world()  # a CLS
    with pytest.raises(services.Refused) as refused:
        _session(world)
    assert "CLSM" in refused.value.message
    assert not ResourceSession.objects.exists()


@pytest.mark.parametrize(
    "notes",
    [
        "Situation de M. Dupont",
        "Mme X, née le 12/03/1987",
        "NIR 1 85 03 75 123 456 78",
        "date de naissance inconnue",
    ],
)
def test_the_service_refuses_a_named_person(clsm_world, notes):
    world = clsm_world
    with pytest.raises(services.Refused) as refused:
        _session(world, notes=notes)
    assert refused.value.rule == "invalid"
    assert "HDS" in refused.value.errors["notes"][0]
    assert not ResourceSession.objects.exists()
    assert not AuditEvent.objects.filter(object_type="clsm.resourcesession").exists()


def test_a_correction_cannot_bring_a_name_in_either(clsm_world):
    world = clsm_world
    session = _session(world)
    with pytest.raises(services.Refused):
        services.update_resource_session(
            session=session, actor=world.coordinator, data={"notes": "Mme Martin revue"}
        )
    assert ResourceSession.objects.get(pk=session.pk).notes == ""


def test_every_situation_has_an_outcome(clsm_world):
    world = clsm_world
    with pytest.raises(services.Refused) as refused:
        _session(world, outcome_closed=5)
    assert "totaux doivent être égaux" in refused.value.message
    assert not ResourceSession.objects.exists()


def test_partners_come_from_the_programme(clsm_world):
    world = clsm_world
    from tests.factories import OrganisationFactory

    stranger = OrganisationFactory(name="Organisation d'ailleurs")
    with pytest.raises(services.Refused) as refused:
        _session(world, partners=[stranger])
    assert "partners" in refused.value.errors
    assert not ResourceSession.objects.exists()


def test_a_double_submit_records_one_session(clsm_world):
    world = clsm_world
    _session(world)
    with pytest.raises(services.Refused):
        _session(world)
    assert ResourceSession.objects.count() == 1
    assert AuditEvent.objects.filter(event="record_resource_session").count() == 1


def test_a_stale_correction_is_refused(clsm_world):
    world = clsm_world
    session = _session(world)
    seen = chain.version(session)
    services.update_resource_session(
        session=session,
        actor=world.coordinator2,
        data={"need_care": 2, "outcome_closed": 1},
        seen=seen,
    )
    with pytest.raises(services.Refused) as refused:
        services.update_resource_session(
            session=session, actor=world.coordinator, data={"notes": "Relu."}, seen=seen
        )
    assert refused.value.rule == "already_moved"
    stored = ResourceSession.objects.get(pk=session.pk)
    assert stored.need_care == 2 and stored.notes == ""
    assert AuditEvent.objects.filter(event="update_resource_session").count() == 1


def test_a_training_linked_to_its_fiche(clsm_world):
    world = clsm_world
    fiche = action_in(world, ActionState.IMPLEMENTATION)
    data = {
        "kind": "training",
        "title": "PSSM — agents d'accueil",
        "date": DAY,
        "audience": "professionals",
        "attendance": 14,
        "satisfied_percent": 93,
        "mean_score": Decimal("4.6"),
        "action": fiche,
    }
    session = services.record_training(
        programme=world.programme, actor=world.coordinator, data=data
    )
    event = AuditEvent.objects.get(event="record_training")
    assert event.changes["action"] == [None, fiche.title] and event.action_id == fiche.pk
    with pytest.raises(services.Refused):  # the same session again
        services.record_training(programme=world.programme, actor=world.coordinator, data=data)
    bad = data | {"title": "Autre", "satisfied_percent": 150}
    with pytest.raises(services.Refused) as refused:
        services.record_training(programme=world.programme, actor=world.coordinator, data=bad)
    assert "satisfied_percent" in refused.value.errors
    assert list(TrainingSession.objects.all()) == [session]


def test_a_training_of_another_programmes_fiche_is_refused(clsm_world):
    world = clsm_world
    other = build_world("x-")
    fiche = action_in(other, ActionState.DRAFT)
    with pytest.raises(services.Refused) as refused:
        services.record_training(
            programme=world.programme,
            actor=world.coordinator,
            data={
                "kind": "awareness",
                "title": "SISM",
                "date": DAY,
                "audience": "residents",
                "attendance": 40,
                "action": fiche,
            },
        )
    assert "action" in refused.value.errors
    assert not TrainingSession.objects.exists()


def test_observation_values_per_year_audited_and_stale_refused(clsm_world):
    world = clsm_world
    indicator = services.add_observation_indicator(
        programme=world.programme,
        actor=world.coordinator,
        name="Passages aux urgences psychiatriques",
        unit="pour 10 000 hab.",
        source="ORS",
    )
    seen = chain.version(indicator)
    services.set_observation_value(
        indicator=indicator, actor=world.coordinator, year=2024, value=Decimal("48.2"), seen=seen
    )
    with pytest.raises(services.Refused) as refused:  # the same page posted again
        services.set_observation_value(
            indicator=indicator, actor=world.coordinator, year=2024, value=Decimal("50"), seen=seen
        )
    assert refused.value.rule == "already_moved"
    services.set_observation_value(
        indicator=indicator, actor=world.coordinator, year=2024, value=Decimal("49")
    )
    assert ObservationValue.objects.get(indicator=indicator, year=2024).value == Decimal("49")
    events = AuditEvent.objects.filter(event="set_observation_value").order_by("pk")
    assert [e.changes for e in events] == [
        {"observed_value": [None, "2024 : 48.20"]},
        {"observed_value": ["2024 : 48.20", "2024 : 49.00"]},
    ]
    with pytest.raises(services.Refused):
        services.set_observation_value(
            indicator=indicator, actor=world.coordinator, year=1200, value=Decimal("1")
        )
    with pytest.raises(services.Refused):  # the same name twice
        services.add_observation_indicator(
            programme=world.programme,
            actor=world.coordinator,
            name="passages aux urgences psychiatriques",
            unit="",
            source="ORS",
        )
