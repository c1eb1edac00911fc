"""The territory's places: the coordination keeps them (audited), each fiche picks its own
among them (in its audit event), the fiche list filters by place, the fiche page shows its
territory, the reports count the effort toward reducing social inequalities of health, and
the migration turned the programmes' typed territory into places."""

import importlib
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent
from projects.models import Action, Place, Programme
from reporting.territory import annual_territory, current_territory
from tests.world import build_world, new_action
from workflows import services
from workflows.services.actions import place_names


def _places(world):
    add = lambda kind, name: services.add_place(  # noqa: E731
        programme=world.programme, actor=world.coordinator, kind=kind, name=name
    )
    return {
        "epci": add("epci", "Val-de-Lys Agglomération"),
        "lys": add("commune", "Lys-sur-Marque"),
        "hauts": add("qpv", "Les Hauts-Prés"),
        "gare": add("qpv", "Centre-Gare"),
    }


def test_the_coordination_keeps_the_places_audited(world):
    places = _places(world)
    event = AuditEvent.objects.get(object_type="projects.place", object_id=str(places["gare"].pk))
    assert event.event == "create_structure" and event.changes["name"] == [None, "Centre-Gare"]
    with pytest.raises(services.Refused) as refused:  # a double submit, whatever the case
        services.add_place(
            programme=world.programme, actor=world.coordinator, kind="qpv", name="centre-gare"
        )
    assert "déjà" in refused.value.message
    for role in ("copil", "wg_member", "ars_referent", "outsider"):
        with pytest.raises(services.Refused) as refused:
            services.add_place(
                programme=world.programme, actor=getattr(world, role), kind="qpv", name="Autre"
            )
        assert refused.value.rule == "role"
    assert world.programme.places.count() == 4


def test_a_place_a_fiche_targets_is_not_removed(world):
    places = _places(world)
    services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": "Médiation santé"},
        places=[places["hauts"]],
    )
    with pytest.raises(services.Refused) as refused:
        services.remove_place(place=places["hauts"], actor=world.coordinator)
    assert "Médiation santé" in refused.value.message
    services.remove_place(place=places["lys"], actor=world.coordinator)
    assert not Place.objects.filter(pk=places["lys"].pk).exists()
    assert AuditEvent.objects.filter(event="remove_place").count() == 1


def test_the_fiche_territory_is_in_its_audit_events(world):
    places = _places(world)
    action = services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": "Permanences santé", "vulnerable_public": True},
        places=[places["gare"], places["lys"]],
    )
    created = AuditEvent.objects.get(action_id=action.pk, event="create")
    assert created.changes["places"] == [None, "Lys-sur-Marque, Centre-Gare (QPV)"]
    assert created.changes["vulnerable_public"] == [None, True]
    services.update_action(
        action=action, actor=world.coordinator, data={}, places=[places["hauts"]]
    )
    updated = AuditEvent.objects.filter(action_id=action.pk, event="update").get()
    assert updated.changes == {
        "places": ["Lys-sur-Marque, Centre-Gare (QPV)", "Les Hauts-Prés (QPV)"]
    }
    services.update_action(action=action, actor=world.coordinator, data={}, places=[])
    last = AuditEvent.objects.filter(action_id=action.pk, event="update").latest("pk")
    assert last.changes["places"][1] == "Tout le territoire du dispositif"
    assert list(Action.objects.get(pk=action.pk).places.all()) == []


def test_places_of_another_programme_are_refused(world):
    other = build_world("o-")
    foreign = services.add_place(
        programme=other.programme, actor=other.coordinator, kind="qpv", name="Ailleurs"
    )
    with pytest.raises(services.Refused) as refused:
        services.create_action(
            programme=world.programme,
            actor=world.coordinator,
            data={"title": "Fiche"},
            places=[foreign],
        )
    assert "places" in refused.value.errors
    assert not world.programme.actions.exists()


