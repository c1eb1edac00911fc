"""The programme's lifecycle: drafting → awaiting signatures → in force → final evaluation →
ended. The COPIL sends the contract for signature; it enters into force by itself with the
last signature (a refusal sends it back to drafting); the coordination opens the final
evaluation; the COPIL ends the programme once the final evaluation is adopted and no fiche is
still active. Each step is audited."""

import pytest
from django.urls import reverse

from audit.chain import version
from audit.models import AuditEvent
from contracts.models import Signature
from projects.models import ActionState, Programme
from tests.world import action_in
from workflows import services

S = Programme.Status
USERS = [
    "coordinator", "copil", "copil2", "cotech", "funder", "other_funder", "action_lead",
    "other_lead", "wg_member", "ars_referent", "outsider", "signatory",
]  # fmt: skip
# transition: (from, to, the only people allowed) — from DESIGN.md, not read from the model
EXPECTED = {
    "send_for_signature": (S.DRAFTING, S.AWAITING_SIGNATURES, {"copil", "copil2"}),
    "start_final_evaluation": (S.IN_FORCE, S.FINAL_EVALUATION, {"coordinator"}),
}


def in_force(world) -> Programme:
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    signing = programme.signings.get()
    for signature in signing.signatures.all():
        signer = world.signatory if signature.organisation == world.funder_org else world.mayor
        services.sign(signature=signature, actor=signer)
    return Programme.objects.get(pk=programme.pk)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("user", USERS)
def test_each_role_against_each_programme_transition(contract_world, name, user):
    world = contract_world
    source, target, allowed = EXPECTED[name]
    programme = world.programme if source == S.DRAFTING else in_force(world)
    events = AuditEvent.objects.count()
    if user in allowed:
        moved = services.transition(programme, name, actor=getattr(world, user), comment="Vu")
        assert Programme.objects.get(pk=programme.pk).status == target == moved.status
        event = AuditEvent.objects.filter(event=name).latest("pk")
        assert (event.from_state, event.to_state, event.actor) == (
            source,
            target,
            world.users[user],
        )
    else:
        with pytest.raises(services.Refused) as refused:
            services.transition(programme, name, actor=getattr(world, user))
        assert refused.value.rule == "role"
        assert Programme.objects.get(pk=programme.pk).status == source
        assert AuditEvent.objects.count() == events


def test_no_signatories_no_signature_round(world):
    with pytest.raises(services.Refused) as refused:
        services.transition(world.programme, "send_for_signature", actor=world.copil)
    assert refused.value.rule == "guard" and "signataires" in refused.value.message


def test_each_signatory_signs_in_parallel_and_the_last_brings_it_into_force(contract_world):
    world = contract_world
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    signing = programme.signings.get()
    assert {(s.organisation, s.role) for s in signing.signatures.all()} == {
        (world.funder_org, "signatory"),
        (world.ville, "signatory"),
    }
    # Nobody can decree it into force while a signature is missing.
    with pytest.raises(services.Refused):
        services.transition(programme, "enter_into_force", actor=world.copil)
    first = signing.signatures.get(organisation=world.funder_org)
    with pytest.raises(services.Refused) as refused:  # the funder is not its signatory
        services.sign(signature=first, actor=world.funder)
    assert refused.value.rule == "role"
    with pytest.raises(services.Refused):  # nor is the other organisation's signatory
        services.sign(signature=first, actor=world.mayor)
    services.sign(signature=first, actor=world.signatory_colleague)
    assert Programme.objects.get(pk=programme.pk).status == S.AWAITING_SIGNATURES
    services.sign(signature=signing.signatures.get(organisation=world.ville), actor=world.mayor)
    assert Programme.objects.get(pk=programme.pk).status == S.IN_FORCE
    into_force = AuditEvent.objects.get(event="enter_into_force")
    assert into_force.actor == world.mayor and "Toutes les signatures" in into_force.comment
    assert AuditEvent.objects.filter(event="sign").count() == 2


