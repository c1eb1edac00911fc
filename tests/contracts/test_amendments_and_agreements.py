"""Amendments (prepared by the coordination, approved by the COPIL, signed by the signatories
and the new ones, then applied), funding agreements signed by the funder and the lead in
parallel, and the contract's evaluations — with the people who may and may not."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from contracts.models import Amendment, Evaluation, Signature, Signing
from notifications.models import Notification
from projects.models import ActionState, Programme, Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.projects.test_programme_lifecycle import in_force
from tests.world import action_in, request_funding
from workflows import queues, services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def live(contract_world):
    contract_world.programme = in_force(contract_world)
    return contract_world


def amendment_in_review(world) -> Amendment:
    amendment = services.create_amendment(
        programme=world.programme,
        actor=world.coordinator,
        data={
            "title": "Prolongation",
            "summary": "Un an de plus",
            "new_end_date": world.programme.end_date.replace(
                year=world.programme.end_date.year + 1
            ),
        },
    )
    caf = OrganisationFactory(name=f"CAF test {world.programme.pk}", kind="caf")
    world.users["caf_signatory"] = UserFactory(username=f"caf-{world.programme.pk}")
    MembershipFactory(
        user=world.caf_signatory, programme=world.programme, role=Role.SIGNATORY, organisation=caf
    )
    world.caf = caf
    amendment = services.update_amendment(
        amendment=amendment, actor=world.coordinator, data={}, new_signatories=[caf]
    )
    return services.transition(amendment, "submit", actor=world.coordinator)


@pytest.mark.parametrize("who", ["copil", "funder", "action_lead", "signatory", "ars_referent"])
def test_only_the_coordination_prepares_an_amendment(live, who):
    with pytest.raises(services.Refused) as refused:
        services.create_amendment(
            programme=live.programme, actor=getattr(live, who), data={"title": "X", "summary": "Y"}
        )
    assert refused.value.rule == "role"
    assert not Amendment.objects.exists()


def test_a_large_programme_s_fiches_to_annex_are_searched_not_all_listed(client, live, monkeypatch):
    from tests.world import new_action
    from web import pages

    monkeypatch.setattr(pages, "FICHES_OFFERED", 2)
    for title in ("AAA atelier", "AAB atelier", "ZZZ maraude"):
        new_action(live, title=title)
    client.force_login(live.coordinator)
    url = reverse("coordo:amendments", args=[live.programme.pk])
    page = client.get(url).content.decode()
    assert "AAA atelier" in page and "AAB atelier" in page and "ZZZ maraude" not in page
    assert "Seules les 2 premières fiches" in page
    found = client.get(url, {"fiches": "maraude"}).content.decode()
    assert "ZZZ maraude" in found and "AAA atelier" not in found
    late = live.programme.actions.get(title="ZZZ maraude")
    bad = client.post(url, {"title": "A", "summary": "B", "annexed_actions": ["9" * 25, "x"]})
    assert bad.status_code == 400 and not Amendment.objects.exists()
    response = client.post(
        url,
        {"title": "Avenant n° 1", "summary": "Annexer la maraude", "annexed_actions": [late.pk]},
    )
    amendment = Amendment.objects.get()
    assert response.status_code == 302
    assert list(amendment.annexed_actions.all()) == [late]
    # Its page offers the first fiches and the one already chosen, checked.
    page = client.get(reverse("coordo:amendment", args=[amendment.pk])).content.decode()
    assert f'value="{late.pk}" id="id_annexed_actions_2" checked' in page


def copil_told(world, obj) -> set:
    """Who was given the COPIL's decision on ``obj`` as a task."""
    return set(
        Notification.objects.filter(kind="task", subject__contains=str(obj)).values_list(
            "recipient__username", flat=True
        )
    )


