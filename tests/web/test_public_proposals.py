"""Residents propose through a programme's public page, without an account, and the
coordination moderates: the page answers only where the programme switched it on; bots are
kept out (honeypot, signed display time, a limit per address) without a server error and
without saving anything; bad input is a French message on the form; the queue belongs to the
coordination of that programme only; moderating goes through the lifecycle and its trail; and
the resident's e-mail never enters the trail and is erased after its retention period."""

from __future__ import annotations

import datetime
import json
import time
from html import unescape
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from audit.chain import version
from audit.models import AuditEvent
from projects.models import Action, ActionState, Origin, Programme, ResidentProposal
from tests.world import action_in, new_action
from web.views import public
from workflows import services

IP = "203.0.113.7"
EMAIL = "habitante.hauts-pres@example.org"
IDEA = "Des ateliers cuisine pour les familles"
NEED = "Beaucoup de familles du quartier mangent seules et vite ; rien n'existe le samedi."


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no attempt counted (the limit lives in Django's cache)."""
    cache.clear()
    yield
    cache.clear()


def open_page(programme: Programme, months: int = 12) -> Programme:
    # The page is a setting of the programme (set by its coordination elsewhere); switched on
    # here directly, as part of the test's set-up.
    Programme.objects.filter(pk=programme.pk).update(
        public_page=True, contact_retention_months=months
    )
    return Programme.objects.get(pk=programme.pk)


@pytest.fixture
def page(world) -> Programme:
    return open_page(world.programme)


def propose_url(programme: Programme) -> str:
    return reverse("public:propose", args=[programme.pk])


def queue_url(programme: Programme) -> str:
    return reverse("coordo:resident-proposals", args=[programme.pk])


def read_for(programme: Programme, seconds: float = 10) -> str:
    """The signed time of a form displayed ``seconds`` ago (long enough to have been read)."""
    return public.display_token(programme.pk, at=time.time() - seconds)


def form_data(programme: Programme, **data) -> dict:
    values = {
        "idea": IDEA,
        "need": NEED,
        "neighbourhood": "Les Hauts-Prés",
        "contact_email": "",
        public.SHOWN: read_for(programme),
    }
    values.update(data)
    return values


def submit(client, programme: Programme, *, ip: str = IP, **data):
    return client.post(propose_url(programme), form_data(programme, **data), REMOTE_ADDR=ip)


def text(response) -> str:
    """The page as read (entities such as the apostrophe's unescaped)."""
    return unescape(response.content.decode())


def trail_text() -> str:
    """Everything the audit trail holds that a person typed or that a change carried."""
    return "\n".join(
        json.dumps(changes, ensure_ascii=False) + "\n" + comment + "\n" + representation
        for changes, comment, representation in AuditEvent.objects.values_list(
            "changes", "comment", "object_repr"
        )
    )


class _Labels(HTMLParser):
    """The fields of the page's proposal form and the ``for`` of its labels."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, dict] = {}
        self.label_for: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in ("input", "textarea", "select") and attrs.get("type") != "hidden":
            if attrs.get("name") and attrs.get("name") != "csrfmiddlewaretoken":
                self.fields[attrs["name"]] = attrs


# --- the public page ---------------------------------------------------------------------


def test_a_resident_proposes_without_an_account(client, page):
    response = client.get(propose_url(page))
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="fr">' in html
    assert page.name in html
    # The warning comes before the first field, so it is read before typing.
    assert html.index("hébergeur de données de santé (HDS)") < html.index('name="idea"')
    assert "Votre courriel est conservé 12 mois puis effacé automatiquement." in html
    assert "coordo:" not in html and "vf-page__menu" not in html  # not the application's frame
    parser = _Labels()
    parser.feed(html)
    assert set(parser.fields) == {
        "idea",
        "need",
        "neighbourhood",
        "contact_email",
        "contact_consent",
        public.HONEYPOT,
    }
    for name, attrs in parser.fields.items():
        assert attrs["id"] in parser.label_for, f"{name} has no label"
    honeypot = parser.fields[public.HONEYPOT]
    assert honeypot["tabindex"] == "-1" and honeypot["autocomplete"] == "off"
    assert 'class="hp" aria-hidden="true"' in html

    response = submit(client, page, contact_email=EMAIL, contact_consent="on")
    assert response.status_code == 302
    assert response["Location"] == reverse("public:thanks", args=[page.pk])
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Merci, votre proposition a bien été reçue" in text(thanks)
    proposal = ResidentProposal.objects.get()
    assert (proposal.programme, proposal.idea, proposal.need) == (page, IDEA, NEED)
    assert proposal.state == ResidentProposal.State.PENDING
    assert proposal.contact_email == EMAIL and proposal.contact_consent
    assert proposal.contact_until > timezone.localdate()


def test_a_programme_without_its_page_answers_404(client, world):
    assert not world.programme.public_page
    for url in (
        propose_url(world.programme),
        reverse("public:thanks", args=[world.programme.pk]),
        reverse("public:propose", args=[999_999]),
        "/public/dispositifs/99999999999999999999/proposer/",
    ):
        assert client.get(url).status_code == 404, url
    assert submit(client, world.programme).status_code == 404
    assert not ResidentProposal.objects.exists()


def test_one_programme_s_proposals_never_appear_in_another_s_queue(client, world):
    mine, theirs = open_page(world.programme), open_page(world.other_programme)
    submit(client, mine, idea="Idée pour le premier dispositif")
    submit(client, theirs, idea="Idée pour le second dispositif")
    assert ResidentProposal.objects.filter(programme=mine).count() == 1

    client.force_login(world.coordinator)
    html = text(client.get(queue_url(mine)))
    assert "Idée pour le premier dispositif" in html
    assert "Idée pour le second dispositif" not in html
    # The outsider coordinates the other programme: its queue only, and A's is a 404.
    client.force_login(world.outsider)
    html = text(client.get(queue_url(theirs)))
    assert "Idée pour le second dispositif" in html
    assert "Idée pour le premier dispositif" not in html
    assert client.get(queue_url(mine)).status_code == 404
    proposal = ResidentProposal.objects.get(programme=mine)
    moderate = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, "publish"])
    assert client.post(moderate, {"seen_version": version(proposal)}).status_code == 404
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PENDING


# --- bots ----------------------------------------------------------------------------------


def test_a_thousand_submissions_from_one_address_stop_at_the_limit(client, page):
    statuses = [submit(client, page, idea=f"Idée n° {i}").status_code for i in range(1000)]
    assert statuses[: public.RATE_LIMIT] == [302] * public.RATE_LIMIT
    assert set(statuses[public.RATE_LIMIT :]) == {429}
    assert ResidentProposal.objects.count() == public.RATE_LIMIT
    refused = submit(client, page)
    assert "Trop de propositions envoyées depuis cette connexion" in text(refused)
    assert refused["Retry-After"] == str(public.RATE_WINDOW)
    # The limit is per address and per programme.
    assert submit(client, page, ip="198.51.100.20").status_code == 302
    other = open_page(Programme.objects.exclude(pk=page.pk).first())
    assert submit(client, other).status_code == 302


def test_the_limit_holds_in_the_production_cache(client, page):
    """The database's cache, shared by every process of the server (see config/settings.py)."""
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "coordo_cache_test",
        }
    }
    with override_settings(CACHES=shared):
        call_command("createcachetable", verbosity=0)
        statuses = [submit(client, page, idea=f"Idée n° {i}").status_code for i in range(20)]
    assert statuses == [302] * public.RATE_LIMIT + [429] * (20 - public.RATE_LIMIT)
    assert ResidentProposal.objects.count() == public.RATE_LIMIT


