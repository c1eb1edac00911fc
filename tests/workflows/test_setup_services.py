"""A programme's set-up through its services: who may, what the trail says, and what is refused
(with nothing left behind) — the tree's order and retirement, invitations, roles, a new
programme."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail

from audit.chain import verify_chain
from audit.models import AuditEvent
from projects.models import Axis, Membership, Objective, Programme, Role
from tests.factories import OrganisationFactory, UserFactory
from tests.world import ROLE_USERS
from workflows import services

NOT_COORDINATORS = [r for r in ROLE_USERS if r not in ("coordinator", "coordinator2")]


def _events() -> int:
    return AuditEvent.objects.count()


def _operations(world):
    """Every set-up service, as each actor would call it on the world's programme."""
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    axis = world.objective.axis
    return {
        "save_structure": lambda actor: services.save_structure(
            world.programme, actor=actor, data={"territory": "Ailleurs"}
        ),
        "add_axis": lambda actor: services.add_axis(
            programme=world.programme, actor=actor, title="Nouvel axe"
        ),
        "add_objective": lambda actor: services.add_objective(
            axis=axis, actor=actor, title="Nouvel objectif", level="specific"
        ),
        "move_in_tree": lambda actor: services.move_in_tree(axis, actor=actor, up=False),
        "set_retired": lambda actor: services.set_retired(
            world.objective, actor=actor, retired=True
        ),
        "add_member": lambda actor: services.add_member(
            programme=world.programme, actor=actor, user=world.outsider, role=Role.COPIL
        ),
        "invite_member": lambda actor: services.invite_member(
            programme=world.programme, actor=actor, email="new@example.org", role=Role.COPIL
        ),
        "change_membership": lambda actor: services.change_membership(
            membership=membership, actor=actor, role=Role.COPIL
        ),
        "end_membership": lambda actor: services.end_membership(membership=membership, actor=actor),
        "set_signatories": lambda actor: services.set_signatories(
            programme=world.programme, actor=actor, organisations=[world.funder_org]
        ),
    }


@pytest.mark.parametrize("who", NOT_COORDINATORS)
def test_only_the_coordination_sets_up_its_programme(world, who):
    """Every role but the coordination (and the coordinator of another programme) is refused
    every set-up service, with the ``role`` rule, and nothing is written."""
    actor = getattr(world, who)
    for name, call in _operations(world).items():
        before = _events()
        with pytest.raises(services.Refused) as refused:
            call(actor)
        assert refused.value.rule == "role", name
        assert _events() == before, name
    assert not get_user_model().objects.filter(email="new@example.org").exists()


def test_the_coordination_runs_each_service_and_the_chain_holds(world):
    for name, call in _operations(world).items():
        before = _events()
        call(world.coordinator)
        assert _events() > before, name
    assert verify_chain(programme_id=world.programme.pk).ok


def test_axes_are_numbered_in_turn_and_swap_places(world):
    first = world.objective.axis
    second = services.add_axis(programme=world.programme, actor=world.coordinator, title="B")
    third = services.add_axis(programme=world.programme, actor=world.coordinator, title="C")
    assert (second.number, third.number) == (first.number + 1, first.number + 2)
    services.move_in_tree(third, actor=world.coordinator, up=True)
    numbers = dict(Axis.objects.filter(programme=world.programme).values_list("title", "number"))
    assert numbers["C"] == first.number + 1 and numbers["B"] == first.number + 2
    events = AuditEvent.objects.filter(event="update_structure", object_type="projects.axis")
    assert sorted(e.changes["number"] for e in events) == sorted(
        [[first.number + 2, first.number + 1], [first.number + 1, first.number + 2]]
    )
    with pytest.raises(services.Refused) as refused:
        services.move_in_tree(Axis.objects.get(pk=first.pk), actor=world.coordinator, up=True)
    assert refused.value.message == "Déjà en première position."


def test_objectives_are_ranked_even_when_they_shared_a_rank(world):
    """Objectives created outside the services share rank 0: moving one ranks them all."""
    axis = world.objective.axis
    extra = Objective.objects.create(axis=axis, level="specific", title="Deuxième")
    third = services.add_objective(
        axis=axis, actor=world.coordinator, title="Troisième", level="operational"
    )
    assert third.position == 1  # after the others (rank 0)
    services.move_in_tree(extra, actor=world.coordinator, up=True)
    order = list(Objective.objects.filter(axis=axis).values_list("title", flat=True))
    assert order == ["Deuxième", world.objective.title, "Troisième"]


def test_a_retired_objective_is_kept_by_its_fiches_and_refused_twice(world):
    services.set_retired(world.objective, actor=world.coordinator, retired=True)
    objective = Objective.objects.get(pk=world.objective.pk)
    assert objective.retired_at is not None
    assert not Objective.objects.choosable().filter(pk=objective.pk).exists()
    assert Objective.objects.choosable(keep=objective.pk).filter(pk=objective.pk).exists()
    with pytest.raises(services.Refused) as refused:
        services.set_retired(objective, actor=world.coordinator, retired=True)
    assert refused.value.rule == "already_moved"
    services.set_retired(objective, actor=world.coordinator, retired=False)
    assert Objective.objects.choosable().filter(pk=objective.pk).exists()


