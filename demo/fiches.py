"""A demo fiche carried to its state through the services (``demo.paths``), with the
content each guarded stage needs: a complete fiche for the COPIL, funding requests and their
decisions, measurements and an evaluation report."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from demo import paths
from projects.models import ACTIVE_STATES, Action, ActionState, Objective, Programme, Role
from workflows import services


@dataclass
class Cast:
    """Who plays each part for one programme."""

    coordinator: object
    copil: object
    funders: dict[int, object]  # funder organisation id -> a user holding that funder role
    lead_user: object | None = None  # action lead of the fiche's lead organisation

    def roles(self) -> dict[str, object]:
        return {
            Role.COORDINATOR: self.coordinator,
            Role.COPIL: self.copil,
            Role.ACTION_LEAD: self.lead_user,
        }


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


def _complete(action: Action, fiche: Fiche, cast: Cast) -> None:
    """What the COPIL needs: objective, public, dates, a budget, indicators."""
    services.update_action(
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
    staff = (total * Decimal("0.7")).quantize(Decimal("1"))
    for category, planned in (("staff", staff), ("operating", total - staff)):
        services.add_budget_line(
            action=action,
            actor=cast.coordinator,
            year=fiche.year,
            category=category,
            planned=planned,
        )
    for indicator in fiche.indicators:
        services.add_indicator(action=action, actor=cast.coordinator, **indicator)


def _request_funding(action: Action, fiche: Fiche, cast: Cast) -> None:
    for funder, scheme, amount in fiche.funding:
        request = services.create_funding_request(
            action=action,
            actor=cast.coordinator,
            funder_id=funder.pk,
            scheme=scheme,
            year=fiche.year,
            requested_amount=amount,
        )
        services.transition(request, "submit", actor=cast.coordinator)


def _decide(action: Action, fiche: Fiche, cast: Cast, *, leave_undecided: int = 0) -> None:
    """Each funder grants what was asked (the last ``leave_undecided`` still wait)."""
    requests = list(action.funding_requests.filter(state="submitted").order_by("pk"))
    for request in requests[: len(requests) - leave_undecided]:
        services.transition(
            request,
            "grant",
            actor=cast.funders[request.funder_id],
            amount=request.requested_amount,
            decision_date=datetime.date(fiche.year, 3, 1),
            reference=f"DEC-{fiche.year}-{request.pk:05d}",
        )


def _evaluate(action: Action, fiche: Fiche, cast: Cast) -> None:
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


# The reasons the demo's bodies gave (a reason is required to reject or abandon).
REASONS = {
    ActionState.REJECTED: "Action redondante avec le dispositif départemental existant.",
    ActionState.ABANDONED: "Porteur n'ayant plus les moyens de mener l'action.",
}


def bring_to(state: str, fiche: Fiche, *, programme: Programme, cast: Cast) -> Action:
    """Create the fiche and run the transitions that lead to ``state``."""
    action = services.create_action(
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

    def prepare(action: Action, transition: str) -> dict | None:
        if transition == "merge":  # into the programme's first fiche still active
            others = programme.actions.filter(state__in=ACTIVE_STATES).exclude(pk=action.pk)
            return {"into": others.order_by("pk").first()}
        if transition == "submit_to_copil":
            _complete(action, fiche, cast)
        elif transition == "open_funding":
            _request_funding(action, fiche, cast)
        elif transition == "start_implementation":
            _decide(action, fiche, cast)
        elif transition == "close":
            _evaluate(action, fiche, cast)

    action = paths.bring_to(
        action,
        state,
        cast=cast.roles(),
        prepare=prepare,
        via_funding=bool(fiche.funding),
        comment=REASONS.get(state, ""),
    )
    if state == ActionState.FUNDING:
        _decide(action, fiche, cast, leave_undecided=1)  # the last funder has not decided yet
    elif state == ActionState.EVALUATION and fiche.evaluated:
        _evaluate(action, fiche, cast)
    return Action.objects.get(pk=action.pk)
