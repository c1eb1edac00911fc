"""A form sent twice — a double click, the back button, two tabs, two people at once — makes
one object and a clear message, never a duplicate and never a server error. A database
constraint backs each uniqueness rule; the version the page showed stops the second send."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from funding.models import FundingRequest
from projects.models import Action, ActionState
from tests.world import action_in, build_world
from workflows import services

from .test_concurrency import race

REQUEST = {
    "funding-scheme": "ARS FIR",
    "funding-year": "2026",
    "funding-requested_amount": "5000",
}


def test_the_same_funding_request_sent_twice_is_made_once(client, world):
    action = action_in(world, ActionState.VALIDATED)
    client.force_login(world.coordinator)
    form = {**REQUEST, "funding-funder": world.funder_org.pk, "seen_version": version(action)}
    url = reverse("coordo:funding-create", args=[action.pk])
    client.post(url, form)
    second = client.post(url, form, follow=True).content.decode()
    assert "depuis que vous avez ouvert la page" in second
    assert "Nouvelle demande de financement" in second  # what changed since
    # Sent again from an up-to-date page: the rule itself answers.
    third = client.post(url, {**form, "seen_version": version(action)}, follow=True)
    assert "déjà une demande à ce financeur" in third.content.decode()
    assert FundingRequest.objects.filter(action=action).count() == 1
    assert AuditEvent.objects.filter(event="create_funding_request").count() == 1


def test_the_same_proposal_sent_twice_is_one_fiche(client, world):
    client.force_login(world.coordinator)
    url = reverse("coordo:action-create", args=[world.programme.pk])
    form = {"title": "Atelier mémoire", "participation_level": "consultation", "own_funds": "0"}
    assert client.post(url, form).status_code == 302
    second = client.post(url, {**form, "title": "  ATELIER mémoire"})
    assert second.status_code == 400
    assert "porte déjà cet intitulé" in second.content.decode()
    assert world.programme.actions.filter(title__iexact="atelier mémoire").count() == 1


@pytest.fixture
def racing_world(committed_db):
    return build_world()


def test_two_simultaneous_proposals_make_one_fiche(racing_world):
    world = racing_world
    anchor = services.create_action(
        programme=world.programme, actor=world.coordinator, data={"title": "Ancre"}
    )

    def propose(_copy):
        services.create_action(
            programme=world.programme,
            actor=world.coordinator,
            data={"title": "Forum santé jeunes", "lead_organisation": world.lead},
        )

    outcomes, _elapsed = race([(anchor.pk, propose)] * 2)
    assert sorted(map(str, outcomes)) == ["invalid", "ok"], outcomes
    assert world.programme.actions.filter(title="Forum santé jeunes").count() == 1


def test_two_simultaneous_funding_requests_make_one(racing_world):
    world = racing_world
    action = action_in(world, ActionState.VALIDATED)
    seen = version(action)

    def request(copy):
        services.create_funding_request(
            action=copy,
            actor=world.coordinator,
            funder_id=world.funder_org.pk,
            scheme="ARS FIR",
            year=2026,
            requested_amount=Decimal("5000"),
            seen=seen,
        )

    outcomes, _elapsed = race([(action.pk, request)] * 2)
    assert sorted(map(str, outcomes)) == ["already_moved", "ok"], outcomes
    assert FundingRequest.objects.filter(action=action).count() == 1
    assert Action.objects.get(pk=action.pk).state == ActionState.VALIDATED