def test_an_amendment_is_approved_signed_and_applied(live):
    world = live
    amendment = amendment_in_review(world)
    assert copil_told(world, amendment) == {world.copil.username, world.copil2.username}
    with pytest.raises(services.Refused):  # the COPIL approves, not the coordination
        services.transition(amendment, "approve", actor=world.coordinator)
    amendment = services.transition(amendment, "approve", actor=world.copil)
    signing = amendment.signings.get()
    assert {s.organisation for s in signing.signatures.all()} == {
        world.funder_org,
        world.ville,
        world.caf,
    }
    # Each organisation's signatory has a task; nobody else.
    for user, org in ((world.signatory, world.funder_org), (world.caf_signatory, world.caf)):
        task_artifacts = {t.process.artifact_object_id for t in queues.task_queue(user)}
        assert signing.signatures.get(organisation=org).pk in task_artifacts
    assert not [t for t in queues.task_queue(world.funder)]
    old_end = Programme.objects.get(pk=world.programme.pk).end_date
    for signer, org in (
        (world.signatory, world.funder_org),
        (world.mayor, world.ville),
        (world.caf_signatory, world.caf),
    ):
        services.sign(signature=signing.signatures.get(organisation=org), actor=signer)
    amendment = Amendment.objects.get(pk=amendment.pk)
    assert amendment.status == Amendment.Status.IN_FORCE and amendment.in_force_at
    programme = Programme.objects.get(pk=world.programme.pk)
    assert programme.end_date == old_end.replace(year=old_end.year + 1)
    assert world.caf in programme.signatories.all()
    applied = AuditEvent.objects.get(event="apply_amendment")
    assert str(amendment) in applied.comment
    assert applied.changes["end_date"] == [old_end.isoformat(), programme.end_date.isoformat()]


def test_an_amendment_refused_goes_back_to_its_preparation(live):
    world = live
    amendment = services.transition(amendment_in_review(world), "approve", actor=world.copil)
    signature = amendment.signings.get().signatures.get(organisation=world.ville)
    services.refuse(signature=signature, actor=world.mayor, reason="Pas avant le budget")
    assert Amendment.objects.get(pk=amendment.pk).status == Amendment.Status.DRAFTING
    assert not queues.task_queue(world.signatory).exists()