def test_the_fiche_form_picks_places_and_the_page_shows_them(client, world):
    places = _places(world)
    client.force_login(world.coordinator)
    create = reverse("coordo:action-create", args=[world.programme.pk])
    form = client.get(create).content.decode()
    assert "Les Hauts-Prés (QPV)" in form and "tout le territoire" in form
    response = client.post(
        create,
        {
            "title": "Bus dentaire",
            "participation_level": "consultation",
            "own_funds": "0",
            "places": [places["hauts"].pk],
        },
    )
    assert response.status_code == 302
    action = Action.objects.get(title="Bus dentaire")
    assert list(action.places.all()) == [places["hauts"]]
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Les Hauts-Prés (QPV)" in page
    assert "Réduction des inégalités sociales de santé" in page
    assert "cible un quartier prioritaire" in page
    # Edited: another QPV, the public facing inequality.
    edit = reverse("coordo:action-edit", args=[action.pk])
    from audit import chain

    response = client.post(
        edit,
        {
            "title": "Bus dentaire",
            "participation_level": "consultation",
            "own_funds": "0",
            "vulnerable_public": "on",
            "places": [places["gare"].pk],
            "seen_version": chain.version(action),
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action_id=action.pk, event="update").get()
    assert event.changes["places"] == ["Les Hauts-Prés (QPV)", "Centre-Gare (QPV)"]
    assert event.changes["vulnerable_public"] == [False, True]
    bad = client.post(
        edit,
        {
            "title": "Bus dentaire",
            "participation_level": "consultation",
            "own_funds": "0",
            "places": ["999999"],
            "seen_version": chain.version(action),
        },
    )
    assert bad.status_code == 400 and "choix valide" in bad.content.decode()
    assert list(Action.objects.get(pk=action.pk).places.all()) == [places["gare"]]


def test_a_fiche_without_places_covers_the_whole_territory(client, world):
    action = new_action(world)
    client.force_login(world.copil)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Tout le territoire du dispositif" in page
    assert "Réduction des inégalités sociales de santé</span>" not in page


def test_the_list_filters_by_place_and_by_inequalities(client, world):
    places = _places(world)
    targeted = services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": "Dans le QPV"},
        places=[places["gare"]],
    )
    vulnerable = services.create_action(
        programme=world.programme,
        actor=world.coordinator,
        data={"title": "Public vulnérable", "vulnerable_public": True},
    )
    services.create_action(
        programme=world.programme, actor=world.coordinator, data={"title": "Partout"}
    )
    client.force_login(world.copil)
    url = reverse("coordo:programme", args=[world.programme.pk])
    page = client.get(url, {"lieu": places["gare"].pk}).context["page"]
    assert [a.pk for a in page] == [targeted.pk]
    page = client.get(url, {"inegalites": "1"}).context["page"]
    assert {a.pk for a in page} == {targeted.pk, vulnerable.pk}
    assert client.get(url, {"lieu": "abc"}).status_code == 400
    body = client.get(url).content.decode()
    assert 'name="lieu"' in body and "Centre-Gare (QPV)" in body
    assert "Lys-sur-Marque" in body  # the programme's territory, by kind


def test_the_places_page_reads_for_members_writes_for_the_coordination(client, world):
    _places(world)
    url = reverse("coordo:places", args=[world.programme.pk])
    client.force_login(world.copil)
    page = client.get(url)
    assert page.status_code == 200 and "Centre-Gare" in page.content.decode()
    assert page.context["form"] is None
    assert client.post(url, {"kind": "qpv", "name": "Nouveau"}).status_code == 403
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
    client.force_login(world.coordinator)
    bad = client.post(url, {"kind": "quartier", "name": ""})
    assert bad.status_code == 400 and "obligatoire" in bad.content.decode()
    assert client.post(url, {"kind": "qpv", "name": "Bois-Joli"}).status_code == 302
    assert client.post(url, {"kind": "qpv", "name": "bois-joli"}).status_code == 400
    assert world.programme.places.filter(kind="qpv").count() == 3


def test_removing_a_place_from_the_page(client, world):
    places = _places(world)
    other = build_world("o-")
    foreign = services.add_place(
        programme=other.programme, actor=other.coordinator, kind="qpv", name="Ailleurs"
    )
    url = lambda place: reverse(  # noqa: E731
        "coordo:place-remove", args=[world.programme.pk, place.pk]
    )
    client.force_login(world.copil)
    assert client.post(url(places["gare"])).status_code == 403
    client.force_login(world.coordinator)
    assert client.post(url(foreign)).status_code == 404
    assert Place.objects.filter(pk__in=[places["gare"].pk, foreign.pk]).count() == 2
    assert not AuditEvent.objects.filter(event="remove_place").exists()
    assert client.post(url(places["gare"])).status_code == 302
    assert not Place.objects.filter(pk=places["gare"].pk).exists()


