"""A demo fiche carried to its state through the services (``demo.paths``), with the
content each guarded stage needs: a complete fiche for the COPIL, funding requests and their
decisions, measurements and an evaluation report. Two fiches of the Val-de-Lys CLS carry a
detailed financing plan (``PLANS``): one short of funding, one with more than it needs."""

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


@dataclass(frozen=True)
class PlanLine:
    """A labelled line of a detailed financing plan, and what it cost once carried out."""

    category: str
    label: str
    planned: Decimal
    actual: Decimal = Decimal("0")


E = Decimal
# Detailed financing plans, by fiche title (the others get two lines built from what they
# request). The first fiche, still seeking funding, plans 21 000 € for 18 000 € requested and
# 500 € of own funds: 2 500 € remain to find even if every funder grants. The second, being
# carried out, plans 15 800 € for 16 000 € granted and 500 € of own funds: a 700 € surplus,
# and what each line has cost so far.
PLANS = {
    "Permanences d'accès aux droits santé en QPV": (
        PlanLine("staff", "Médiatrice santé (0,5 ETP)", E(14000)),
        PlanLine("staff", "Vacations d'un travailleur social", E(3000)),
        PlanLine("operating", "Location du local de permanence", E(2400)),
        PlanLine("operating", "Déplacements dans les quartiers", E(600)),
        PlanLine("communication", "Affiches et flyers en trois langues", E(1000)),
    ),
    "Repérage de l'habitat indigne et accompagnement": (
        PlanLine("staff", "Technicien d'hygiène (visites à domicile)", E(8000), E(5200)),
        PlanLine("staff", "Conseillère habitat-santé", E(4000), E(2600)),
        PlanLine("services", "Diagnostics plomb et humidité", E(2500), E(1900)),
        PlanLine("equipment", "Détecteurs d'humidité et de monoxyde de carbone", E(800), E(800)),
        PlanLine("communication", "Guide « Un logement sain »", E(500)),
    ),
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
    # Its territory, among the programme's places (none: the whole territory).
    places: list = field(default_factory=list)
    vulnerable_public: bool = False


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
    for line in _plan(fiche):
        services.add_budget_line(
            action=action,
            actor=cast.coordinator,
            year=fiche.year,
            category=line.category,
            label=line.label,
            planned=line.planned,
        )
    for indicator in fiche.indicators:
        services.add_indicator(action=action, actor=cast.coordinator, **indicator)


def _plan(fiche: Fiche) -> tuple[PlanLine, ...]:
    """The fiche's detailed plan, or two lines (staff, operating) covering exactly what it
    requests and its own funds, named after their categories."""
    if fiche.title in PLANS:
        return PLANS[fiche.title]
    total = sum((amount for _, _, amount in fiche.funding), Decimal("0")) + fiche.own_funds
    staff = (total * Decimal("0.7")).quantize(Decimal("1"))
    return (PlanLine("staff", "", staff), PlanLine("operating", "", total - staff))


def _enter_actuals(action: Action, fiche: Fiche, cast: Cast) -> None:
    """What the lines of a detailed plan cost so far, entered by the fiche's lead (or the
    coordination when its organisation has no one in Coordo)."""
    actual = {(line.category, line.label): line.actual for line in PLANS.get(fiche.title, ())}
    for line in action.budget_lines.order_by("pk"):
        if actual.get((line.category, line.label)):
            services.record_budget_actual(
                line=line,
                actor=cast.lead_user or cast.coordinator,
                actual=actual[(line.category, line.label)],
            )


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
            "vulnerable_public": fiche.vulnerable_public,
        },
        places=fiche.places,
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
    if state in (ActionState.IMPLEMENTATION, ActionState.EVALUATION):
        _enter_actuals(action, fiche, cast)
    if state in (ActionState.IMPLEMENTATION, ActionState.EVALUATION, ActionState.CLOSED):
        _agreements_on_paper(action, fiche, cast)
    return Action.objects.get(pk=action.pk)


def _agreements_on_paper(action: Action, fiche: Fiche, cast: Cast) -> None:
    """Fiches under way signed their funding agreements before Coordo: the coordination
    records them (which closes the rounds of signatures the grants opened)."""
    for request in action.funding_requests.filter(state__in=("granted", "partially_granted")):
        services.transition(
            request,
            "sign_agreement",
            actor=cast.coordinator,
            reference=f"CONV-{fiche.year}-{request.pk:05d}",
            date=datetime.date(fiche.year, 4, 1),
        )
