"""A programme's public page and its news feed, without an account: they answer only where the
programme switched its public page on; they show the programme, its axes, the fiches its COPIL
validated and their progress, its plenary séances — and nothing internal: no person's name,
username or e-mail, no comment, and no amount unless the programme publishes them (checked by
scanning the rendered page and feed); the feed is valid Atom; the number of queries does not
grow with the number of fiches."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from projects.models import Action, ActionState, Meeting, Programme
from tests.world import action_in, new_action
from web.views import public
from workflows import services

ATOM = {"a": "http://www.w3.org/2005/Atom"}
PLACE = "Maison des associations, Lys-sur-Marque"
PAST_PLACE = "Salle polyvalente du Centre-Gare"
# What members wrote inside the programme: never on the public page nor in its feed.
COMMENTS = (
    "Le coût du poste de médiatrice nous inquiète encore",
    "Relancer la CPAM avant le prochain COPIL",
)
APPROVAL_COMMENT = "Validée sous réserve d'un second financeur"
REJECTION = "Doublon avec l'action du contrat de ville"
ABANDON = "Le partenaire associatif s'est retiré"
NOTES = "Échanges vifs sur la répartition des crédits"
MINUTES = "Compte rendu interne : tensions entre partenaires"
RESIDENT_EMAIL = "habitant.prive@exemple-prive.fr"
BUDGET = "18000"  # the planned budget of each fiche (tests.world.complete_fiche)


@dataclass
class Scene:
    programme: Programme
    validated: Action
    implementation: Action
    closed: Action
    approved: Action  # approved with a comment
    hidden: list[Action]  # draft, under review, rejected, abandoned
    upcoming: Meeting
    past: Meeting


def open_page(programme: Programme, **fields) -> Programme:
    # The page is a setting of the programme (its coordination sets it on the settings page);
    # switched on here directly, as part of the test's set-up.
    Programme.objects.filter(pk=programme.pk).update(public_page=True, **fields)
    return Programme.objects.get(pk=programme.pk)


def page_url(programme) -> str:
    return reverse(
        "public:programme", args=[programme.pk if hasattr(programme, "pk") else programme]
    )


def feed_url(programme) -> str:
    return reverse("public:news", args=[programme.pk if hasattr(programme, "pk") else programme])


def text(response) -> str:
    return unescape(response.content.decode())


def _name_everyone(world) -> None:
    """Names and e-mails found nowhere else, so that finding one on a page means a leak."""
    for i, (role, user) in enumerate(sorted(world.users.items())):
        get_user_model().objects.filter(pk=user.pk).update(
            first_name=f"Ysolde{chr(65 + i)}",
            last_name=f"Kervadec{chr(65 + i)}",
            email=f"{role}.perso@exemple-prive.fr",
        )


@pytest.fixture
def scene(world) -> Scene:
    _name_everyone(world)
    for kind, name in (
        ("commune", "Val-Fleuri"),
        ("commune", "Lys-sur-Marque"),
        ("epci", "Val-de-Lys Agglomération"),
        ("qpv", "Les Hauts-Prés"),
    ):
        services.add_place(programme=world.programme, actor=world.coordinator, kind=kind, name=name)
    programme = open_page(world.programme)
    validated = action_in(world, ActionState.VALIDATED)
    implementation = action_in(world, ActionState.IMPLEMENTATION)
    closed = action_in(world, ActionState.CLOSED)
    approved = services.transition(
        action_in(world, ActionState.COPIL_REVIEW),
        "approve",
        actor=world.copil,
        comment=APPROVAL_COMMENT,
    )
    review = action_in(world, ActionState.COPIL_REVIEW)
    rejected = services.transition(
        action_in(world, ActionState.COPIL_REVIEW), "reject", actor=world.copil, comment=REJECTION
    )
    abandoned = services.transition(
        action_in(world, ActionState.CO_CONSTRUCTION), "abandon", actor=world.copil, comment=ABANDON
    )
    draft = new_action(world)
    for action in (validated, implementation, closed, review, draft):
        for comment in COMMENTS:
            services.comment_action(action=action, actor=world.coordinator, text=comment)
    now = timezone.now()
    upcoming = services.create_meeting(
        programme=programme,
        actor=world.coordinator,
        body=Meeting.Body.PLENARY,
        date=now + datetime.timedelta(days=30),
        place=PLACE,
    )
    past = services.create_meeting(
        programme=programme,
        actor=world.coordinator,
        body=Meeting.Body.PLENARY,
        date=now - datetime.timedelta(days=10),
        place=PAST_PLACE,
    )
    services.record_meeting(
        meeting=past,
        actor=world.coordinator,
        chair_id=world.copil.pk,
        attendee_ids=[world.copil.pk, world.action_lead.pk, world.funder.pk],
        notes=NOTES,
        decisions={},
    )
    services.write_minutes(meeting=past, actor=world.coordinator, text=MINUTES)
    services.create_meeting(  # another body's séance: not public
        programme=programme,
        actor=world.coordinator,
        body=Meeting.Body.COPIL,
        date=now + datetime.timedelta(days=20),
        place="Salle du conseil communautaire",
    )
    services.submit_resident_proposal(
        programme=programme,
        idea="Un banc devant le centre de santé",
        need="Les personnes âgées attendent debout.",
        contact_email=RESIDENT_EMAIL,
        contact_consent=True,
    )
    return Scene(
        programme=programme,
        validated=validated,
        implementation=implementation,
        closed=closed,
        approved=approved,
        hidden=[review, rejected, abandoned, draft],
        upcoming=upcoming,
        past=past,
    )


def private_words(world) -> list[str]:
    """Everything a public page must never carry: the world's people (names, usernames,
    e-mails, as the audit trail labels them too), every comment and reason written in the
    programme, the séances' notes and minutes, the residents' contacts."""
    words = []
    for user in get_user_model().objects.filter(pk__in=[u.pk for u in world.users.values()]):
        words += [user.first_name, user.last_name, user.username, user.email]
    trail = AuditEvent.objects.filter(programme=world.programme)
    words += [c for c in trail.exclude(comment="").values_list("comment", flat=True)]
    words += [a for a in trail.exclude(actor_label="").values_list("actor_label", flat=True)]
    words += [*COMMENTS, APPROVAL_COMMENT, REJECTION, ABANDON, NOTES, MINUTES, RESIDENT_EMAIL]
    return sorted({w for w in words if w})


def leaks(content: str, words: list[str]) -> list[str]:
    return [w for w in words if w in content]


def digits(content: str) -> str:
    """The content without spaces (of every kind) and dots: « 18 000,00 € » → « 18000,00€ »."""
    return re.sub(r"[\s\u00a0\u202f.]", "", content)


def entries(response) -> list[ET.Element]:
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    return root.findall("a:entry", ATOM)


def entry_titles(response) -> list[str]:
    return [e.findtext("a:title", namespaces=ATOM) for e in entries(response)]


# --- switched off, unknown ---------------------------------------------------------------


def test_page_and_feed_answer_404_when_the_page_is_off_or_the_programme_unknown(client, world):
    action_in(world, ActionState.VALIDATED)
    assert not world.programme.public_page
    for url in (
        page_url(world.programme),
        feed_url(world.programme),
        page_url(999_999),
        feed_url(999_999),
        "/public/dispositifs/99999999999999999999/",
        "/public/dispositifs/99999999999999999999/actualites.xml",
        "/public/dispositifs/abc/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Permanences" not in text(response)
    # Another programme's page being on opens only that one.
    open_page(world.other_programme)
    assert client.get(page_url(world.other_programme)).status_code == 200
    assert client.get(page_url(world.programme)).status_code == 404
    assert client.get(feed_url(world.programme)).status_code == 404


# --- what the page shows ---------------------------------------------------------------------


def test_the_page_shows_the_programme_its_axes_public_fiches_and_plenaries(client, world, scene):
    response = client.get(page_url(scene.programme))
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="fr">' in html and "coordo:" not in html and "vf-page__menu" not in html
    programme = scene.programme
    for shown in (
        programme.name,
        programme.get_kind_display(),
        programme.get_status_display(),
        "du 01/01/2024 au 31/12/2028",
        programme.territory,
        # Its places, by kind, in the order a reader expects.
        "<dt>EPCI</dt><dd>Val-de-Lys Agglomération</dd>"
        "<dt>Communes</dt><dd>Lys-sur-Marque, Val-Fleuri</dd>"
        "<dt>Quartiers prioritaires (QPV)</dt><dd>Les Hauts-Prés</dd>",
        world.objective.axis.title,
        world.objective.title,  # an operational objective
    ):
        assert str(shown) in html, shown
    # The fiches validated and their progress, with their lead organisation and planned dates.
    for action, state in (
        (scene.validated, "Validée"),
        (scene.implementation, "En mise en œuvre"),
        (scene.closed, "Clôturée"),
        (scene.approved, "Validée"),
    ):
        card = html.split(f'id="fiche-{action.pk}"', 1)[1].split("</li>", 1)[0]
        assert action.title in card and state in card and world.lead.name in card
        assert "du 01/01/2026 au 31/12/2026" in card
    for action in scene.hidden:
        assert f'id="fiche-{action.pk}"' not in html
    assert "4 actions" in html
    # The next plenary séance (date and place), not the past one nor another body's.
    assert f'id="seance-{scene.upcoming.pk}"' in html and PLACE in html
    assert PAST_PLACE not in html and "Salle du conseil communautaire" not in html
    # The way to propose, and the news feed announced to feed readers.
    assert reverse("public:propose", args=[programme.pk]) in html
    assert (
        f'<link rel="alternate" type="application/atom+xml" title="Actualités — {programme.name}" '
        f'href="{feed_url(programme)}">'
    ) in html


def test_the_proposal_pages_link_to_the_programme_page(client, scene):
    url = page_url(scene.programme)
    assert url in text(client.get(reverse("public:propose", args=[scene.programme.pk])))
    assert url in text(client.get(reverse("public:thanks", args=[scene.programme.pk])))


def test_nothing_internal_on_the_page_or_in_the_feed(client, world, scene):
    words = private_words(world)
    assert len(words) > 50  # 12 people × 4, the comments, the reasons, the notes…
    for url in (page_url(scene.programme), feed_url(scene.programme)):
        response = client.get(url)
        assert response.status_code == 200
        content = text(response)
        assert leaks(content, words) == [], url
        assert "€" not in content and BUDGET not in digits(content), url
    # The same scan finds them where they belong: inside, on the fiche's own page.
    client.force_login(world.coordinator)
    inside = text(client.get(reverse("coordo:action", args=[scene.validated.pk])))
    assert {COMMENTS[0], world.coordinator.username} <= set(leaks(inside, words))


def test_amounts_appear_only_where_the_programme_publishes_them(client, world, scene):
    open_page(scene.programme, public_amounts=True)
    html = text(client.get(page_url(scene.programme)))
    card = html.split(f'id="fiche-{scene.validated.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Budget prévisionnel" in card and "18000,00€" in digits(card)
    # The four public fiches' planned budgets, summed.
    assert "Budget prévisionnel des 4 actions : 72" in html
    assert "72000,00€" in digits(html)
    assert leaks(html, private_words(world)) == []
    # The feed announces milestones, never amounts.
    feed = text(client.get(feed_url(scene.programme)))
    assert "€" not in feed and BUDGET not in digits(feed)


def test_the_page_filters_by_state_and_pages_its_fiches(client, world, scene):
    html = text(client.get(page_url(scene.programme) + "?etat=closed"))
    assert f'id="fiche-{scene.closed.pk}"' in html
    assert f'id="fiche-{scene.validated.pk}"' not in html
    # A state that is not public shows every public fiche, never the hidden ones.
    html = text(client.get(page_url(scene.programme) + "?etat=draft"))
    assert f'id="fiche-{scene.validated.pk}"' in html
    assert not any(f'id="fiche-{a.pk}"' in html for a in scene.hidden)
    extra = [new_action(world).pk for _ in range(public.PAGE_SIZE)]
    # Volume for the pager: set directly (the lifecycle itself is tested elsewhere).
    Action.objects.filter(pk__in=extra).update(state=ActionState.IMPLEMENTATION)
    first = text(client.get(page_url(scene.programme)))
    assert "Page 1 sur 2" in first and f"{public.PAGE_SIZE + 4} actions" in first
    assert first.count('class="card" id="fiche-') == public.PAGE_SIZE
    second = text(client.get(page_url(scene.programme) + "?page=2"))
    assert second.count('class="card" id="fiche-') == 4
    for page in ("999", "-1", "abc", "9" * 30):
        assert client.get(page_url(scene.programme) + f"?page={page}").status_code == 200


# --- the news feed -----------------------------------------------------------------------------


def test_the_feed_is_atom_and_lists_the_public_milestones(client, scene):
    response = client.get(feed_url(scene.programme))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    found = entries(response)
    titles = [e.findtext("a:title", namespaces=ATOM) for e in found]
    v, i, c, a = scene.validated, scene.implementation, scene.closed, scene.approved
    date = timezone.localtime(scene.upcoming.date).strftime("%d/%m/%Y")
    past = timezone.localtime(scene.past.date).strftime("%d/%m/%Y")
    assert sorted(titles) == sorted(
        [
            f"Validée : {v.title}",
            f"Validée : {i.title}",
            f"En mise en œuvre : {i.title}",
            f"Validée : {c.title}",
            f"En mise en œuvre : {c.title}",
            f"Clôturée : {c.title}",
            f"Validée : {a.title}",
            f"Assemblée plénière du {date}",
            f"Assemblée plénière du {past}",
        ]
    )
    # Latest first: the two séances were convened last.
    assert set(titles[:2]) == {f"Assemblée plénière du {date}", f"Assemblée plénière du {past}"}
    page = f"http://testserver{page_url(scene.programme)}"
    links = [e.find("a:link", ATOM).get("href") for e in found]
    assert all(link.startswith(page + "#") for link in links)
    assert f"{page}#fiche-{c.pk}" in links and f"{page}#seance-{scene.upcoming.pk}" in links
    ids = [e.findtext("a:id", namespaces=ATOM) for e in found]
    assert len(set(ids)) == len(ids)
    for entry in found:
        assert entry.findtext("a:updated", namespaces=ATOM)
    root = ET.fromstring(response.content)
    assert root.findtext("a:title", namespaces=ATOM) == f"Actualités — {scene.programme.name}"
    assert root.find("a:author/a:name", ATOM).text == scene.programme.name
    # An entry says who carries the fiche (an organisation) and when, nothing else.
    summary = found[titles.index(f"Clôturée : {c.title}")].findtext("a:summary", namespaces=ATOM)
    assert (
        summary
        == f"Porteur : {c.lead_organisation.name}. Période prévue : du 01/01/2026 au 31/12/2026."
    )


def test_the_feed_keeps_the_latest_30(client, world):
    programme = open_page(world.programme)
    start = timezone.now() + datetime.timedelta(days=1)
    for day in range(35):
        services.create_meeting(
            programme=programme,
            actor=world.coordinator,
            body=Meeting.Body.PLENARY,
            date=start + datetime.timedelta(days=day),
            place=f"Salle {day}",
        )
    titles = entry_titles(client.get(feed_url(programme)))
    assert len(titles) == 30
    last = timezone.localtime(start + datetime.timedelta(days=34)).strftime("%d/%m/%Y")
    assert titles[0] == f"Assemblée plénière du {last}"


def test_a_cancelled_plenary_is_announced_as_such(client, world, scene):
    services.cancel_meeting(meeting=scene.upcoming, actor=world.coordinator, reason=NOTES)
    html = text(client.get(page_url(scene.programme)))
    assert "Séance annulée" in html and NOTES not in html
    titles = entry_titles(client.get(feed_url(scene.programme)))
    date = timezone.localtime(scene.upcoming.date).strftime("%d/%m/%Y")
    assert f"Assemblée plénière du {date} — annulée" in titles


# --- queries ------------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("amounts", [False, True])
def test_query_counts_do_not_grow_with_the_fiches(client, world, scene, amounts):
    open_page(scene.programme, public_amounts=amounts)
    urls = [page_url(scene.programme), page_url(scene.programme) + "?etat=implementation&page=2"]
    urls.append(feed_url(scene.programme))
    before = [_queries(client, url) for url in urls]
    extra = [new_action(world).pk for _ in range(80)]
    # Volume: set directly (the lifecycle itself is tested elsewhere).
    Action.objects.filter(pk__in=extra).update(state=ActionState.IMPLEMENTATION)
    for day in range(5):
        services.create_meeting(
            programme=scene.programme,
            actor=world.coordinator,
            body=Meeting.Body.PLENARY,
            date=timezone.now() + datetime.timedelta(days=40 + day),
            place=f"Salle {day}",
        )
    for n in range(12):  # its places too: in one query, however many
        services.add_place(
            programme=scene.programme, actor=world.coordinator, kind="commune", name=f"Commune {n}"
        )
    after = [_queries(client, url) for url in urls]
    assert after == before
