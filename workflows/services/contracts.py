"""The contract's life: rounds of signatures (the contract when the COPIL sends it, an
amendment the COPIL approved, a funding agreement once granted), amendments, and the
contract's evaluations.

A round asks one signature of each organisation, in parallel (each its own task). Whoever
holds the role the round asks of an organisation (signatory; for an agreement, the funder and
the action lead) signs for it, optionally with the signed copy (checked by content,
fingerprinted). The last signature completes the round under the round's row lock, and its
effect follows by itself: the contract or the amendment enters into force (the amendment's
changes apply), the agreement is recorded. A refusal, with its reason, ends the round: the
contract or the amendment goes back to drafting.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import chain
from contracts.models import Amendment, Evaluation, Signature, Signing
from funding.models import FundingRequest
from projects.models import Programme, Role
from projects.permissions import holds_role
from reporting.contract import contract_figures

from .. import flows, notices
from .runner import (
    Refused,
    Rule,
    check_seen,
    lock,
    record,
    run_step,
    stored_upload,
    text_input,
    validated,
)

PREPARE = Rule(_("Préparer un avenant ou une évaluation du contrat"), frozenset({Role.COORDINATOR}))


# --- rounds of signatures --------------------------------------------------------------------


def _open(signing: Signing, wanted: list[tuple[int, str]]) -> Signing:
    """The round with one signature per (organisation, role), and its tasks."""
    signing.save()
    Signature.objects.bulk_create(
        Signature(signing=signing, organisation_id=org, role=role) for org, role in wanted
    )
    flows.open_signing(signing=signing)
    return signing


def _contract_signatories(programme: Programme) -> list[tuple[int, str]]:
    return [(pk, Role.SIGNATORY) for pk in programme.signatories.values_list("pk", flat=True)]


def open_agreement_signing(request: FundingRequest) -> Signing | None:
    """Once a funder grants: the funding agreement, signed by the funder and the fiche's lead
    organisation (if it has one), in parallel."""
    wanted = [(request.funder_id, Role.FUNDER)]
    if request.action.lead_organisation_id:
        wanted.append((request.action.lead_organisation_id, Role.ACTION_LEAD))
    signing = Signing(
        programme_id=request.action.programme_id,
        subject=Signing.Subject.AGREEMENT,
        funding_request=request,
    )
    return _open(signing, wanted)


def _may_sign(actor, signature: Signature) -> bool:
    return holds_role(
        actor,
        programme_id=signature.signing.programme_id,
        roles={signature.role},
        scopes={signature.role: signature.organisation_id},
    )


def _locked_round(signature: Signature, actor, seen: int | None) -> tuple[Signing, Signature]:
    signing = lock(signature.signing)
    signature = Signature.objects.select_related("organisation").get(pk=signature.pk)
    if not _may_sign(actor, signature):
        raise Refused(
            "role",
            _("Seule une personne habilitée par {organisation} signe pour elle.").format(
                organisation=signature.organisation
            ),
        )
    # The organisations sign in parallel: the others' signatures given since the page was
    # opened do not make it stale (this one's own state and the round's end are checked below).
    if seen is not None and all(e.event == "sign" for e in chain.changes_since(signing, seen)):
        seen = None
    check_seen(signing, seen)
    if signing.outcome or signature.state != Signature.State.PENDING:
        raise Refused("already_moved", _("Cette signature n'est plus attendue."))
    return signing, signature


@transaction.atomic
def sign(
    *,
    signature: Signature,
    actor,
    document=None,
    seen: int | None = None,
    ip: str | None = None,
) -> Signature:
    """Sign for the organisation (optionally with the signed copy); the last signature
    completes the round and its effect."""
    signing, signature = _locked_round(signature, actor, seen)
    changes = {"organisation": [None, signature.organisation.name]}
    with stored_upload(document, "signed_copy", "contrats/signatures") as (stored, _kind, digest):
        if stored:
            signature.signed_copy, signature.signed_copy_sha256 = stored, digest
            changes["signed_copy_sha256"] = [None, digest]
        signature.state = Signature.State.SIGNED
        signature.signed_by, signature.signed_at = actor, timezone.now()
        signature.save()
        chain.record(
            programme_id=signing.programme_id,
            actor=actor,
            obj=signing,
            event="sign",
            changes=changes,
            ip=ip,
        )
        flows.close_signature_tasks(signing=signing, actor=actor)
        if not signing.signatures.exclude(state=Signature.State.SIGNED).exists():
            _complete(signing, actor, ip)
    return signature


def _complete(signing: Signing, actor, ip: str | None) -> None:
    """Everyone signed: the round is closed and its effect follows, in the signer's name."""
    signing.outcome, signing.closed_at = Signing.Outcome.SIGNED, timezone.now()
    signing.save(update_fields=["outcome", "closed_at"])
    comment = chain.in_trail_language(lambda: _("Toutes les signatures sont recueillies."))
    if signing.subject == Signing.Subject.CONTRACT:
        run_step(
            signing.programme,
            "enter_into_force",
            actor=actor,
            comment=comment,
            ip=ip,
            extra_roles=frozenset({Role.SIGNATORY}),
        )
    elif signing.subject == Signing.Subject.AMENDMENT:
        amendment, _left = run_step(
            signing.amendment,
            "enter_into_force",
            actor=actor,
            comment=comment,
            ip=ip,
            extra_roles=frozenset({Role.SIGNATORY}),
        )
        _apply(amendment, actor, ip)
    else:
        run_step(
            signing.funding_request,
            "sign_agreement",
            actor=actor,
            comment=comment,
            ip=ip,
            extra_roles=frozenset({Role.FUNDER, Role.ACTION_LEAD}),
            reference=_("Convention signée dans Coordo (tour n° {pk})").format(pk=signing.pk),
            date=timezone.localdate(),
        )
    notices.signing_complete(signing)


