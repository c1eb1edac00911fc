"""Evaluation in the UI: measurements from the fiche page, the evaluation report, and the
COPIL's closure once the report is written and every indicator measured."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from audit.chain import verify_chain, version
from audit.models import AuditEvent
from evaluation.models import EvaluationReport, Indicator, Measurement
from projects.models import Action, ActionState
from tests.world import action_in, evaluate
from workflows import services

ALLOWED = ["coordinator", "action_lead"]
REFUSED = ["other_lead", "wg_member", "copil", "cotech", "funder", "ars_referent"]


def measure_url(indicator) -> str:
    return reverse("coordo:measurement-add", args=[indicator.action_id, indicator.pk])


def measure_data(indicator, **values) -> dict:
    data = {"date": "2026-06-30", "period": "", "value": "12", "source": "", "comment": ""}
    data.update(values)
    # The form carries the version of the fiche its page showed.
    return {
        "seen_version": version(Action.objects.get(pk=indicator.action_id)),
        **{f"mesure-{indicator.pk}-{name}": value for name, value in data.items()},
    }


def report_url(action) -> str:
    return reverse("coordo:evaluation-report", args=[action.pk])


def report_data(action, **values) -> dict:
    """The report form as posted from its page (with the version of the fiche it showed)."""
    data = {
        "achievements": "12 permanences tenues.",
        "difficulties": "",
        "participation": "",
        "recommendations": "",
    }
    data.update(values)
    return {
        "seen_version": version(Action.objects.get(pk=action.pk)),
        **{f"rapport-{name}": value for name, value in data.items()},
    }


def page(client, action) -> str:
    response = client.get(reverse("coordo:action", args=[action.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def implementing(world):
    """An action in implementation, with a second indicator: a waiting time to bring down."""
    action = action_in(world, ActionState.IMPLEMENTATION)
    # Stands for an indicator added during co-construction (add_indicator is only open there).
    Indicator.objects.create(
        action=action,
        kind="result",
        label="Délai d'attente d'un premier rendez-vous",
        unit="jours",
        baseline=Decimal("60"),
        target=Decimal("30"),
        collection_method="Relevé des agendas du CMP",
        frequency="Semestrielle",
    )
    return action


# --- Measurements ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ALLOWED)
def test_coordinator_and_action_lead_record_a_measurement(client, world, implementing, who):
    indicator = implementing.indicators.get(kind="result")
    client.force_login(getattr(world, who))
    response = client.post(
        measure_url(indicator),
        measure_data(indicator, value="27,5", period="1er semestre 2026", source="Agendas du CMP"),
        follow=True,
    )
    assert response.status_code == 200
    m = Measurement.objects.get(indicator=indicator)
    assert (m.date, m.value, m.period, m.source, m.entered_by) == (
        datetime.date(2026, 6, 30),
        Decimal("27.50"),
        "1er semestre 2026",
        "Agendas du CMP",
        getattr(world, who),
    )
    event = AuditEvent.objects.filter(event="record_measurement").get()
    assert (event.actor, event.action_id) == (getattr(world, who), implementing.pk)
    assert event.changes["value"] == [None, "27.50"]
    html = response.content.decode()
    assert "Mesure enregistrée" in html
    # Shown with the latest value against the target (a decrease: 27,5 days ≤ 30 reached).
    assert "27,50 jours" in html and "1er semestre 2026" in html
    assert "Relevé des agendas du CMP" in html and "Semestrielle" in html
    assert 'class="reached"' in html
    assert verify_chain(programme_id=world.programme.pk).ok


@pytest.mark.parametrize("who", REFUSED)
def test_other_members_may_not_record_a_measurement(client, world, implementing, who):
    indicator = implementing.indicators.first()
    events = AuditEvent.objects.count()
    client.force_login(getattr(world, who))
    assert "Saisir une mesure" not in page(client, implementing)
    response = client.post(measure_url(indicator), measure_data(indicator))
    assert response.status_code == 403
    assert not Measurement.objects.exists()
    assert AuditEvent.objects.count() == events


def test_outsider_gets_404_for_measurements_and_report(client, world, implementing):
    indicator = implementing.indicators.first()
    client.force_login(world.outsider)
    assert client.post(measure_url(indicator), measure_data(indicator)).status_code == 404
    assert client.get(report_url(implementing)).status_code == 404
    assert not Measurement.objects.exists()


def test_an_indicator_of_another_action_is_not_found(client, world, implementing):
    other = action_in(world, ActionState.IMPLEMENTATION)
    indicator = other.indicators.first()
    client.force_login(world.coordinator)
    url = reverse("coordo:measurement-add", args=[implementing.pk, indicator.pk])
    assert client.post(url, measure_data(indicator)).status_code == 404
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    "values, error",
    [
        ({"value": "douze"}, "Valeur"),
        ({"value": ""}, "Valeur"),
        ({"date": ""}, "Date de la mesure"),
        ({"date": "31/02/2026"}, "Date de la mesure"),
        ({"value": "1" * 16}, "Valeur"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(client, world, implementing, values, error):
    indicator = implementing.indicators.first()
    events = AuditEvent.objects.count()
    client.force_login(world.action_lead)
    response = client.post(measure_url(indicator), measure_data(indicator, **values), follow=True)
    html = response.content.decode()
    assert f"Mesure de « {escape(indicator.label)} » non enregistrée" in html
    assert error in html
    assert not Measurement.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("state", [ActionState.VALIDATED, ActionState.CLOSED])
def test_no_measurement_outside_implementation_and_evaluation(client, world, state):
    action = action_in(world, state)
    indicator = action.indicators.first()
    before = Measurement.objects.count()
    client.force_login(world.coordinator)
    response = client.post(measure_url(indicator), measure_data(indicator), follow=True)
    assert (
        "« Saisir une mesure » n&#x27;est possible qu&#x27;à l&#x27;état : En mise en œuvre, "
        "En évaluation" in response.content.decode()
    )
    assert Measurement.objects.count() == before


def test_the_fiche_page_stays_at_the_same_query_count_with_more_measurements(
    client, world, implementing
):
    client.force_login(world.action_lead)
    url = reverse("coordo:action", args=[implementing.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for indicator in implementing.indicators.all():
        services.record_measurement(
            indicator=indicator, actor=world.coordinator, date=datetime.date(2026, 1, 31), value=1
        )
    few = count()
    for indicator in implementing.indicators.all():
        for month in range(2, 13):
            services.record_measurement(
                indicator=indicator,
                actor=world.action_lead,
                date=datetime.date(2026, month, 1),
                value=month,
            )
    assert count() == few


# --- Evaluation report -------------------------------------------------------------------------


@pytest.fixture
def evaluating(world, implementing):
    return services.transition(implementing, "finish_implementation", actor=world.action_lead)


@pytest.mark.parametrize("who", ALLOWED)
def test_report_written_from_the_page_then_reworked(client, world, evaluating, who):
    client.force_login(getattr(world, who))
    assert "Rédiger le rapport d'évaluation" in page(client, evaluating)
    assert client.get(report_url(evaluating)).status_code == 200
    response = client.post(report_url(evaluating), report_data(evaluating, difficulties="Locaux"))
    assert response.status_code == 302
    report = EvaluationReport.objects.get(action=evaluating)
    assert (report.achievements, report.difficulties, report.written_by) == (
        "12 permanences tenues.",
        "Locaux",
        getattr(world, who),
    )
    assert AuditEvent.objects.filter(event="write_evaluation_report").count() == 1
    # A second pass, by the other allowed role: audited with before and after.
    other = world.coordinator if who == "action_lead" else world.action_lead
    client.force_login(other)
    form = client.get(report_url(evaluating)).content.decode()
    assert "12 permanences tenues." in form  # the current text is in the form
    seen = report.written_at.isoformat()
    response = client.post(
        report_url(evaluating),
        {
            **report_data(evaluating, achievements="14 permanences tenues.", difficulties="Locaux"),
            "seen": seen,
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.achievements == "14 permanences tenues."
    event = AuditEvent.objects.filter(event="update_evaluation_report").get()
    assert event.actor == other
    assert event.changes == {"achievements": ["12 permanences tenues.", "14 permanences tenues."]}
    html = page(client, evaluating)
    assert "14 permanences tenues." in html and "Modifier le rapport" in html
    assert verify_chain(programme_id=world.programme.pk).ok


@pytest.mark.parametrize("who", REFUSED)
def test_other_members_may_not_write_the_report(client, world, evaluating, who):
    client.force_login(getattr(world, who))
    assert "Rédiger le rapport" not in page(client, evaluating)
    assert client.get(report_url(evaluating)).status_code == 403
    assert client.post(report_url(evaluating), report_data(evaluating)).status_code == 403
    assert not EvaluationReport.objects.exists()


def test_report_without_achievements_is_refused_and_keeps_the_text(client, world, evaluating):
    client.force_login(world.action_lead)
    response = client.post(
        report_url(evaluating),
        report_data(evaluating, achievements="  ", recommendations="Pérenniser les permanences"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ce champ est obligatoire" in html
    assert "Pérenniser les permanences" in html
    assert not EvaluationReport.objects.exists()
    assert not AuditEvent.objects.filter(event="write_evaluation_report").exists()


def test_report_not_written_before_evaluation(client, world, implementing):
    client.force_login(world.coordinator)
    response = client.post(report_url(implementing), report_data(implementing), follow=True)
    assert "qu&#x27;à l&#x27;état : En évaluation" in response.content.decode()
    assert not EvaluationReport.objects.exists()


def test_a_colleague_newer_version_is_not_overwritten_unseen(client, world, evaluating):
    services.write_evaluation_report(
        action=evaluating, actor=world.action_lead, achievements="Version 1"
    )
    client.force_login(world.coordinator)
    opened = report_data(evaluating, achievements="Version coordination")  # the page as opened
    services.update_evaluation_report(
        action=evaluating, actor=world.action_lead, achievements="Version 2 du porteur"
    )
    response = client.post(report_url(evaluating), opened)
    assert response.status_code == 400
    html = response.content.decode()
    assert "depuis que vous avez ouvert la page" in html
    assert "Rapport d&#x27;évaluation modifié" in html
    assert "Version 2 du porteur" in html  # shown beside the text typed
    assert "Version coordination" in html
    assert EvaluationReport.objects.get().achievements == "Version 2 du porteur"
    assert AuditEvent.objects.filter(event="update_evaluation_report").count() == 1


def test_report_no_longer_changes_once_closed(client, world):
    closed = action_in(world, ActionState.CLOSED)
    client.force_login(world.action_lead)
    response = client.post(
        report_url(closed), report_data(closed, achievements="Réécrit"), follow=True
    )
    assert EvaluationReport.objects.get(action=closed).achievements == "12 permanences tenues."
    assert "Modifier le rapport" not in response.content.decode()
    with pytest.raises(services.Refused) as exc:
        services.update_evaluation_report(
            action=closed, actor=world.coordinator, achievements="Réécrit"
        )
    assert exc.value.rule == "state"


def test_unchanged_report_writes_no_event(world, evaluating):
    services.write_evaluation_report(action=evaluating, actor=world.action_lead, achievements="A")
    services.update_evaluation_report(action=evaluating, actor=world.coordinator, achievements="A")
    assert not AuditEvent.objects.filter(event="update_evaluation_report").exists()


# --- Closure guard -----------------------------------------------------------------------------


def close_from_page(client, action):
    action = Action.objects.get(pk=action.pk)
    return client.post(
        reverse("coordo:action-transition", args=[action.pk, "close"]),
        {"seen_version": version(action), "comment": ""},
        follow=True,
    )


def measure_all(world, action) -> None:
    for indicator in action.indicators.all():
        services.record_measurement(
            indicator=indicator, actor=world.action_lead, date=datetime.date(2026, 6, 30), value=12
        )


def test_close_refused_without_report(client, world, evaluating):
    measure_all(world, evaluating)
    client.force_login(world.copil)
    html = page(client, evaluating)
    assert "Clôture pas encore possible" in html
    assert "le rapport d&#x27;évaluation n&#x27;est pas rédigé" in html
    response = close_from_page(client, evaluating)
    assert (
        "La clôture attend encore : le rapport d&#x27;évaluation n&#x27;est pas rédigé"
        in response.content.decode()
    )
    assert Action.objects.get(pk=evaluating.pk).state == ActionState.EVALUATION
    assert not AuditEvent.objects.filter(event="close").exists()


def test_close_refused_while_an_indicator_has_no_measurement(client, world, evaluating):
    services.record_measurement(
        indicator=evaluating.indicators.get(kind="process"),
        actor=world.action_lead,
        date=datetime.date(2026, 6, 30),
        value=12,
    )
    services.write_evaluation_report(action=evaluating, actor=world.action_lead, achievements="x")
    client.force_login(world.copil)
    html = page(client, evaluating)
    assert "indicateurs sans aucune mesure : « Délai d&#x27;attente" in html
    response = close_from_page(client, evaluating)
    assert "attend encore : indicateurs sans aucune mesure : « Délai" in response.content.decode()
    assert Action.objects.get(pk=evaluating.pk).state == ActionState.EVALUATION


def test_copil_closes_a_complete_evaluation_and_the_coordinator_may_not(client, world, evaluating):
    measure_all(world, evaluating)
    services.write_evaluation_report(action=evaluating, actor=world.action_lead, achievements="x")
    client.force_login(world.coordinator)
    assert "le COPIL peut clôturer" in page(client, evaluating)
    assert close_from_page(client, evaluating).status_code == 403
    assert Action.objects.get(pk=evaluating.pk).state == ActionState.EVALUATION
    client.force_login(world.copil)
    close_from_page(client, evaluating)
    assert Action.objects.get(pk=evaluating.pk).state == ActionState.CLOSED
    event = AuditEvent.objects.get(event="close")
    assert (event.actor, event.from_state, event.to_state) == (world.copil, "evaluation", "closed")
    # Closed: the results stay visible, nothing can be added any more.
    html = page(client, evaluating)
    assert "Résultats des indicateurs" in html and "Saisir une mesure" not in html


def test_copil_cannot_close_on_a_report_changed_since_it_read_it(world):
    action = evaluate(world, action_in(world, ActionState.EVALUATION))
    seen_by_copil = version(action)
    services.update_evaluation_report(
        action=action, actor=world.action_lead, recommendations="Ne pas reconduire."
    )
    with pytest.raises(services.Refused) as refused:
        services.transition(action, "close", actor=world.copil, seen=seen_by_copil)
    assert refused.value.rule == "already_moved"
    assert Action.objects.get(pk=action.pk).state == ActionState.EVALUATION
    services.transition(Action.objects.get(pk=action.pk), "close", actor=world.copil)
