"""The coordination sets up its programme in Coordo's pages: each page and each form for the
coordination only (403 for the other roles, 404 outside, the login page for the anonymous),
each change in the trail, bad input refused with a French message and nothing half-saved,
stale pages refused, invitations by e-mail with a set-password link that works, and pages
whose query count does not grow with the programme."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.chain import verify_chain, version
from audit.models import AuditEvent
from projects.models import (
    Action,
    ActionState,
    Axis,
    Membership,
    Objective,
    Organisation,
    Programme,
    Role,
    WorkingGroup,
)
from reporting.dashboard import dashboard
from tests.factories import OrganisationFactory, UserFactory
from tests.world import action_in, new_action
from workflows import services

ROLES_403 = ["copil", "cotech", "funder", "action_lead", "wg_member", "ars_referent"]


def _page_urls(world) -> dict[str, str]:
    pk = world.programme.pk
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    return {
        "hub": reverse("coordo:setup", args=[pk]),
        "identity": reverse("coordo:setup-identity", args=[pk]),
        "axes": reverse("coordo:setup-axes", args=[pk]),
        "groups": reverse("coordo:setup-groups", args=[pk]),
        "members": reverse("coordo:setup-members", args=[pk]),
        "member": reverse("coordo:setup-member", args=[pk, membership.pk]),
        "signatories": reverse("coordo:setup-signatories", args=[pk]),
    }


def _posts(world) -> dict[str, tuple[str, dict]]:
    """One valid post per form (with the current versions)."""
    pk = world.programme.pk
    axis, objective, group = world.objective.axis, world.objective, world.working_group
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    programme_version = version(world.programme)
    return {
        "identity": (
            reverse("coordo:setup-identity", args=[pk]),
            _identity(world.programme, territory="Ailleurs", seen_version=programme_version),
        ),
        "add axis": (reverse("coordo:setup-axes", args=[pk]), {"title": "Santé mentale"}),
        "rename axis": (
            reverse("coordo:setup-axis", args=[pk, axis.pk, "renommer"]),
            {"title": "Accès aux droits", "seen_version": version(axis)},
        ),
        "retire axis": (
            reverse("coordo:setup-axis", args=[pk, axis.pk, "retirer"]),
            {"seen_version": version(axis)},
        ),
        "add objective": (
            reverse("coordo:setup-axis", args=[pk, axis.pk, "objectif"]),
            {"title": "Former les aidants", "level": "specific"},
        ),
        "edit objective": (
            reverse("coordo:setup-objective", args=[pk, objective.pk, "modifier"]),
            {
                "title": "Réduire le non-recours",
                "level": "general",
                "seen_version": version(objective),
            },
        ),
        "retire objective": (
            reverse("coordo:setup-objective", args=[pk, objective.pk, "retirer"]),
            {"seen_version": version(objective)},
        ),
        "add group": (
            reverse("coordo:setup-groups", args=[pk]),
            {"name": "Santé des jeunes", "description": ""},
        ),
        "edit group": (
            reverse("coordo:setup-group", args=[pk, group.pk, "modifier"]),
            {"name": "Groupe renommé", "description": "", "seen_version": version(group)},
        ),
        "add to group": (
            reverse("coordo:setup-group", args=[pk, group.pk, "membre"]),
            {"user": world.copil.pk},
        ),
        "invite": (
            reverse("coordo:setup-members", args=[pk]),
            {"email": "nouvelle@ville.example", "role": Role.COPIL},
        ),
        "change role": (
            reverse("coordo:setup-member", args=[pk, membership.pk]),
            {"role": Role.COPIL, "seen_version": version(membership)},
        ),
        "end membership": (
            reverse("coordo:setup-member-end", args=[pk, membership.pk]),
            {"seen_version": version(membership)},
        ),
        "signatories": (
            reverse("coordo:setup-signatories", args=[pk]),
            {"organisations": [world.funder_org.pk], "seen_version": programme_version},
        ),
        "add organisation": (
            reverse("coordo:setup-organisation-add", args=[pk]),
            {"name": "Centre social des Prés", "kind": "social_centre"},
        ),
    }


def _identity(programme, **changes) -> dict:
    data = {
        "kind": programme.kind,
        "name": programme.name,
        "territory": programme.territory,
        "start_date": programme.start_date.isoformat(),
        "end_date": programme.end_date.isoformat(),
    }
    return data | changes


def _state() -> tuple:
    """What a refused post must leave as it was."""
    return (
        AuditEvent.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        Axis.objects.count(),
        Objective.objects.count(),
        list(Membership.objects.order_by("pk").values_list("role", "is_active")),
        list(Axis.objects.order_by("pk").values_list("title", "number", "retired_at")),
        list(Objective.objects.order_by("pk").values_list("title", "level", "retired_at")),
        list(Programme.objects.order_by("pk").values_list("name", "territory")),
    )


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", *ROLES_403, "outsider", "anonymous"])
def test_every_page_for_the_coordination_only(client, world, who):
    expected = {"coordinator": 200, "outsider": 404, "anonymous": 302}.get(who, 403)
    if who != "anonymous":
        client.force_login(getattr(world, who))
    for name, url in _page_urls(world).items():
        response = client.get(url)
        assert response.status_code == expected, name
        if who == "anonymous":
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("who", [*ROLES_403, "outsider", "anonymous"])
def test_every_form_refused_to_the_others_and_nothing_changes(client, world, who):
    expected = {"outsider": 404, "anonymous": 302}.get(who, 403)
    if who != "anonymous":
        client.force_login(getattr(world, who))
    before = _state()
    for name, (url, data) in _posts(world).items():
        assert client.post(url, data).status_code == expected, name
    assert _state() == before
    assert not mail.outbox


def test_every_form_works_for_the_coordination_and_is_audited(client, world):
    client.force_login(world.coordinator)
    for name in _posts(world):
        url, data = _posts(world)[name]  # the versions of now: each form read afresh
        before = AuditEvent.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, (name, _messages(response))
        assert AuditEvent.objects.count() > before, name
        assert AuditEvent.objects.latest("pk").actor == world.coordinator, name
    assert verify_chain(programme_id=world.programme.pk).ok


def _add_places(world) -> None:
    for kind, name in (
        ("commune", "Lys-sur-Marque"),
        ("commune", "Bois-Joli"),
        ("epci", "Val-de-Lys Agglomération"),
        ("qpv", "Les Hauts-Prés"),
    ):
        services.add_place(programme=world.programme, actor=world.coordinator, kind=kind, name=name)


def test_the_programme_page_links_the_set_up_and_shows_its_territory(client, world):
    _add_places(world)
    url = reverse("coordo:programme", args=[world.programme.pk])
    setup = reverse("coordo:setup", args=[world.programme.pk])
    client.force_login(world.copil)
    page = client.get(url).content.decode()
    assert "Bois-Joli, Lys-sur-Marque" in page and "Les Hauts-Prés" in page
    assert "Val-de-Lys Agglomération" in page and setup not in page
    client.force_login(world.coordinator)
    assert setup in client.get(url).content.decode()


def test_the_set_up_shows_the_places_by_kind_and_links_their_page(client, world):
    client.force_login(world.coordinator)
    hub = reverse("coordo:setup", args=[world.programme.pk])
    places = reverse("coordo:places", args=[world.programme.pk])
    facts = _text(client.get(hub)).split('class="setup-facts"', 1)[1].split("</dl>", 1)[0]
    assert "Aucun lieu saisi" in facts
    _add_places(world)
    page = _text(client.get(hub))
    facts = page.split('class="setup-facts"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>EPCI</dt><dd>Val-de-Lys Agglomération</dd>" in facts
    assert "<dt>Communes</dt><dd>Bois-Joli, Lys-sur-Marque</dd>" in facts
    assert "<dt>Quartiers prioritaires (QPV)</dt><dd>Les Hauts-Prés</dd>" in facts
    assert places in page
    # The identity form edits no territory text: it sends to the places' page.
    identity = client.get(reverse("coordo:setup-identity", args=[world.programme.pk]))
    assert set(identity.context["form"].fields) == {
        "kind",
        "name",
        "territory",
        "start_date",
        "end_date",
    }
    assert places in identity.content.decode()
    # The places' page is part of the set-up for the coordination (its menu), read by the others.
    page = client.get(places).content.decode()
    assert 'class="setup-nav"' in page and f'href="{places}" aria-current="page"' in page
    client.force_login(world.copil)
    assert 'class="setup-nav"' not in client.get(places).content.decode()


# --- Identity, a new programme ------------------------------------------------------------------


def test_identity_bad_input_and_stale_page(client, world):
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-identity", args=[world.programme.pk])
    seen = version(world.programme)
    before = _state()
    response = client.post(
        url, _identity(world.programme, end_date="2020-01-01", seen_version=seen)
    )
    assert response.status_code == 400 and "La fin doit suivre le début." in _text(response)
    response = client.post(url, _identity(world.programme, name="", seen_version=seen))
    assert response.status_code == 400 and "Ce champ est obligatoire." in _text(response)
    assert _state() == before
    assert (
        client.post(
            url, _identity(world.programme, territory="CA A", seen_version=seen)
        ).status_code
        == 302
    )
    response = client.post(url, _identity(world.programme, territory="CA B", seen_version=seen))
    assert response.status_code == 400 and "Modifié depuis que vous avez ouvert la page" in _text(
        response
    )
    assert Programme.objects.get(pk=world.programme.pk).territory == "CA A"


def test_a_coordinator_creates_a_programme_and_coordinates_it(client, world):
    client.force_login(world.coordinator)
    home = client.get(reverse("coordo:home")).content.decode()
    assert reverse("coordo:programme-create") in home
    data = _identity(world.programme, name="CLS des Hauts", kind="CLS")
    response = client.post(reverse("coordo:programme-create"), data)
    created = Programme.objects.get(name="CLS des Hauts")
    assert response.status_code == 302 and response["Location"] == reverse(
        "coordo:setup", args=[created.pk]
    )
    assert client.get(reverse("coordo:setup-axes", args=[created.pk])).status_code == 200
    assert AuditEvent.objects.filter(programme=created, event="create_structure").count() == 2
    # The same name again: a French error, nothing created.
    before = _state()
    response = client.post(reverse("coordo:programme-create"), data)
    assert response.status_code == 400 and "existe déjà" in _text(response)
    assert _state() == before


def test_who_may_open_the_new_programme_page(client, world):
    url = reverse("coordo:programme-create")
    assert client.get(url).status_code == 302  # the login page
    client.force_login(world.copil)
    assert client.get(url).status_code == 403
    assert reverse("coordo:programme-create") not in client.get(reverse("coordo:home")).text
    allowed = UserFactory(username="chargee-de-mission")
    allowed.user_permissions.add(Permission.objects.get(codename="add_programme"))
    client.force_login(allowed)
    assert client.get(url).status_code == 200


# --- The tree -----------------------------------------------------------------------------------


def test_retiring_an_axis_keeps_the_fiches_link_and_the_report(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)  # answers world.objective
    axis = world.objective.axis
    figures = dashboard(programme=world.programme).by_axis
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-axis", args=[world.programme.pk, axis.pk, "retirer"])
    assert client.post(url, {"seen_version": version(axis)}).status_code == 302
    event = AuditEvent.objects.filter(object_type="projects.axis").latest("pk")
    assert event.event == "update_structure" and event.changes["retired_at"][0] is None
    assert Action.objects.get(pk=action.pk).objective_id == world.objective.pk
    assert dashboard(programme=world.programme).by_axis == figures
    # A new fiche can no longer choose it; the fiche that answers it still shows it.
    create = client.get(reverse("coordo:action-create", args=[world.programme.pk]))
    assert create.context["form"].fields["objective"].queryset.count() == 0
    draft = new_action(world, objective=world.objective)
    edit = client.get(reverse("coordo:action-edit", args=[draft.pk]))
    assert list(edit.context["form"].fields["objective"].queryset) == [world.objective]
    # The axes page says so, and brings it back.
    page = client.get(reverse("coordo:setup-axes", args=[world.programme.pk])).text
    assert "retiré le" in page and "Rétablir l'axe" in page
    url = reverse("coordo:setup-axis", args=[world.programme.pk, axis.pk, "retablir"])
    assert client.post(url, {"seen_version": version(axis)}).status_code == 302
    assert Axis.objects.get(pk=axis.pk).retired_at is None


def test_reordering_axes_and_objectives(client, world):
    client.force_login(world.coordinator)
    pk = world.programme.pk
    first = world.objective.axis
    second = services.add_axis(programme=world.programme, actor=world.coordinator, title="Deux")
    url = reverse("coordo:setup-axis", args=[pk, second.pk, "monter"])
    seen = version(second)
    assert client.post(url, {"seen_version": seen}).status_code == 302
    assert Axis.objects.get(pk=second.pk).number == first.number
    assert Axis.objects.get(pk=first.pk).number == first.number + 1
    # The same page posted again: stale, refused, nothing moves back.
    response = client.post(url, {"seen_version": seen}, follow=True)
    assert any("Modifié depuis" in m for m in _messages(response))
    assert Axis.objects.get(pk=second.pk).number == first.number
    other = services.add_objective(
        axis=first, actor=world.coordinator, title="Deuxième", level="specific"
    )
    url = reverse("coordo:setup-objective", args=[pk, other.pk, "monter"])
    assert client.post(url, {"seen_version": version(other)}).status_code == 302
    assert list(Objective.objects.filter(axis=first)) == [other, world.objective]
    response = client.post(
        reverse("coordo:setup-objective", args=[pk, other.pk, "monter"]),
        {"seen_version": version(other)},
        follow=True,
    )
    assert "Déjà en première position." in _messages(response)


def test_tree_bad_input_is_refused_in_french(client, world):
    client.force_login(world.coordinator)
    pk, axis = world.programme.pk, world.objective.axis
    before = _state()
    response = client.post(reverse("coordo:setup-axes", args=[pk]), {"title": ""})
    assert response.status_code == 400 and "Ce champ est obligatoire." in _text(response)
    response = client.post(reverse("coordo:setup-axes", args=[pk]), {"title": axis.title.upper()})
    assert response.status_code == 400 and "porte déjà cet intitulé" in _text(response)
    response = client.post(
        reverse("coordo:setup-axis", args=[pk, axis.pk, "objectif"]),
        {"title": "X", "level": "supreme"},
        follow=True,
    )
    assert any("Niveau" in m and "choix valide" in m for m in _messages(response))
    foreign = Objective.objects.create(
        axis=Axis.objects.create(programme=world.other_programme, number=1, title="A"),
        level="general",
        title="Étranger",
    )
    before = _state()
    response = client.post(
        reverse("coordo:setup-axis", args=[pk, axis.pk, "objectif"]),
        {"title": "X", "level": "specific", "parent": foreign.pk},
        follow=True,
    )
    assert any("Objectif parent" in m for m in _messages(response))
    assert (
        client.post(
            reverse("coordo:setup-objective", args=[pk, foreign.pk, "retirer"]), {}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("coordo:setup-axis", args=[pk, axis.pk, "supprimer"]), {}).status_code
        == 404
    )
    assert _state() == before


# --- Working groups -------------------------------------------------------------------------------


def test_working_groups_and_their_members(client, world):
    client.force_login(world.coordinator)
    pk, group = world.programme.pk, world.working_group
    before = _state()
    response = client.post(reverse("coordo:setup-groups", args=[pk]), {"name": group.name})
    assert response.status_code == 400 and "existe déjà" in _text(response)
    assert _state() == before
    add = reverse("coordo:setup-group", args=[pk, group.pk, "membre"])
    assert client.post(add, {"user": world.copil.pk}).status_code == 302
    membership = Membership.objects.get(user=world.copil, working_group=group, is_active=True)
    assert membership.role == Role.WG_MEMBER
    response = client.post(add, {"user": world.copil.pk}, follow=True)  # a double submit
    assert any("déjà" in m for m in _messages(response))
    response = client.post(add, {"user": world.outsider.pk}, follow=True)  # not a member
    assert any("Personne" in m for m in _messages(response))
    page = client.get(reverse("coordo:setup-groups", args=[pk])).text
    assert world.copil.get_full_name() in page
    end = reverse("coordo:setup-member-end", args=[pk, membership.pk])
    response = client.post(end, {"seen_version": version(membership), "back": "groupes"})
    assert response["Location"].endswith(f"#item-{group.pk}")
    assert not Membership.objects.get(pk=membership.pk).is_active


# --- Memberships ----------------------------------------------------------------------------------


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_an_invitation_creates_the_account_and_its_link_sets_a_password(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-members", args=[world.programme.pk])
    data = {
        "email": "jeanne.martin@cpam.example",
        "first_name": "Jeanne",
        "last_name": "Martin",
        "role": Role.FUNDER,
        "organisation": world.funder_org.pk,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert any("un lien pour choisir son mot de passe" in m for m in _messages(response))
    person = get_user_model().objects.get(email="jeanne.martin@cpam.example")
    assert person.username == "jeanne.martin" and not person.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jeanne.martin@cpam.example"]
    assert world.programme.name in message.subject and "Invitation" in message.subject
    assert "Financeur" in message.body and "jeanne.martin" in message.body
    # A double submit: one account, a French refusal, no second e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 400 and "déjà « Financeur »" in _text(response)
    assert get_user_model().objects.filter(email__iexact=data["email"]).count() == 1
    assert len(mail.outbox) == 1
    # The invited person follows the link and chooses a password.
    client.logout()
    response = client.get(_link(message), follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    password = "Une-phrase-de-passe-2026"
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
    )
    assert response.status_code == 302
    logged_in = client.post(
        reverse("login"), {"username": "jeanne.martin", "password": password}, follow=True
    )
    assert logged_in.context["user"].username == "jeanne.martin"
    assert client.get(reverse("coordo:programme", args=[world.programme.pk])).status_code == 200
    # The link served once.
    client.logout()
    assert not client.get(_link(message), follow=True).context["validlink"]


def test_inviting_an_existing_address_reuses_the_account(
    client, world, django_capture_on_commit_callbacks
):
    world.copil.email = "elue@ville.example"
    world.copil.save()
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-members", args=[world.programme.pk])
    users = get_user_model().objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "ELUE@ville.example", "role": Role.COTECH})
    assert response.status_code == 302
    assert get_user_model().objects.count() == users
    assert Membership.objects.filter(user=world.copil, role=Role.COTECH, is_active=True).exists()
    assert not mail.outbox  # she has a password already
    event = AuditEvent.objects.filter(object_type="projects.membership").latest("pk")
    assert event.comment == "Invitation par e-mail (compte existant)"


@pytest.mark.parametrize(
    "data, error",
    [
        ({"email": "pas-une-adresse", "role": "copil"}, "Saisissez une adresse e-mail valide."),
        ({"email": "a@b.example", "role": "funder"}, "Précisez l'organisation pour ce rôle."),
        ({"email": "a@b.example", "role": "wg_member"}, "Précisez le groupe de travail."),
        ({"email": "a@b.example", "role": "copil", "working_group": "G"}, "ne s'indique que"),
        ({"email": "a@b.example", "role": "chef"}, "Sélectionnez un choix valide"),
    ],
)
def test_a_bad_invitation_is_refused_in_french_and_nothing_is_saved(client, world, data, error):
    if data.get("working_group") == "G":
        data = data | {"working_group": world.working_group.pk}
    client.force_login(world.coordinator)
    before = _state()
    response = client.post(reverse("coordo:setup-members", args=[world.programme.pk]), data)
    assert response.status_code == 400 and error in _text(response)
    assert _state() == before and not mail.outbox


def test_changing_a_role_and_a_stale_page(client, world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    url = reverse("coordo:setup-member", args=[world.programme.pk, membership.pk])
    client.force_login(world.coordinator)
    seen = version(membership)
    assert client.post(url, {"role": Role.COPIL, "seen_version": seen}).status_code == 302
    event = AuditEvent.objects.filter(object_id=str(membership.pk)).latest("pk")
    assert event.changes == {"role": ["cotech", "copil"]}
    response = client.post(url, {"role": Role.ARS_REFERENT, "seen_version": seen})
    assert response.status_code == 400 and "Modifié depuis" in _text(response)
    response = client.post(url, {"role": Role.FUNDER, "seen_version": version(membership)})
    assert response.status_code == 400 and "Précisez l'organisation" in _text(response)
    assert Membership.objects.get(pk=membership.pk).role == Role.COPIL


def test_an_ended_membership_takes_the_access_away(client, world):
    membership = Membership.objects.get(user=world.cotech, programme=world.programme)
    client.force_login(world.cotech)
    programme = reverse("coordo:programme", args=[world.programme.pk])
    assert client.get(programme).status_code == 200
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-member-end", args=[world.programme.pk, membership.pk])
    assert client.post(url, {"seen_version": version(membership)}).status_code == 302
    event = AuditEvent.objects.filter(object_id=str(membership.pk)).latest("pk")
    assert event.changes == {"is_active": [True, False]}
    response = client.post(url, {"seen_version": version(membership)}, follow=True)
    assert any("déjà pris fin" in m for m in _messages(response))
    client.force_login(world.cotech)
    assert client.get(programme).status_code == 404


def test_the_last_coordinator_cannot_leave(client, world):
    services.end_membership(
        membership=Membership.objects.get(user=world.coordinator2, programme=world.programme),
        actor=world.coordinator,
    )
    mine = Membership.objects.get(user=world.coordinator, programme=world.programme)
    client.force_login(world.coordinator)
    url = reverse("coordo:setup-member-end", args=[world.programme.pk, mine.pk])
    response = client.post(url, {"seen_version": version(mine)}, follow=True)
    assert any("au moins un·e coordonnateur·rice" in m for m in _messages(response))
    assert Membership.objects.get(pk=mine.pk).is_active


# --- Signatories ----------------------------------------------------------------------------------


def test_signatories_and_a_new_organisation(client, world):
    client.force_login(world.coordinator)
    pk = world.programme.pk
    add = reverse("coordo:setup-organisation-add", args=[pk])
    assert client.post(add, {"name": "Ville de Lys", "kind": "commune"}).status_code == 302
    response = client.post(add, {"name": "Ville de Lys", "kind": "commune"}, follow=True)
    assert any("déjà" in m for m in _messages(response))
    response = client.post(add, {"name": "Nouvelle", "kind": "empire"}, follow=True)
    assert any("Type" in m for m in _messages(response))
    ville = Organisation.objects.get(name="Ville de Lys")
    url = reverse("coordo:setup-signatories", args=[pk])
    seen = version(world.programme)
    data = {"organisations": [ville.pk, world.funder_org.pk], "seen_version": seen}
    assert client.post(url, data).status_code == 302
    assert set(world.programme.signatories.all()) == {ville, world.funder_org}
    event = AuditEvent.objects.filter(programme=world.programme).latest("pk")
    assert event.changes["signatories"][0] is None
    response = client.post(url, {"organisations": [ville.pk], "seen_version": seen})
    assert response.status_code == 400 and "Modifié depuis" in _text(response)
    response = client.post(
        url, {"organisations": ["999999"], "seen_version": version(world.programme)}
    )
    assert response.status_code == 400 and "choix valide" in _text(response)
    assert set(world.programme.signatories.all()) == {ville, world.funder_org}
    page = client.get(reverse("coordo:setup", args=[pk])).text
    assert "Ville de Lys" in page


# --- The admin and the query counts ---------------------------------------------------------------


def _grow(world, n: int) -> None:
    """``n`` more axes with an objective, groups with a member, people with a role."""
    for i in range(n):
        axis = services.add_axis(
            programme=world.programme, actor=world.coordinator, title=f"Axe {i} {n}"
        )
        services.add_objective(axis=axis, actor=world.coordinator, title="O", level="specific")
        group = services.save_structure(
            WorkingGroup(programme=world.programme, name=f"Groupe {i} {n}"),
            actor=world.coordinator,
        )
        person = UserFactory(username=f"personne-{i}-{n}", email=f"p{i}{n}@x.example")
        services.add_member(
            programme=world.programme,
            actor=world.coordinator,
            user=person,
            role=Role.WG_MEMBER,
            working_group=group,
        )
        services.add_member(
            programme=world.programme,
            actor=world.coordinator,
            user=person,
            role=Role.FUNDER,
            organisation=OrganisationFactory(),
        )
    services.set_signatories(
        programme=world.programme,
        actor=world.coordinator,
        organisations=list(Organisation.objects.all()[: n + 1]),
    )


def _queries(client, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, name
        counts[name] = len(ctx.captured_queries)
    return counts


def test_the_set_up_pages_query_count_does_not_grow(client, world):
    action_in(world, ActionState.DRAFT)
    client.force_login(world.coordinator)
    urls = _page_urls(world)
    _grow(world, 2)
    small = _queries(client, urls)
    _grow(world, 12)
    assert _queries(client, urls) == small
