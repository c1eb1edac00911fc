"""The CLSM's pages: every member reads, the coordination writes (403 for the others), another
programme or a CLS answers 404; bad input is a French message on the form with nothing saved,
a name typed into the resource unit's form is refused, a double submit or a stale page writes
nothing twice; the page's query count does not grow with its rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import chain
from audit.models import AuditEvent
from clsm.models import ObservationIndicator, ObservationValue, ResourceSession, TrainingSession
from tests.world import build_world
from workflows import services

READERS = ["coordinator", "copil", "wg_member", "action_lead", "ars_referent", "funder"]


def _session_post(**extra):
    data = {
        "date": "2026-03-12",
        "need_housing": "2",
        "need_care": "1",
        "need_isolation": "0",
        "need_rights": "0",
        "need_other": "0",
        "outcome_referral": "2",
        "outcome_follow_up": "1",
        "outcome_closed": "0",
        "outcome_no_action": "0",
        "notes": "",
    }
    data.update(extra)
    return data


def _training_post(**extra):
    data = {
        "kind": "training",
        "title": "PSSM — agents d'accueil",
        "date": "2026-03-19",
        "audience": "professionals",
        "attendance": "14",
        "satisfied_percent": "93",
        "mean_score": "4,6",
        "action": "",
    }
    data.update(extra)
    return data


def _urls(programme):
    pk = programme.pk
    return {
        "home": reverse("coordo:clsm", args=[pk]),
        "session": reverse("coordo:clsm-session-add", args=[pk]),
        "training": reverse("coordo:clsm-training-add", args=[pk]),
        "indicator": reverse("coordo:clsm-indicator-add", args=[pk]),
    }


@pytest.mark.parametrize("role", READERS)
def test_members_read_the_clsm_page(client, clsm_world, role):
    world = clsm_world
    services.record_resource_session(
        programme=world.programme,
        actor=world.coordinator,
        date=datetime.date(2026, 3, 12),
        need_housing=2,
        outcome_referral=2,
    )
    client.force_login(getattr(world, role))
    page = client.get(_urls(world.programme)["home"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "12/03/2026" in body and "HDS" in body
    assert ("Enregistrer une séance" in body) == (role == "coordinator")


@pytest.mark.parametrize("role", ["copil", "wg_member", "action_lead", "ars_referent", "funder"])
def test_readers_get_403_on_every_write(client, clsm_world, role):
    world = clsm_world
    indicator = services.add_observation_indicator(
        programme=world.programme, actor=world.coordinator, name="Urgences", unit="", source="ORS"
    )
    client.force_login(getattr(world, role))
    urls = _urls(world.programme)
    assert client.get(urls["session"]).status_code == 403
    assert client.post(urls["session"], _session_post()).status_code == 403
    assert client.post(urls["training"], _training_post()).status_code == 403
    assert client.post(urls["indicator"], {"name": "X", "source": "Y"}).status_code == 403
    value = reverse("coordo:clsm-value", args=[world.programme.pk, indicator.pk])
    assert client.post(value, {"year": "2024", "value": "3"}).status_code == 403
    assert not ResourceSession.objects.exists() and not TrainingSession.objects.exists()
    assert not ObservationValue.objects.exists()


def test_another_programme_or_a_cls_answers_404(client, clsm_world):
    world = clsm_world
    client.force_login(world.outsider)  # coordinates another CLSM
    for url in _urls(world.programme).values():
        assert client.get(url).status_code == 404
        assert client.post(url, _session_post()).status_code == 404
    cls = build_world("cls-")
    client.force_login(cls.coordinator)
    for url in _urls(cls.programme).values():
        assert client.get(url).status_code == 404
    page = client.get(reverse("coordo:programme", args=[cls.programme.pk])).content.decode()
    assert _urls(cls.programme)["home"] not in page
    client.force_login(world.copil)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert _urls(world.programme)["home"] in page
    assert not ResourceSession.objects.exists()


def test_the_coordinator_records_a_session_from_the_form(client, clsm_world):
    world = clsm_world
    client.force_login(world.coordinator)
    response = client.post(
        _urls(world.programme)["session"], _session_post(partners=[world.lead.pk])
    )
    assert response.status_code == 302
    session = ResourceSession.objects.get()
    assert session.situations == 3 and list(session.partners.all()) == [world.lead]
    assert AuditEvent.objects.filter(event="record_resource_session").count() == 1
    # The same form posted twice: one session.
    again = client.post(_urls(world.programme)["session"], _session_post())
    assert again.status_code == 400
    assert "déjà enregistrée à cette date" in again.content.decode()
    assert ResourceSession.objects.count() == 1


@pytest.mark.parametrize(
    "notes, reason",
    [
        ("Situation de M. Dupont", "nom d&#x27;une personne"),
        ("Personne née le 12/03/1987", "date de naissance"),
        ("NIR 2 69 05 49 588 157 80", "numéro de sécurité sociale"),
    ],
)
def test_the_form_refuses_a_named_person(client, clsm_world, notes, reason):
    world = clsm_world
    client.force_login(world.coordinator)
    response = client.post(_urls(world.programme)["session"], _session_post(notes=notes))
    assert response.status_code == 400
    body = response.content.decode()
    assert reason in body and "HDS" in body
    assert not ResourceSession.objects.exists()
    assert not AuditEvent.objects.filter(object_type="clsm.resourcesession").exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"date": ""}, "obligatoire"),
        ({"date": "3026-01-01"}, "hors de la période acceptée"),
        ({"need_housing": "-1"}, "supérieure ou égale à 0"),
        ({"need_housing": "abc"}, "nombre entier"),
        ({"outcome_closed": "4"}, "totaux doivent être égaux"),
        ({"partners": ["999999"]}, "choix valide"),
    ],
)
def test_bad_session_input_saves_nothing(client, clsm_world, bad, message):
    world = clsm_world
    client.force_login(world.coordinator)
    response = client.post(_urls(world.programme)["session"], _session_post(**bad))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ResourceSession.objects.exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"title": ""}, "obligatoire"),
        ({"attendance": "-3"}, "supérieure ou égale à 0"),
        ({"attendance": "100001"}, "inférieure ou égale à 100000"),
        ({"satisfied_percent": "150"}, "inférieure ou égale à 100"),
        ({"mean_score": "7"}, "inférieure ou égale à 5"),
        ({"kind": "concert"}, "choix valide"),
        ({"audience": ""}, "obligatoire"),
    ],
)
def test_bad_training_input_saves_nothing(client, clsm_world, bad, message):
    world = clsm_world
    client.force_login(world.coordinator)
    response = client.post(_urls(world.programme)["training"], _training_post(**bad))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_a_training_from_the_form_then_a_stale_correction(client, clsm_world):
    world = clsm_world
    client.force_login(world.coordinator)
    assert client.post(_urls(world.programme)["training"], _training_post()).status_code == 302
    session = TrainingSession.objects.get()
    assert session.mean_score == Decimal("4.6") and session.attendance == 14
    url = reverse("coordo:clsm-training-edit", args=[world.programme.pk, session.pk])
    seen = chain.version(session)
    ok = client.post(url, _training_post(attendance="15", seen_version=seen))
    assert ok.status_code == 302
    stale = client.post(url, _training_post(attendance="16", seen_version=seen))
    assert stale.status_code == 400 and "Modifié depuis" in stale.content.decode()
    assert TrainingSession.objects.get().attendance == 15


def test_indicator_and_values_from_the_page(client, clsm_world):
    world = clsm_world
    client.force_login(world.coordinator)
    bad = client.post(_urls(world.programme)["indicator"], {"name": "", "source": ""})
    assert bad.status_code == 400 and "obligatoire" in bad.content.decode()
    assert not ObservationIndicator.objects.exists()
    response = client.post(
        _urls(world.programme)["indicator"],
        {"name": "Délai CMP", "unit": "jours", "source": "EPSM"},
    )
    assert response.status_code == 302
    indicator = ObservationIndicator.objects.get()
    url = reverse("coordo:clsm-value", args=[world.programme.pk, indicator.pk])
    seen = chain.version(indicator)
    client.post(url, {"year": "2024", "value": "81", "seen_version": seen})
    client.post(url, {"year": "2025", "value": "58", "seen_version": seen})  # stale
    bad_year = client.post(
        url, {"year": "1200", "value": "1", "seen_version": chain.version(indicator)}, follow=True
    )
    assert "1990" in bad_year.content.decode()
    assert list(indicator.values.values_list("year", "value")) == [(2024, Decimal("81"))]
    page = client.get(_urls(world.programme)["home"]).content.decode()
    assert 'role="img"' in page and "Délai CMP — en chiffres" in page and ">81<" in page


def _queries(client, url) -> int:
    client.get(url)  # the session's own writes (expiry) out of the count
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_clsm_page_query_count_is_flat(client, clsm_world):
    world = clsm_world
    client.force_login(world.copil)
    url = _urls(world.programme)["home"]

    def add(n):
        for i in range(n):
            day = datetime.date(2025, 1, 1) + datetime.timedelta(
                days=len(ResourceSession.objects.all())
            )
            services.record_resource_session(
                programme=world.programme,
                actor=world.coordinator,
                date=day,
                partners=[world.lead],
                need_care=1,
                outcome_closed=1,
            )
            services.record_training(
                programme=world.programme,
                actor=world.coordinator,
                data={
                    "kind": "awareness",
                    "title": f"SISM {day}",
                    "date": day,
                    "audience": "residents",
                    "attendance": 10,
                },
            )
            indicator = services.add_observation_indicator(
                programme=world.programme,
                actor=world.coordinator,
                name=f"Indicateur {day}",
                unit="",
                source="ORS",
            )
            for year in (2022, 2023):
                services.set_observation_value(
                    indicator=indicator, actor=world.coordinator, year=year, value=Decimal(i)
                )

    add(1)
    few = _queries(client, url)
    add(6)
    assert _queries(client, url) == few


def test_the_annual_report_counts_the_clsm_work(client, clsm_world):
    from io import BytesIO

    from openpyxl import load_workbook

    world = clsm_world
    for day, housing in ((datetime.date(2026, 2, 12), 3), (datetime.date(2026, 5, 21), 2)):
        services.record_resource_session(
            programme=world.programme,
            actor=world.coordinator,
            date=day,
            partners=[world.lead],
            need_housing=housing,
            need_care=1,
            outcome_referral=housing,
            outcome_closed=1,
        )
    services.record_resource_session(  # another year: not counted in 2026
        programme=world.programme,
        actor=world.coordinator,
        date=datetime.date(2025, 5, 21),
        need_other=9,
        outcome_no_action=9,
    )
    for title, kind, people in (("PSSM", "training", 14), ("SISM 2026", "awareness", 85)):
        services.record_training(
            programme=world.programme,
            actor=world.coordinator,
            data={
                "kind": kind,
                "title": title,
                "date": datetime.date(2026, 3, 19),
                "audience": "professionals",
                "attendance": people,
                "satisfied_percent": 90,
            },
        )
    client.force_login(world.ars_referent)
    page = client.get(reverse("coordo:annual-report", args=[world.programme.pk, 2026]))
    body = page.content.decode()
    assert "Travaux propres du CLSM" in body
    assert "2 séances · 7 situations examinées · 1 organisations" in body
    assert "SISM 2026" in body and ">85<" in body
    xlsx = client.get(reverse("coordo:annual-report-xlsx", args=[world.programme.pk, 2026]))
    workbook = load_workbook(BytesIO(b"".join(xlsx.streaming_content)))
    needs = list(workbook["CLSM cellule ressource"].values)
    assert ("Besoin : Logement", 5) in needs and ("Besoin : Autre besoin", 0) in needs
    trainings = list(workbook["CLSM formations"].values)
    assert [row[2] for row in trainings[1:3]] == ["PSSM", "SISM 2026"]
    cls = build_world("cls-")
    client.force_login(cls.coordinator)
    cls_page = client.get(reverse("coordo:annual-report", args=[cls.programme.pk, 2026]))
    assert "Travaux propres du CLSM" not in cls_page.content.decode()


def test_the_dashboard_shows_this_years_clsm_work(client, clsm_world):
    world, today = clsm_world, timezone.localdate()
    services.record_resource_session(
        programme=world.programme,
        actor=world.coordinator,
        date=today,
        need_isolation=4,
        outcome_follow_up=4,
    )
    services.record_training(
        programme=world.programme,
        actor=world.coordinator,
        data={
            "kind": "awareness",
            "title": "SISM de l'année",
            "date": today,
            "audience": "residents",
            "attendance": 120,
        },
    )
    client.force_login(world.copil)
    body = client.get(reverse("coordo:dashboard", args=[world.programme.pk])).content.decode()
    assert "Travaux propres du CLSM" in body
    assert "1 séance · 4 situations examinées" in body
    assert "SISM de l" in body and ">120<" in body
    cls = build_world("cls-")
    client.force_login(cls.coordinator)
    cls_page = client.get(reverse("coordo:dashboard", args=[cls.programme.pk]))
    assert "Travaux propres du CLSM" not in cls_page.content.decode()