def test_an_invitation_creates_one_account_and_sends_one_link(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.invite_member(
            programme=world.programme,
            actor=world.coordinator,
            email="  Marie.Curie@Ville.example ",
            role=Role.COTECH,
            first_name="Marie",
            last_name="Curie",
        )
    person = membership.user
    assert person.username == "marie.curie" and person.email == "Marie.Curie@Ville.example"
    assert not person.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Marie.Curie@Ville.example"]
    event = AuditEvent.objects.get(event="create_structure", object_id=str(membership.pk))
    assert event.comment == "Invitation par e-mail (compte créé)"
    assert event.changes["role"] == [None, "cotech"]
    # The same address again (any case), for the same role: refused, one account.
    with pytest.raises(services.Refused) as refused:
        services.invite_member(
            programme=world.programme,
            actor=world.coordinator,
            email="marie.curie@ville.example",
            role=Role.COTECH,
        )
    assert "déjà" in refused.value.message
    assert get_user_model().objects.filter(email__iexact="marie.curie@ville.example").count() == 1


def test_a_username_taken_gets_a_number(world):
    UserFactory(username="marie")
    membership = services.invite_member(
        programme=world.programme, actor=world.coordinator, email="marie@a.example", role="copil"
    )
    assert membership.user.username == "marie-2"


def test_an_ended_membership_is_resumed_not_duplicated(world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    services.end_membership(membership=membership, actor=world.coordinator)
    again = services.add_member(
        programme=world.programme, actor=world.coordinator, user=world.cotech, role=Role.COTECH
    )
    assert again.pk == membership.pk and again.is_active
    assert Membership.objects.filter(user=world.cotech, programme=world.programme).count() == 1


@pytest.mark.parametrize(
    "data, field",
    [
        ({"role": Role.FUNDER}, "organisation"),
        ({"role": Role.WG_MEMBER}, "working_group"),
        ({"role": Role.COPIL, "working_group": "group"}, "working_group"),
        ({"role": "boss"}, "role"),
    ],
)
def test_an_incomplete_role_is_refused_and_nothing_is_saved(world, data, field):
    data = {**data}
    if data.get("working_group") == "group":
        data["working_group"] = world.working_group
    users, events = get_user_model().objects.count(), _events()
    with pytest.raises(services.Refused) as refused:
        services.invite_member(
            programme=world.programme, actor=world.coordinator, email="x@y.example", **data
        )
    assert refused.value.rule == "invalid" and field in refused.value.errors
    assert get_user_model().objects.count() == users and _events() == events


def test_the_last_coordinator_stays(world):
    coordinator2 = Membership.objects.get(user=world.coordinator2, programme=world.programme)
    services.end_membership(membership=coordinator2, actor=world.coordinator)
    mine = Membership.objects.get(user=world.coordinator, programme=world.programme)
    for call in (
        lambda: services.end_membership(membership=mine, actor=world.coordinator),
        lambda: services.change_membership(
            membership=mine, actor=world.coordinator, role=Role.COPIL
        ),
    ):
        with pytest.raises(services.Refused) as refused:
            call()
        assert refused.value.rule == "guard" and "au moins un·e coordonnateur·rice" in str(
            refused.value.message
        )
    assert Membership.objects.get(pk=mine.pk).is_active


def test_a_stale_version_is_refused(world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    services.change_membership(membership=membership, actor=world.coordinator, role=Role.COPIL)
    with pytest.raises(services.Refused) as refused:
        services.end_membership(membership=membership, actor=world.coordinator, seen=0)
    assert refused.value.rule == "already_moved"
    assert Membership.objects.get(pk=membership.pk).is_active


def test_a_new_programme_makes_its_creator_coordinator(world):
    data = {
        "kind": "CLSM",
        "name": "CLSM des Hauts",
        "territory": "Les Hauts",
        "start_date": world.programme.start_date,
        "end_date": world.programme.end_date,
    }
    programme = services.create_programme(actor=world.coordinator, data=data)
    assert programme.status == Programme.Status.DRAFTING
    assert services.may_set_up(world.coordinator, [programme.pk])
    events = AuditEvent.objects.filter(programme=programme).order_by("seq")
    assert [(e.object_type, e.event) for e in events] == [
        ("projects.programme", "create_structure"),
        ("projects.membership", "create_structure"),
    ]
    assert verify_chain(programme_id=programme.pk).ok


def test_who_may_create_a_programme(world):
    assert services.may_create_programme(world.coordinator)
    assert not services.may_create_programme(world.copil)
    allowed = UserFactory(username="chargee-de-mission")
    allowed.user_permissions.add(Permission.objects.get(codename="add_programme"))
    allowed = get_user_model().objects.get(pk=allowed.pk)  # permissions are cached
    assert services.may_create_programme(allowed)
    with pytest.raises(services.Refused) as refused:
        services.create_programme(
            actor=world.copil,
            data={"kind": "CLS", "name": "X", "territory": "Y", "start_date": None},
        )
    assert refused.value.rule == "role"
    assert not Programme.objects.filter(name="X").exists()


def test_an_organisation_is_added_by_a_coordinator_of_any_programme(world):
    org = services.save_structure(
        OrganisationFactory.build(name="Maison de quartier des Près", kind="social_centre"),
        actor=world.coordinator,
    )
    assert org.pk