def _apply(amendment: Amendment, actor, ip: str | None) -> None:
    """An amendment in force: its new end date and its new signatories apply to the
    programme, in one audit event naming the amendment (the effect of the signatures: no
    set-up right is asked of the last signer)."""
    amendment.in_force_at = timezone.now()
    amendment.save(update_fields=["in_force_at"])
    programme = lock(amendment.programme)
    before = {"end_date": programme.end_date, "signatories": _names(programme.signatories.all())}
    if amendment.new_end_date:
        programme.end_date = amendment.new_end_date
        validated(programme)
        programme.save(update_fields=["end_date"])
    programme.signatories.add(*amendment.new_signatories.all())
    after = {"end_date": programme.end_date, "signatories": _names(programme.signatories.all())}
    chain.record(
        programme_id=programme.pk,
        actor=actor,
        obj=programme,
        event="apply_amendment",
        changes=chain.field_changes(before, after),
        comment=chain.in_trail_language(lambda: str(amendment)),
        ip=ip,
    )


@transaction.atomic
def refuse(
    *, signature: Signature, actor, reason: str, seen: int | None = None, ip: str | None = None
) -> Signature:
    """Refuse to sign, with the reason: the round ends, the contract or the amendment goes
    back to drafting (an agreement stays granted: the coordination may record one signed on
    paper)."""
    signing, signature = _locked_round(signature, actor, seen)
    reason = text_input(reason)
    if not reason:
        raise Refused("comment", _("Dites pourquoi vous ne signez pas."))
    signature.state, signature.reason = Signature.State.REFUSED, reason
    signature.signed_by, signature.signed_at = actor, timezone.now()
    signature.save()
    signing.outcome, signing.closed_at = Signing.Outcome.REFUSED, timezone.now()
    signing.save(update_fields=["outcome", "closed_at"])
    signing.signatures.filter(state=Signature.State.PENDING).update(state=Signature.State.CANCELLED)
    chain.record(
        programme_id=signing.programme_id,
        actor=actor,
        obj=signing,
        event="refuse_signature",
        changes={"organisation": [None, signature.organisation.name]},
        comment=reason,
        ip=ip,
    )
    flows.close_signature_tasks(signing=signing, actor=actor)
    extra = frozenset({Role.SIGNATORY})
    if signing.subject == Signing.Subject.CONTRACT:
        run_step(
            signing.programme,
            "signature_refused",
            actor=actor,
            comment=reason,
            ip=ip,
            extra_roles=extra,
        )
    elif signing.subject == Signing.Subject.AMENDMENT:
        run_step(
            signing.amendment,
            "signature_refused",
            actor=actor,
            comment=reason,
            ip=ip,
            extra_roles=extra,
        )
    notices.signing_refused(signing, signature)
    return signature


