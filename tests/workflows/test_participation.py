"""Everyone takes part: any member proposes a fiche, the coordination triages it (takes it up
with a working group, merges it, or does not retain it, with a reason), the proposer is
credited and told; the action lead prepares its part; filing requests with funders stays with
the coordination unless the programme lets the leads do it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from projects.models import Action, ActionState, Origin
from tests.world import action_in, new_action
from workflows import services

MEMBERS = ("coordinator", "copil", "cotech", "funder", "action_lead", "wg_member")


def propose(client, world, user, title: str):
    client.force_login(user)
    return client.post(
        reverse("coordo:action-create", args=[world.programme.pk]),
        {
            "title": title,
            "context": "Un besoin vu sur le terrain",
            "participation_level": "consultation",
            "own_funds": "0",
        },
    )


@pytest.mark.parametrize("who", MEMBERS)
def test_every_member_proposes_from_the_programme_page(client, world, who):
    user = getattr(world, who)
    client.force_login(user)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert reverse("coordo:action-create", args=[world.programme.pk]) in page
    response = propose(client, world, user, f"Idée de {who}")
    action = Action.objects.get(title=f"Idée de {who}")
    assert response.status_code == 302
    assert action.state == ActionState.DRAFT and action.created_by == user
    assert action.origin == (Origin.COORDINATION if who == "coordinator" else Origin.MEMBER)
    event = AuditEvent.objects.get(action_id=action.pk, event="create")
    assert event.actor == user and event.to_state == ActionState.DRAFT
    # The coordination has a task: triage it.
    client.force_login(world.coordinator)
    inbox = client.get(reverse("coordo:inbox")).content.decode()
    assert f"Idée de {who}" in inbox


def test_the_ars_referent_reads_but_does_not_propose_and_outsiders_see_nothing(client, world):
    assert propose(client, world, world.ars_referent, "Idée de l'ARS").status_code == 403
    assert propose(client, world, world.outsider, "Idée extérieure").status_code == 404
    assert not Action.objects.filter(title__startswith="Idée").exists()


def test_the_proposer_edits_until_taken_up_and_sees_where_it_stands(client, world):
    propose(client, world, world.funder, "Dépistage en pharmacie")
    action = Action.objects.get(title="Dépistage en pharmacie")
    edit = reverse("coordo:action-edit", args=[action.pk])
    response = client.post(
        edit,
        {
            "seen_version": version(action),
            "title": "Dépistage en pharmacie d'officine",
            "participation_level": "consultation",
            "own_funds": "0",
        },
    )
    assert response.status_code == 302
    assert Action.objects.get(pk=action.pk).title == "Dépistage en pharmacie d'officine"
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert "Mes propositions" in page and "Dépistage en pharmacie d&#x27;officine" in page
    services.take_up(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        working_group=world.working_group,
    )
    action = Action.objects.get(pk=action.pk)
    assert action.state == ActionState.CO_CONSTRUCTION
    # Taken up: the fiche is now the working group's and the lead's, not the proposer's.
    response = client.post(
        edit,
        {
            "seen_version": version(action),
            "title": "Autre",
            "participation_level": "consultation",
            "own_funds": "0",
        },
    )
    assert response.status_code == 403
    assert Action.objects.get(pk=action.pk).title == "Dépistage en pharmacie d'officine"
    fiche = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "proposée par" in fiche and world.funder.get_full_name() in fiche


def test_another_members_proposal_is_not_theirs_to_edit(client, world):
    propose(client, world, world.funder, "Dépistage en pharmacie")
    action = Action.objects.get(title="Dépistage en pharmacie")
    client.force_login(world.cotech)
    response = client.post(
        reverse("coordo:action-edit", args=[action.pk]),
        {
            "seen_version": version(action),
            "title": "Pris",
            "participation_level": "consultation",
            "own_funds": "0",
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["start_co_construction", "merge", "decline"])
@pytest.mark.parametrize("who", [*MEMBERS[1:], "ars_referent"])
def test_only_the_coordination_triages(client, world, who, name):
    proposal = new_action(world)
    target = new_action(world)
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("coordo:action-transition", args=[proposal.pk, name]),
        {"seen_version": version(proposal), "comment": "Motif", "into": target.pk},
    )
    assert response.status_code == 403
    assert Action.objects.get(pk=proposal.pk).state == ActionState.DRAFT


def test_taking_up_with_a_working_group(client, world):
    proposal = new_action(world, lead_organisation=None)
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:action-transition", args=[proposal.pk, "start_co_construction"]),
        {"seen_version": version(proposal), "working_group": world.working_group.pk},
    )
    assert response.status_code == 302
    action = Action.objects.get(pk=proposal.pk)
    assert action.state == ActionState.CO_CONSTRUCTION
    assert action.working_group == world.working_group
    events = list(
        AuditEvent.objects.filter(action_id=action.pk).order_by("seq").values_list("event")
    )
    assert events[-2:] == [("update",), ("start_co_construction",)]
    # The group's members now co-construct it.
    client.force_login(world.wg_member)
    response = client.post(
        reverse("coordo:action-edit", args=[action.pk]),
        {
            "seen_version": version(action),
            "title": action.title,
            "context": "Précisé en GT",
            "participation_level": "co_construction",
            "own_funds": "0",
        },
    )
    assert response.status_code == 302
    assert Action.objects.get(pk=action.pk).context == "Précisé en GT"


def test_merging_keeps_the_proposers_text_in_the_target_history(client, world):
    propose(client, world, world.action_lead, "Ateliers cuisine")
    proposal = Action.objects.get(title="Ateliers cuisine")
    target = action_in(world, ActionState.CO_CONSTRUCTION)
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:action-transition", args=[proposal.pk, "merge"]),
        {"seen_version": version(proposal), "into": target.pk},
    )
    assert response.status_code == 302
    proposal = Action.objects.get(pk=proposal.pk)
    assert proposal.state == ActionState.MERGED and proposal.merged_into == target
    kept = AuditEvent.objects.get(action_id=target.pk, event="merge_in")
    assert kept.changes == {"merged_proposals": [None, "Ateliers cuisine"]}
    assert "Un besoin vu sur le terrain" in kept.comment
    target_page = client.get(reverse("coordo:action", args=[target.pk])).content.decode()
    assert "Un besoin vu sur le terrain" in target_page
    client.force_login(world.action_lead)
    page = client.get(reverse("coordo:action", args=[proposal.pk])).content.decode()
    assert "fusionnée avec la fiche" in page and reverse("coordo:action", args=[target.pk]) in page


def test_a_large_programme_s_merge_targets_are_searched_not_all_listed(client, world, monkeypatch):
    from web import pages

    monkeypatch.setattr(pages, "FICHES_OFFERED", 2)
    proposal = new_action(world, title="Ateliers cuisine")
    for title in ("Bus dentaire", "Café des aidants", "Sport santé seniors"):
        new_action(world, title=title)
    client.force_login(world.coordinator)
    url = reverse("coordo:action", args=[proposal.pk])
    page = client.get(url).content.decode()
    assert page.count('name="into"') == 1
    assert "Bus dentaire" in page and "Café des aidants" in page
    assert "Sport santé seniors" not in page  # third by title: found by searching
    assert "Seules les 2 premières fiches" in page
    found = client.get(url, {"fusion": "SPORT"}).content.decode()
    assert "Sport santé seniors" in found and "Bus dentaire" not in found
    assert "Seules les" not in found
    nothing = client.get(url, {"fusion": "introuvable"}).content.decode()
    assert "Aucune fiche ne contient ces mots dans son titre." in nothing
    target = Action.objects.get(title="Sport santé seniors")
    client.post(
        reverse("coordo:action-transition", args=[proposal.pk, "merge"]),
        {"seen_version": version(proposal), "into": target.pk},
    )
    assert Action.objects.get(pk=proposal.pk).merged_into == target


@pytest.mark.parametrize("bad", ["", "0", "abc", "99999999999999999999"])
def test_merging_needs_another_active_fiche_of_the_programme(client, world, bad):
    proposal = new_action(world)
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:action-transition", args=[proposal.pk, "merge"]),
        {"seen_version": version(proposal), "into": bad},
        follow=True,
    )
    assert "Choisissez une autre fiche active du dispositif" in response.content.decode()
    assert Action.objects.get(pk=proposal.pk).state == ActionState.DRAFT
    assert not AuditEvent.objects.filter(event__in=["merge", "merge_in"]).exists()


def test_merging_into_itself_a_closed_fiche_or_another_programmes_is_refused(world):
    from tests.world import build_world

    proposal = new_action(world)
    closed = action_in(world, ActionState.CLOSED)
    other = build_world(prefix="o-")
    elsewhere = new_action(other)
    for into in (proposal, closed, elsewhere):
        with pytest.raises(services.Refused) as exc:
            services.transition(proposal, "merge", actor=world.coordinator, into=into)
        assert exc.value.rule == "invalid"
    assert Action.objects.get(pk=proposal.pk).state == ActionState.DRAFT


def test_declining_needs_a_reason_and_reads_differently_from_a_rejection(client, world):
    propose(client, world, world.copil, "Flyers sur le sommeil")
    proposal = Action.objects.get(title="Flyers sur le sommeil")
    client.force_login(world.coordinator)
    url = reverse("coordo:action-transition", args=[proposal.pk, "decline"])
    response = client.post(url, {"seen_version": version(proposal), "comment": "  "}, follow=True)
    assert "motif" in response.content.decode().lower()
    assert Action.objects.get(pk=proposal.pk).state == ActionState.DRAFT
    client.post(url, {"seen_version": version(proposal), "comment": "Déjà couvert par la campagne"})
    declined = Action.objects.get(pk=proposal.pk)
    assert declined.state == ActionState.DECLINED
    assert declined.get_state_display() == "Non retenue"
    client.force_login(world.copil)  # the proposer is told why
    page = client.get(reverse("coordo:action", args=[declined.pk])).content.decode()
    assert "pas été retenue par la coordination" in page and "Déjà couvert par la campagne" in page
    assert "Rejetée" not in page


def test_a_double_click_on_take_up_makes_one_transition(client, world):
    proposal = new_action(world)
    client.force_login(world.coordinator)
    url = reverse("coordo:action-transition", args=[proposal.pk, "start_co_construction"])
    data = {"seen_version": version(proposal)}
    client.post(url, data)
    second = client.post(url, data, follow=True)
    assert "Modifié depuis" in second.content.decode() or "n&#x27;est pas possible" in (
        second.content.decode()
    )
    assert (
        AuditEvent.objects.filter(action_id=proposal.pk, event="start_co_construction").count() == 1
    )


def test_the_action_lead_prepares_its_part_during_co_construction(client, world):
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    client.force_login(world.action_lead)
    budget = client.post(
        reverse("coordo:action-add", args=[action.pk, "budget"]),
        {
            "seen_version": version(action),
            "budget-year": "2026",
            "budget-category": "staff",
            "budget-planned": "1000",
        },
    )
    assert budget.status_code == 302 and action.budget_lines.count() == 1
    action = Action.objects.get(pk=action.pk)
    indicator = client.post(
        reverse("coordo:action-add", args=[action.pk, "indicateur"]),
        {
            "seen_version": version(action),
            "indicator-kind": "process",
            "indicator-label": "Ateliers tenus",
        },
    )
    assert indicator.status_code == 302 and action.indicators.count() == 1
    request = services.create_funding_request(
        action=Action.objects.get(pk=action.pk),
        actor=world.action_lead,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("5000"),
    )
    assert request.state == "draft"
    # Another organisation's lead does not.
    client.force_login(world.other_lead)
    action = Action.objects.get(pk=action.pk)
    refused = client.post(
        reverse("coordo:action-add", args=[action.pk, "budget"]),
        {
            "seen_version": version(action),
            "budget-year": "2026",
            "budget-category": "staff",
            "budget-planned": "1",
        },
    )
    assert refused.status_code == 403 and action.budget_lines.count() == 1


def test_filing_a_request_is_the_coordinations_unless_the_programme_lets_the_leads(world):
    action = action_in(world, ActionState.VALIDATED)
    request = services.create_funding_request(
        action=action,
        actor=world.action_lead,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("5000"),
    )
    with pytest.raises(services.Refused) as exc:
        services.transition(request, "submit", actor=world.action_lead)
    assert exc.value.rule == "role"
    programme = services.save_structure(
        world.programme, actor=world.coordinator, data={"leads_file_requests": True}
    )
    assert programme.leads_file_requests
    submitted = services.transition(request, "submit", actor=world.action_lead)
    assert submitted.state == "submitted"
    event = AuditEvent.objects.get(event="submit", object_id=str(request.pk))
    assert event.actor == world.action_lead
    with pytest.raises(services.Refused):  # still only the lead of *this* organisation
        other = services.create_funding_request(
            action=action,
            actor=world.coordinator,
            funder_id=world.funder_org.pk,
            scheme="CPOM",
            year=2026,
            requested_amount=Decimal("1000"),
        )
        services.transition(other, "submit", actor=world.other_lead)


@pytest.mark.parametrize("who", ["copil", "action_lead", "funder", "cotech"])
def test_only_the_coordination_changes_the_settings(client, world, who):
    url = reverse("coordo:programme-settings", args=[world.programme.pk])
    client.force_login(getattr(world, who))
    assert client.get(url).status_code == 403
    client.force_login(world.coordinator)
    page = client.get(url)
    assert page.status_code == 200
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
