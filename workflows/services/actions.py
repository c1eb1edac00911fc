"""Fiches actions: proposing (any member), co-constructing (the fiche, its budget, its
indicators), commenting, the COTECH's opinions, and the side effects of their transitions (the
version frozen for the COPIL, the opinions asked, the text of a merged proposal kept in the
fiche it joins, the tasks that follow the state)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit import chain
from evaluation.models import Indicator
from funding.models import BudgetLine
from projects.models import (
    EDITABLE_STATES,
    Action,
    ActionSnapshot,
    ActionState,
    Membership,
    Opinion,
    Origin,
    Place,
    Programme,
    Role,
)
from projects.permissions import holds_role, roles_in

from .. import flows, notices
from .runner import Refused, Rule, check_seen, lock, record, run_step, text_input, validated

FICHE_EDITORS = frozenset({Role.COORDINATOR, Role.WG_MEMBER, Role.ACTION_LEAD})
# Every member proposes (the seeds: « la proposition d'actions » is the task to share); the
# ARS referent reads and changes nothing.
MEMBERS = frozenset(Role) - {Role.ARS_REFERENT}
PROPOSE = Rule(_("Proposer une action"), MEMBERS)
# The proposer edits their proposal until the coordination takes it up.
EDIT = Rule(
    _("Modifier la fiche"),
    FICHE_EDITORS,
    EDITABLE_STATES,
    proposer_states=(ActionState.DRAFT,),
)
COMMENT = Rule(_("Commenter la fiche"), FICHE_EDITORS | {Role.COPIL, Role.COTECH})
OPINE = Rule(_("Rendre l'avis du COTECH"), frozenset({Role.COTECH}), (ActionState.COPIL_REVIEW,))
# Budget lines are added, changed and removed with the fiche (``EDIT``: before the COPIL);
# what they actually cost is entered while the fiche is carried out and evaluated, by the
# coordination or the lead of the fiche's organisation.
ENTER_ACTUAL = Rule(
    _("Saisir le réalisé du budget"),
    frozenset({Role.COORDINATOR, Role.ACTION_LEAD}),
    (ActionState.IMPLEMENTATION, ActionState.EVALUATION),
)


def _fiche_values(action: Action, places: list[Place] | None = None) -> dict[str, object]:
    """The fiche's fields as a reader of the audit trail wants them (names of related
    objects, not ids), in the trail's language whatever the language of the person acting;
    ``places``: its territory about to be saved (None: as stored)."""
    with translation.override(settings.LANGUAGE_CODE):
        values = {name: chain.json_value(getattr(action, name)) for name in Action.FICHE_FIELDS}
        if places is None:
            places = list(action.places.all()) if action.pk else []
        values["places"] = place_names(places)
        return values


def place_names(places) -> str:
    """A fiche's territory in words: its places, or the whole territory when it picks none."""
    names = [str(p) for p in sorted(places, key=Place.reading_key)]
    return ", ".join(names) or str(_("Tout le territoire du dispositif"))


def _checked_places(programme_id: int, places) -> list[Place] | None:
    """The places chosen for a fiche, each of its own programme's territory."""
    if places is None:
        return None
    places = list(places)
    if any(p.programme_id != programme_id for p in places):
        message = _("Choisissez des lieux du territoire de ce dispositif.")
        raise Refused("invalid", message, {"places": [message]})
    return places


def _fiche_data(data: dict) -> dict:
    unknown = set(data) - set(Action.FICHE_FIELDS)
    if unknown:
        raise ValueError(f"Not fiche fields: {sorted(unknown)}")
    return data


def proposal_refusal(actor, programme: Programme, roles: set[str] | None = None):
    """Any member proposes, whatever the scope of their role (the action lead of one
    organisation, the member of one working group…)."""
    held = roles_in(actor, programme.pk) if roles is None else roles
    return PROPOSE.refusal(actor, programme, roles=held)


