"""The members' busiest pages are served again from the cache while nothing they show has
changed — and every change, whoever makes it and however, shows on the next visit."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import chain
from config import page_cache
from config.models import PageGeneration
from projects.models import Action, Membership, Organisation
from tests.world import build_world, new_action
from workflows import services

SERVED = 4  # a stored page: the session, the person, the version; no more


@pytest.fixture(autouse=True)
def empty_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


def read(client, url) -> tuple[str, int]:
    """The page as the person sees it, and the queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def stored(client, url) -> str:
    """Visit the page until it is served from the cache (the first visit sets the browser's
    CSRF cookie, the second stores it); its text."""
    client.get(url)
    client.get(url)
    page, queries = read(client, url)
    assert queries <= SERVED, f"{url} was rendered again ({queries} queries)"
    return page


def generation() -> int:
    return PageGeneration.objects.get(pk=1).n


@pytest.fixture
def fiche(world):
    return new_action(world)


def logged(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["home", "inbox", "programme", "action", "dashboard", "funding"])
def test_a_page_seen_again_is_served_from_the_cache(world, fiche, name):
    url = {
        "home": reverse("coordo:home"),
        "inbox": reverse("coordo:inbox"),
        "action": reverse("coordo:action", args=[fiche.pk]),
    }.get(name) or reverse(f"coordo:{name}", args=[world.programme.pk])
    client = logged(world.coordinator)
    client.get(url)
    first, rendered = read(client, url)
    again, served = read(client, url)
    assert again == first
    assert served <= SERVED < rendered


