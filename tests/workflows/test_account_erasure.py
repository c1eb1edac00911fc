"""A member's personal data (RGPD): their data in one file, and their account erased by an
administrator — the trail keeps every event but shows a pseudonym instead of their name, and
still verifies; refusals change nothing; the database lets only that one update through."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from viewflow.workflow.models import Task

from api.models import ApiToken
from audit import chain
from audit.models import AuditEvent
from notifications.models import Notification
from projects.models import ActionState, Membership, Role
from tests.factories import UserFactory
from tests.world import action_in
from workflows import queues, services

NAME = ("Zéphyrine", "Quillebeuf")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin-rgpd", is_superuser=True, is_staff=True)


@pytest.fixture
def person(world):
    """A member invited by e-mail who then acted: she commented, took a task, got mail."""
    membership = services.invite_member(
        programme=world.programme,
        actor=world.coordinator,
        email="z.quillebeuf@ccas.example",
        role=Role.COPIL,
        first_name=NAME[0],
        last_name=NAME[1],
    )
    user = membership.user
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.comment_action(action=action, actor=user, text="Je soutiens cette fiche.")
    services.take_task(task_id=queues.open_task(action).pk, actor=user)
    ApiToken.issue(user=user, name="tableur", days=30, read_only=True)
    user.action = action
    return user


def _trail_text(user_pk: int) -> str:
    rows = AuditEvent.objects.values_list("actor_label", "object_repr", "changes", "comment")
    return json.dumps(list(rows), ensure_ascii=False)


def _all_chains_verify() -> bool:
    ids = AuditEvent.objects.values_list("programme_id", flat=True).distinct()
    return all(chain.verify_chain(programme_id=pk).ok for pk in ids)


def test_the_member_data_file_holds_what_coordo_keeps(person, world):
    data = services.member_data(person)
    assert data["account"]["last_name"] == NAME[1]
    assert data["account"]["email"] == "z.quillebeuf@ccas.example"
    assert [m["programme__name"] for m in data["memberships"]] == [world.programme.name]
    assert {e["event"] for e in data["audit_events"]} >= {"comment", "take_task"}
    assert [t["name"] for t in data["api_tokens"]] == ["tableur"]  # from the API's layer
    json.dumps(data)  # one file


def test_erasure_replaces_the_name_everywhere_in_the_trail_and_the_chain_verifies(
    person, world, admin_user
):
    assert NAME[1] in _trail_text(person.pk)
    events_before = AuditEvent.objects.count()
    pseudonym = services.erase_member(user=person, actor=admin_user, ip="192.0.2.7")

    assert pseudonym == f"Personne effacée (compte n° {person.pk})"
    text = _trail_text(person.pk)
    assert NAME[1] not in text and "quillebeuf" not in text.lower()
    assert _all_chains_verify()
    # Every event is still there, hers under the pseudonym, and one more says what happened.
    assert AuditEvent.objects.count() == events_before + 1
    assert set(AuditEvent.objects.filter(actor=person).values_list("actor_label", flat=True)) == {
        pseudonym
    }
    erased = AuditEvent.objects.get(event="erase_account")
    assert erased.actor == admin_user and erased.programme == world.programme
    assert erased.object_id == str(person.pk) and erased.ip == "192.0.2.7"

    account = get_user_model().objects.get(pk=person.pk)
    assert (account.username, account.first_name, account.last_name, account.email) == (
        f"efface-{person.pk}",
        "",
        "",
        "",
    )
    assert not account.is_active and not account.has_usable_password()
    assert not Membership.objects.filter(user=account, is_active=True).exists()
    assert not ApiToken.objects.filter(user=account).exists()
    assert not Notification.objects.filter(recipient=account).exists()
    # Her task is back in the queue of its role.
    task = queues.open_task(person.action)
    assert Task.objects.get(pk=task.pk).owner is None


def test_the_history_names_the_person_until_erased_then_the_pseudonym(
    client, world, person, admin_user
):
    """The sealed trail says « compte n° N »; pages and the export show who that is."""
    client.force_login(person)
    page = client.get(reverse("coordo:action", args=[person.action.pk])).content.decode()
    assert f"{NAME[0]} {NAME[1]}" in page  # the task she took, by name
    services.erase_member(user=person, actor=admin_user)
    client.force_login(world.coordinator)
    page = client.get(reverse("coordo:action", args=[person.action.pk])).content.decode()
    assert NAME[1] not in page and f"Personne effacée (compte n° {person.pk})" in page


def test_refusals_change_nothing(person, world, admin_user):
    def footprint():
        account = get_user_model().objects.get(pk=person.pk)
        return (AuditEvent.objects.count(), account.username, account.is_active, _trail_text(0))

    before = footprint()
    cases = [
        (dict(user=person, actor=world.coordinator), "role"),  # a coordinator is no admin
        (dict(user=admin_user, actor=admin_user), "guard"),  # not oneself
        (dict(user=world.coordinator, actor=admin_user), None),  # fine: coordinator2 remains
    ]
    for kwargs, rule in cases[:2]:
        with pytest.raises(services.Refused) as refusal, transaction.atomic():
            services.erase_member(**kwargs)
        assert refusal.value.rule == rule
        assert footprint() == before
    services.erase_member(**cases[2][0])
    # The last coordinator cannot go before someone else coordinates.
    with pytest.raises(services.Refused) as refusal, transaction.atomic():
        services.erase_member(user=world.coordinator2, actor=admin_user)
    assert refusal.value.rule == "guard" and world.programme.name in refusal.value.message
    # Twice: the second is told it is done already.
    services.erase_member(user=person, actor=admin_user)
    with pytest.raises(services.Refused) as refusal, transaction.atomic():
        services.erase_member(user=person, actor=admin_user)
    assert refusal.value.rule == "already_moved"


@pytest.mark.usefixtures("_audit_guards_back")
def test_the_database_lets_through_the_pseudonym_only(person):
    mine = AuditEvent.objects.filter(actor=person).first()
    table = AuditEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET comment = 'x' WHERE id = %s",
        f"UPDATE {table} SET actor_label = 'x', comment = 'y' WHERE id = %s",
        f"UPDATE {table} SET names_sealed = %s WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        params = [True, mine.pk] if "names_sealed" in sql else [mine.pk]
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET actor_label = 'P' WHERE id = %s", [mine.pk])
    assert AuditEvent.objects.get(pk=mine.pk).actor_label == "P"
    assert _all_chains_verify()  # names are outside the seal: what is sealed did not move


@pytest.mark.usefixtures("_audit_guards_back")
def test_events_written_before_keep_their_names_sealed(person):
    """An event whose names are sealed (written before this existed) cannot be renamed, and a
    DBA who turns it into an unsealed one breaks the chain."""
    mine = AuditEvent.objects.filter(actor=person).first()
    table = AuditEvent._meta.db_table
    from audit import db_guards

    db_guards.remove(connection)
    try:
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET names_sealed = %s WHERE id = %s", [True, mine.pk])
    finally:
        db_guards.install(connection)
    assert not chain.verify_chain(programme_id=mine.programme_id).ok
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET actor_label = 'x' WHERE id = %s", [mine.pk])


def test_pages_role_matrix_and_double_submit(client, person, world, admin_user):
    client.force_login(person)
    page = client.get(reverse("coordo:security")).content.decode()
    assert reverse("coordo:my-data") in page
    own = client.get(reverse("coordo:my-data"))
    assert own["Content-Disposition"].startswith("attachment;")
    assert json.loads(own.content)["account"]["last_name"] == NAME[1]
    # Nobody but an administrator sees another account's data or erases it: 404.
    for user in (person, world.coordinator, world.ars_referent):
        client.force_login(user)
        for name in ("coordo:account-data", "coordo:account-erase"):
            assert client.get(reverse(name, args=[person.pk])).status_code == 404
        assert client.post(reverse("coordo:account-erase", args=[person.pk])).status_code == 404
    assert get_user_model().objects.get(pk=person.pk).is_active

    client.force_login(admin_user)
    # From the admin's list: the action leads to the confirmation page.
    changelist = reverse("admin:auth_user_changelist")
    chosen = client.post(changelist, {"action": "erase_account", "_selected_action": [person.pk]})
    assert chosen.url == reverse("coordo:account-erase", args=[person.pk])
    confirm = client.get(chosen.url).content.decode()
    assert NAME[1] in confirm and world.programme.name in confirm
    url = reverse("coordo:account-erase", args=[person.pk])
    done = client.post(url, follow=True)
    assert f"Personne effacée (compte n° {person.pk})" in done.content.decode()
    again = client.post(url, follow=True).content.decode()  # double submit
    assert "Ce compte est déjà effacé." in again
    assert AuditEvent.objects.filter(event="erase_account").count() == 1
    # Signed in elsewhere, the erased person is signed out: the account is inactive.
    client.force_login(person)
    assert client.get(reverse("coordo:home")).status_code == 302