def test_places_read_in_one_order_everywhere(client, world):
    """EPCI, communes, QPV, then by name whatever the case — in SQL and in Python alike."""
    add = lambda kind, name: services.add_place(  # noqa: E731
        programme=world.programme, actor=world.coordinator, kind=kind, name=name
    )
    for kind, name in [("qpv", "zénith"), ("qpv", "Arbres"), ("commune", "bois-Joli")]:
        add(kind, name)
    _places(world)
    expected = [
        "Val-de-Lys Agglomération (EPCI)",
        "bois-Joli",
        "Lys-sur-Marque",
        "Arbres (QPV)",
        "Centre-Gare (QPV)",
        "Les Hauts-Prés (QPV)",
        "zénith (QPV)",
    ]
    assert [str(p) for p in world.programme.places.all()] == expected
    assert [str(p) for p in Place.objects.in_reading_order()] == expected
    shuffled = sorted(Place.objects.all(), key=lambda p: p.pk, reverse=True)
    assert [str(p) for p in sorted(shuffled, key=Place.reading_key)] == expected
    assert place_names(shuffled) == ", ".join(expected)
    client.force_login(world.coordinator)
    form = client.get(reverse("coordo:action-create", args=[world.programme.pk]))
    choices = [str(p) for p in form.context["form"].fields["places"].queryset]
    assert choices == expected


def test_the_reports_count_the_effort_toward_reducing_inequalities(client, world):
    places = _places(world)
    year = timezone.localdate().year

    def fiche(title, places=(), vulnerable=False, planned=Decimal("1000")):
        action = services.create_action(
            programme=world.programme,
            actor=world.coordinator,
            data={"title": title, "vulnerable_public": vulnerable},
            places=list(places),
        )
        services.add_budget_line(
            action=action, actor=world.coordinator, year=year, category="staff", planned=planned
        )
        return action

    fiche("Deux QPV", [places["hauts"], places["gare"]], planned=Decimal("3000"))
    fiche("Un QPV et une commune", [places["gare"], places["lys"]], planned=Decimal("2000"))
    fiche("Public vulnérable", vulnerable=True, planned=Decimal("500"))
    fiche("Une commune", [places["lys"]], planned=Decimal("4000"))
    fiche("Partout", planned=Decimal("500"))
    part = annual_territory(programme=world.programme, year=year)
    assert (part.fiches, part.reducing, part.targeting_qpv, part.vulnerable_public) == (5, 3, 2, 1)
    assert part.whole_territory == 2
    assert part.planned == Decimal("10000") and part.reducing_planned == Decimal("5500")
    assert part.reducing_share == 60 and part.reducing_planned_share == 55
    assert [(r.name, r.fiches, r.planned) for r in part.by_qpv] == [
        ("Centre-Gare", 2, Decimal("5000")),
        ("Les Hauts-Prés", 1, Decimal("3000")),
    ]
    assert annual_territory(programme=world.programme, year=year - 1).planned == 0
    assert current_territory(programme=world.programme).reducing == 3
    client.force_login(world.ars_referent)
    report = client.get(reverse("coordo:annual-report", args=[world.programme.pk, year]))
    body = report.content.decode()
    assert "Réduction des inégalités sociales de santé" in body
    assert "3 (60 %)" in body and "Centre-Gare" in body
    dashboard = client.get(reverse("coordo:dashboard", args=[world.programme.pk])).content.decode()
    assert "3 (60 %)" in dashboard and "Fiches par quartier prioritaire" in dashboard
    xlsx = client.get(reverse("coordo:annual-report-xlsx", args=[world.programme.pk, year]))
    workbook = load_workbook(BytesIO(b"".join(xlsx.streaming_content)))
    rows = list(workbook["Inégalités sociales de santé"].values)
    assert ("dont réduction des inégalités sociales de santé", 3, 5500) in rows
    assert ("QPV : Centre-Gare", 2, 5000) in rows


