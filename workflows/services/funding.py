"""Funding of a fiche: its requests to funders (and their decisions), the COPIL's waiver, the
planned and received payments."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funding.models import FundingRequest, Tranche
from projects import lifecycle
from projects.models import EDITABLE_STATES, Action, ActionState, Role

from .. import flows, notices
from . import contracts
from .runner import (
    Refused,
    Rule,
    check_seen,
    lock,
    record,
    roles_on,
    run_step,
    stored_upload,
    target,
    text_input,
)

# The lead prepares its fiche's requests with the coordination; filing one with the funder
# stays the coordination's, or the lead's too where the programme says so (``submit``).
REQUEST = Rule(
    gettext_lazy("Préparer une demande de financement"),
    frozenset({Role.COORDINATOR, Role.ACTION_LEAD}),
    (*EDITABLE_STATES, ActionState.VALIDATED, ActionState.FUNDING),
)
WAIVE = Rule(
    gettext_lazy("Accorder une dérogation de financement"),
    frozenset({Role.COPIL}),
    (ActionState.VALIDATED, ActionState.FUNDING),
)
# The funder of the request's organisation, or the coordination.
PLAN_PAYMENT = Rule(
    gettext_lazy("Prévoir un versement"),
    frozenset({Role.COORDINATOR, Role.FUNDER}),
    FundingRequest.GRANTED_STATES[:3],  # granted (wholly or partly), agreement signed
)
RECEIVE_PAYMENT = Rule(
    gettext_lazy("Enregistrer un versement reçu"), frozenset({Role.COORDINATOR, Role.FUNDER})
)


def on_behalf(actor, request: FundingRequest, name: str, *, roles: set[str] | None = None) -> bool:
    """Whether the actor would record this funder's decision on its behalf: a decision of the
    funder, taken by someone who is not its funder but whom the transition allows to record it
    (the coordination, with the decision letter attached)."""
    step = _step(request, name)
    held = roles_on(actor, request) if roles is None else roles
    return bool(step and step.on_behalf and not held & step.roles and held & step.on_behalf)


def _step(request: FundingRequest, name: str) -> lifecycle.Step | None:
    return lifecycle.step(FundingRequest, name, request.state)


def run_transition(
    request: FundingRequest,
    name: str,
    *,
    actor,
    seen: int | None,
    comment: str,
    ip: str | None,
    decision_letter=None,
    confirm_over_request: bool = False,
    **kwargs,
) -> FundingRequest:
    """A transition of a funding request. The funder decides (grant, refuse); the coordination
    may record the decision on the funder's behalf only with the decision letter attached,
    and the audit says so. A letter is checked by its content and size before it is stored,
    its SHA-256 is in the audit event, and it is removed again if the change is refused."""
    if (
        name == "grant"
        and kwargs.get("amount") is not None
        and kwargs["amount"] > request.requested_amount
        and not confirm_over_request
    ):
        raise Refused(
            "guard",
            _(
                "Le montant accordé ({granted} €) dépasse le montant demandé ({requested} €) : "
                "confirmez-le explicitement."
            ).format(granted=kwargs["amount"], requested=request.requested_amount),
        )
    extra_roles = frozenset()
    if on_behalf(actor, request, name):
        if decision_letter is None:
            raise Refused(
                "guard",
                _(
                    "La coordination saisit la décision d'un financeur avec son courrier de "
                    "décision joint."
                ),
            )
        extra_roles = _step(request, name).on_behalf
    with stored_upload(decision_letter, "decision_letter", "financements/decisions") as (
        stored,
        _kind,
        digest,
    ):
        extra_changes = None
        if stored:
            kwargs["letter"] = stored
            extra_changes = {"decision_letter_sha256": [None, digest]}
            if extra_roles:
                comment = (
                    f"Décision saisie par la coordination pour {request.funder}, courrier "
                    f"joint : {decision_letter.name}. {comment}"
                ).strip()
        locked, _left = run_step(
            request,
            name,
            actor=actor,
            seen=seen,
            comment=comment,
            ip=ip,
            extra_roles=extra_roles,
            extra_changes=extra_changes,
            **kwargs,
        )
        with notices.acting(actor):
            flows.sync_funder_tasks(action=locked.action, actor=actor)
            if name == "grant":  # the agreement, signed by the funder and the lead
                contracts.open_agreement_signing(locked)
        if name == "sign_agreement":  # recorded (signed on paper): no round left to sign
            contracts.cancel_agreement_signing(locked)
        if name in ("grant", "refuse"):
            notices.funder_decided(locked, name)
    return locked


@transaction.atomic
def create_funding_request(
    *,
    action: Action,
    actor,
    funder_id: int,
    scheme: str,
    year: int,
    requested_amount: Decimal,
    seen: int | None = None,
    ip: str | None = None,
) -> FundingRequest:
    locked = lock(action)
    REQUEST.check(actor, locked)
    check_seen(locked, seen)
    request = FundingRequest(
        action=locked,
        funder_id=funder_id,
        scheme=scheme,
        year=year,
        requested_amount=requested_amount,
    )
    return record(
        request,
        programme_id=locked.programme_id,
        actor=actor,
        event="create_funding_request",
        ip=ip,
    )


@transaction.atomic
def record_funding_waiver(
    *, action: Action, actor, comment: str, seen: int | None = None, ip: str | None = None
) -> Action:
    """The COPIL allows implementation without complete funding (recorded, with its reason)."""
    locked = lock(action)
    WAIVE.check(actor, locked)
    check_seen(locked, seen)
    comment = text_input(comment)
    if not comment:
        raise Refused("comment", _("La dérogation demande un motif."))
    before = locked.funding_waiver
    locked.funding_waiver = comment
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="funding_waiver",
        before={"funding_waiver": before},
        after={"funding_waiver": comment},
        comment=comment,
        ip=ip,
    )


@transaction.atomic
def add_tranche(
    *,
    request: FundingRequest,
    actor,
    label: str,
    expected_date,
    expected_amount: Decimal,
    supporting_documents: str = "",
    seen: int | None = None,
    ip: str | None = None,
) -> Tranche:
    """Plan a payment (advance, instalment, balance) of a granted request."""
    locked = lock(request)
    PLAN_PAYMENT.check(actor, locked)
    check_seen(locked, seen)
    tranche = Tranche(
        request=locked,
        label=label,
        expected_date=expected_date,
        expected_amount=expected_amount,
        supporting_documents=supporting_documents,
    )
    return record(
        tranche, programme_id=target(locked).programme_id, actor=actor, event="add_tranche", ip=ip
    )


@transaction.atomic
def record_tranche_receipt(
    *,
    tranche: Tranche,
    actor,
    received_date,
    received_amount: Decimal,
    seen: int | None = None,
    ip: str | None = None,
) -> Tranche:
    """Record that a planned payment was received (date and amount)."""
    locked = lock(tranche)
    RECEIVE_PAYMENT.check(actor, locked.request)
    check_seen(locked.request, seen)
    if locked.received_date is not None:
        raise Refused("already_moved", _("Ce versement est déjà enregistré comme reçu."))
    locked.received_date, locked.received_amount = received_date, received_amount
    return record(
        locked,
        programme_id=target(locked).programme_id,
        actor=actor,
        event="receive_tranche",
        after={"received_date": received_date, "received_amount": received_amount},
        ip=ip,
    )