def cancel_agreement_signing(request: FundingRequest) -> None:
    """An agreement recorded on paper by the coordination: the open round has no object."""
    for signing in Signing.objects.select_for_update().filter(funding_request=request, outcome=""):
        signing.outcome, signing.closed_at = Signing.Outcome.CANCELLED, timezone.now()
        signing.save(update_fields=["outcome", "closed_at"])
        signing.signatures.filter(state=Signature.State.PENDING).update(
            state=Signature.State.CANCELLED
        )
        flows.close_signature_tasks(signing=signing, actor=None)


# --- transitions that open rounds ------------------------------------------------------------


def run_programme_transition(
    programme: Programme, name: str, *, actor, seen, comment: str, ip: str | None, **kwargs
) -> Programme:
    """A transition of the programme's lifecycle; sending the contract for signature opens
    the round of its signatories."""
    locked, _left = run_step(
        programme, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs
    )
    if name == "send_for_signature":
        _open(
            Signing(programme=locked, subject=Signing.Subject.CONTRACT),
            _contract_signatories(locked),
        )
    return locked


def run_amendment_transition(
    amendment: Amendment, name: str, *, actor, seen, comment: str, ip: str | None, **kwargs
) -> Amendment:
    """A transition of an amendment; once the COPIL approves it, the round of the programme's
    signatories and of the amendment's new ones opens."""
    locked, _left = run_step(
        amendment, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs
    )
    if name == "submit":
        with notices.acting(actor):
            notices.for_copil(locked)
    if name == "approve":
        wanted = _contract_signatories(locked.programme)
        wanted += [
            (pk, Role.SIGNATORY)
            for pk in locked.new_signatories.values_list("pk", flat=True)
            if (pk, Role.SIGNATORY) not in wanted
        ]
        _open(
            Signing(
                programme=locked.programme, subject=Signing.Subject.AMENDMENT, amendment=locked
            ),
            wanted,
        )
    return locked


def run_evaluation_transition(
    evaluation: Evaluation, name: str, *, actor, seen, comment: str, ip: str | None, **kwargs
) -> Evaluation:
    """A transition of an evaluation of the contract; submitted, it is the COPIL's to adopt."""
    locked, _left = run_step(
        evaluation, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs
    )
    if name == "submit":
        with notices.acting(actor):
            notices.for_copil(locked)
    return locked


# --- amendments ------------------------------------------------------------------------------

AMENDMENT_FIELDS = ("title", "summary", "new_end_date")


