"""The demo's contract life: the CLS's first amendment (a year more, the CAF joining as a
signatory, a fiche annexed) prepared by the coordination, approved by the COPIL, signed by
every signatory — now in force; and its mid-term evaluation, being written."""

from __future__ import annotations

import datetime

from contracts.models import Amendment, Signature
from demo import paths
from projects.models import Programme
from workflows import services


def seed(*, cls: Programme, users: dict, orgs: dict, signers: dict) -> None:
    coordinator, copil = users["coordinatrice"], users["elue"]
    amendment = services.create_amendment(
        programme=cls,
        actor=coordinator,
        data={
            "title": "Prolongation d'un an et entrée de la CAF",
            "summary": "Le contrat est prolongé jusqu'à fin 2029 pour mener à terme l'axe "
            "« Vieillissement et autonomie ». La CAF rejoint les signataires et finance la "
            "médiation santé auprès des familles.",
            "new_end_date": datetime.date(2029, 12, 31),
        },
    )
    services.update_amendment(
        amendment=amendment,
        actor=coordinator,
        data={},
        new_signatories=[orgs["caf"]],
        annexed_actions=list(cls.actions.filter(title__startswith="Médiation santé")),
    )
    paths.signatory_memberships(cls, actor=coordinator, signers={orgs["caf"].pk: signers["caf"]})
    for name in ("submit", "approve"):
        amendment = services.transition(
            Amendment.objects.get(pk=amendment.pk),
            name,
            actor=coordinator if name == "submit" else copil,
        )
    signing = amendment.signings.order_by("-pk").first()
    everyone = {**{org.pk: signers[key] for key, org in orgs.items() if key in signers}}
    for signature in signing.signatures.filter(state=Signature.State.PENDING):
        services.sign(signature=signature, actor=everyone[signature.organisation_id])
    # The mid-term evaluation, prefilled from the data, being written.
    evaluation = services.prepare_evaluation(
        programme=Programme.objects.get(pk=cls.pk), actor=coordinator, kind="midterm"
    )
    services.write_evaluation(
        evaluation=evaluation,
        actor=coordinator,
        data={
            "findings": "L'accès aux droits progresse dans les quartiers prioritaires ; l'axe "
            "santé-environnement manque de porteurs.",
            "recommendations": "Mobiliser le service d'hygiène et les bailleurs sur l'habitat "
            "indigne ; ouvrir un groupe de travail sur la santé des aidants.",
        },
    )
