"""A coordinator follows a co-financed fiche from its requests to the last payment, in the UI."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from funding.models import FundingRequest, Tranche
from projects.models import Action, ActionState
from tests.world import action_in
from workflows import services


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _shown(name, pk) -> int:
    """The version of the object the page of this form showed (what the form posts back)."""
    if name in ("funding-create", "action-waiver"):
        return version(Action.objects.get(pk=pk))
    if name == "tranche-receive":
        return version(Tranche.objects.get(pk=pk).request)
    return version(FundingRequest.objects.get(pk=pk))


def post(client, name, *args, data=None, follow=True):
    data = {"seen_version": _shown(name, args[0]), **(data or {})}
    return client.post(reverse(f"coordo:{name}", args=args), data, follow=follow)


def test_from_request_to_last_payment_through_the_pages(client, world):
    action = action_in(world, ActionState.VALIDATED)
    client.force_login(world.coordinator)
    post(client, "funding-create", action.pk, data={
        "funding-funder": world.funder_org.pk, "funding-scheme": "ARS FIR",
        "funding-year": "2026", "funding-requested_amount": "18000,00",
    })  # fmt: skip
    req = FundingRequest.objects.get(action=action)
    assert req.requested_amount == Decimal("18000.00")
    post(client, "funding-transition", req.pk, "submit", data={"submit-comment": ""})
    # The funder decides on its own page.
    client.force_login(world.funder)
    post(client, "funding-transition", req.pk, "grant", data={
        "grant-amount": "18000", "grant-decision_date": "2026-03-01", "grant-reference": "D-1",
    })  # fmt: skip
    req = FundingRequest.objects.get(pk=req.pk)
    assert (req.state, req.granted_amount) == ("granted", Decimal("18000"))
    client.force_login(world.coordinator)
    post(client, "funding-transition", req.pk, "sign_agreement", data={
        "sign_agreement-reference": "CONV-2026-12", "sign_agreement-date": "2026-03-15",
    })  # fmt: skip
    for label, when, amount in (
        ("advance", "2026-04-01", "12000"),
        ("balance", "2026-10-01", "6000"),
    ):
        post(client, "tranche-add", req.pk, data={
            "tranche-label": label, "tranche-expected_date": when,
            "tranche-expected_amount": amount,
        })  # fmt: skip
    assert req.tranches.count() == 2
    # Not paid while a tranche is still expected.
    response = post(client, "funding-transition", req.pk, "mark_paid")
    assert "Chaque versement prévu doit avoir été reçu" in response.content.decode()
    for tranche in req.tranches.all():
        post(client, "tranche-receive", tranche.pk, data={
            "receipt-received_date": "2026-10-20",
            "receipt-received_amount": f"{tranche.expected_amount}".replace(".", ","),
        })  # fmt: skip
    post(client, "funding-transition", req.pk, "mark_paid")
    assert FundingRequest.objects.get(pk=req.pk).state == "paid"
    events = set(AuditEvent.objects.filter(action_id=action.pk).values_list("event", flat=True))
    assert {"create_funding_request", "grant", "sign_agreement", "add_tranche",
            "receive_tranche", "mark_paid"} <= events  # fmt: skip
    detail = client.get(reverse("coordo:action", args=[action.pk]))
    assert reverse("coordo:funding-request", args=[req.pk]) in detail.content.decode()
    labels = {event.label for event in detail.context["events"]}
    assert {"Versement prévu", "Versement reçu", "Enregistrer le versement"} <= labels


def test_coordinator_records_a_decision_only_with_the_letter(client, world):
    action = action_in(world, ActionState.VALIDATED)
    client.force_login(world.coordinator)
    post(client, "funding-create", action.pk, data={
        "funding-funder": world.funder_org.pk, "funding-scheme": "FIR",
        "funding-year": "2026", "funding-requested_amount": "5000",
    })  # fmt: skip
    req = FundingRequest.objects.get(action=action)
    post(client, "funding-transition", req.pk, "submit")
    decision = {"grant-amount": "5000", "grant-decision_date": "2026-03-01"}
    response = post(client, "funding-transition", req.pk, "grant", data=decision)
    # No letter: the decision is the funder's, and the page says what is missing.
    assert "avec son courrier de décision joint" in response.content.decode()
    assert FundingRequest.objects.get(pk=req.pk).state == "submitted"
    letter = SimpleUploadedFile("decision-ars.pdf", b"%PDF-1.4 decision", "application/pdf")
    post(client, "funding-transition", req.pk, "grant",
         data={**decision, "grant-decision_letter": letter})  # fmt: skip
    req = FundingRequest.objects.get(pk=req.pk)
    assert req.state == "granted" and req.decision_letter.name.endswith(".pdf")
    event = AuditEvent.objects.get(event="grant", object_id=str(req.pk))
    assert event.actor == world.coordinator
    assert "saisie par la coordination" in event.comment and "decision-ars.pdf" in event.comment


def test_other_funder_and_outsider_cannot_act(client, world):
    action = action_in(world, ActionState.FUNDING)
    req = action.funding_requests.get()
    client.force_login(world.other_funder)
    response = post(client, "tranche-add", req.pk, data={
        "tranche-label": "advance", "tranche-expected_date": "2026-04-01",
        "tranche-expected_amount": "100",
    }, follow=False)  # fmt: skip
    assert response.status_code == 403
    client.force_login(world.outsider)
    assert client.get(reverse("coordo:funding-request", args=[req.pk])).status_code == 404
    assert not req.tranches.exists()


def test_bad_tranche_input_is_refused_with_a_message(client, world):
    action = action_in(world, ActionState.FUNDING)
    req = action.funding_requests.get()
    client.force_login(world.coordinator)
    response = post(client, "tranche-add", req.pk, data={
        "tranche-label": "advance", "tranche-expected_date": "pas une date",
        "tranche-expected_amount": "-5",
    })  # fmt: skip
    page = response.content.decode()
    assert "Saisissez une date valide" in page
    assert "supérieure ou égale à 0" in page
    assert not req.tranches.exists()


def test_copil_records_a_funding_waiver_from_the_fiche(client, world):
    action = action_in(world, ActionState.VALIDATED)
    client.force_login(world.coordinator)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Accorder une dérogation de financement" not in page
    assert post(client, "action-waiver", action.pk, data={"comment": "x"}).status_code == 403
    client.force_login(world.copil)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Accorder une dérogation de financement" in page
    response = post(client, "action-waiver", action.pk, data={"comment": "  "})
    assert "La dérogation demande un motif" in response.content.decode()
    post(client, "action-waiver", action.pk, data={"comment": "Fonds propres"})
    waived = action.__class__.objects.get(pk=action.pk)
    assert waived.funding_waiver == "Fonds propres"
    assert AuditEvent.objects.filter(event="funding_waiver", actor=world.copil).exists()


def test_amounts_are_accepted_as_displayed_or_typed_in_french(client, world):
    action = action_in(world, ActionState.FUNDING)
    req = action.funding_requests.get()
    client.force_login(world.coordinator)
    post(client, "tranche-add", req.pk, data={
        "tranche-label": "advance", "tranche-expected_date": "2026-04-01",
        "tranche-expected_amount": "12\u202f000,50\u00a0€",  # copied from a Coordo page
    })  # fmt: skip
    post(client, "tranche-add", req.pk, data={
        "tranche-label": "balance", "tranche-expected_date": "2026-10-01",
        "tranche-expected_amount": " 5 999,5 ",  # typed
    })  # fmt: skip
    amounts = sorted(req.tranches.values_list("expected_amount", flat=True))
    assert amounts == [Decimal("5999.50"), Decimal("12000.50")]
    response = post(client, "tranche-add", req.pk, data={
        "tranche-label": "balance", "tranche-expected_date": "2026-10-01",
        "tranche-expected_amount": "douze mille",
    })  # fmt: skip
    assert "Saisissez un nombre" in response.content.decode()
    assert req.tranches.count() == 2


def test_decision_forms_ask_for_what_each_decision_needs(client, world):
    action = action_in(world, ActionState.VALIDATED)
    req = services.create_funding_request(
        action=action, actor=world.coordinator, funder_id=world.funder_org.pk,
        scheme="FIR", year=2026, requested_amount=Decimal("5000"),
    )  # fmt: skip
    services.transition(req, "submit", actor=world.coordinator)
    client.force_login(world.funder)
    page = client.get(reverse("coordo:funding-request", args=[req.pk])).content.decode()
    assert 'name="grant-amount"' in page and 'name="refuse-amount"' not in page
    response = post(client, "funding-transition", req.pk, "grant",
                    data={"grant-decision_date": "2026-03-01"})  # fmt: skip
    assert "Montant accordé : Ce champ est obligatoire." in response.content.decode()
    response = post(client, "funding-transition", req.pk, "refuse",
                    data={"refuse-decision_date": "2026-03-01"})  # fmt: skip
    assert "demande un motif" in response.content.decode()
    assert FundingRequest.objects.get(pk=req.pk).state == "submitted"
    reason = {"refuse-decision_date": "2026-03-01", "refuse-comment": "Hors critères FIR"}
    post(client, "funding-transition", req.pk, "refuse", data=reason)
    assert FundingRequest.objects.get(pk=req.pk).state == "refused"
