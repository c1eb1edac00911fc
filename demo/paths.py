"""Bringing a fiche to any state of its lifecycle, the way people would: through the services,
by the roles the lifecycle names, so that every state reached carries a real audit trail.

The route is found in the lifecycle declared on ``Action`` (``projects.lifecycle.path``);
who runs each transition is read from its roles; what must be true before a guarded transition
(a complete fiche before the COPIL, requests before funding opens…) is the caller's to
provide through ``prepare``, because the demo and the tests fill fiches with different content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from contracts.models import Signature
from projects import lifecycle
from projects.models import Action, ActionState, Membership, Programme, Role
from workflows import services

# When several roles may run a transition, who does it here: the people closest to the action.
PLAYERS = (Role.ACTION_LEAD, Role.COORDINATOR, Role.COPIL, Role.FUNDER)
DEFAULT_REASON = "Décision motivée"


def route(target: str, *, via_funding: bool) -> list[str]:
    """The transitions from a draft to ``target``; through the funding stage when the fiche
    has funding to seek and the shortest route would skip it."""
    plain = lifecycle.path(Action, ActionState.DRAFT, target)
    if via_funding and "start_implementation" in plain and "open_funding" not in plain:
        return lifecycle.path(Action, ActionState.DRAFT, target, via=(ActionState.FUNDING,))
    return plain


def player(cast: Mapping[str, object], roles: frozenset[str]):
    """The member of ``cast`` (role → user) who runs a transition open to ``roles``."""
    for role in PLAYERS:
        if role in roles and cast.get(role) is not None:
            return cast[role]
    raise LookupError(f"Nobody in the cast holds one of {sorted(roles)}")


def bring_to(
    action: Action,
    target: str,
    *,
    cast: Mapping[str, object],
    prepare: Callable[[Action, str], dict | None] | None = None,
    via_funding: bool = False,
    comment: str = "",
) -> Action:
    """Run the transitions that lead ``action`` (a draft) to ``target``. Before each one,
    ``prepare(action, transition)`` may add what its guard needs, and return what the
    transition takes (the fiche to merge into…); ``comment`` is the reason given where one is
    required (rejecting, abandoning…)."""
    for name in route(target, via_funding=via_funding):
        action = Action.objects.get(pk=action.pk)
        extra = {}
        if prepare is not None:
            extra = prepare(action, name) or {}
            action = Action.objects.get(pk=action.pk)
        step = lifecycle.step(Action, name, action.state)
        action = services.transition(
            action,
            name,
            actor=player(cast, step.roles),
            comment=(comment or DEFAULT_REASON) if step.reason_required else "",
            **extra,
        )
    return action


def contract_signed(programme, *, copil, signers: Mapping[int, object]):
    """Send the contract for signature (the COPIL) and have each signatory organisation sign
    (``signers``: organisation id → a person who signs for it): the last signature brings it
    into force."""
    programme = services.transition(programme, "send_for_signature", actor=copil)
    signing = programme.signings.order_by("-pk").first()
    for signature in signing.signatures.filter(state=Signature.State.PENDING):
        services.sign(signature=signature, actor=signers[signature.organisation_id])
    return Programme.objects.get(pk=programme.pk)


def signatory_memberships(programme, *, actor, signers: Mapping[int, object]) -> None:
    """Each signatory organisation's person, member of the programme as its signatory."""
    for organisation_id, user in signers.items():
        if not Membership.objects.filter(
            programme=programme, user=user, role=Role.SIGNATORY, organisation_id=organisation_id
        ).exists():
            services.save_structure(
                Membership(
                    user=user,
                    programme=programme,
                    role=Role.SIGNATORY,
                    organisation_id=organisation_id,
                ),
                actor=actor,
            )