def test_a_signed_copy_is_checked_fingerprinted_and_downloaded(client, live):
    world = live
    amendment = services.transition(amendment_in_review(world), "approve", actor=world.copil)
    signature = amendment.signings.get().signatures.get(organisation=world.ville)
    client.force_login(world.mayor)
    url = reverse("coordo:signature-sign", args=[signature.pk])
    bad = client.post(
        url,
        {
            "seen_version": version(amendment.signings.get()),
            "signed_copy": SimpleUploadedFile(
                "avenant.html", b"<script>alert(1)</script>", content_type="application/pdf"
            ),
        },
        follow=True,
    )
    assert Signature.objects.get(pk=signature.pk).state == Signature.State.PENDING
    assert "PDF" in bad.content.decode()
    client.post(
        url,
        {
            "seen_version": version(amendment.signings.get()),
            "signed_copy": SimpleUploadedFile("avenant.pdf", PDF, content_type="application/pdf"),
        },
    )
    signed = Signature.objects.get(pk=signature.pk)
    assert signed.state == Signature.State.SIGNED and len(signed.signed_copy_sha256) == 64
    event = AuditEvent.objects.filter(event="sign").latest("pk")
    assert event.changes["signed_copy_sha256"][1] == signed.signed_copy_sha256
    client.force_login(world.funder)  # any member of the programme may read it
    download = client.get(reverse("coordo:signed-copy", args=[signature.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    client.force_login(world.outsider)
    assert client.get(reverse("coordo:signed-copy", args=[signature.pk])).status_code == 404


def test_a_funding_agreement_is_signed_by_the_funder_and_the_lead(world):
    action = action_in(world, ActionState.VALIDATED)
    request_funding(world, action)
    request = action.funding_requests.get()
    request = services.transition(request, "submit", actor=world.coordinator)
    request = services.transition(
        request,
        "grant",
        actor=world.funder,
        amount=Decimal("18000"),
        decision_date=datetime.date(2026, 2, 1),
    )
    signing = Signing.objects.get(funding_request=request)
    assert {(s.organisation, s.role) for s in signing.signatures.all()} == {
        (world.funder_org, Role.FUNDER),
        (world.lead, Role.ACTION_LEAD),
    }
    lead_signature = signing.signatures.get(role=Role.ACTION_LEAD)
    with pytest.raises(services.Refused):  # another organisation's lead
        services.sign(signature=lead_signature, actor=world.other_lead)
    services.sign(signature=lead_signature, actor=world.action_lead)
    assert request.__class__.objects.get(pk=request.pk).state == "granted"
    services.sign(signature=signing.signatures.get(role=Role.FUNDER), actor=world.funder)
    request = request.__class__.objects.get(pk=request.pk)
    assert request.state == "agreement_signed" and request.agreement_date
    assert AuditEvent.objects.filter(event="sign_agreement", actor=world.funder).exists()


def test_an_agreement_recorded_on_paper_closes_the_round(world):
    action = action_in(world, ActionState.VALIDATED)
    request_funding(world, action)
    request = services.transition(action.funding_requests.get(), "submit", actor=world.coordinator)
    request = services.transition(
        request,
        "grant",
        actor=world.funder,
        amount=Decimal("18000"),
        decision_date=datetime.date(2026, 2, 1),
    )
    services.transition(
        request,
        "sign_agreement",
        actor=world.coordinator,
        reference="CONV-1",
        date=datetime.date(2026, 3, 1),
    )
    signing = Signing.objects.get(funding_request=request)
    assert signing.outcome == Signing.Outcome.CANCELLED
    assert (
        not queues.task_queue(world.funder)
        .filter(process__artifact_object_id__in=signing.signatures.values("pk"))
        .exists()
    )


def test_the_midterm_evaluation_is_prefilled_written_and_adopted(client, live):
    world = live
    action_in(world, ActionState.CLOSED)
    action_in(world, ActionState.IMPLEMENTATION)
    url = reverse("coordo:contract-evaluation", args=[world.programme.pk, "midterm"])
    client.force_login(world.copil)
    assert client.post(url, {"prepare": "1"}).status_code == 403
    client.force_login(world.coordinator)
    client.post(url, {"prepare": "1"})
    evaluation = Evaluation.objects.get(programme=world.programme, kind="midterm")
    axis = evaluation.figures["axes"][0]
    assert (axis["fiches"], axis["done"], axis["running"]) == (2, 1, 1)
    page = client.get(url).content.decode()
    assert "Réalisées" in page
    client.post(
        url,
        {"seen_version": version(evaluation), "findings": "Constats", "recommendations": "Suites"},
    )
    evaluation = Evaluation.objects.get(pk=evaluation.pk)
    assert evaluation.findings == "Constats"
    evaluation = services.transition(evaluation, "submit", actor=world.coordinator)
    assert copil_told(world, evaluation) == {world.copil.username, world.copil2.username}
    with pytest.raises(services.Refused):
        services.transition(evaluation, "adopt", actor=world.coordinator)
    adopted = services.transition(evaluation, "adopt", actor=world.copil)
    assert adopted.status == Evaluation.Status.ADOPTED and adopted.adopted_at
    client.force_login(world.coordinator)  # adopted: no longer changes
    assert client.post(url, {"findings": "Autre", "recommendations": "x"}).status_code == 403


def test_an_empty_evaluation_cannot_be_submitted(live):
    evaluation = services.prepare_evaluation(
        programme=live.programme, actor=live.coordinator, kind="midterm"
    )
    with pytest.raises(services.Refused) as refused:
        services.transition(evaluation, "submit", actor=live.coordinator)
    assert refused.value.rule == "guard"