def test_refused_attempts_count_towards_the_limit(client, page):
    for _ in range(public.RATE_LIMIT):
        assert submit(client, page, **{public.HONEYPOT: "http://spam.example"}).status_code == 400
    assert submit(client, page).status_code == 429
    assert not ResidentProposal.objects.exists()


class _RecordingCache:
    """Django's cache as the page uses it, remembering the keys it was given."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def add(self, key, value, timeout=None):
        self.values.setdefault(key, value)

    def incr(self, key):
        self.values[key] += 1
        return self.values[key]

    def set(self, key, value, timeout=None):
        self.values[key] = value


def test_the_address_is_never_kept_in_clear(client, page, monkeypatch):
    recording = _RecordingCache()
    monkeypatch.setattr(public, "cache", recording)
    submit(client, page, ip="192.0.2.44")
    assert len(recording.values) == 1
    assert not any("192.0.2.44" in key for key in recording.values)
    assert "192.0.2.44" not in trail_text()


def test_a_filled_honeypot_is_refused_and_nothing_is_saved(client, page):
    events = AuditEvent.objects.count()
    response = submit(client, page, **{public.HONEYPOT: "http://spam.example"})
    assert response.status_code == 400
    assert "rien n'a été enregistré" in text(response)
    assert not ResidentProposal.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_form_sent_as_soon_as_displayed_is_refused(client, page):
    """The real check, with the token of the page itself."""
    html = text(client.get(propose_url(page)))
    token = html.split(f'name="{public.SHOWN}" value="', 1)[1].split('"', 1)[0]
    response = submit(client, page, **{public.SHOWN: token})
    assert response.status_code == 400
    assert "Formulaire envoyé trop vite" in text(response)
    assert not ResidentProposal.objects.exists()


def test_the_same_form_is_accepted_once_it_could_have_been_read(client, page, monkeypatch):
    html = text(client.get(propose_url(page)))
    token = html.split(f'name="{public.SHOWN}" value="', 1)[1].split('"', 1)[0]
    later = time.time() + public.MIN_SECONDS + 1
    monkeypatch.setattr(public.time, "time", lambda: later)
    assert submit(client, page, **{public.SHOWN: token}).status_code == 302
    assert ResidentProposal.objects.count() == 1


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("future", "Formulaire envoyé trop vite"),
        ("old", "plus d'un jour"),
        ("tampered", "n'a pas pu être vérifié"),
        ("forged", "n'a pas pu être vérifié"),
        ("other_programme", "n'a pas pu être vérifié"),
        ("missing", "n'a pas pu être vérifié"),
    ],
)
def test_a_form_of_unknown_age_is_refused(client, world, page, token, message):
    signed = read_for(page)
    value = {
        "future": public.display_token(page.pk, at=time.time() + 60),
        "old": read_for(page, seconds=public.MAX_SECONDS + 60),
        # the signature's end changed (one run in 65,536 it was « abc » already)
        "tampered": signed[:-3] + ("abc" if signed[-3:] != "abc" else "abd"),
        "forged": f'{{"p":{page.pk},"t":0}}',
        "other_programme": read_for(world.other_programme),
        "missing": "",
    }[token]
    response = submit(client, page, **{public.SHOWN: value})
    assert response.status_code == 400
    html = text(response)
    assert message in html and "Rien n'a été enregistré." in html
    assert not ResidentProposal.objects.exists()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("idea", "", "Écrivez votre idée en quelques mots."),
        ("idea", "   ", "Écrivez votre idée en quelques mots."),
        ("idea", "x" * 301, "au plus 300 caractères"),
        ("idea", "Une idée\x00", "Le caractère nul n’est pas autorisé."),
        ("need", "", "Décrivez le besoin que vous constatez."),
        ("need", "x" * 3001, "au plus 3000 caractères"),
        ("need", "\x00", "Le caractère nul n’est pas autorisé."),
        ("neighbourhood", "x" * 201, "au plus 200 caractères"),
        ("neighbourhood", "Hauts\x00Prés", "Le caractère nul n’est pas autorisé."),
        ("contact_email", "pas-un-courriel", "Saisissez une adresse électronique valide"),
        ("contact_email", "x" * 250 + "@example.org", "au plus 254 caractères"),
        ("contact_email", "a\x00@example.org", "Le caractère nul n’est pas autorisé."),
        ("contact_email", EMAIL, "Cochez cette case pour que nous gardions votre courriel"),
    ],
)
def test_bad_input_is_a_french_message_and_saves_nothing(client, page, field, value, message):
    events = AuditEvent.objects.count()
    data = {field: value}
    if field != "neighbourhood":
        data["neighbourhood"] = "Quartier gardé"
    response = submit(client, page, **data)
    assert response.status_code == 400
    html = text(response)
    assert message in html
    assert "Votre proposition n'a pas été envoyée" in html
    assert 'aria-invalid="true"' in html
    if field != "neighbourhood":
        assert "Quartier gardé" in html  # what was typed is kept
    assert not ResidentProposal.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_form_keeps_its_signed_time_after_an_error(client, page):
    token = read_for(page)
    html = text(submit(client, page, idea="", **{public.SHOWN: token}))
    assert f'name="{public.SHOWN}" value="{token}"' in html


# --- moderation ----------------------------------------------------------------------------


@pytest.fixture
def proposal(client, page) -> ResidentProposal:
    submit(
        client,
        page,
        need=NEED + " Mme Dupont pourrait l'animer : 06 12 34 56 78.",
        contact_email=EMAIL,
        contact_consent="on",
    )
    return ResidentProposal.objects.get()


def moderate(client, proposal: ResidentProposal, name: str, **data):
    url = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, name])
    data.setdefault("seen_version", version(proposal))
    return client.post(url, data, follow=True)


def test_the_queue_shows_what_to_check_and_the_contact_to_the_coordination(client, world, proposal):
    client.force_login(world.coordinator)
    response = client.get(queue_url(world.programme))
    assert response.status_code == 200
    html = text(response)
    assert IDEA in html
    assert "À vérifier avant publication" in html
    assert "un numéro de téléphone" in html and "le nom d'une personne" in html
    assert EMAIL in html
    assert "est une donnée personnelle" in html
    assert 'name="into"' in html and 'name="seen_version"' in html
    programme_page = text(client.get(reverse("coordo:programme", args=[world.programme.pk])))
    assert queue_url(world.programme) in programme_page
    assert "Propositions d'habitant·es (1 à modérer)" in programme_page


def test_a_large_programme_s_fiches_to_attach_to_are_searched(client, world, proposal, monkeypatch):
    from web import pages

    monkeypatch.setattr(pages, "FICHES_OFFERED", 2)
    for title in ("AAA atelier", "AAB atelier", "ZZZ maraude"):
        new_action(world, title=title)
    client.force_login(world.coordinator)
    html = text(client.get(queue_url(world.programme)))
    assert "AAA atelier" in html and "ZZZ maraude" not in html
    assert "Seules les 2 premières fiches" in html
    found = text(client.get(queue_url(world.programme), {"rattacher": "maraude"}))
    assert "ZZZ maraude" in found and "AAA atelier" not in found
    late = world.programme.actions.get(title="ZZZ maraude")
    moderate(client, proposal, "attach", into=late.pk)
    attached = ResidentProposal.objects.get(pk=proposal.pk)
    assert attached.state == "merged" and attached.action == late


def _queue_queries(client, programme: Programme) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(queue_url(programme)).status_code == 200
    return len(queries)


def test_the_queue_s_query_count_does_not_depend_on_its_length(client, world, page):
    for _ in range(3):
        new_action(world)  # fiches offered to attach to

    def propose(n: int) -> None:
        for i in range(n):
            services.submit_resident_proposal(
                programme=page,
                idea=f"Idée {i}",
                need="Mme Dupont, 06 12 34 56 78",
                contact_email=EMAIL,
                contact_consent=True,
            )

    propose(2)
    client.force_login(world.coordinator)
    few = _queue_queries(client, page)
    propose(40)
    handled = ResidentProposal.objects.filter(state="pending").first()
    services.transition(
        handled, "publish", actor=world.coordinator, seen=version(handled), comment="", ip=None
    )
    for _ in range(3):
        new_action(world)
    assert _queue_queries(client, page) == few


def test_anonymous_is_sent_to_the_login_page(client, world, proposal):
    for response in (
        client.get(queue_url(world.programme)),
        client.post(
            reverse("coordo:resident-proposal-moderate", args=[proposal.pk, "publish"]),
            {"seen_version": version(proposal)},
        ),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PENDING


@pytest.mark.parametrize(
    "role", ["copil", "cotech", "funder", "action_lead", "wg_member", "ars_referent"]
)
@pytest.mark.parametrize("name", ["publish", "attach", "decline"])
def test_only_the_coordination_moderates(client, world, proposal, role, name):
    client.force_login(world.users[role])
    assert client.get(queue_url(world.programme)).status_code == 403
    programme_page = client.get(reverse("coordo:programme", args=[world.programme.pk]))
    assert queue_url(world.programme) not in text(programme_page)
    actions, events = Action.objects.count(), AuditEvent.objects.count()
    url = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, name])
    data = {"seen_version": version(proposal), "comment": "Motif", "into": ""}
    assert client.post(url, data).status_code == 403
    # Even with a page of unknown age, the role is refused first.
    assert client.post(url, {"comment": "Motif"}).status_code == 403
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PENDING
    assert (Action.objects.count(), AuditEvent.objects.count()) == (actions, events)


@pytest.mark.parametrize("name", ["publish", "attach", "decline"])
def test_an_outsider_gets_404(client, world, proposal, name):
    client.force_login(world.outsider)
    assert client.get(queue_url(world.programme)).status_code == 404
    url = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, name])
    assert client.post(url, {"seen_version": version(proposal), "comment": "x"}).status_code == 404
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PENDING


def test_an_unknown_moderation_or_proposal_is_404(client, world, proposal):
    client.force_login(world.coordinator)
    bad = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, "delete"])
    assert client.post(bad).status_code == 404
    missing = reverse("coordo:resident-proposal-moderate", args=[999_999, "publish"])
    assert client.post(missing).status_code == 404
    url = reverse("coordo:resident-proposal-moderate", args=[proposal.pk, "publish"])
    assert client.get(url).status_code == 405


def test_publishing_creates_a_proposed_fiche_credited_to_residents(client, world, proposal):
    client.force_login(world.coordinator)
    response = moderate(client, proposal, "publish")
    assert "« Publier comme fiche proposée » : fait." in text(response)
    proposal = ResidentProposal.objects.get(pk=proposal.pk)
    assert proposal.state == ResidentProposal.State.PUBLISHED
    fiche = proposal.action
    assert fiche.state == ActionState.DRAFT
    assert fiche.origin == Origin.RESIDENT
    assert (fiche.title, fiche.context, fiche.territory) == (IDEA, proposal.need, "Les Hauts-Prés")
    trail = AuditEvent.objects.filter(programme_id=world.programme.pk)
    assert list(
        trail.filter(object_type="projects.residentproposal").values_list("event", flat=True)
    ) == ["resident_proposal", "publish"]
    assert trail.filter(action_id=fiche.pk, event="create").exists()
    fiche_page = text(client.get(reverse("coordo:action", args=[fiche.pk])))
    assert str(Origin.RESIDENT.label) in fiche_page
    assert "proposition d'habitant" in fiche_page.lower()
    queue = text(client.get(queue_url(world.programme)))
    assert reverse("coordo:action", args=[fiche.pk]) in queue


def test_attaching_keeps_the_text_in_the_fiche_s_history(client, world, proposal):
    target = new_action(world)
    client.force_login(world.coordinator)
    moderate(client, proposal, "attach", into=target.pk)
    proposal = ResidentProposal.objects.get(pk=proposal.pk)
    assert proposal.state == ResidentProposal.State.MERGED
    assert proposal.action == target
    merge_in = AuditEvent.objects.get(event="merge_in", action_id=target.pk)
    assert NEED in merge_in.comment
    fiche_page = text(client.get(reverse("coordo:action", args=[target.pk])))
    assert "Proposition fusionnée dans la fiche" in fiche_page
    assert IDEA in fiche_page


def test_attaching_needs_an_active_fiche_of_the_programme(client, world, proposal):
    elsewhere = services.create_action(
        programme=world.other_programme, actor=world.outsider, data={"title": "Ailleurs"}
    )
    abandoned = action_in(world, ActionState.ABANDONED)
    client.force_login(world.coordinator)
    for into in ("", "abc", str(elsewhere.pk), str(abandoned.pk), "9" * 30):
        response = moderate(client, proposal, "attach", into=into)
        assert "Choisissez une fiche active du dispositif." in text(response), into
        assert ResidentProposal.objects.get(pk=proposal.pk).state == "pending"


def test_declining_needs_a_public_reason(client, world, proposal):
    client.force_login(world.coordinator)
    response = moderate(client, proposal, "decline", comment="  ")
    assert "« Ne pas retenir » demande un motif ou un commentaire." in text(response)
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PENDING
    reason = "Une action semblable existe déjà au centre social des Hauts-Prés."
    moderate(client, proposal, "decline", comment=reason)
    proposal = ResidentProposal.objects.get(pk=proposal.pk)
    assert proposal.state == ResidentProposal.State.DECLINED
    assert proposal.public_reason == reason
    assert reason in text(client.get(queue_url(world.programme)))


@pytest.mark.parametrize("second", ["publish", "attach", "decline"])
def test_a_second_moderation_from_the_same_page_is_refused(client, world, proposal, second):
    target = new_action(world)
    page_version = version(proposal)
    client.force_login(world.coordinator)
    moderate(client, proposal, "publish", seen_version=page_version)
    actions, events = Action.objects.count(), AuditEvent.objects.count()
    client.force_login(world.coordinator2)
    response = moderate(
        client, proposal, second, seen_version=page_version, comment="Motif", into=target.pk
    )
    assert "Modifié depuis que vous avez ouvert la page" in text(response)
    assert ResidentProposal.objects.get(pk=proposal.pk).state == ResidentProposal.State.PUBLISHED
    assert (Action.objects.count(), AuditEvent.objects.count()) == (actions, events)


# --- retention -----------------------------------------------------------------------------


def test_the_contact_is_erased_after_its_retention_and_never_enters_the_trail(
    client, world, proposal
):
    client.force_login(world.coordinator)
    moderate(client, proposal, "publish")
    assert EMAIL not in trail_text()
    until = ResidentProposal.objects.get(pk=proposal.pk).contact_until
    assert until > timezone.localdate() + datetime.timedelta(days=330)  # 12 months
    assert services.erase_expired_contacts(today=until) == 0  # still within its period
    assert services.erase_expired_contacts(today=until + datetime.timedelta(days=1)) == 1
    proposal = ResidentProposal.objects.get(pk=proposal.pk)
    assert (proposal.contact_email, proposal.contact_consent, proposal.contact_until) == (
        "",
        False,
        None,
    )
    erased = AuditEvent.objects.get(event="erase_contacts")
    assert erased.changes == {"erased_contacts": [None, 1]}
    assert EMAIL not in trail_text()
    assert EMAIL not in text(client.get(queue_url(world.programme)))


def test_the_daily_command_erases_expired_contacts(client, world, page):
    submit(client, page, contact_email=EMAIL, contact_consent="on")
    submit(client, page, contact_email="autre@example.org", contact_consent="on")
    expired = ResidentProposal.objects.get(contact_email=EMAIL)
    # Its retention period has ended (as if a year had passed).
    ResidentProposal.objects.filter(pk=expired.pk).update(
        contact_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    out = StringIO()
    call_command("erase_resident_contacts", stdout=out)
    assert out.getvalue().strip() == "1 contact(s) d'habitant·es effacé(s)."
    assert ResidentProposal.objects.get(pk=expired.pk).contact_email == ""
    assert ResidentProposal.objects.filter(contact_email="autre@example.org").exists()
    assert EMAIL not in trail_text()
    out = StringIO()
    call_command("erase_resident_contacts", stdout=out)
    assert out.getvalue().startswith("0 ")
