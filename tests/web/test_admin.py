"""The admin is no back door: a programme's set-up saved there goes through the audited service
(who was made COPIL member, and when, is in the trail the ARS receives); nothing is deleted;
what has a lifecycle is read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.chain import verify_chain
from audit.models import AuditEvent
from projects.models import Action, ActionState, Membership, Role
from tests.factories import OrganisationFactory, UserFactory
from tests.world import action_in
from workflows import services


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    client.admin = admin
    return client


def test_a_membership_changed_in_the_admin_is_in_the_trail(admin_client, world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    url = reverse("admin:projects_membership_change", args=[membership.pk])
    response = admin_client.post(
        url,
        {
            "user": world.cotech.pk,
            "programme": world.programme.pk,
            "role": Role.COPIL,
            "organisation": "",
            "working_group": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.get(pk=membership.pk).role == Role.COPIL
    event = AuditEvent.objects.get(event="update_structure", object_id=str(membership.pk))
    assert event.actor == admin_client.admin
    assert event.programme_id == world.programme.pk
    assert event.changes == {"role": ["cotech", "copil"]}
    assert verify_chain(programme_id=world.programme.pk).ok


def test_a_membership_added_in_the_admin_is_in_the_trail(admin_client, world):
    newcomer = UserFactory(username="nouvelle.elue")
    response = admin_client.post(
        reverse("admin:projects_membership_add"),
        {
            "user": newcomer.pk,
            "programme": world.programme.pk,
            "role": Role.COPIL,
            "organisation": "",
            "working_group": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    event = AuditEvent.objects.get(event="create_structure", object_id=str(membership.pk))
    assert event.actor == admin_client.admin and event.changes["role"] == [None, "copil"]
    assert event.object_repr.startswith(str(newcomer))


def test_signatories_changed_in_the_admin_are_in_the_trail(admin_client, world):
    ville = OrganisationFactory(name="Ville de test")
    programme = world.programme
    response = admin_client.post(
        reverse("admin:projects_programme_change", args=[programme.pk]),
        {
            "kind": programme.kind,
            "name": programme.name,
            "territory": programme.territory,
            "communes": "",
            "epci": "",
            "priority_neighbourhoods": "",
            "start_date": programme.start_date.isoformat(),
            "end_date": programme.end_date.isoformat(),
            "task_due_days": "45",
            "cotech_days": programme.cotech_days,
            "reminder_days": programme.reminder_days,
            "contact_retention_months": programme.contact_retention_months,
            "signatories": [ville.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    changes = [
        e.changes for e in AuditEvent.objects.filter(event="update_structure", programme=programme)
    ]
    assert {"task_due_days": [30, 45]} in changes
    assert {"signatories": [None, "Ville de test"]} in changes


def test_nothing_is_deleted_and_lifecycles_are_read_only(admin_client, world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    url = reverse("admin:projects_membership_delete", args=[membership.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()
    action = action_in(world, ActionState.DRAFT)
    change = reverse("admin:projects_action_change", args=[action.pk])
    admin_client.post(change, {"title": "Renommée en douce"})
    assert Action.objects.get(pk=action.pk).title != "Renommée en douce"


def test_the_coordination_sets_up_its_own_programme_only(world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    services.save_structure(membership, actor=world.coordinator, data={"is_active": False})
    event = AuditEvent.objects.get(event="update_structure", object_id=str(membership.pk))
    assert event.actor == world.coordinator and event.changes == {"is_active": [True, False]}
    foreign = Membership.objects.filter(programme=world.other_programme).first()
    with pytest.raises(services.Refused) as refused:
        services.save_structure(foreign, actor=world.coordinator, data={"role": Role.COPIL})
    assert refused.value.rule == "role"
    # Only the administrator creates a programme.
    from tests.factories import ProgrammeFactory

    with pytest.raises(services.Refused):
        services.save_structure(ProgrammeFactory.build(), actor=world.coordinator)