@transaction.atomic
def create_action(
    *,
    programme: Programme,
    actor,
    data: dict,
    origin: str = "",
    places=None,
    ip: str | None = None,
) -> Action:
    """A fiche proposed by a member (state: proposed), credited to them, with its process: the
    coordination's task is to triage it (take it up, merge it, or not). ``places``: its
    territory, among the programme's places (none: the whole territory)."""
    refusal = proposal_refusal(actor, programme)
    if refusal:
        raise refusal
    places = _checked_places(programme.pk, places) or []
    if not origin:
        coordinates = holds_role(actor, programme_id=programme.pk, roles={Role.COORDINATOR})
        origin = Origin.COORDINATION if coordinates else Origin.MEMBER
    action = Action(programme=programme, created_by=actor, origin=origin, **_fiche_data(data))
    record(
        action,
        programme_id=programme.pk,
        actor=actor,
        event="create",
        after=_fiche_values(action, places) | {"origin": origin},
        to_state=action.state,
        ip=ip,
    )
    action.places.set(places)
    with notices.acting(actor):
        flows.start(action=action)
    return action


@transaction.atomic
def update_action(
    *,
    action: Action,
    actor,
    data: dict,
    places=None,
    seen: int | None = None,
    ip: str | None = None,
) -> Action:
    """Co-construction: change fields of the fiche (and its territory: ``places``, None to
    keep it); one audit event with the changed fields, refused if the fiche changed after the
    version the actor edited (``seen``)."""
    _fiche_data(data)
    locked = lock(action)
    EDIT.check(actor, locked)
    check_seen(locked, seen)
    places = _checked_places(locked.programme_id, places)
    before = _fiche_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    after = _fiche_values(locked, places)
    if before == after:
        return locked
    record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="update",
        before=before,
        after=after,
        ip=ip,
    )
    if places is not None:
        locked.places.set(places)
    return locked


@transaction.atomic
def comment_action(*, action: Action, actor, text: str, ip: str | None = None) -> Action:
    """A contribution to the fiche's discussion (co-construction, COTECH opinion...)."""
    locked = lock(action)
    COMMENT.check(actor, locked)
    text = text_input(text)
    if not text:
        raise Refused("comment", _("Le commentaire est vide."))
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="comment",
        comment=text,
        ip=ip,
    )
    return locked


def _part(action: Action, actor, seen: int | None) -> Action:
    """The fiche, locked and checked before one of its parts is added."""
    locked = lock(action)
    EDIT.check(actor, locked)
    check_seen(locked, seen)
    return locked


def _line_label(label: str, category: str) -> str:
    """The label typed, or the category's name (in the trail's language) when none is."""
    label = text_input(label)
    if label or category not in BudgetLine.Category.values:
        return label
    with translation.override(settings.LANGUAGE_CODE):
        return str(BudgetLine.Category(category).label)


@transaction.atomic
def add_budget_line(
    *,
    action: Action,
    actor,
    year: int,
    category: str,
    planned: Decimal,
    actual: Decimal = Decimal("0"),
    label: str = "",
    seen: int | None = None,
    ip: str | None = None,
) -> BudgetLine:
    """A line of the financing plan (several per category and year, each with its label;
    without one, the category's name)."""
    locked = _part(action, actor, seen)
    line = BudgetLine(
        action=locked,
        year=year,
        category=category,
        label=_line_label(label, category),
        planned=planned,
        actual=actual,
    )
    return record(
        line, programme_id=locked.programme_id, actor=actor, event="add_budget_line", ip=ip
    )


def _budget_line(line: BudgetLine, actor, seen: int | None, rule: Rule) -> BudgetLine:
    """The line, locked with its fiche, once the rule (on the fiche: role, then state) and
    the version of the fiche the actor saw are checked."""
    locked_action = lock(Action(pk=line.action_id))
    rule.check(actor, locked_action)
    check_seen(locked_action, seen)
    locked = (
        BudgetLine.objects.select_for_update()
        .filter(pk=line.pk, action_id=locked_action.pk)
        .first()
    )
    if locked is None:
        raise Refused(
            "already_moved",
            _("Cette ligne budgétaire a été supprimée entre-temps : rien n'a été enregistré."),
        )
    locked.action = locked_action
    return locked


