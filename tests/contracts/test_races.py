"""The contract's people acting at the same moment, in real threads on committed data: the last
two signatures given together bring the contract into force once; the same document sent
twice at once is attached once."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from audit.chain import verify_chain
from audit.models import AuditEvent
from demo.documents import pdf
from documents.models import Document
from projects.models import Programme, Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.workflows.test_concurrency import race
from tests.world import build_world, new_action
from workflows import services


@pytest.fixture
def racing_contract(committed_db):
    world = build_world()
    ville = OrganisationFactory(name=f"Ville en course {world.programme.pk}", kind="commune")
    world.users["signatory"] = UserFactory(username=f"race-signatory-{world.programme.pk}")
    world.users["mayor"] = UserFactory(username=f"race-mayor-{world.programme.pk}")
    for user, org in ((world.signatory, world.funder_org), (world.mayor, ville)):
        MembershipFactory(
            user=user, programme=world.programme, role=Role.SIGNATORY, organisation=org
        )
    world.programme = services.set_signatories(
        programme=world.programme, actor=world.coordinator, organisations=[world.funder_org, ville]
    )
    world.ville = ville
    world.anchor = new_action(world)  # ``race`` hands each thread a copy of a fiche
    return world


def test_the_last_two_signatures_at_once_bring_the_contract_into_force_once(racing_contract):
    world = racing_contract
    programme = services.transition(world.programme, "send_for_signature", actor=world.copil)
    signing = programme.signings.get()

    def sign_for(org, signer):
        signature = signing.signatures.get(organisation=org)
        return lambda _copy: services.sign(signature=signature, actor=signer)

    outcomes, _elapsed = race(
        [
            (world.anchor.pk, sign_for(world.funder_org, world.signatory)),
            (world.anchor.pk, sign_for(world.ville, world.mayor)),
        ]
    )
    assert outcomes == ["ok", "ok"], outcomes
    assert Programme.objects.get(pk=programme.pk).status == Programme.Status.IN_FORCE
    assert AuditEvent.objects.filter(programme=programme, event="enter_into_force").count() == 1
    assert verify_chain(programme_id=programme.pk).ok


def test_the_same_document_sent_twice_at_once_is_attached_once(racing_contract):
    world = racing_contract
    content = pdf("Charte des partenaires")

    def attach(_copy):
        services.attach_document(
            owner=Programme.objects.get(pk=world.programme.pk),
            actor=world.coordinator,
            file=ContentFile(content, name="charte.pdf"),
            kind="charter",
        )

    outcomes, _elapsed = race([(world.anchor.pk, attach)] * 2)
    assert sorted(map(str, outcomes)) == ["invalid", "ok"], outcomes
    assert Document.objects.filter(programme=world.programme).count() == 1
    assert verify_chain(programme_id=world.programme.pk).ok