def test_report_and_dashboard_queries_stay_flat_with_the_fiches(client, world, settings):
    settings.PAGE_CACHE_SECONDS = 0  # each visit renders: the rendering's queries are counted
    places = _places(world)
    client.force_login(world.coordinator)
    year = timezone.localdate().year
    urls = [
        reverse("coordo:dashboard", args=[world.programme.pk]),
        reverse("coordo:annual-report", args=[world.programme.pk, year]),
        reverse("coordo:programme", args=[world.programme.pk]) + f"?lieu={places['gare'].pk}",
    ]

    def add(n):
        for i in range(n):
            action = services.create_action(
                programme=world.programme,
                actor=world.coordinator,
                data={"title": f"Fiche {Action.objects.count()}", "vulnerable_public": i % 2 == 0},
                places=[places["gare"], places["hauts"]][: i % 3],
            )
            services.add_budget_line(
                action=action, actor=world.coordinator, year=year, category="staff", planned=1
            )

    def count(url):
        client.get(url)  # the session's own writes out of the count
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    add(2)
    few = [count(u) for u in urls]
    add(9)
    assert [count(u) for u in urls] == few


BEFORE_PLACES = [("projects", "0010_places_and_vulnerable_public")]
WITH_PLACES = [("projects", "0011_places_from_text")]


def _migrate(targets):
    """The database migrated to ``targets``; the models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_the_migration_turns_the_typed_territory_into_places(committed_db):
    """(Committed: migrations run outside a test transaction; the audit guards are lifted for
    the flush afterwards, as for every committed test.)"""
    migration = importlib.import_module("projects.migrations.0011_places_from_text")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        # The programmes as they were, with their territory typed as text.
        old = _migrate(BEFORE_PLACES)
        OldProgramme = old.get_model("projects", "Programme")
        period = {"start_date": "2024-01-01", "end_date": "2028-12-31"}
        typed = OldProgramme.objects.create(
            kind="CLS",
            name="CLS typé",
            territory="Val-de-Lys",
            epci="Val-de-Lys Agglomération",
            communes="Lys-sur-Marque, Bois-Joli\nHautmesnil; Saint-Aubin-en-Lys, …",
            priority_neighbourhoods="Les Hauts-Prés, Bois-Joli, Centre-Gare",
            **period,
        )
        empty = OldProgramme.objects.create(
            kind="CLSM", name="CLSM vide", territory="Val-de-Lys", **period
        )
        new = _migrate(WITH_PLACES)
        migration.forwards(new, None)  # run twice: nothing doubled
        OldPlace = new.get_model("projects", "Place")
        found = sorted(OldPlace.objects.filter(programme_id=typed.pk).values_list("kind", "name"))
        assert found == [
            ("commune", "Bois-Joli"),
            ("commune", "Hautmesnil"),
            ("commune", "Lys-sur-Marque"),
            ("commune", "Saint-Aubin-en-Lys"),
            ("epci", "Val-de-Lys Agglomération"),
            ("qpv", "Bois-Joli"),
            ("qpv", "Centre-Gare"),
            ("qpv", "Les Hauts-Prés"),
        ]
        assert not OldPlace.objects.filter(programme_id=empty.pk).exists()
        # Migrating back writes the places as text again, each kind in its field.
        back = _migrate(BEFORE_PLACES).get_model("projects", "Programme")
        restored = back.objects.get(pk=typed.pk)
        assert restored.epci == "Val-de-Lys Agglomération"
        assert restored.communes == "Lys-sur-Marque, Bois-Joli, Hautmesnil, Saint-Aubin-en-Lys"
        assert restored.priority_neighbourhoods == "Les Hauts-Prés, Bois-Joli, Centre-Gare"
        assert back.objects.get(pk=empty.pk).communes == ""
    finally:
        _migrate(latest)
    # Then the text is retired: the places are the territory's one record.
    programme = Programme.objects.get(pk=typed.pk)
    assert programme.places.count() == 8
    assert not {"communes", "epci", "priority_neighbourhoods"} & {
        f.name for f in Programme._meta.get_fields()
    }