@transaction.atomic
def update_budget_line(
    *,
    line: BudgetLine,
    actor,
    label: str,
    planned: Decimal,
    seen: int | None = None,
    ip: str | None = None,
) -> BudgetLine:
    """While the fiche is prepared: what a line pays for and its planned amount."""
    locked = _budget_line(line, actor, seen, EDIT)
    before = {"label": locked.label, "planned": locked.planned}
    locked.label, locked.planned = text_input(label), planned
    validated(locked)
    after = {"label": locked.label, "planned": locked.planned}
    if not chain.field_changes(before, after):
        return locked
    return record(
        locked,
        programme_id=locked.action.programme_id,
        actor=actor,
        event="update_budget_line",
        before=before,
        after=after,
        ip=ip,
    )


@transaction.atomic
def record_budget_actual(
    *,
    line: BudgetLine,
    actor,
    actual: Decimal,
    seen: int | None = None,
    ip: str | None = None,
) -> BudgetLine:
    """While the fiche is carried out and evaluated: what a line actually cost (réalisé),
    entered by the coordination or the lead of the fiche's organisation."""
    locked = _budget_line(line, actor, seen, ENTER_ACTUAL)
    before = {"actual": locked.actual}
    locked.actual = actual
    validated(locked)
    if not chain.field_changes(before, {"actual": locked.actual}):
        return locked
    return record(
        locked,
        programme_id=locked.action.programme_id,
        actor=actor,
        event="record_budget_actual",
        before=before,
        after={"actual": locked.actual},
        ip=ip,
    )


@transaction.atomic
def remove_budget_line(
    *, line: BudgetLine, actor, seen: int | None = None, ip: str | None = None
) -> None:
    """Before the fiche goes to the COPIL: a line taken out of the plan (the trail keeps
    what it said)."""
    locked = _budget_line(line, actor, seen, EDIT)
    before = {
        name: getattr(locked, name) for name in ("year", "category", "label", "planned", "actual")
    }
    chain.record(
        programme_id=locked.action.programme_id,
        actor=actor,
        obj=locked,
        event="remove_budget_line",
        changes=chain.field_changes(before, dict.fromkeys(before)),
        ip=ip,
    )
    locked.delete()


@transaction.atomic
def add_indicator(
    *, action: Action, actor, seen: int | None = None, ip: str | None = None, **fields
) -> Indicator:
    locked = _part(action, actor, seen)
    indicator = Indicator(action=locked, **fields)
    return record(
        indicator, programme_id=locked.programme_id, actor=actor, event="add_indicator", ip=ip
    )


@transaction.atomic
def take_up(
    *,
    action: Action,
    actor,
    working_group=None,
    comment: str = "",
    seen: int | None = None,
    ip: str | None = None,
) -> Action:
    """The coordination takes a proposal into co-construction, with a working group if it
    names one (the group's members then co-construct it)."""
    if working_group is not None and working_group != action.working_group:
        action = update_action(
            action=action,
            actor=actor,
            data={"working_group": working_group},
            seen=seen,
            ip=ip,
        )
        seen = None  # the version seen was checked; the group is the taker's own change
    return run_transition(
        Action.objects.get(pk=action.pk),
        "start_co_construction",
        actor=actor,
        seen=seen,
        comment=comment,
        ip=ip,
    )


def run_transition(
    action: Action, name: str, *, actor, seen: int | None, comment: str, ip: str | None, **kwargs
) -> Action:
    """A transition of the fiche, and what follows it: the version submitted to the COPIL is
    frozen; the task of the stage it left is done (or the process cancelled when the fiche
    leaves by a way out, such as being abandoned) and the next stage's task opens."""
    if name == "submit_to_copil":
        kwargs["by"] = actor
    locked, left = run_step(action, name, actor=actor, seen=seen, comment=comment, ip=ip, **kwargs)
    if name == "submit_to_copil":
        snapshot = ActionSnapshot.objects.create(
            action=locked,
            version=locked.snapshots.count() + 1,
            submitted_at=timezone.now(),
            submitted_by=actor,
            data=fiche_snapshot(locked),
        )
        _ask_opinions(locked, snapshot.version)
    elif name == "merge":
        _keep_in_target(locked, actor=actor, ip=ip)
    if left == ActionState.COPIL_REVIEW:
        flows.close_opinion_tasks(action=locked, actor=actor)
    notices.fiche_moved(locked, name, left, actor, comment)
    with notices.acting(actor):
        flows.advance(action=locked, transition=name, actor=actor)
        if {left, locked.state} & set(flows.FUNDER_TASK_STATES):
            flows.sync_funder_tasks(action=locked, actor=actor)
    return locked


