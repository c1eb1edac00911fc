"""The admin is no back door: a programme's set-up is read-only there (the coordination changes
it in Coordo's pages, through the audited services: who was made COPIL member, and when, is in
the trail the ARS receives); nothing is deleted; what has a lifecycle is read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AuditEvent
from projects.models import Action, ActionState, Membership, Role
from tests.factories import UserFactory
from tests.world import action_in
from workflows import services


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    client.admin = admin
    return client


SET_UP = ["programme", "axis", "objective", "workinggroup", "organisation", "membership"]


def test_the_set_up_is_read_only_in_the_admin(admin_client, world):
    """A superuser can look at a programme's set-up, with a note saying where it changes; no
    add, change or delete there (the coordination's pages do it, audited)."""
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    objects = {
        "programme": world.programme,
        "axis": world.objective.axis,
        "objective": world.objective,
        "workinggroup": world.working_group,
        "organisation": world.funder_org,
        "membership": membership,
    }
    for model in SET_UP:
        listing = admin_client.get(reverse(f"admin:projects_{model}_changelist"))
        assert listing.status_code == 200, model
        assert "se fait dans les pages de Coordo" in listing.content.decode(), model
        change = reverse(f"admin:projects_{model}_change", args=[objects[model].pk])
        page = admin_client.get(change)
        assert page.status_code == 200, model  # a view page, without a save button
        assert 'name="_save"' not in page.content.decode(), model
        assert admin_client.get(reverse(f"admin:projects_{model}_add")).status_code == 403
    events = AuditEvent.objects.count()
    response = admin_client.post(
        reverse("admin:projects_membership_change", args=[membership.pk]),
        {
            "user": world.cotech.pk,
            "programme": world.programme.pk,
            "role": Role.COPIL,
            "is_active": "on",
        },
    )
    assert response.status_code == 403
    response = admin_client.post(
        reverse("admin:projects_membership_add"),
        {"user": UserFactory().pk, "programme": world.programme.pk, "role": Role.COPIL},
    )
    assert response.status_code == 403
    assert Membership.objects.get(pk=membership.pk).role == Role.COTECH
    assert AuditEvent.objects.count() == events


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
    # A new programme comes from « Nouveau dispositif » (``create_programme``), which makes its
    # creator the coordinator; ``save_structure`` creates one for the administrator only.
    from tests.factories import ProgrammeFactory

    with pytest.raises(services.Refused):
        services.save_structure(ProgrammeFactory.build(), actor=world.coordinator)
