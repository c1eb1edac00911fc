"""What a member sees and may do over HTTP: 404 outside their programmes, 403 for a role that
may see but not act, forms that keep what was typed and save nothing when invalid."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from audit.chain import version
from audit.models import AuditEvent
from projects.models import Action, ActionState
from tests.world import action_in, new_action
from workflows import queues, services


def seen(action) -> dict:
    """What the decision form carries: the version of the fiche the user is looking at."""
    return {"seen_version": version(Action.objects.get(pk=action.pk))}


def login(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client, world):
    response = client.get(reverse("coordo:home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_login_page_is_french(client, db):
    response = client.get(reverse("login"))
    assert "Mot de passe" in response.content.decode()


@pytest.mark.parametrize(
    "url_name", ["action", "action-edit", "action-transition-approve", "programme", "propose"]
)
def test_outsider_gets_404_for_another_programme(client, world, url_name):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.outsider)
    urls = {
        "action": reverse("coordo:action", args=[action.pk]),
        "action-edit": reverse("coordo:action-edit", args=[action.pk]),
        "action-transition-approve": reverse(
            "coordo:action-transition", args=[action.pk, "approve"]
        ),
        "programme": reverse("coordo:programme", args=[world.programme.pk]),
        "propose": reverse("coordo:action-create", args=[world.programme.pk]),
    }
    events = AuditEvent.objects.count()
    response = client.post(urls[url_name], {"comment": "x", "title": "x"})
    assert response.status_code == 404
    assert Action.objects.get(pk=action.pk).state == ActionState.COPIL_REVIEW
    assert AuditEvent.objects.count() == events
    # Nothing of programme A shows on the outsider's home page.
    home = client.get(reverse("coordo:home")).content.decode()
    assert world.programme.name not in home


def test_ars_referent_reads_but_cannot_act(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.ars_referent)
    detail = client.get(reverse("coordo:action", args=[action.pk]))
    assert detail.status_code == 200
    assert escape(action.title) in detail.content.decode()
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "approve"]),
        seen(action),
    )
    assert response.status_code == 403
    assert "COPIL" in response.content.decode()
    assert Action.objects.get(pk=action.pk).state == ActionState.COPIL_REVIEW
    assert AuditEvent.objects.count() == events
    assert client.get(reverse("coordo:action-create", args=[world.programme.pk])).status_code == 403
    draft = new_action(world)
    assert client.get(reverse("coordo:action-edit", args=[draft.pk])).status_code == 403


def test_copil_member_approves_from_the_page(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.copil)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Valider" in page and "Rejeter" in page and "Demander des modifications" in page
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "approve"]),
        {**seen(action), "comment": "Avis favorable du COPIL"},
        follow=True,
    )
    assert response.status_code == 200
    assert Action.objects.get(pk=action.pk).state == ActionState.VALIDATED
    event = AuditEvent.objects.filter(object_id=str(action.pk), event="approve").get()
    assert event.actor == world.copil
    assert event.comment == "Avis favorable du COPIL"
    assert event.ip == "127.0.0.1"
    assert "Avis favorable du COPIL" in response.content.decode()


def test_submitter_sees_why_they_cannot_approve(client, world):
    from projects.models import Membership, Role

    Membership.objects.create(user=world.coordinator, programme=world.programme, role=Role.COPIL)
    action = action_in(world, ActionState.COPIL_REVIEW)  # submitted by the coordinator
    login(client, world.coordinator)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "celui qui prépare ne peut pas approuver" in page
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "approve"]),
        seen(action),
        follow=True,
    )
    assert Action.objects.get(pk=action.pk).state == ActionState.COPIL_REVIEW
    assert "une autre personne du COPIL doit la valider" in response.content.decode()


def test_reject_without_reason_is_refused_with_a_message(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.copil)
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "reject"]),
        {**seen(action), "comment": "   "},
        follow=True,
    )
    assert "demande un motif" in response.content.decode()
    assert Action.objects.get(pk=action.pk).state == ActionState.COPIL_REVIEW


def test_decision_on_a_stale_page_is_not_applied(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.copil)
    page_seen = seen(action)
    # Meanwhile another COPIL member sends the fiche back, and it is edited and resubmitted.
    services.transition(action, "request_changes", actor=world.copil2, comment="Revoir le budget")
    services.update_action(
        action=Action.objects.get(pk=action.pk), actor=world.coordinator, data={"title": "V2"}
    )
    services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
    )
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "approve"]),
        {**page_seen, "comment": "Vu"},
        follow=True,
    )
    assert "depuis que vous avez ouvert la page" in response.content.decode()
    assert "Soumettre au COPIL" in response.content.decode()  # what changed since
    assert Action.objects.get(pk=action.pk).state == ActionState.COPIL_REVIEW
    assert AuditEvent.objects.count() == events


def test_coordinator_proposes_an_action(client, world):
    login(client, world.coordinator)
    response = client.post(
        reverse("coordo:action-create", args=[world.programme.pk]),
        {
            "title": "Bus dentaire dans les écoles des Hauts-Prés",
            "objective": world.objective.pk,
            "lead_organisation": world.lead.pk,
            "participation_level": "concertation",
            "planned_start": "2026-09-01",
            "planned_end": "2027-06-30",
            "own_funds": "1500,50",
        },
    )
    action = Action.objects.get(title="Bus dentaire dans les écoles des Hauts-Prés")
    assert response.status_code == 302
    assert response["Location"] == reverse("coordo:action", args=[action.pk])
    assert action.state == ActionState.DRAFT
    assert str(action.own_funds) == "1500.50"
    event = AuditEvent.objects.get(object_id=str(action.pk), event="create")
    assert event.actor == world.coordinator
    assert event.changes["title"] == [None, "Bus dentaire dans les écoles des Hauts-Prés"]


def test_invalid_proposal_keeps_what_was_typed_and_saves_nothing(client, world):
    login(client, world.coordinator)
    before = (Action.objects.count(), AuditEvent.objects.count())
    response = client.post(
        reverse("coordo:action-create", args=[world.programme.pk]),
        {
            "title": "",
            "context": "Texte long déjà saisi par la coordinatrice",
            "participation_level": "concertation",
            "planned_start": "2026-09-01",
            "planned_end": "2026-01-01",
            "own_funds": "-10",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in page
    assert "La fin prévue doit suivre le début prévu" in page
    assert "supérieure ou égale à 0" in page
    assert "Texte long déjà saisi par la coordinatrice" in page
    assert 'value="2026-09-01"' in page
    assert (Action.objects.count(), AuditEvent.objects.count()) == before


def test_working_group_member_edits_the_fiche(client, world):
    action = new_action(world, working_group=world.working_group)
    login(client, world.wg_member)
    response = client.post(
        reverse("coordo:action-edit", args=[action.pk]),
        {
            **seen(action),
            "title": action.title,
            "target_public": "Parents et enfants de 3 à 11 ans",
            "lead_organisation": world.lead.pk,
            "working_group": world.working_group.pk,
            "participation_level": "co_construction",
            "own_funds": "0",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_id=str(action.pk), event="update").get()
    assert event.actor == world.wg_member
    assert event.changes == {
        "target_public": ["", "Parents et enfants de 3 à 11 ans"],
        "participation_level": ["consultation", "co_construction"],
    }


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_query_counts_do_not_grow_with_rows(client, world):
    """Home, programme list and action detail: same number of queries with 3 and 60 fiches
    (and with a short and a long history)."""
    login(client, world.coordinator)
    action = action_in(world, ActionState.FUNDING)
    for _ in range(2):
        new_action(world)
    urls = [
        reverse("coordo:home"),
        reverse("coordo:programme", args=[world.programme.pk]),
        reverse("coordo:action", args=[action.pk]),
    ]
    small = [_queries(client, url) for url in urls]
    for _ in range(57):
        new_action(world)
    for n in range(60):  # a long history on the detail page
        services.update_action(
            action=Action.objects.get(pk=new_action(world).pk),
            actor=world.coordinator,
            data={"context": f"v{n}"},
        )
    large = [_queries(client, url) for url in urls]
    assert small == large


def test_french_whatever_the_browser_says_until_the_user_picks_english(client, world):
    action = action_in(world, ActionState.FUNDING)
    login(client, world.coordinator)
    url = reverse("coordo:action", args=[action.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "18\N{NARROW NO-BREAK SPACE}000,00 €" in page or "18\xa0000,00 €" in page
    assert 'lang="fr"' in page
    client.post(reverse("set_language"), {"language": "en", "next": url})
    page = client.get(url).content.decode()
    assert 'lang="en"' in page
    assert "18,000.00 €" in page


def test_budget_line_and_indicator_are_added_from_the_fiche(client, world):
    action = services.transition(
        new_action(world), "start_co_construction", actor=world.coordinator
    )
    login(client, world.wg_member)
    services.update_action(
        action=action, actor=world.coordinator, data={"working_group": world.working_group}
    )
    url = reverse("coordo:action-add", args=[action.pk, "budget"])
    response = client.post(
        url,
        {
            **seen(action),
            "budget-year": "2026",
            "budget-category": "services",
            "budget-planned": "4500,50",
        },
    )
    assert response.status_code == 302
    line = Action.objects.get(pk=action.pk).budget_lines.get()
    assert str(line.planned) == "4500.50"
    assert AuditEvent.objects.filter(event="add_budget_line", actor=world.wg_member).exists()
    response = client.post(
        reverse("coordo:action-add", args=[action.pk, "indicateur"]),
        {
            **seen(action),
            "indicator-kind": "result",
            "indicator-label": "Part de parents satisfaits",
        },
    )
    assert Action.objects.get(pk=action.pk).indicators.get().label == "Part de parents satisfaits"


def test_bad_budget_line_is_refused_with_a_message_and_nothing_saved(client, world):
    action = services.transition(
        new_action(world), "start_co_construction", actor=world.coordinator
    )
    login(client, world.coordinator)
    events = AuditEvent.objects.count()
    add = reverse("coordo:action-add", args=[action.pk, "budget"])
    response = client.post(
        add,
        {**seen(action), "budget-year": "2026", "budget-category": "staff", "budget-planned": "-3"},
        follow=True,
    )
    assert "supérieure ou égale à 0" in response.content.decode()
    good = {
        **seen(action),
        "budget-year": "2026",
        "budget-category": "staff",
        "budget-planned": "10",
    }
    client.post(add, good)
    # The same form posted twice (a double click, or the back button): the second finds the
    # fiche changed since its page was shown, and says by what.
    response = client.post(add, good, follow=True)
    assert "depuis que vous avez ouvert la page" in response.content.decode()
    assert "Ajout d&#x27;une ligne budgétaire" in response.content.decode()
    # The same year, category and label (the category's name, none typed) from an up-to-date
    # page: a double entry, refused with a readable message.
    response = client.post(add, {**good, **seen(action)}, follow=True)
    assert "déjà une ligne de ce libellé" in response.content.decode()
    assert Action.objects.get(pk=action.pk).budget_lines.count() == 1
    assert AuditEvent.objects.count() == events + 1
    # Another line of the same category and year, with its own label: the plan has two.
    client.post(add, {**good, **seen(action), "budget-label": "Vacations d'animation"})
    labels = Action.objects.get(pk=action.pk).budget_lines.values_list("label", flat=True)
    assert sorted(labels) == ["Frais de personnel", "Vacations d'animation"]


def test_a_reader_cannot_add_to_the_fiche(client, world):
    action = new_action(world)
    login(client, world.ars_referent)
    response = client.post(
        reverse("coordo:action-add", args=[action.pk, "budget"]),
        {"budget-year": "2026", "budget-category": "staff", "budget-planned": "10"},
    )
    assert response.status_code == 403
    assert not Action.objects.get(pk=action.pk).budget_lines.exists()


def _listed(client, world, **params) -> set[str]:
    page = client.get(reverse("coordo:programme", args=[world.programme.pk]), params)
    assert page.status_code == 200
    return {a.title for a in page.context["page"].object_list}


def test_action_list_filters_and_search(client, world):
    import datetime

    from tests.factories import ObjectiveFactory, OrganisationFactory

    second_objective = ObjectiveFactory(axis__programme=world.programme, title="Autre objectif")
    other_lead = OrganisationFactory(name="UNAFAM test")
    a = new_action(world, title="Bus dentaire", objective=world.objective)
    b = new_action(
        world,
        title="Groupe de parole des aidants",
        objective=second_objective,
        lead_organisation=other_lead,
        planned_start=datetime.date(2027, 3, 1),
        planned_end=datetime.date(2027, 9, 1),
    )
    c = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.ars_referent)
    assert _listed(client, world) == {a.title, b.title, c.title}
    assert _listed(client, world, etat="copil_review") == {c.title}
    assert _listed(client, world, axe=second_objective.axis_id) == {b.title}
    assert _listed(client, world, objectif=world.objective.pk) == {a.title, c.title}
    assert _listed(client, world, porteur=other_lead.pk) == {b.title}
    assert _listed(client, world, annee=2027) == {b.title}
    # The year picker runs from the last start (b, 2027) to the first (c, 2026), newest first;
    # a fiche without dates adds none.
    page = client.get(reverse("coordo:programme", args=[world.programme.pk]))
    assert list(page.context["years"]) == [2027, 2026]
    assert '<option value="2027">2027</option>' in page.content.decode()
    assert _listed(client, world, q="DENTAIRE") == {a.title}
    assert _listed(client, world, retard=1) == set()
    task = queues.open_task(b)
    task.data = {"due": "2020-01-01"}
    task.save(update_fields=["data"])
    assert _listed(client, world, retard=1) == {b.title}
    # A filter no picker could send is not applied, and the page says why (no server error).
    response = client.get(
        reverse("coordo:programme", args=[world.programme.pk]), {"etat": "nonsense", "annee": "x"}
    )
    assert response.status_code == 400
    assert "Année : Saisissez un nombre entier." in response.content.decode()
    listed = {a.title for a in response.context["page"].object_list}
    assert listed == {a.title, b.title, c.title}


def test_members_comment_the_fiche_and_readers_cannot(client, world):
    action = new_action(world, working_group=world.working_group)
    login(client, world.wg_member)
    client.post(reverse("coordo:action-comment", args=[action.pk]), {"text": "Associer le CCAS"})
    event = AuditEvent.objects.get(event="comment", object_id=str(action.pk))
    assert (event.actor, event.comment) == (world.wg_member, "Associer le CCAS")
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Associer le CCAS" in page and "Commentaire" in page
    assert page.count("Commentaire ajouté à l") == 1  # the message once, not again in a snackbar
    response = client.post(
        reverse("coordo:action-comment", args=[action.pk]), {"text": "  "}, follow=True
    )
    assert "Le commentaire est vide" in response.content.decode()
    login(client, world.ars_referent)
    assert (
        client.post(reverse("coordo:action-comment", args=[action.pk]), {"text": "x"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(event="comment").count() == 1


def test_diff_between_two_versions_sent_to_the_copil(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "request_changes", actor=world.copil, comment="Préciser le public")
    services.update_action(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        data={"target_public": "Enfants de 6 à 11 ans des Hauts-Prés"},
    )
    services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
    )
    login(client, world.copil)
    page = client.get(reverse("coordo:action-versions", args=[action.pk]))
    assert page.context["fiche"] == [
        (
            "public visé",
            "Habitants des quartiers prioritaires",
            "Enfants de 6 à 11 ans des Hauts-Prés",
        )
    ]
    assert page.context["parts"] == []
    assert (
        client.get(reverse("coordo:action-versions", args=[action.pk]), {"de": 9}).status_code
        == 404
    )
    login(client, world.outsider)
    assert client.get(reverse("coordo:action-versions", args=[action.pk])).status_code == 404


def test_fiche_timeline_includes_its_budget_funding_and_indicators(client, world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    login(client, world.ars_referent)
    page = client.get(reverse("coordo:action", args=[action.pk]))
    labels = [e.label for e in page.context["events"]]
    for expected in (
        "Ajout d'une ligne budgétaire",
        "Ajout d'un indicateur",
        "Nouvelle demande de financement",
        "Accorder",
        "Démarrer la mise en œuvre",
    ):
        assert expected in labels
    grant = next(e for e in page.context["events"] if e.label == "Accorder")
    assert (grant.from_label, grant.to_label) == ("Déposée", "Accordée")
    assert "18000.00" in str(grant.changes)


def test_all_my_fiches_across_programmes_with_a_programme_filter(client, world):
    from projects.models import Membership, Role

    mine = new_action(world, title="Fiche du programme A")
    foreign = services.create_action(
        programme=world.other_programme,
        actor=world.outsider,
        data={"title": "Fiche du programme B", "lead_organisation": world.lead},
    )
    login(client, world.coordinator)
    listed = client.get(reverse("coordo:actions"))
    titles = {a.title for a in listed.context["page"].object_list}
    assert mine.title in titles and foreign.title not in titles
    Membership.objects.create(
        user=world.coordinator, programme=world.other_programme, role=Role.ARS_REFERENT
    )
    titles = {a.title for a in client.get(reverse("coordo:actions")).context["page"].object_list}
    assert {mine.title, foreign.title} <= titles
    narrowed = client.get(reverse("coordo:actions"), {"dispositif": world.other_programme.pk})
    assert {a.title for a in narrowed.context["page"].object_list} == {foreign.title}
    login(client, world.wg_member)
    response = client.get(reverse("coordo:actions"), {"dispositif": world.other_programme.pk})
    assert response.status_code == 404


def test_english_user_sees_english_labels_and_snapshots_keep_field_names(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    login(client, world.copil)
    client.post(reverse("set_language"), {"language": "en"})
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Submitted to the COPIL" in page
    # The snapshot of a fiche resubmitted by an English-speaking coordinator is keyed by field
    # names like the first version, so that the two still compare.
    services.transition(action, "request_changes", actor=world.copil, comment="Revoir")
    from django.utils import translation

    with translation.override("en"):
        services.update_action(
            action=Action.objects.get(pk=action.pk),
            actor=world.coordinator,
            data={"target_public": "Collégiens"},
        )
        services.transition(
            Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
        )
    first, latest = (
        s.data["fiche"] for s in Action.objects.get(pk=action.pk).snapshots.order_by("version")
    )
    assert set(first) == set(latest) == {*Action.FICHE_FIELDS, "places"}
    assert latest["target_public"] == "Collégiens"


def test_an_edit_from_an_older_page_does_not_erase_a_colleagues(client, world):
    """Two people open the fiche's form; the first saves; the second's save is refused, says
    who changed what, and keeps what they typed — nothing is silently overwritten."""
    action = new_action(world, working_group=world.working_group)
    form = {
        "title": action.title,
        "lead_organisation": world.lead.pk,
        "working_group": world.working_group.pk,
        "participation_level": "consultation",
        "own_funds": "0",
    }
    opened = seen(action)  # both open the form now
    login(client, world.coordinator)
    client.post(
        reverse("coordo:action-edit", args=[action.pk]),
        {**form, **opened, "target_public": "Familles monoparentales"},
    )
    login(client, world.wg_member)
    response = client.post(
        reverse("coordo:action-edit", args=[action.pk]),
        {**form, **opened, "target_public": "Jeunes de 16 à 25 ans"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "depuis que vous avez ouvert la page" in page
    assert "Modification de la fiche" in page and world.coordinator.username in page
    assert "Jeunes de 16 à 25 ans" in page  # what they typed is still in the form
    assert Action.objects.get(pk=action.pk).target_public == "Familles monoparentales"
    assert AuditEvent.objects.filter(event="update", object_id=str(action.pk)).count() == 1