@transaction.atomic
def create_amendment(
    *, programme: Programme, actor, data: dict, ip: str | None = None
) -> Amendment:
    """A new amendment, numbered after the programme's last one (the coordination drafts it)."""
    programme = lock(programme)
    PREPARE.check(actor, programme)
    if programme.status not in (Programme.Status.IN_FORCE, Programme.Status.FINAL_EVALUATION):
        raise Refused("state", _("Un avenant modifie un contrat en vigueur."))
    number = (
        programme.amendments.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    amendment = Amendment(
        programme=programme,
        number=number,
        created_by=actor,
        **{
            k: text_input(v) if isinstance(v, str) else v
            for k, v in data.items()
            if k in AMENDMENT_FIELDS
        },
    )
    record(
        amendment,
        programme_id=programme.pk,
        actor=actor,
        event="create_amendment",
        after={k: getattr(amendment, k) for k in ("number", *AMENDMENT_FIELDS)},
        ip=ip,
    )
    return amendment


@transaction.atomic
def update_amendment(
    *,
    amendment: Amendment,
    actor,
    data: dict,
    new_signatories=None,
    annexed_actions=None,
    seen: int | None = None,
    ip: str | None = None,
) -> Amendment:
    """Edit the amendment while it is being prepared: what changes, the new end date, the new
    signatories, the fiches annexed."""
    locked = lock(amendment)
    PREPARE.check(actor, locked)
    check_seen(locked, seen)
    if locked.status != Amendment.Status.DRAFTING:
        raise Refused("state", _("L'avenant ne se modifie plus : il a quitté la préparation."))
    before = {k: getattr(locked, k) for k in AMENDMENT_FIELDS} | {
        "new_signatories": _names(locked.new_signatories.all()),
        "annexed_actions": _names(locked.annexed_actions.all()),
    }
    for key, value in data.items():
        if key in AMENDMENT_FIELDS:
            setattr(locked, key, text_input(value) if isinstance(value, str) else value)
    validated(locked)
    locked.save()
    if new_signatories is not None:
        locked.new_signatories.set(new_signatories)
    if annexed_actions is not None:
        if any(a.programme_id != locked.programme_id for a in annexed_actions):
            raise Refused("invalid", _("Les fiches annexées sont celles du dispositif."))
        locked.annexed_actions.set(annexed_actions)
    after = {k: getattr(locked, k) for k in AMENDMENT_FIELDS} | {
        "new_signatories": _names(locked.new_signatories.all()),
        "annexed_actions": _names(locked.annexed_actions.all()),
    }
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="update_amendment",
        changes=chain.field_changes(before, after),
        ip=ip,
    )
    return locked


def _names(objects) -> str:
    return ", ".join(sorted(str(o) for o in objects))


# --- the contract's evaluations --------------------------------------------------------------

EVALUATION_FIELDS = ("findings", "recommendations")


@transaction.atomic
def prepare_evaluation(
    *, programme: Programme, actor, kind: str, ip: str | None = None
) -> Evaluation:
    """Open (or refresh the figures of) the mid-term or final evaluation, prefilled per axis
    with what the data says (fiches done, running, dropped; indicators reached; funding
    obtained; participation)."""
    programme = lock(programme)
    PREPARE.check(actor, programme)
    if kind not in Evaluation.Kind.values:
        raise Refused("invalid", _("Évaluation inconnue."))
    if kind == Evaluation.Kind.FINAL and programme.status != Programme.Status.FINAL_EVALUATION:
        raise Refused(
            "state", _("L'évaluation finale s'écrit une fois l'évaluation finale ouverte.")
        )
    if programme.status not in (Programme.Status.IN_FORCE, Programme.Status.FINAL_EVALUATION):
        raise Refused("state", _("Une évaluation porte sur un contrat en vigueur."))
    evaluation = (
        Evaluation.objects.select_for_update().filter(programme=programme, kind=kind).first()
    )
    if evaluation is not None and evaluation.status != Evaluation.Status.DRAFTING:
        raise Refused("state", _("Cette évaluation n'est plus en rédaction."))
    creating = evaluation is None
    evaluation = evaluation or Evaluation(programme=programme, kind=kind)
    evaluation.figures = contract_figures(programme)
    evaluation.figures_at = timezone.now()
    return record(
        evaluation,
        programme_id=programme.pk,
        actor=actor,
        event="prepare_evaluation",
        after={"kind": evaluation.get_kind_display(), "figures_at": evaluation.figures_at},
        comment="" if creating else _("Chiffres mis à jour."),
        ip=ip,
    )


@transaction.atomic
def write_evaluation(
    *, evaluation: Evaluation, actor, data: dict, seen: int | None = None, ip: str | None = None
) -> Evaluation:
    locked = lock(evaluation)
    PREPARE.check(actor, locked)
    check_seen(locked, seen)
    if locked.status != Evaluation.Status.DRAFTING:
        raise Refused("state", _("Cette évaluation n'est plus en rédaction."))
    before = {k: getattr(locked, k) for k in EVALUATION_FIELDS}
    for key in EVALUATION_FIELDS:
        if key in data:
            setattr(locked, key, text_input(data[key]))
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="write_evaluation",
        before=before,
        after={k: getattr(locked, k) for k in EVALUATION_FIELDS},
        ip=ip,
    )