def test_pages_opened_together_each_sign_whatever_the_others_did_meanwhile(contract_world):
    """Both signatories open the page before either signs: the other's signature does not make
    a page stale; the same organisation signing twice (colleagues, double click) is refused."""
    world = contract_world
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    signing = programme.signings.get()
    opened = version(signing)
    ours = signing.signatures.get(organisation=world.funder_org)
    services.sign(signature=ours, actor=world.signatory, seen=opened)
    with pytest.raises(services.Refused) as refused:
        services.sign(signature=ours, actor=world.signatory_colleague, seen=opened)
    assert refused.value.rule == "already_moved"
    theirs = signing.signatures.get(organisation=world.ville)
    services.sign(signature=theirs, actor=world.mayor, seen=opened)
    assert Programme.objects.get(pk=programme.pk).status == S.IN_FORCE
    assert AuditEvent.objects.filter(event="sign").count() == 2


def test_a_refusal_sends_the_contract_back_to_drafting(contract_world):
    world = contract_world
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    signing = programme.signings.get()
    mine = signing.signatures.get(organisation=world.ville)
    with pytest.raises(services.Refused) as refused:
        services.refuse(signature=mine, actor=world.mayor, reason="")
    assert refused.value.rule == "comment"
    services.refuse(signature=mine, actor=world.mayor, reason="Le plan de financement manque")
    assert Programme.objects.get(pk=programme.pk).status == S.DRAFTING
    assert signing.signatures.get(organisation=world.funder_org).state == Signature.State.CANCELLED
    event = AuditEvent.objects.get(event="signature_refused")
    assert event.comment == "Le plan de financement manque"
    with pytest.raises(services.Refused):  # the round is over
        services.sign(
            signature=signing.signatures.get(organisation=world.funder_org), actor=world.signatory
        )


def test_the_programme_ends_after_its_final_evaluation_with_no_active_fiche(contract_world):
    world = contract_world
    programme = in_force(world)
    action = action_in(world, ActionState.IMPLEMENTATION)
    programme = services.transition(programme, "start_final_evaluation", actor=world.coordinator)
    with pytest.raises(services.Refused) as refused:
        services.transition(programme, "end", actor=world.copil)
    assert "évaluation finale" in refused.value.message
    evaluation = services.prepare_evaluation(
        programme=programme, actor=world.coordinator, kind="final"
    )
    services.write_evaluation(
        evaluation=evaluation,
        actor=world.coordinator,
        data={"findings": "Constats", "recommendations": "Suites"},
    )
    evaluation = services.transition(evaluation, "submit", actor=world.coordinator)
    services.transition(evaluation, "adopt", actor=world.copil)
    with pytest.raises(services.Refused) as refused:
        services.transition(Programme.objects.get(pk=programme.pk), "end", actor=world.copil)
    assert "encore active" in refused.value.message
    services.transition(action, "abandon", actor=world.copil, comment="Fin du contrat")
    ended = services.transition(Programme.objects.get(pk=programme.pk), "end", actor=world.copil)
    assert ended.status == S.ENDED


def test_transitions_from_the_programme_page(client, contract_world):
    world = contract_world
    client.force_login(world.coordinator)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert "Envoyer en signature" not in page  # the COPIL's
    client.force_login(world.copil)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert "Envoyer en signature" in page and "Entrée en vigueur" not in page
    from audit.chain import version

    client.post(
        reverse("coordo:programme-transition", args=[world.programme.pk, "send_for_signature"]),
        {"seen_version": version(world.programme)},
    )
    signing = Programme.objects.get(pk=world.programme.pk).signings.get()
    client.force_login(world.mayor)
    page = client.get(reverse("coordo:signing", args=[signing.pk])).content.decode()
    assert "Signer pour" in page and world.ville.name in page
    client.force_login(world.funder)  # sees the round, signs nothing
    page = client.get(reverse("coordo:signing", args=[signing.pk])).content.decode()
    assert "Signer pour" not in page
    client.force_login(world.outsider)
    assert client.get(reverse("coordo:signing", args=[signing.pk])).status_code == 404
