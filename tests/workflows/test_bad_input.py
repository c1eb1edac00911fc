"""Bad values refused by the services themselves — whatever sent them — with a French message
naming the field, and nothing saved: years and dates out of range, text too long for its
column, NUL characters."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.models import ActionState, Meeting
from tests.world import action_in
from workflows import services


def refused(call) -> services.Refused:
    events = AuditEvent.objects.count()
    with pytest.raises(services.Refused) as exc:
        call()
    assert AuditEvent.objects.count() == events
    return exc.value


@pytest.mark.parametrize("year", [0, 1, 1979, 2049, 32767])
def test_budget_and_funding_years_stay_near_the_programmes_period(world, year):
    # The world's programme runs 2024–2028: 2014 to 2038 is accepted.
    action = action_in(world, ActionState.CO_CONSTRUCTION)
    exc = refused(
        lambda: services.add_budget_line(
            action=action, actor=world.coordinator, year=year, category="staff", planned=1
        )
    )
    assert exc.rule == "invalid" and "année" in exc.message and str(year) in exc.message
    exc = refused(
        lambda: services.create_funding_request(
            action=action,
            actor=world.coordinator,
            funder_id=world.funder_org.pk,
            scheme="FIR",
            year=year,
            requested_amount=Decimal("10"),
        )
    )
    assert "année" in exc.message
    assert not BudgetLine.objects.filter(action=action, year=year).exists()
    assert not FundingRequest.objects.filter(action=action).exists()


@pytest.mark.parametrize("day", [datetime.date(1, 1, 1), datetime.date(9999, 12, 31)])
def test_dates_out_of_range_are_refused(world, day):
    request = action_in(world, ActionState.FUNDING).funding_requests.get()
    exc = refused(
        lambda: services.add_tranche(
            request=request,
            actor=world.coordinator,
            label="advance",
            expected_date=day,
            expected_amount=Decimal("10"),
        )
    )
    assert "date prévue" in exc.message and "hors de la période acceptée" in exc.message
    assert not Tranche.objects.exists()
    exc = refused(
        lambda: services.create_meeting(
            programme=world.programme,
            actor=world.coordinator,
            body="copil",
            date=datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC),
            place="Mairie",
        )
    )
    assert "date et heure" in exc.message
    assert not Meeting.objects.exists()


def test_a_decision_reference_longer_than_its_column_is_refused(world):
    action = action_in(world, ActionState.VALIDATED)
    request = services.create_funding_request(
        action=action,
        actor=world.coordinator,
        funder_id=world.funder_org.pk,
        scheme="FIR",
        year=2026,
        requested_amount=Decimal("100"),
    )
    request = services.transition(request, "submit", actor=world.coordinator)
    exc = refused(
        lambda: services.transition(
            request,
            "grant",
            actor=world.funder,
            amount=Decimal("100"),
            decision_date=datetime.date(2026, 3, 1),
            reference="R" * 101,
        )
    )
    assert "référence de la décision" in exc.message
    assert FundingRequest.objects.get(pk=request.pk).state == "submitted"


def test_nul_characters_in_free_text_are_refused(world):
    action = action_in(world, ActionState.VALIDATED)
    draft = action_in(world, ActionState.DRAFT)
    for call in (
        lambda: services.comment_action(action=action, actor=world.copil, text="avis\x00"),
        lambda: services.record_funding_waiver(action=action, actor=world.copil, comment="\x00"),
        lambda: services.transition(action, "abandon", actor=world.copil, comment="a\x00b"),
        lambda: services.update_action(
            action=draft,
            actor=world.coordinator,
            data={"context": "constat\x00"},
        ),
    ):
        assert "caractère nul" in refused(call).message


def test_meeting_notes_with_nul_are_refused(world):
    meeting = services.create_meeting(
        programme=world.programme,
        actor=world.coordinator,
        body="copil",
        date=timezone.now(),
        place="Mairie",
    )
    exc = refused(
        lambda: services.record_meeting(
            meeting=meeting,
            actor=world.coordinator,
            chair_id=None,
            attendee_ids=[],
            notes="relevé\x00",
            decisions={},
        )
    )
    assert "caractère nul" in exc.message


@pytest.mark.parametrize("period", [{"au": "9999-12-31"}, {"du": "0001-01-01"}])
def test_audit_export_period_out_of_range_is_an_error_on_the_page(client, world, period):
    client.force_login(world.coordinator)
    response = client.get(reverse("coordo:audit-export-csv", args=[world.programme.pk]), period)
    assert response.status_code == 400
    assert "hors de la période acceptée" in response.content.decode()
