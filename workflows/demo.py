"""Bring a fiche action to any state of its lifecycle through the services.

Used by ``seed_demo``: every state of the demo is reached by the same transitions a user would
run, so the demo's audit trail is real.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from projects.models import Action, ActionState, Objective, Programme

from . import services

# The order in which the lifecycle reaches each state (rejected and abandoned branch off).
PATH = (
    ActionState.DRAFT,
    ActionState.CO_CONSTRUCTION,
    ActionState.COPIL_REVIEW,
    ActionState.VALIDATED,
    ActionState.FUNDING,
    ActionState.IMPLEMENTATION,
    ActionState.EVALUATION,
    ActionState.CLOSED,
)


@dataclass
class Cast:
    """Who plays each part for one programme."""

    coordinator: object
    copil: object
    funders: dict[int, object]  # funder organisation id -> a user holding that funder role
    lead_user: object | None = None  # action lead of the fiche's lead organisation


@dataclass
class Fiche:
    """What the fiche says, enough to carry it through the whole lifecycle."""

    title: str
    objective: Objective
    lead_organisation: object
    target_public: str
    context: str = ""
    territory: str = ""
    working_group: object | None = None
    participation_level: str = "concertation"
    year: int = 2026
    # (funder organisation, scheme, amount requested)
    funding: list[tuple[object, str, Decimal]] = field(default_factory=list)
    own_funds: Decimal = Decimal("0")
    indicators: list[dict] = field(default_factory=list)
    # In evaluation: measurements and evaluation report already written (ready to be closed).
    evaluated: bool = False


def create(fiche: Fiche, *, programme: Programme, cast: Cast) -> Action:
    return services.create_action(
        programme=programme,
        actor=cast.coordinator,
        data={
            "title": fiche.title,
            "context": fiche.context,
            "territory": fiche.territory,
            "lead_organisation": fiche.lead_organisation,
            "working_group": fiche.working_group,
            "participation_level": fiche.participation_level,
        },
    )


def _complete(action: Action, fiche: Fiche, cast: Cast) -> Action:
    action = services.update_action(
        action=action,
        actor=cast.coordinator,
        data={
            "objective": fiche.objective,
            "target_public": fiche.target_public,
            "planned_start": datetime.date(fiche.year, 1, 15),
            "planned_end": datetime.date(fiche.year, 12, 15),
            "own_funds": fiche.own_funds,
        },
    )
    total = sum((amount for _, _, amount in fiche.funding), Decimal("0")) + fiche.own_funds
    services.add_budget_line(
        action=action,
        actor=cast.coordinator,
        year=fiche.year,
        category="staff",
        planned=(total * Decimal("0.7")).quantize(Decimal("1")),
    )
    services.add_budget_line(
        action=action,
        actor=cast.coordinator,
        year=fiche.year,
        category="operating",
        planned=total - (total * Decimal("0.7")).quantize(Decimal("1")),
    )
    for indicator in fiche.indicators:
        services.add_indicator(action=action, actor=cast.coordinator, **indicator)
    return Action.objects.get(pk=action.pk)


def _fund(action: Action, fiche: Fiche, cast: Cast, *, decide: bool) -> Action:
    requests = [
        services.create_funding_request(
            action=action,
            actor=cast.coordinator,
            funder_id=funder.pk,
            scheme=scheme,
            year=fiche.year,
            requested_amount=amount,
        )
        for funder, scheme, amount in fiche.funding
    ]
    action = services.open_funding(action=Action.objects.get(pk=action.pk), actor=cast.coordinator)
    for i, request in enumerate(requests):
        request = services.funding_transition(
            request=request, name="submit", actor=cast.coordinator
        )
        # In the "funding" state the last request still awaits its funder's decision.
        if decide or i < len(requests) - 1:
            services.funding_transition(
                request=request,
                name="grant",
                actor=cast.funders[request.funder_id],
                amount=request.requested_amount,
                decision_date=datetime.date(fiche.year, 3, 1),
                reference=f"DEC-{fiche.year}-{request.pk:05d}",
            )
    return Action.objects.get(pk=action.pk)


def _evaluate(action: Action, fiche: Fiche, cast: Cast) -> Action:
    author = cast.lead_user or cast.coordinator
    for indicator in action.indicators.all():
        services.record_measurement(
            indicator=indicator,
            actor=author,
            date=datetime.date(fiche.year, 12, 1),
            value=indicator.target if indicator.target is not None else Decimal("1"),
            source="Bilan d'activité du porteur",
        )
    services.write_evaluation_report(
        action=action,
        actor=author,
        achievements="Les séances prévues ont été tenues ; le public visé a été atteint.",
        difficulties="Mobilisation plus lente que prévu au premier trimestre.",
        participation="Habitants associés au comité de suivi de l'action.",
        recommendations="Reconduire l'action en élargissant aux communes voisines.",
    )
    return Action.objects.get(pk=action.pk)


def bring_to(
    state: str, fiche: Fiche, *, programme: Programme, cast: Cast, comment: str = ""
) -> Action:
    """Create the fiche and run the transitions that lead to ``state``."""
    action = create(fiche, programme=programme, cast=cast)
    if state == ActionState.ABANDONED:
        action = services.start_co_construction(action=action, actor=cast.coordinator)
        return services.abandon(
            action=action, actor=cast.copil, comment=comment or "Porteur n'ayant plus les moyens"
        )
    if state == ActionState.REJECTED:
        target_index = PATH.index(ActionState.COPIL_REVIEW)
    else:
        target_index = PATH.index(state)
    for step in PATH[1 : target_index + 1]:
        if step == ActionState.CO_CONSTRUCTION:
            action = services.start_co_construction(action=action, actor=cast.coordinator)
        elif step == ActionState.COPIL_REVIEW:
            action = services.submit_to_copil(
                action=_complete(action, fiche, cast), actor=cast.coordinator
            )
        elif step == ActionState.VALIDATED:
            action = services.approve(action=action, actor=cast.copil, comment=comment)
        elif step == ActionState.FUNDING:
            action = _fund(action, fiche, cast, decide=state != ActionState.FUNDING)
        elif step == ActionState.IMPLEMENTATION:
            action = services.start_implementation(action=action, actor=cast.coordinator)
        elif step == ActionState.EVALUATION:
            action = services.finish_implementation(
                action=action, actor=cast.lead_user or cast.coordinator
            )
            if fiche.evaluated and state == ActionState.EVALUATION:
                action = _evaluate(action, fiche, cast)
        elif step == ActionState.CLOSED:
            action = services.close(action=_evaluate(action, fiche, cast), actor=cast.copil)
    if state == ActionState.REJECTED:
        action = services.reject(
            action=action,
            actor=cast.copil,
            comment=comment or "Action redondante avec le dispositif départemental existant.",
        )
    return action
