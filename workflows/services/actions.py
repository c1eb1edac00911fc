"""Fiches actions: proposing, co-constructing (the fiche, its budget, its indicators),
commenting, and the side effects of their transitions (the version frozen for the COPIL, the
tasks that follow the state)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit import chain
from evaluation.models import Indicator
from funding.models import BudgetLine
from projects.models import EDITABLE_STATES, Action, ActionSnapshot, Programme, Role

from .. import flows
from .runner import Refused, Rule, check_seen, lock, record, run_step, text_input

FICHE_EDITORS = frozenset({Role.COORDINATOR, Role.WG_MEMBER, Role.ACTION_LEAD})
PROPOSE = Rule(_("Proposer une action"), frozenset({Role.COORDINATOR}))
EDIT = Rule(_("Modifier la fiche"), FICHE_EDITORS, EDITABLE_STATES)
COMMENT = Rule(_("Commenter la fiche"), FICHE_EDITORS | {Role.COPIL, Role.COTECH})


def _fiche_values(action: Action) -> dict[str, object]:
    """The fiche's fields as a reader of the audit trail wants them (names of related
    objects, not ids), in the trail's language whatever the language of the person acting."""
    with translation.override(settings.LANGUAGE_CODE):
        return {name: chain.json_value(getattr(action, name)) for name in Action.FICHE_FIELDS}


def _fiche_data(data: dict) -> dict:
    unknown = set(data) - set(Action.FICHE_FIELDS)
    if unknown:
        raise ValueError(f"Not fiche fields: {sorted(unknown)}")
    return data


@transaction.atomic
def create_action(*, programme: Programme, actor, data: dict, ip: str | None = None) -> Action:
    """A new fiche action (state: draft), with its process."""
    PROPOSE.check(actor, programme)
    action = Action(programme=programme, created_by=actor, **_fiche_data(data))
    record(
        action,
        programme_id=programme.pk,
        actor=actor,
        event="create",
        after=_fiche_values(action),
        to_state=action.state,
        ip=ip,
    )
    flows.start(action=action)
    return action


@transaction.atomic
def update_action(
    *, action: Action, actor, data: dict, seen: int | None = None, ip: str | None = None
) -> Action:
    """Co-construction: change fields of the fiche; one audit event with the changed fields,
    refused if the fiche changed after the version the actor edited (``seen``)."""
    _fiche_data(data)
    locked = lock(action)
    EDIT.check(actor, locked)
    check_seen(locked, seen)
    before = _fiche_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    after = _fiche_values(locked)
    if before == after:
        return locked
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="update",
        before=before,
        after=after,
        ip=ip,
    )


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


@transaction.atomic
def add_budget_line(
    *,
    action: Action,
    actor,
    year: int,
    category: str,
    planned: Decimal,
    actual: Decimal = Decimal("0"),
    seen: int | None = None,
    ip: str | None = None,
) -> BudgetLine:
    locked = _part(action, actor, seen)
    line = BudgetLine(action=locked, year=year, category=category, planned=planned, actual=actual)
    return record(
        line, programme_id=locked.programme_id, actor=actor, event="add_budget_line", ip=ip
    )


@transaction.atomic
def add_indicator(
    *, action: Action, actor, seen: int | None = None, ip: str | None = None, **fields
) -> Indicator:
    locked = _part(action, actor, seen)
    indicator = Indicator(action=locked, **fields)
    return record(
        indicator, programme_id=locked.programme_id, actor=actor, event="add_indicator", ip=ip
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
        ActionSnapshot.objects.create(
            action=locked,
            version=locked.snapshots.count() + 1,
            submitted_at=timezone.now(),
            submitted_by=actor,
            data=fiche_snapshot(locked),
        )
    flows.advance(action=locked, transition=name, actor=actor)
    if {left, locked.state} & set(flows.FUNDER_TASK_STATES):
        flows.sync_funder_tasks(action=locked, actor=actor)
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