def test_a_comment_by_another_member_shows_on_the_next_visit(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    assert "Associer le CCAS" not in stored(reader, url)
    writer = logged(world.coordinator)
    writer.post(reverse("coordo:action-comment", args=[fiche.pk]), {"text": "Associer le CCAS"})
    assert "Associer le CCAS" in read(reader, url)[0]


def test_a_change_made_outside_any_request_shows_at_once(world, fiche):
    """A command, the shell or a test's service call: this process's pages see it before the
    transaction commits, the others when it does."""
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    stored(reader, url)
    services.comment_action(action=fiche, actor=world.coordinator, text="Relancer la mairie")
    assert "Relancer la mairie" in read(reader, url)[0]
    Organisation.objects.filter(pk=world.lead.pk).update(name="CCAS du Val")
    assert "CCAS du Val" in read(reader, url)[0]


def test_a_shared_organisation_renamed_shows_in_every_page_naming_it(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    assert world.lead.name in stored(reader, url)
    before = generation()
    edit = reverse("coordo:directory-organisation-edit", args=[world.programme.pk, world.lead.pk])
    response = logged(world.coordinator).post(
        edit,
        {
            "name": "CCAS de Lys-sur-Marque",
            "kind": world.lead.kind,
            "seen_version": chain.version(world.lead),
        },
    )
    assert response.status_code == 302
    assert generation() == before + 1  # an organisation is no one programme's
    assert "CCAS de Lys-sur-Marque" in read(reader, url)[0]


def test_a_member_whose_membership_ended_is_not_served_the_stored_page(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    stored(reader, url)
    membership = Membership.objects.get(user=world.copil, programme=world.programme)
    services.end_membership(membership=membership, actor=world.coordinator)
    assert reader.get(url).status_code == 404


def test_a_new_day_renders_the_pages_again(world, fiche, monkeypatch):
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    stored(reader, url)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(page_cache.timezone, "localdate", lambda *args: tomorrow)
    assert read(reader, url)[1] > SERVED


def test_each_person_and_each_browser_has_their_own_pages(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    coordinator = stored(logged(world.coordinator), url)
    other_browser, queries = read(logged(world.coordinator), url)
    assert queries > SERVED  # another session: rendered for it
    copil = read(logged(world.copil), url)[0]
    edit = reverse("coordo:action-edit", args=[fiche.pk])
    assert edit in coordinator and edit not in copil


def test_a_message_after_a_form_is_shown_not_swallowed_by_a_stored_page(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    client = logged(world.coordinator)
    stored(client, url)
    response = client.post(
        reverse("coordo:action-comment", args=[fiche.pk]), {"text": "Point d'étape"}, follow=True
    )
    assert "Commentaire ajouté à l" in response.content.decode()
    page = read(client, url)[0]
    assert "Commentaire ajouté à l" not in page  # shown once


def test_the_forms_of_a_stored_page_still_post(world, fiche):
    url = reverse("coordo:action", args=[fiche.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.coordinator)
    page = stored(client, url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("coordo:action-comment", args=[fiche.pk]),
        {"text": "Depuis une page gardée", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert "Depuis une page gardée" in read(client, url)[0]


def test_the_language_chosen_renders_its_own_page(world, fiche):
    url = reverse("coordo:home")
    client = logged(world.coordinator)
    stored(client, url)
    client.post(reverse("set_language"), {"language": "en"})
    page = read(client, url)[0]
    assert 'lang="en"' in page


def test_only_the_listed_pages_are_stored(world, fiche):
    client = logged(world.coordinator)
    url = reverse("coordo:directory", args=[world.programme.pk])
    client.get(url)
    client.get(url)
    assert read(client, url)[1] > SERVED


# --- The rule: which writes move the generation on ------------------------------------------


def through_the_middleware(view, user):
    request = RequestFactory().post("/")
    request.user = user
    request.session = None
    return page_cache.PageCacheMiddleware(view)(request)


def test_a_request_s_audited_change_leaves_the_generation_to_the_trail(world, fiche):
    before = generation()

    def comment(request):
        services.comment_action(action=fiche, actor=world.coordinator, text="Vu")
        return HttpResponse()

    through_the_middleware(comment, world.coordinator)
    assert generation() == before


def test_a_request_s_change_without_an_audit_event_moves_the_generation(world, fiche):
    before = generation()

    def silent(request):
        Action.objects.filter(pk=fiche.pk).update(territory="Centre-Gare")
        return HttpResponse()

    through_the_middleware(silent, world.coordinator)
    assert generation() == before + 1


def test_a_request_s_change_to_what_no_programme_owns_moves_the_generation(world, fiche):
    before = generation()

    def shared(request):
        services.comment_action(action=fiche, actor=world.coordinator, text="Vu")
        Organisation.objects.filter(pk=world.lead.pk).update(name="CCAS")
        return HttpResponse()

    through_the_middleware(shared, world.coordinator)
    assert generation() == before + 1


def test_a_bulk_insert_ignoring_conflicts_is_seen(world):
    before = generation()

    def bulk(request):
        Organisation.objects.bulk_create(
            [Organisation(name="Maison de santé du Val")], ignore_conflicts=True
        )
        return HttpResponse()

    through_the_middleware(bulk, world.coordinator)
    assert generation() == before + 1


def test_a_login_moves_nothing(world, client):
    world.copil.set_password("juste-un-mot-de-passe")
    world.copil.save()
    before = generation()
    client.post(reverse("login"), {"username": world.copil.username, "password": "faux"})
    response = client.post(
        reverse("login"),
        {"username": world.copil.username, "password": "juste-un-mot-de-passe"},
    )
    assert response.status_code == 302
    assert generation() == before


def test_every_table_is_owned_by_a_programme_or_moves_the_generation():
    owned = page_cache.programme_tables()
    assert {"projects_action", "workflows_auditevent", "viewflow_task"} <= owned
    assert not {"projects_organisation", "projects_membership", "auth_user"} & owned
    assert "diagnostic_programmelink" not in owned  # it ties two programmes


# --- Real transactions, real threads ---------------------------------------------------------


def started(target, each) -> list[threading.Thread]:
    """One thread per item of ``each``, running ``target(item)``, started."""
    threads = [threading.Thread(target=target, args=(item,)) for item in each]
    for thread in threads:
        thread.start()
    return threads


def test_concurrent_writers_outside_requests_each_move_the_generation(committed_db, postgres_only):
    """Cron jobs and commands write in their own transactions at once: each commit moves the
    generation on (after its commit, so no lock is held across them), none waits for another,
    and a page read after them shows the last."""
    world = build_world()
    fiche = new_action(world)
    url = reverse("coordo:action", args=[fiche.pk])
    reader = logged(world.copil)
    stored(reader, url)
    before = generation()
    names = [f"CCAS n° {n}" for n in range(8)]
    errors = []
    start = threading.Barrier(len(names))

    def rename(name: str) -> None:
        try:
            start.wait()
            with transaction.atomic():
                Organisation.objects.filter(pk=world.lead.pk).update(name=name)
                services.comment_action(action=fiche, actor=world.coordinator, text=name)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    for thread in started(rename, names):
        thread.join()
    assert errors == []
    assert generation() >= before + len(names)
    last = Organisation.objects.get(pk=world.lead.pk).name
    page = read(reader, url)[0]
    assert last in page
    assert all(name in page for name in names)  # every comment


def test_a_reader_during_a_change_never_keeps_the_page_from_before(committed_db, postgres_only):
    """Readers render while a member comments through the pages (as another worker would: no
    write outside a request here, only the trail moves), over and over: once a comment is
    committed, every reader's next page shows it."""
    world = build_world()
    fiche = new_action(world)
    url = reverse("coordo:action", args=[fiche.pk])
    readers = [logged(user) for user in (world.copil, world.copil2, world.cotech)]
    for reader in readers:
        stored(reader, url)
    # The same browsers (session and cookies) seen from the test's thread: a test client is not
    # shared between threads.
    tabs = []
    for reader in readers:
        tab = Client()
        tab.cookies.load({name: morsel.value for name, morsel in reader.cookies.items()})
        tabs.append(tab)
    done = threading.Event()
    errors = []

    def keep_reading(reader) -> None:
        try:
            while not done.is_set():
                assert reader.get(url).status_code == 200
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = started(keep_reading, readers)
    writer = logged(world.coordinator)
    comment = reverse("coordo:action-comment", args=[fiche.pk])
    for n in range(5):
        assert writer.post(comment, {"text": f"Étape {n}"}).status_code == 302
        for tab in tabs:
            assert f"Étape {n}" in read(tab, url)[0]
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []
