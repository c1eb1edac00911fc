"""The diagnostic and the other schemes, as their users meet them: every member reads the
page, the coordination writes (403 for the other members, 404 outside the programme, for
every form); bad input is a French message with nothing saved; a double submit or a stale
page writes nothing twice; each change is one audit event with readable labels; the fiche
shows the needs it answers; the fiche list filters on a scheme; and the pages' query counts
stay flat whatever the number of findings, schemes and fiches."""

import datetime
from html import unescape

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Field
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import chain
from audit.labels import CHANGE_LABELS, Labels
from audit.models import AuditEvent
from diagnostic.models import Diagnostic, Finding, ProgrammeLink, Scheme, SchemeObjective
from projects.models import Action, ActionState, Role
from tests.factories import MembershipFactory
from tests.web.test_hostile_input import HOSTILE, forms_of
from tests.world import ROLE_USERS, new_action
from workflows.services import Refused
from workflows.services import diagnostic as services

MEMBERS = [u for u in ROLE_USERS if u != "outsider"]
KEEPERS = ("coordinator", "coordinator2")
READERS = [u for u in MEMBERS if u not in KEEPERS]


def _text(response) -> str:
    return unescape(response.content.decode()).replace("’", "'").replace("\xa0", " ")


def _finding_data(**extra) -> dict:
    return {
        "title": "Renoncement aux soins élevé en QPV",
        "theme": "access",
        "determinant": "care",
        "population": "Adultes des QPV",
        "territory": "QPV Les Hauts-Prés",
        "data": "26 % de renoncement aux soins",
        "source": "CPAM — Baromètre du renoncement",
        "year": 2023,
    } | extra


@pytest.fixture
def diag(world):
    """The world's programme with a diagnostic, one finding answered by a fiche, one scheme
    with an objective the fiche contributes to."""
    diagnostic = services.save_diagnostic(
        programme=world.programme,
        actor=world.coordinator,
        data={"date": datetime.date(2023, 6, 15), "authors": "ORS", "sources": "INSEE"},
    )
    fiche = new_action(world)
    finding = services.add_finding(
        programme=world.programme, actor=world.coordinator, data=_finding_data(), actions=[fiche]
    )
    scheme = services.add_scheme(
        programme=world.programme, actor=world.coordinator, kind="prs", name="PRS 2023-2028"
    )
    objective = services.add_scheme_objective(
        scheme=scheme, actor=world.coordinator, title="Objectif 3 — Réduire les inégalités"
    )
    services.set_fiche_links(
        action=fiche, actor=world.coordinator, findings=[finding], scheme_objectives=[objective]
    )
    return {
        "diagnostic": diagnostic,
        "fiche": fiche,
        "finding": finding,
        "scheme": scheme,
        "objective": objective,
    }


def _writes(world, diag) -> list[tuple[str, dict]]:
    """Every form of the diagnostic, with valid data (a new value each time)."""
    p = world.programme.pk
    finding, fiche = diag["finding"], diag["fiche"]
    return [
        (
            reverse("coordo:diagnostic-edit", args=[p]),
            {
                "date": "2024-01-10",
                "authors": "ORS et ville",
                "sources": "",
                "seen_version": chain.version(diag["diagnostic"]),
            },
        ),
        (
            reverse("coordo:finding-add", args=[p]),
            _finding_data(title="Isolement des personnes âgées", theme="ageing"),
        ),
        (
            reverse("coordo:finding-edit", args=[p, finding.pk]),
            _finding_data(title="Renoncement aux soins (révisé)")
            | {"actions": [fiche.pk], "seen_version": chain.version(finding)},
        ),
        (reverse("coordo:scheme-add", args=[p]), {"scheme-kind": "ptsm", "scheme-name": "PTSM"}),
        (
            reverse("coordo:scheme-edit", args=[p, diag["scheme"].pk]),
            {
                "kind": "prs",
                "name": "PRS Hauts-de-France 2023-2028",
                "seen_version": chain.version(diag["scheme"]),
            },
        ),
        (
            reverse("coordo:scheme-objective-add", args=[p, diag["scheme"].pk]),
            {"objective-title": "Objectif 5 — Premier recours"},
        ),
        (
            reverse("coordo:fiche-links", args=[fiche.pk]),
            {
                "findings": [finding.pk],
                "scheme_objectives": [],
                "seen_version": chain.version(fiche),
            },
        ),
    ]


# --- who may read and write ---------------------------------------------------------------------


@pytest.mark.parametrize("name", MEMBERS)
def test_every_member_reads_the_page(client, world, diag, name):
    client.force_login(getattr(world, name))
    response = client.get(reverse("coordo:diagnostic", args=[world.programme.pk]))
    assert response.status_code == 200
    text = _text(response)
    assert "Renoncement aux soins élevé en QPV" in text
    assert "PRS 2023-2028" in text
    assert ("Ajouter un constat" in text) == (name in KEEPERS)


def test_outside_the_programme_everything_is_a_404(client, world, diag):
    client.force_login(world.outsider)
    assert client.get(reverse("coordo:diagnostic", args=[world.programme.pk])).status_code == 404
    events = AuditEvent.objects.count()
    for url, data in _writes(world, diag):
        assert client.post(url, data).status_code == 404, url
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("name", READERS)
def test_members_who_do_not_set_up_the_programme_get_a_403(client, world, diag, name):
    client.force_login(getattr(world, name))
    events = AuditEvent.objects.count()
    for url, data in _writes(world, diag):
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("coordo:finding-add", args=[world.programme.pk])).status_code == 403
    assert AuditEvent.objects.count() == events
    assert Finding.objects.count() == 1 and Scheme.objects.count() == 1
    assert Scheme.objects.get().name == "PRS 2023-2028"


@pytest.mark.parametrize("name", KEEPERS)
def test_the_coordination_writes_each_form_with_one_audit_event(client, world, diag, name):
    client.force_login(getattr(world, name))
    for url, data in _writes(world, diag):
        last = AuditEvent.objects.order_by("-pk").first().pk
        response = client.post(url, data)
        assert response.status_code == 302, (url, _text(response)[:3000])
        new = list(AuditEvent.objects.filter(pk__gt=last))
        assert len(new) == 1, url
        assert new[0].actor == getattr(world, name)
    assert Diagnostic.objects.get().authors == "ORS et ville"
    assert set(Finding.objects.values_list("title", flat=True)) == {
        "Renoncement aux soins (révisé)",
        "Isolement des personnes âgées",
    }
    assert Scheme.objects.filter(name="PTSM").exists()
    assert Scheme.objects.filter(name="PRS Hauts-de-France 2023-2028").exists()
    assert SchemeObjective.objects.filter(title="Objectif 5 — Premier recours").exists()
    assert not diag["fiche"].scheme_objectives.exists()


def test_a_linked_programme_is_for_whoever_coordinates_both(client, world):
    """Linking a CLS to its CLSM: both must be programmes the coordinator sets up."""
    p, other = world.programme, world.other_programme
    with pytest.raises(Refused) as refused:
        services.link_programmes(programme=p, other=other, actor=world.coordinator)
    assert refused.value.rule == "role"
    client.force_login(world.coordinator)
    url = reverse("coordo:programme-link-add", args=[p.pk])
    response = client.post(url, {"link-other": other.pk}, follow=True)
    assert "Sélectionnez un choix valide" in _text(response)
    assert not ProgrammeLink.objects.exists()
    MembershipFactory(user=world.coordinator, programme=other, role=Role.COORDINATOR)
    assert client.post(url, {"link-other": other.pk}).status_code == 302
    link = ProgrammeLink.objects.get()
    assert {link.first_id, link.second_id} == {p.pk, other.pk}
    # Recorded in both chains.
    assert set(
        AuditEvent.objects.filter(object_type="diagnostic.programmelink").values_list(
            "programme_id", flat=True
        )
    ) == {p.pk, other.pk}
    # Twice (a double submit): still one link.
    client.post(url, {"link-other": other.pk})
    assert ProgrammeLink.objects.count() == 1
    with pytest.raises(Refused):
        services.link_programmes(programme=other, other=p, actor=world.coordinator)


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "", "authors": "ORS"}, "Ce champ est obligatoire."),
        ({"date": "31/02/2023", "authors": "ORS"}, "Saisissez une date valide."),
        ({"date": "1200-01-01", "authors": "ORS"}, "date"),
        ({"date": "2023-01-01", "authors": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_diagnostic_is_refused_in_french(client, world, data, message):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:diagnostic-edit", args=[world.programme.pk]), data | {"seen_version": 0}
    )
    assert response.status_code == 400
    assert message in _text(response)
    assert (
        not Diagnostic.objects.exists()
        and not AuditEvent.objects.filter(object_type="diagnostic.diagnostic").exists()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Ce champ est obligatoire."),
        ({"theme": "weather"}, "Sélectionnez un choix valide"),
        ({"determinant": ""}, "Ce champ est obligatoire."),
        ({"source": ""}, "Indiquez la source de la donnée."),
        ({"year": 3000}, "inférieure ou égale à 2100"),
        ({"title": "x" * 301}, "au plus 300 caractères"),
        ({"actions": ["999999"]}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_finding_is_refused_in_french(client, world, diag, data, message):
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    url = reverse("coordo:finding-add", args=[world.programme.pk])
    response = client.post(url, _finding_data(title="Un autre constat") | data)
    assert response.status_code == 400
    assert message in _text(response)
    assert Finding.objects.count() == 1 and AuditEvent.objects.count() == events


def test_a_finding_needs_the_diagnostic_first(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:finding-add", args=[world.programme.pk]), _finding_data()
    )
    assert response.status_code == 400
    assert "Enregistrez d'abord le diagnostic" in _text(response)
    assert not Finding.objects.exists()


def test_a_fiche_of_another_programme_never_answers_a_finding(world, diag):
    foreign = new_action_elsewhere(world)
    with pytest.raises(Refused) as refused:
        services.update_finding(
            finding=diag["finding"], actor=world.coordinator, data={}, actions=[foreign]
        )
    assert refused.value.rule == "invalid"
    assert "Choisissez parmi les éléments de ce dispositif." in refused.value.message
    assert list(diag["finding"].actions.all()) == [diag["fiche"]]


def new_action_elsewhere(world):
    from workflows import services as all_services

    return all_services.create_action(
        programme=world.other_programme,
        actor=world.outsider,
        data={"title": "Fiche d'ailleurs"},
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scheme-kind": "", "scheme-name": "PTSM"}, "Nature : Ce champ est obligatoire."),
        ({"scheme-kind": "zzz", "scheme-name": "PTSM"}, "Sélectionnez un choix valide"),
        ({"scheme-kind": "ptsm", "scheme-name": ""}, "Nom de la démarche : Ce champ"),
        (
            {"scheme-kind": "prs", "scheme-name": "prs 2023-2028"},
            "Le dispositif suit déjà une démarche de ce nom.",
        ),
    ],
)
def test_bad_scheme_is_refused_in_french(client, world, diag, data, message):
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("coordo:scheme-add", args=[world.programme.pk]), data, follow=True
    )
    assert message in _text(response)
    assert Scheme.objects.count() == 1 and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Ce champ est obligatoire."),
        ("x" * 301, "au plus 300 caractères"),
        ("objectif 3 — réduire les inégalités", "La démarche compte déjà un objectif"),
    ],
)
def test_bad_scheme_objective_is_refused_in_french(client, world, diag, title, message):
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    url = reverse("coordo:scheme-objective-add", args=[world.programme.pk, diag["scheme"].pk])
    response = client.post(url, {"objective-title": title}, follow=True)
    assert message in _text(response)
    assert SchemeObjective.objects.count() == 1 and AuditEvent.objects.count() == events


def test_bad_fiche_links_are_refused_in_french(client, world, diag):
    client.force_login(world.coordinator)
    fiche = diag["fiche"]
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("coordo:fiche-links", args=[fiche.pk]),
        {"findings": ["abc"], "seen_version": chain.version(fiche)},
        follow=True,
    )
    assert "Répond aux besoins du diagnostic" in _text(response)
    assert "n'est pas une valeur correcte" in _text(response)
    assert AuditEvent.objects.count() == events
    assert list(fiche.findings.all()) == [diag["finding"]]


# --- double submits and stale pages ---------------------------------------------------------------


def test_a_double_submitted_finding_is_saved_once(client, world, diag):
    client.force_login(world.coordinator)
    url = reverse("coordo:finding-add", args=[world.programme.pk])
    data = _finding_data(title="Isolement des personnes âgées")
    assert client.post(url, data).status_code == 302
    second = client.post(url, data)
    assert second.status_code == 400
    assert "Le diagnostic compte déjà un constat de cet intitulé." in _text(second)
    assert Finding.objects.filter(title="Isolement des personnes âgées").count() == 1


def test_the_diagnostic_form_shows_its_date(client, world, diag):
    client.force_login(world.coordinator)
    text = _text(client.get(reverse("coordo:diagnostic-edit", args=[world.programme.pk])))
    assert 'value="2023-06-15"' in text


def test_a_double_submitted_diagnostic_is_created_once(client, world):
    client.force_login(world.coordinator)
    url = reverse("coordo:diagnostic-edit", args=[world.programme.pk])
    data = {"date": "2023-06-15", "authors": "ORS", "seen_version": 0}
    assert client.post(url, data).status_code == 302
    second = client.post(url, data | {"authors": "ORS (bis)"})
    assert second.status_code == 400
    assert "Modifié depuis que vous avez ouvert la page" in _text(second)
    assert Diagnostic.objects.get().authors == "ORS"
    assert AuditEvent.objects.filter(object_type="diagnostic.diagnostic").count() == 1


def test_a_stale_finding_page_saves_nothing(client, world, diag):
    client.force_login(world.coordinator)
    finding = diag["finding"]
    seen = chain.version(finding)
    services.update_finding(
        finding=finding, actor=world.coordinator2, data={"population": "Adultes et enfants"}
    )
    url = reverse("coordo:finding-edit", args=[world.programme.pk, finding.pk])
    response = client.post(url, _finding_data(title="Autre titre") | {"seen_version": seen})
    assert response.status_code == 400
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    assert Finding.objects.get(pk=finding.pk).title == "Renoncement aux soins élevé en QPV"


def test_fiche_links_double_submit_writes_once(client, world, diag):
    client.force_login(world.coordinator)
    fiche = diag["fiche"]
    url = reverse("coordo:fiche-links", args=[fiche.pk])
    data = {"findings": [], "scheme_objectives": [], "seen_version": chain.version(fiche)}
    client.post(url, data)
    events = AuditEvent.objects.count()
    response = client.post(url, data, follow=True)
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    assert AuditEvent.objects.count() == events
    assert not fiche.findings.exists() and not fiche.scheme_objectives.exists()


def test_a_double_submitted_scheme_is_added_once(client, world, diag):
    client.force_login(world.coordinator)
    url = reverse("coordo:scheme-add", args=[world.programme.pk])
    data = {"scheme-kind": "asv", "scheme-name": "ASV de la ville"}
    client.post(url, data)
    response = client.post(url, data, follow=True)
    assert "Le dispositif suit déjà une démarche de ce nom." in _text(response)
    assert Scheme.objects.filter(name="ASV de la ville").count() == 1


# --- the trail ------------------------------------------------------------------------------------


def test_each_change_is_audited_with_readable_labels(world, diag):
    finding_event = AuditEvent.objects.get(
        object_type="diagnostic.finding", event="create_structure"
    )
    assert finding_event.changes["actions"] == [None, diag["fiche"].title]
    assert finding_event.changes["theme"] == [None, "access"]
    fiche_event = AuditEvent.objects.filter(action_id=diag["fiche"].pk).order_by("-pk").first()
    assert fiche_event.event == "update"
    labels = Labels("fr")
    text = labels.changes_text(fiche_event.object_type, fiche_event.changes)
    assert "contribue aux autres démarches : ∅ → PRS 2023-2028 — Objectif 3" in text
    text = labels.changes_text(finding_event.object_type, finding_event.changes)
    assert "thème : ∅ → Accès aux droits et aux soins" in text
    assert "fiches actions : ∅ → " in text
    for event in AuditEvent.objects.filter(object_type__startswith="diagnostic."):
        assert labels.event_label(event.object_type, event.event) in (
            "Ajout au dispositif",
            "Modification du dispositif",
        )
    # Every change key reads in words (a field of the object, or a label of the trail).
    for event in AuditEvent.objects.all():
        model = apps.get_model(event.object_type)
        for key in event.changes:
            assert key in CHANGE_LABELS or isinstance(model._meta.get_field(key), Field), key
    assert chain.verify_chain(programme_id=world.programme.pk).ok


# --- the fiche, the list ------------------------------------------------------------------------


def test_the_fiche_page_shows_the_needs_it_answers(client, world, diag):
    client.force_login(world.copil)
    response = client.get(reverse("coordo:action", args=[diag["fiche"].pk]))
    text = _text(response)
    assert "Répond aux besoins" in text and "Renoncement aux soins élevé en QPV" in text
    assert f"#constat-{diag['finding'].pk}" in text
    assert "PRS 2023-2028 — Objectif 3 — Réduire les inégalités" in text
    assert "Choisir les besoins et les démarches" not in text  # COPIL reads only
    client.force_login(world.coordinator)
    assert "Choisir les besoins et les démarches" in _text(
        client.get(reverse("coordo:action", args=[diag["fiche"].pk]))
    )


def test_the_fiche_list_filters_on_a_scheme(client, world, diag):
    other = new_action(world)
    client.force_login(world.copil)
    page = reverse("coordo:programme", args=[world.programme.pk])
    text = _text(client.get(page, {"demarche": diag["scheme"].pk}))
    assert diag["fiche"].title in text and f'href="/coordo/actions/{other.pk}/"' not in text
    assert f'href="/coordo/actions/{other.pk}/"' in _text(client.get(page))
    assert client.get(page, {"demarche": "abc"}).status_code == 400


# --- query counts ------------------------------------------------------------------------------


def _coordinate_both(world) -> None:
    MembershipFactory(
        user=world.coordinator, programme=world.other_programme, role=Role.COORDINATOR
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more(world, diag, n: int) -> None:
    start = Finding.objects.count()
    for i in range(n):
        fiche = new_action(world)
        finding = services.add_finding(
            programme=world.programme,
            actor=world.coordinator,
            data=_finding_data(title=f"Constat {start + i}"),
            axes=[world.objective.axis],
            objectives=[world.objective],
            actions=[fiche],
        )
        scheme = services.add_scheme(
            programme=world.programme, actor=world.coordinator, kind="asv", name=f"ASV {start + i}"
        )
        objective = services.add_scheme_objective(
            scheme=scheme, actor=world.coordinator, title="Objectif"
        )
        services.set_fiche_links(
            action=fiche,
            actor=world.coordinator,
            findings=[finding, diag["finding"]],
            scheme_objectives=[objective, diag["objective"]],
        )


@pytest.mark.parametrize("name", ["coordinator", "copil"])
def test_query_counts_stay_flat_in_rows(client, world, diag, name, settings):
    settings.PAGE_CACHE_SECONDS = 0  # each visit renders: the rendering's queries are counted
    _coordinate_both(world)
    services.link_programmes(
        programme=world.programme, other=world.other_programme, actor=world.coordinator
    )
    client.force_login(getattr(world, name))
    p = world.programme.pk
    urls = [
        reverse("coordo:diagnostic", args=[p]),
        reverse("coordo:action", args=[diag["fiche"].pk]),
        reverse("coordo:programme", args=[p]),
        reverse("coordo:dashboard", args=[p]),
        reverse("coordo:annual-report", args=[p, 2026]),
    ]
    _more(world, diag, 2)
    for url in urls:  # the session's first page reads more (the login's leftovers)
        client.get(url)
    few = [_queries(client, url) for url in urls]
    _more(world, diag, 5)
    assert [_queries(client, url) for url in urls] == few


def test_no_hostile_value_in_the_diagnostics_forms_makes_a_server_error(client, world, diag):
    _coordinate_both(world)
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    p = world.programme.pk
    tried, errors = 0, []
    for page in (
        reverse("coordo:diagnostic", args=[p]),
        reverse("coordo:diagnostic-edit", args=[p]),
        reverse("coordo:finding-add", args=[p]),
        reverse("coordo:finding-edit", args=[p, diag["finding"].pk]),
        reverse("coordo:action", args=[diag["fiche"].pk]),
    ):
        for form in forms_of(client, page):
            if "/diagnostic/" not in form["action"] and "besoins" not in form["action"]:
                continue
            for name in form["fields"]:
                if name == "csrfmiddlewaretoken":
                    continue
                for value in HOSTILE:
                    response = client.post(form["action"], {**form["fields"], name: value})
                    tried += 1
                    if response.status_code >= 500:
                        errors.append((form["action"], name, value[:30]))
    assert tried > 300
    assert errors == []


# --- removing ---------------------------------------------------------------------------------


def _removals(world, diag) -> list[tuple[str, dict]]:
    p = world.programme.pk
    link = ProgrammeLink.objects.get()
    return [
        (
            reverse("coordo:diagnostic-remove", args=[p, "objectif", diag["objective"].pk]),
            {"seen_version": chain.version(diag["objective"])},
        ),
        (
            reverse("coordo:diagnostic-remove", args=[p, "demarche", diag["scheme"].pk]),
            {"seen_version": chain.version(diag["scheme"])},
        ),
        (
            reverse("coordo:diagnostic-remove", args=[p, "constat", diag["finding"].pk]),
            {"seen_version": chain.version(diag["finding"])},
        ),
        (
            reverse("coordo:diagnostic-remove", args=[p, "lien", world.other_programme.pk]),
            {"seen_version": chain.version(link)},
        ),
    ]


@pytest.fixture
def linked_diag(world, diag):
    _coordinate_both(world)
    services.link_programmes(
        programme=world.programme, other=world.other_programme, actor=world.coordinator
    )
    return diag


@pytest.mark.parametrize("name", [*READERS, "outsider"])
def test_only_the_coordination_removes(client, world, linked_diag, name):
    client.force_login(getattr(world, name))
    events = AuditEvent.objects.count()
    for url, data in _removals(world, linked_diag):
        assert client.post(url, data).status_code == (404 if name == "outsider" else 403)
    assert AuditEvent.objects.count() == events
    assert Finding.objects.count() == SchemeObjective.objects.count() == 1
    assert ProgrammeLink.objects.count() == 1


def test_the_coordination_removes_with_one_event_each_and_only_once(client, world, linked_diag):
    client.force_login(world.coordinator)
    fiche = linked_diag["fiche"]
    for url, data in _removals(world, linked_diag):
        events = AuditEvent.objects.count()
        assert client.post(url, data).status_code == 302
        added = AuditEvent.objects.count() - events
        assert added == (2 if "/lien/" in url else 1), url  # a link: in both chains
        again = client.post(url, data, follow=True)  # a double submit
        assert "Déjà retiré : rien n'a été modifié." in _text(again)
        assert AuditEvent.objects.count() == events + added
    assert not Finding.objects.exists() and not Scheme.objects.exists()
    assert not SchemeObjective.objects.exists() and not ProgrammeLink.objects.exists()
    assert not fiche.findings.exists() and not fiche.scheme_objectives.exists()
    removed = AuditEvent.objects.get(object_type="diagnostic.finding", event="remove_structure")
    assert removed.changes["title"] == ["Renoncement aux soins élevé en QPV", None]
    assert removed.changes["actions"] == [fiche.title, None]
    assert Labels("fr").event_label(removed.object_type, removed.event) == (
        "Retrait du diagnostic ou des autres démarches"
    )
    assert chain.verify_chain(programme_id=world.programme.pk).ok


def test_a_stale_page_removes_nothing(client, world, diag):
    client.force_login(world.coordinator)
    finding = diag["finding"]
    seen = chain.version(finding)
    services.update_finding(
        finding=finding, actor=world.coordinator2, data={"population": "Adultes et enfants"}
    )
    url = reverse("coordo:diagnostic-remove", args=[world.programme.pk, "constat", finding.pk])
    response = client.post(url, {"seen_version": seen}, follow=True)
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    assert Finding.objects.filter(pk=finding.pk).exists()
    other = reverse("coordo:diagnostic-remove", args=[world.programme.pk, "rien", finding.pk])
    assert client.post(other, {"seen_version": seen}).status_code == 404


def test_a_scheme_renamed_on_a_stale_page_or_to_a_taken_name_is_refused(client, world, diag):
    client.force_login(world.coordinator)
    scheme = diag["scheme"]
    services.add_scheme(
        programme=world.programme, actor=world.coordinator, kind="asv", name="ASV de la ville"
    )
    url = reverse("coordo:scheme-edit", args=[world.programme.pk, scheme.pk])
    seen = chain.version(scheme)
    taken = client.post(url, {"kind": "prs", "name": "asv de la ville", "seen_version": seen})
    assert taken.status_code == 400
    assert "Le dispositif suit déjà une démarche de ce nom." in _text(taken)
    services.update_scheme(
        scheme=scheme, actor=world.coordinator2, kind="prs", name="PRS 2023-2028 (révisé)"
    )
    stale = client.post(url, {"kind": "prs", "name": "PRS", "seen_version": seen})
    assert stale.status_code == 400
    assert "Modifié depuis que vous avez ouvert la page" in _text(stale)
    assert Scheme.objects.get(pk=scheme.pk).name == "PRS 2023-2028 (révisé)"
    assert list(scheme.objectives.all()) == [diag["objective"]]


def test_a_finding_is_carried_by_the_objectives_of_other_schemes(client, world, diag):
    finding, objective = diag["finding"], diag["objective"]
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:finding-edit", args=[world.programme.pk, finding.pk]),
        _finding_data()
        | {
            "actions": [diag["fiche"].pk],
            "scheme_objectives": [objective.pk],
            "seen_version": chain.version(finding),
        },
    )
    assert response.status_code == 302
    assert list(finding.scheme_objectives.all()) == [objective]
    event = AuditEvent.objects.filter(event="update_structure", object_id=str(finding.pk)).last()
    assert event.changes["scheme_objectives"] == [None, str(objective)]
    page = _text(client.get(reverse("coordo:diagnostic", args=[world.programme.pk])))
    assert "PRS 2023-2028 — Objectif 3 — Réduire les inégalités" in page

    # An objective of another programme's scheme is refused, and nothing changes.
    elsewhere = services.add_scheme_objective(
        scheme=services.add_scheme(
            programme=world.other_programme,
            actor=world.other_programme.memberships.filter(role=Role.COORDINATOR).first().user,
            kind="ptsm",
            name="PTSM d'ailleurs",
        ),
        actor=world.other_programme.memberships.filter(role=Role.COORDINATOR).first().user,
        title="Axe 1",
    )
    with pytest.raises(Refused):
        services.update_finding(
            finding=finding, actor=world.coordinator, data={}, scheme_objectives=[elsewhere]
        )
    assert list(finding.scheme_objectives.all()) == [objective]


def test_links_made_from_either_side_are_in_both_histories_and_never_lost(client, world, diag):
    """A fiche linked from its page while the finding's page was open: the finding's page is
    stale (its save would have dropped the link), and each side's history says what changed."""
    finding, fiche = diag["finding"], diag["fiche"]
    other = new_action(world, title="Atelier mémoire")
    client.force_login(world.coordinator)
    opened = chain.version(finding)
    services.set_fiche_links(
        action=other, actor=world.coordinator, findings=[finding], scheme_objectives=[]
    )
    echoed = AuditEvent.objects.filter(event="update_structure", object_id=str(finding.pk)).last()
    assert echoed.changes["actions"][1].count(";") == 1  # both fiches now answer it
    response = client.post(
        reverse("coordo:finding-edit", args=[world.programme.pk, finding.pk]),
        _finding_data(title="Renoncement (révisé)")
        | {"actions": [fiche.pk], "seen_version": opened},
    )
    assert response.status_code == 409 or "depuis que vous avez ouvert" in _text(response)
    assert set(finding.actions.all()) == {fiche, other}

    # Linked from the finding's side: the fiche's history says so.
    third = new_action(world, title="Forum santé jeunes")
    services.update_finding(
        finding=finding, actor=world.coordinator, data={}, actions=[fiche, other, third]
    )
    event = AuditEvent.objects.filter(event="update", object_id=str(third.pk)).last()
    assert event.changes["findings"] == [None, finding.title]
    # Data only: every link stays.
    services.update_finding(finding=finding, actor=world.coordinator, data={"year": 2024})
    assert set(finding.actions.all()) == {fiche, other, third}
    assert list(finding.scheme_objectives.all()) == []


def test_an_abandoned_fiche_keeps_its_link_when_the_finding_is_edited(client, world, diag):
    finding, fiche = diag["finding"], diag["fiche"]
    Action.objects.filter(pk=fiche.pk).update(state=ActionState.ABANDONED)
    client.force_login(world.coordinator)
    response = client.post(
        reverse("coordo:finding-edit", args=[world.programme.pk, finding.pk]),
        _finding_data(title="Renoncement (révisé)") | {"seen_version": chain.version(finding)},
    )
    assert response.status_code == 302
    assert list(finding.actions.all()) == [fiche]  # not offered, not dropped


def test_only_who_sets_up_both_programmes_sees_the_unlink_button(client, world, linked_diag):
    link = ProgrammeLink.objects.get()
    other_id = link.second_id if link.first_id == world.programme.pk else link.first_id
    page = reverse("coordo:diagnostic", args=[world.programme.pk])
    client.force_login(world.coordinator)
    assert "Délier les deux dispositifs" in _text(client.get(page))
    # A coordinator of this programme only (not of the linked one).
    alone = MembershipFactory(programme=world.programme, role=Role.COORDINATOR).user
    client.force_login(alone)
    assert "Délier les deux dispositifs" not in _text(client.get(page))
    response = client.post(
        reverse("coordo:diagnostic-remove", args=[world.programme.pk, "lien", other_id]),
        {"seen_version": chain.version(link)},
    )
    assert response.status_code == 403
    assert ProgrammeLink.objects.filter(pk=link.pk).exists()
