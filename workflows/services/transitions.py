"""Every lifecycle transition of Coordo, by name: ``transition(obj, "approve", actor=…)``.

The transitions themselves, their roles and rules are declared on the models; this runs them
through the runner and then their side effects, which belong to each kind of object.
"""

from __future__ import annotations

from django.db import models, transaction

from contracts.models import Amendment, Evaluation
from funding.models import FundingRequest
from projects import lifecycle
from projects.models import Action, Programme, ResidentProposal

from . import actions, contracts, funding, participation
from .runner import run_step


@transaction.atomic
def transition(
    obj: models.Model,
    name: str,
    *,
    actor,
    seen: int | None = None,
    comment: str = "",
    ip: str | None = None,
    **kwargs,
) -> models.Model:
    """Run transition ``name`` of ``obj``'s lifecycle as the actor saw it (``seen``: the
    version shown on their page). Raises ``Refused`` naming the rule that refused it."""
    if name not in lifecycle.names(type(obj)):
        raise ValueError(f"No transition {name!r} in {type(obj).__name__}'s lifecycle")
    if isinstance(obj, Action):
        run = actions.run_transition
    elif isinstance(obj, FundingRequest):
        run = funding.run_transition
    elif isinstance(obj, ResidentProposal):
        run = participation.run_transition
    elif isinstance(obj, Programme):
        run = contracts.run_programme_transition
    elif isinstance(obj, Amendment):
        run = contracts.run_amendment_transition
    elif isinstance(obj, Evaluation):
        run = contracts.run_evaluation_transition
    else:
        return run_step(obj, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs)[0]
    return run(obj, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs)