def _ask_opinions(action: Action, version: int) -> None:
    """Where the programme has a COTECH: each of its members' opinion on this version, due in
    the programme's delay, as tasks in parallel."""
    if not action.programme.has_cotech:
        return
    due = timezone.localdate() + datetime.timedelta(days=action.programme.cotech_days)
    members = (
        Membership.objects.active()
        .filter(programme_id=action.programme_id, role=Role.COTECH)
        .values_list("user_id", flat=True)
        .distinct()
    )
    flows.ask_opinions(
        opinions=Opinion.objects.bulk_create(
            Opinion(action=action, version=version, member_id=m, due=due) for m in members
        )
    )


def _keep_in_target(proposal: Action, *, actor, ip: str | None) -> None:
    """The text of a proposal merged into another fiche is kept in that fiche's history."""
    chain.record(
        programme_id=proposal.programme_id,
        actor=actor,
        obj=proposal.merged_into,
        event="merge_in",
        changes={"merged_proposals": [None, proposal.title]},
        comment=chain.in_trail_language(
            lambda: _("Proposition de {who} : {text}").format(
                who=chain.actor_label(proposal.created_by), text=proposal.context or "—"
            )
        ),
        ip=ip,
    )


@transaction.atomic
def give_opinion(
    *, opinion: Opinion, actor, verdict: str, text: str, ip: str | None = None
) -> Opinion:
    """A COTECH member's technical opinion on the version submitted to the COPIL."""
    locked = Opinion.objects.select_for_update().select_related("action").get(pk=opinion.pk)
    action = lock(locked.action)
    OPINE.check(actor, action)
    if locked.member_id != actor.pk:
        raise Refused("role", _("Chaque membre du COTECH rend son propre avis."))
    if locked.verdict:
        raise Refused("already_moved", _("Cet avis est déjà rendu."))
    latest = action.snapshots.order_by("-version").values_list("version", flat=True).first()
    if locked.version != latest:
        raise Refused(
            "already_moved",
            _("La fiche a été soumise à nouveau : l'avis porte sur sa dernière version."),
        )
    text = text_input(text)
    if verdict not in Opinion.Verdict.values:
        raise Refused("invalid", _("Choisissez un avis : favorable, réservé ou défavorable."))
    if not text:
        raise Refused("invalid", _("Motivez votre avis en quelques mots."))
    locked.verdict, locked.text, locked.given_at = verdict, text, timezone.now()
    record(
        locked,
        programme_id=action.programme_id,
        actor=actor,
        event="give_opinion",
        after={"verdict": verdict, "text": text},
        ip=ip,
    )
    flows.close_opinion_tasks(action=action, actor=actor)
    return locked


def fiche_snapshot(action: Action) -> dict:
    """The fiche, its partners, budget and indicators as stored values keyed by field name
    (never by label: a renamed label must not make older versions look changed)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "fiche": _fiche_values(action),
            "partners": [str(o) for o in action.partners.order_by("name")],
            "budget": [
                {
                    "year": line.year,
                    "category": line.category,
                    "label": line.label,
                    "planned": chain.json_value(line.planned),
                }
                for line in action.budget_lines.all()
            ],
            "indicators": [
                {
                    "kind": ind.kind,
                    "label": ind.label,
                    "unit": ind.unit,
                    "baseline": chain.json_value(ind.baseline),
                    "target": chain.json_value(ind.target),
                }
                for ind in action.indicators.all()
            ],
        }
