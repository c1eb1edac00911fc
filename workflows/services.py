"""Every state change and every fiche change of Coordo goes through this module.

Each service runs in one database transaction: it locks the row (``select_for_update``), checks
that the object has not moved since the actor saw it, checks the actor's role (from
memberships) and the rule of the transition, runs the transition, saves, and appends the
audit event. A refused change raises ``Refused`` naming the rule, and leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from viewflow.fsm import FSMField, TransitionConditionsUnmet
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.models import (
    EDITABLE_STATES,
    Action,
    ActionSnapshot,
    ActionState,
    AgendaItem,
    Meeting,
    Membership,
    Programme,
    Role,
)
from projects.permissions import action_scopes, holds_role

from . import audit, flows


class Refused(Exception):
    """A change refused by a rule of Coordo. ``rule`` says which one:

    - ``already_moved``: the object changed state since the actor saw it (concurrent loser);
    - ``state``: the transition does not exist from the current state;
    - ``role``: the actor does not hold a role allowed to do this, in this programme;
    - ``separation``: the actor prepared this stage and may not also approve it;
    - ``comment``: a comment or reason is mandatory;
    - ``guard``: a condition of the lifecycle is not met (the message says which);
    - ``invalid``: the data entered is not valid (``errors`` maps fields to messages).
    """

    def __init__(self, rule: str, message: str, errors: dict | None = None):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.errors = errors or {}


@dataclass(frozen=True)
class _Target:
    """What the generic transition runner needs to know about a kind of object."""

    field: str  # name of the FSM field
    programme_id: int
    scopes: dict[str, int | None]
    noun: str


def _target(obj: models.Model) -> _Target:
    if isinstance(obj, Action):
        return _Target("state", obj.programme_id, action_scopes(obj), _("La fiche action"))
    if isinstance(obj, FundingRequest):
        scopes = action_scopes(obj.action) | {Role.FUNDER: obj.funder_id}
        return _Target("state", obj.action.programme_id, scopes, _("La demande de financement"))
    if isinstance(obj, Programme):
        return _Target("status", obj.pk, {}, _("Le dispositif"))
    raise TypeError(f"No lifecycle for {type(obj).__name__}")


def _state_label(obj: models.Model, field: str) -> str:
    return str(
        dict(obj._meta.get_field(field).choices).get(getattr(obj, field), getattr(obj, field))
    )


def _roles_label(roles) -> str:
    return ", ".join(sorted(str(Role(r).label) for r in roles))


def _reason_required(name: str) -> bool:
    return any(t.custom.get("reason_required") for t in getattr(Action, name).get_transitions())


def transition_label(model: type[models.Model], name: str) -> str:
    """The French label of a transition, whatever the current state."""
    return next(iter(getattr(model, name).get_transitions())).label


# Relations read while checking and auditing a change, loaded with the locked row (not locked).
_LOCK_RELATED = {
    Action: ("objective", "lead_organisation", "working_group"),
    FundingRequest: ("action", "funder"),
}


def _lock(obj: models.Model) -> models.Model:
    """The row, fresh from the database and locked until the end of the transaction."""
    return (
        type(obj)
        .objects.select_related(*_LOCK_RELATED.get(type(obj), ()))
        .select_for_update(of=("self",))
        .get(pk=obj.pk)
    )


def _transition(
    obj: models.Model,
    name: str,
    *,
    actor,
    comment: str = "",
    ip: str | None = None,
    tracked: tuple[str, ...] = (),
    also_allowed: frozenset[str] = frozenset(),
    **kwargs,
) -> models.Model:
    """Run transition ``name`` on ``obj`` (as the actor saw it). Call inside ``atomic``.
    ``also_allowed``: roles allowed besides the transition's own, in this call only."""
    comment = (comment or "").strip()
    locked = _lock(obj)
    info = _target(locked)
    current = getattr(locked, info.field)
    if getattr(obj, info.field) != current:
        raise Refused(
            "already_moved",
            _(
                "{noun} a déjà changé d'état entre-temps (état actuel : « {state} »). "
                "Rien n'a été modifié."
            ).format(noun=info.noun, state=_state_label(locked, info.field)),
        )
    # Same state but edited since the actor saw it (e.g. sent back, changed and resubmitted):
    # the decision would apply to a version the actor has not seen.
    if getattr(obj, "updated_at", None) != getattr(locked, "updated_at", None):
        raise Refused(
            "already_moved",
            _(
                "{noun} a changé depuis votre consultation : relisez sa version actuelle avant "
                "de décider. Rien n'a été modifié."
            ).format(noun=info.noun),
        )
    method = getattr(locked, name)
    transition = method._descriptor.get_transition(current)
    if transition is None:
        raise Refused(
            "state",
            _("« {transition} » n'est pas possible depuis l'état « {state} ».").format(
                transition=transition_label(type(locked), name),
                state=_state_label(locked, info.field),
            ),
        )
    roles = set(transition.custom.get("roles", set())) | also_allowed
    if not holds_role(actor, programme_id=info.programme_id, roles=roles, scopes=info.scopes):
        raise Refused(
            "role",
            _("« {what} » revient à : {roles}.").format(
                what=transition.label, roles=_roles_label(roles)
            ),
        )
    if transition.custom.get("preparer_excluded") and locked.submitted_by_id == actor.pk:
        raise Refused(
            "separation",
            _(
                "Vous avez soumis cette fiche au COPIL : une autre personne du COPIL doit la "
                "valider (celui qui prépare ne peut pas approuver)."
            ),
        )
    if transition.custom.get("reason_required") and not comment:
        raise Refused(
            "comment",
            _("« {what} » demande un motif ou un commentaire.").format(what=transition.label),
        )
    before = {f: getattr(locked, f) for f in tracked}
    try:
        method(**kwargs)
    except TransitionConditionsUnmet as exc:
        raise Refused("guard", exc.unmet_message or str(exc)) from exc
    locked.save()
    audit.record(
        programme_id=info.programme_id,
        actor=actor,
        obj=locked,
        event=name,
        from_state=current,
        to_state=getattr(locked, info.field),
        changes=audit.field_changes(before, {f: getattr(locked, f) for f in tracked}),
        comment=comment,
        ip=ip,
    )
    if isinstance(locked, Action):
        flows.advance(action=locked, transition=name, actor=actor)
        if {current, locked.state} & set(flows.FUNDER_TASK_STATES):
            flows.sync_funder_tasks(action=locked, actor=actor)
    elif isinstance(locked, FundingRequest):
        flows.sync_funder_tasks(action=locked.action, actor=actor)
    return locked


# --- Action lifecycle: one function per transition of DESIGN.md -----------------------------


@transaction.atomic
def start_co_construction(
    *, action: Action, actor, comment: str = "", ip: str | None = None
) -> Action:
    return _transition(action, "start_co_construction", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def submit_to_copil(*, action: Action, actor, comment: str = "", ip: str | None = None) -> Action:
    """Submit the fiche to the COPIL and freeze it as a new snapshot."""
    locked = _transition(action, "submit_to_copil", actor=actor, comment=comment, ip=ip, by=actor)
    ActionSnapshot.objects.create(
        action=locked,
        version=locked.snapshots.count() + 1,
        submitted_at=timezone.now(),
        submitted_by=actor,
        data=fiche_snapshot(locked),
    )
    return locked


@transaction.atomic
def approve(*, action: Action, actor, comment: str = "", ip: str | None = None) -> Action:
    return _transition(action, "approve", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def request_changes(*, action: Action, actor, comment: str, ip: str | None = None) -> Action:
    return _transition(action, "request_changes", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def reject(*, action: Action, actor, comment: str, ip: str | None = None) -> Action:
    return _transition(action, "reject", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def open_funding(*, action: Action, actor, comment: str = "", ip: str | None = None) -> Action:
    return _transition(action, "open_funding", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def start_implementation(
    *, action: Action, actor, comment: str = "", ip: str | None = None
) -> Action:
    return _transition(action, "start_implementation", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def rework(*, action: Action, actor, comment: str = "", ip: str | None = None) -> Action:
    return _transition(
        action, "rework", actor=actor, comment=comment, ip=ip, tracked=("funding_waiver",)
    )


@transaction.atomic
def finish_implementation(
    *, action: Action, actor, comment: str = "", ip: str | None = None
) -> Action:
    return _transition(action, "finish_implementation", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def close(*, action: Action, actor, comment: str = "", ip: str | None = None) -> Action:
    return _transition(action, "close", actor=actor, comment=comment, ip=ip)


@transaction.atomic
def abandon(*, action: Action, actor, comment: str, ip: str | None = None) -> Action:
    return _transition(action, "abandon", actor=actor, comment=comment, ip=ip)


ACTION_TRANSITIONS = {
    "start_co_construction": start_co_construction,
    "submit_to_copil": submit_to_copil,
    "approve": approve,
    "request_changes": request_changes,
    "reject": reject,
    "open_funding": open_funding,
    "start_implementation": start_implementation,
    "rework": rework,
    "finish_implementation": finish_implementation,
    "close": close,
    "abandon": abandon,
}
assert set(ACTION_TRANSITIONS) == set(Action.TRANSITIONS)


def fiche_snapshot(action: Action) -> dict:
    """The fiche, its budget and its indicators as JSON, for the snapshot sent to the COPIL
    (labels in the application's language, so that two versions always compare)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _snapshot_of(action)


def _snapshot_of(action: Action) -> dict:
    fiche = {
        str(action._meta.get_field(name).verbose_name): audit.json_value(getattr(action, name))
        for name in Action.FICHE_FIELDS
    }
    fiche["partenaires"] = [str(o) for o in action.partners.order_by("name")]
    return {
        "fiche": fiche,
        "budget": [
            {
                "année": line.year,
                "catégorie": line.get_category_display(),
                "prévisionnel": audit.json_value(line.planned),
            }
            for line in action.budget_lines.all()
        ],
        "indicateurs": [
            {
                "type": ind.get_kind_display(),
                "libellé": ind.label,
                "unité": ind.unit,
                "référence": audit.json_value(ind.baseline),
                "cible": audit.json_value(ind.target),
            }
            for ind in action.indicators.all()
        ],
    }


# --- Tasks: taking and releasing the decision a stage waits for ------------------------------


def _locked_task(task_id: int, actor) -> tuple[Task, Action]:
    task = Task.objects.select_for_update().get(pk=task_id)
    action = _lock(Action(pk=flows.action_id_of(task)))
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED):
        raise Refused("already_moved", _("Cette tâche est déjà terminée."))
    if not flows.task_queue(actor).filter(pk=task.pk).exists():
        stage = flows.stage_of(task)
        raise Refused(
            "role",
            _("« {what} » revient à : {roles}.").format(
                what=stage.label, roles=_roles_label(stage.roles)
            ),
        )
    return task, action


@transaction.atomic
def take_task(*, task_id: int, actor, ip: str | None = None) -> Task:
    """The actor takes the task: it appears as theirs, the others see who holds it."""
    task, action = _locked_task(task_id, actor)
    if task.owner_id == actor.pk:
        return task
    previous = task.owner
    flows.assign(task, actor)
    audit.record(
        programme_id=action.programme_id,
        actor=actor,
        obj=action,
        event="take_task",
        changes={
            "task_owner": [
                audit.actor_label(previous) if previous else None,
                audit.actor_label(actor),
            ]
        },
        comment=flows.stage_of(task).label,
        ip=ip,
    )
    return task


@transaction.atomic
def release_task(*, task_id: int, actor, ip: str | None = None) -> Task:
    task, action = _locked_task(task_id, actor)
    if task.owner_id != actor.pk:
        raise Refused("role", _("Seule la personne qui a pris la tâche peut la libérer."))
    flows.unassign(task)
    audit.record(
        programme_id=action.programme_id,
        actor=actor,
        obj=action,
        event="release_task",
        changes={"task_owner": [audit.actor_label(actor), None]},
        comment=flows.stage_of(task).label,
        ip=ip,
    )
    return task


# --- Programme and funding-request lifecycles -----------------------------------------------


@transaction.atomic
def programme_transition(
    *, programme: Programme, name: str, actor, comment: str = "", ip: str | None = None
) -> Programme:
    if name not in Programme.TRANSITIONS:
        raise ValueError(name)
    return _transition(programme, name, actor=actor, comment=comment, ip=ip)


@transaction.atomic
def funding_transition(
    *,
    request: FundingRequest,
    name: str,
    actor,
    comment: str = "",
    ip: str | None = None,
    decision_letter=None,
    **kwargs,
) -> FundingRequest:
    """Run a transition of a funding request. The funder decides (grant, refuse); the
    coordinator may record the decision on the funder's behalf only with the decision letter
    attached, and the audit says so."""
    if name not in FundingRequest.TRANSITIONS:
        raise ValueError(name)
    confirmed = kwargs.pop("confirm_over_request", False)
    if name == "grant" and kwargs["amount"] > request.requested_amount and not confirmed:
        raise Refused(
            "guard",
            _(
                "Le montant accordé ({granted} €) dépasse le montant demandé ({requested} €) : "
                "confirmez-le explicitement."
            ).format(granted=kwargs["amount"], requested=request.requested_amount),
        )
    on_behalf = name in ("grant", "refuse") and decision_letter is not None
    if on_behalf and not holds_role(
        actor, programme_id=request.action.programme_id, roles={Role.FUNDER},
        scopes={Role.FUNDER: request.funder_id},
    ):  # fmt: skip
        comment = (
            f"Décision saisie par la coordination pour {request.funder}, courrier joint : "
            f"{decision_letter.name}. {comment}"
        ).strip()
    locked = _transition(
        request,
        name,
        actor=actor,
        comment=comment,
        ip=ip,
        tracked=(
            "granted_amount",
            "decision_date",
            "decision_reference",
            "agreement_reference",
            "agreement_date",
        ),
        also_allowed=frozenset({Role.COORDINATOR}) if on_behalf else frozenset(),
        **kwargs,
    )
    if decision_letter is not None:
        locked.decision_letter.save(decision_letter.name, decision_letter, save=True)
    return locked


PAYMENT_RECORDERS = {Role.COORDINATOR, Role.FUNDER}  # the funder of that request's organisation


def _funding_scopes(request: FundingRequest) -> dict[str, int | None]:
    return _target(request).scopes


@transaction.atomic
def add_tranche(
    *,
    request: FundingRequest,
    actor,
    label: str,
    expected_date,
    expected_amount: Decimal,
    supporting_documents: str = "",
    ip: str | None = None,
) -> Tranche:
    """Plan a payment (advance, instalment, balance) of a granted request."""
    locked = _lock(request)
    _require_role(
        actor,
        programme_id=locked.action.programme_id,
        roles=PAYMENT_RECORDERS,
        what=_("Prévoir un versement"),
        scopes=_funding_scopes(locked),
    )
    if locked.state not in (
        FundingRequest.State.GRANTED,
        FundingRequest.State.PARTIALLY_GRANTED,
        FundingRequest.State.AGREEMENT_SIGNED,
    ):
        raise Refused("state", _("Les versements se prévoient pour une demande accordée."))
    tranche = Tranche(
        request=locked,
        label=label,
        expected_date=expected_date,
        expected_amount=expected_amount,
        supporting_documents=supporting_documents,
    )
    return _record_child(tranche, action=locked.action, actor=actor, event="add_tranche", ip=ip)


@transaction.atomic
def record_tranche_receipt(
    *, tranche: Tranche, actor, received_date, received_amount: Decimal, ip: str | None = None
) -> Tranche:
    """Record that a planned payment was received (date and amount)."""
    locked = (
        Tranche.objects.select_for_update().select_related("request__action").get(pk=tranche.pk)
    )
    request = locked.request
    _require_role(
        actor,
        programme_id=request.action.programme_id,
        roles=PAYMENT_RECORDERS,
        what=_("Enregistrer un versement reçu"),
        scopes=_funding_scopes(request),
    )
    if locked.received_date is not None:
        raise Refused("already_moved", _("Ce versement est déjà enregistré comme reçu."))
    locked.received_date, locked.received_amount = received_date, received_amount
    _validated(locked)
    locked.save(update_fields=["received_date", "received_amount"])
    audit.record(
        programme_id=request.action.programme_id,
        actor=actor,
        obj=locked,
        event="receive_tranche",
        changes=audit.field_changes(
            {}, {"received_date": received_date, "received_amount": received_amount}
        ),
        ip=ip,
    )
    return locked


# --- Changes of the fiche and of what belongs to it -----------------------------------------

FICHE_EDITORS = {Role.COORDINATOR, Role.WG_MEMBER, Role.ACTION_LEAD}


def _require_role(actor, *, programme_id: int, roles, what: str, scopes=None) -> None:
    """Refuse (rule ``role``) unless the actor holds one of ``roles`` in the programme."""
    if not holds_role(actor, programme_id=programme_id, roles=roles, scopes=scopes):
        raise Refused(
            "role", _("{what} revient à : {roles}.").format(what=what, roles=_roles_label(roles))
        )


def _check_role(actor, action: Action, roles, what: str) -> None:
    _require_role(
        actor,
        programme_id=action.programme_id,
        roles=roles,
        what=what,
        scopes=action_scopes(action),
    )


def _check_editable(action: Action) -> None:
    if action.state not in EDITABLE_STATES:
        raise Refused(
            "state",
            _(
                "La fiche ne se modifie qu'en brouillon ou en co-construction ; elle est "
                "« {state} »."
            ).format(state=action.get_state_display()),
        )


def _validated(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Validate before saving, with messages for people, without needless queries.

    Skipped: FSM fields (protected; they only change through transitions), relations given as
    loaded objects (they exist), and CHECK constraints (each model's ``clean()`` and field
    validators state the same rules with readable messages; the database still enforces
    them). Unique constraints are checked, as they need the database.
    """
    skip = [
        f.name
        for f in obj._meta.concrete_fields
        if isinstance(f, FSMField) or (f.is_relation and f.is_cached(obj))
    ]
    skip += exclude or []
    try:
        obj.full_clean(exclude=skip, validate_constraints=False)
        if any(isinstance(c, models.UniqueConstraint) for c in obj._meta.constraints):
            obj.validate_constraints(
                exclude={
                    f.name
                    for f in obj._meta.concrete_fields
                    if not any(
                        isinstance(c, models.UniqueConstraint) and f.name in c.fields
                        for c in obj._meta.constraints
                    )
                }
            )
    except ValidationError as exc:
        errors = exc.message_dict
        raise Refused(
            "invalid",
            _("Certaines valeurs ne sont pas valides : ")
            + " ; ".join(f"{k} : {' '.join(v)}" for k, v in errors.items()),
            errors,
        ) from exc


@transaction.atomic
def create_action(*, programme: Programme, actor, data: dict, ip: str | None = None) -> Action:
    """The coordinator proposes a new fiche action (state: draft)."""
    _check_coordinator(actor, programme.pk, _("Proposer une action"))
    unknown = set(data) - set(Action.FICHE_FIELDS)
    if unknown:
        raise ValueError(f"Not fiche fields: {sorted(unknown)}")
    action = Action(programme=programme, created_by=actor, **data)
    _validated(action, exclude=["created_by"])
    action.save()
    audit.record(
        programme_id=programme.pk,
        actor=actor,
        obj=action,
        event="create",
        to_state=action.state,
        changes=audit.field_changes({}, _display_values(action)),
        ip=ip,
    )
    flows.start(action=action)
    return action


def _display_values(action: Action) -> dict[str, object]:
    """Fiche values as a reader of the audit trail wants them (labels, not ids), in the
    trail's language whatever the language of the person making the change."""
    with translation.override(settings.LANGUAGE_CODE):
        return _labels_of(action)


def _labels_of(action: Action) -> dict[str, object]:
    values = {}
    for name in Action.FICHE_FIELDS:
        field = action._meta.get_field(name)
        if field.is_relation:
            values[name] = getattr(action, name)
        elif field.choices:
            values[name] = getattr(action, f"get_{name}_display")()
        else:
            values[name] = getattr(action, name)
    return values


@transaction.atomic
def update_action(*, action: Action, actor, data: dict, ip: str | None = None) -> Action:
    """Co-construction: change fields of the fiche; one audit event with the changed fields."""
    unknown = set(data) - set(Action.FICHE_FIELDS)
    if unknown:
        raise ValueError(f"Not fiche fields: {sorted(unknown)}")
    locked = _lock(action)
    _check_role(actor, locked, FICHE_EDITORS, _("Modifier la fiche"))
    _check_editable(locked)
    before = _display_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    _validated(locked)
    changes = audit.field_changes(before, _display_values(locked))
    if not changes:
        return locked
    locked.save()
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="update",
        changes=changes,
        ip=ip,
    )
    return locked


COMMENTERS = FICHE_EDITORS | {Role.COPIL, Role.COTECH}


@transaction.atomic
def comment_action(*, action: Action, actor, text: str, ip: str | None = None) -> Action:
    """A contribution to the fiche's discussion (co-construction, COTECH opinion...)."""
    locked = _lock(action)
    _check_role(actor, locked, COMMENTERS, _("Commenter la fiche"))
    text = (text or "").strip()
    if not text:
        raise Refused("comment", _("Le commentaire est vide."))
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="comment",
        comment=text,
        ip=ip,
    )
    return locked


def _record_child(
    child: models.Model, *, action: Action, actor, event: str, ip: str | None, exclude=None
) -> models.Model:
    """Save and audit a part of the fiche (budget line, indicator, funding request, payment,
    measurement, report): the fiche changed, so a decision taken on the page as it was before
    is refused (``already_moved``) instead of applying to a version its author has not read."""
    _validated(child, exclude=exclude)
    child.save()
    _touch(action)
    values = {
        f.name: getattr(child, f.name)
        for f in child._meta.concrete_fields
        if f.name not in ("id", "action", "indicator")
    }
    audit.record(
        programme_id=action.programme_id,
        actor=actor,
        obj=child,
        event=event,
        changes=audit.field_changes({}, values),
        ip=ip,
    )
    return child


@transaction.atomic
def add_budget_line(
    *,
    action: Action,
    actor,
    year: int,
    category: str,
    planned: Decimal,
    actual: Decimal = Decimal("0"),
    ip: str | None = None,
) -> BudgetLine:
    locked = _lock(action)
    _check_role(actor, locked, FICHE_EDITORS, _("Modifier le budget"))
    _check_editable(locked)
    line = BudgetLine(action=locked, year=year, category=category, planned=planned, actual=actual)
    return _record_child(line, action=locked, actor=actor, event="add_budget_line", ip=ip)


@transaction.atomic
def add_indicator(*, action: Action, actor, ip: str | None = None, **fields) -> Indicator:
    locked = _lock(action)
    _check_role(actor, locked, FICHE_EDITORS, _("Ajouter un indicateur"))
    _check_editable(locked)
    indicator = Indicator(action=locked, **fields)
    return _record_child(indicator, action=locked, actor=actor, event="add_indicator", ip=ip)


@transaction.atomic
def create_funding_request(
    *,
    action: Action,
    actor,
    funder_id: int,
    scheme: str,
    year: int,
    requested_amount: Decimal,
    ip: str | None = None,
) -> FundingRequest:
    locked = _lock(action)
    _check_role(actor, locked, {Role.COORDINATOR}, _("Préparer une demande de financement"))
    if locked.state not in (*EDITABLE_STATES, ActionState.VALIDATED, ActionState.FUNDING):
        raise Refused(
            "state",
            _("Une demande de financement ne s'ajoute plus à une action « {state} ».").format(
                state=locked.get_state_display()
            ),
        )
    request = FundingRequest(
        action=locked,
        funder_id=funder_id,
        scheme=scheme,
        year=year,
        requested_amount=requested_amount,
    )
    return _record_child(request, action=locked, actor=actor, event="create_funding_request", ip=ip)


@transaction.atomic
def record_funding_waiver(*, action: Action, actor, comment: str, ip: str | None = None) -> Action:
    """The COPIL allows implementation without complete funding (recorded, with its reason)."""
    locked = _lock(action)
    _check_role(actor, locked, {Role.COPIL}, _("Accorder une dérogation de financement"))
    if locked.state not in (ActionState.VALIDATED, ActionState.FUNDING):
        raise Refused("state", _("La dérogation concerne une action validée ou en financement."))
    comment = (comment or "").strip()
    if not comment:
        raise Refused("comment", _("La dérogation demande un motif."))
    before = locked.funding_waiver
    locked.funding_waiver = comment
    locked.save(update_fields=["funding_waiver", "updated_at"])
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="funding_waiver",
        changes=audit.field_changes({"funding_waiver": before}, {"funding_waiver": comment}),
        comment=comment,
        ip=ip,
    )
    return locked


MEASURERS = {Role.COORDINATOR, Role.ACTION_LEAD}


@transaction.atomic
def record_measurement(
    *, indicator: Indicator, actor, ip: str | None = None, **fields
) -> Measurement:
    locked = _lock(indicator.action)
    _check_role(actor, locked, MEASURERS, _("Saisir une mesure"))
    if locked.state not in (ActionState.IMPLEMENTATION, ActionState.EVALUATION):
        raise Refused(
            "state", _("Les mesures se saisissent pendant la mise en œuvre ou l'évaluation.")
        )
    measurement = Measurement(indicator=indicator, entered_by=actor, **fields)
    return _record_child(measurement, action=locked, actor=actor, event="record_measurement", ip=ip)


def _touch(action: Action) -> None:
    action.save(update_fields=["updated_at"])


@transaction.atomic
def write_evaluation_report(
    *, action: Action, actor, ip: str | None = None, **fields
) -> EvaluationReport:
    locked = _lock(action)
    _check_role(actor, locked, MEASURERS, _("Rédiger le rapport d'évaluation"))
    if locked.state != ActionState.EVALUATION:
        raise Refused(
            "state", _("Le rapport d'évaluation se rédige quand l'action est en évaluation.")
        )
    if EvaluationReport.objects.filter(action=locked).exists():
        raise Refused("state", _("Le rapport d'évaluation de cette action existe déjà."))
    report = EvaluationReport(action=locked, written_by=actor, **fields)
    return _record_child(report, action=locked, actor=actor, event="write_evaluation_report", ip=ip)


REPORT_FIELDS = ("achievements", "difficulties", "participation", "recommendations")


@transaction.atomic
def update_evaluation_report(
    *, action: Action, actor, seen_written_at=None, ip: str | None = None, **fields
) -> EvaluationReport:
    """Rework the evaluation report while the action is in evaluation (it is written in several
    passes); one audit event with the changed texts, before and after. ``seen_written_at``: the
    version the actor edited, so that a colleague's newer text is not overwritten unseen."""
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"Not report fields: {sorted(unknown)}")
    locked = _lock(action)
    _check_role(actor, locked, MEASURERS, _("Modifier le rapport d'évaluation"))
    if locked.state != ActionState.EVALUATION:
        raise Refused(
            "state",
            _("Le rapport d'évaluation ne se modifie plus : l'action est « {state} ».").format(
                state=locked.get_state_display()
            ),
        )
    report = EvaluationReport.objects.select_for_update().filter(action=locked).first()
    if report is None:
        raise Refused("state", _("Cette action n'a pas encore de rapport d'évaluation."))
    if seen_written_at is not None and report.written_at != seen_written_at:
        raise Refused(
            "already_moved",
            _(
                "Le rapport a été modifié par une autre personne depuis que vous l'avez ouvert : "
                "relisez sa version actuelle. Rien n'a été modifié."
            ),
        )
    before = {name: getattr(report, name) for name in REPORT_FIELDS}
    for name, value in fields.items():
        setattr(report, name, value)
    _validated(report)
    changes = audit.field_changes(before, {name: getattr(report, name) for name in REPORT_FIELDS})
    if not changes:
        return report
    report.save()
    _touch(locked)
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=report,
        event="update_evaluation_report",
        changes=changes,
        ip=ip,
    )
    return report


# --- Meetings of the governance bodies -------------------------------------------------------


def _check_coordinator(actor, programme_id: int, what: str) -> None:
    _require_role(actor, programme_id=programme_id, roles={Role.COORDINATOR}, what=what)


@transaction.atomic
def create_meeting(
    *, programme: Programme, actor, body: str, date, place: str, ip: str | None = None
) -> Meeting:
    """The coordinator convenes a session; its agenda lists the fiches awaiting the body."""
    _check_coordinator(actor, programme.pk, _("Préparer une séance"))
    meeting = Meeting(programme=programme, body=body, date=date, place=place, created_by=actor)
    _validated(meeting)
    meeting.save()
    waiting = programme.actions.filter(state__in=meeting.states_on_agenda()).order_by("state", "pk")
    AgendaItem.objects.bulk_create(
        AgendaItem(meeting=meeting, action=a, position=i, state_at_agenda=a.state)
        for i, a in enumerate(waiting, start=1)
    )
    audit.record(
        programme_id=programme.pk,
        actor=actor,
        obj=meeting,
        event="create_meeting",
        changes=audit.field_changes(
            {},
            {
                "body": audit.in_trail_language(meeting.get_body_display),
                "date": meeting.date,
                "place": place,
            },
        ),
        ip=ip,
    )
    return meeting


def _locked_meeting(meeting: Meeting, actor) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _check_coordinator(actor, locked.programme_id, _("Tenir le registre d'une séance"))
    if locked.applied_at:
        raise Refused("already_moved", _("Les décisions de cette séance sont déjà appliquées."))
    return locked


@transaction.atomic
def record_meeting(
    *,
    meeting: Meeting,
    actor,
    chair_id: int | None,
    attendee_ids: list[int],
    other_attendees: str = "",
    notes: str = "",
    decisions: dict[int, tuple[str, str]],
    ip: str | None = None,
) -> Meeting:
    """Record attendance and one decision per agenda item (nothing is applied yet)."""
    locked = _locked_meeting(meeting, actor)
    members = set(
        Membership.objects.active()
        .filter(programme_id=locked.programme_id)
        .values_list("user_id", flat=True)
    )
    errors: dict[str, list[str]] = {}
    if set(attendee_ids) - members:
        errors["attendees"] = [_("Seuls les membres du dispositif peuvent être cochés présents.")]
    chair = get_user_model().objects.filter(pk=chair_id).first() if chair_id else None
    if chair_id and not holds_role(chair, programme_id=locked.programme_id, roles={Role.COPIL}):
        errors["chair"] = [_("La présidence revient à un membre du COPIL.")]
    items = {item.pk: item for item in locked.agenda_items.select_related("meeting")}
    for item_id, (decision, _comment) in decisions.items():
        item = items.get(item_id)
        if item is None or decision not in dict(item.decision_choices()):
            errors[f"decision_{item_id}"] = [_("Décision impossible pour ce point.")]
    if errors:
        raise Refused("invalid", _("Certaines saisies ne sont pas valides."), errors)
    before = {
        "chair": locked.chair,
        "attendees": ", ".join(sorted(str(u) for u in locked.attendees.all())),
    }
    locked.chair_id = chair_id
    locked.other_attendees = other_attendees
    locked.notes = notes
    locked.save()
    locked.attendees.set(attendee_ids)
    for item_id, (decision, comment) in decisions.items():
        item = items[item_id]
        item.decision, item.comment = decision, comment.strip()
        item.save(update_fields=["decision", "comment"])
    after = {
        "chair": locked.chair,
        "attendees": ", ".join(sorted(str(u) for u in locked.attendees.all())),
    }
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="record_meeting",
        changes=audit.field_changes(before, after)
        | {
            f"point {items[i].position}": [
                None,
                f"{audit.in_trail_language(items[i].get_decision_display)} {c}".strip(),
            ]
            for i, (d, c) in decisions.items()
            if d
        },
        ip=ip,
    )
    return locked


@transaction.atomic
def apply_meeting_decisions(*, meeting: Meeting, actor, ip: str | None = None) -> Meeting:
    """Apply every decision of the session, all or nothing: the first refused item undoes the
    others, and the error names the item and the rule. Decisions are taken in the name of the
    chair (a COPIL member present), so the preparer-cannot-approve rule applies to them."""
    locked = _locked_meeting(meeting, actor)
    chair = locked.chair
    if chair is None:
        raise Refused(
            "guard", _("Désignez la présidence de séance avant d'appliquer les décisions.")
        )
    if not locked.attendees.filter(pk=chair.pk).exists():
        raise Refused("guard", _("La présidence de séance doit figurer parmi les présents."))
    items = list(
        locked.agenda_items.exclude(decision="").select_related("action").order_by("position")
    )
    if not items:
        raise Refused("guard", _("Aucune décision n'est saisie pour cette séance."))
    session = audit.in_trail_language(locked)
    for item in items:
        comment = item.comment.strip()
        if comment:
            comment = f"{comment} — {session}"
        elif not _reason_required(item.decision):
            comment = session  # a missing mandatory reason must stay missing
        try:
            ACTION_TRANSITIONS[item.decision](
                action=Action.objects.get(pk=item.action_id), actor=chair, comment=comment, ip=ip
            )
        except Refused as exc:
            raise Refused(
                exc.rule,
                _(
                    "Point {position} « {action} » ({decision}) : {reason} Aucune décision de la "
                    "séance n'a été appliquée."
                ).format(
                    position=item.position,
                    action=item.action,
                    decision=item.get_decision_display(),
                    reason=exc.message,
                ),
                {"item": [str(item.pk)]},
            ) from exc
    locked.applied_at = timezone.now()
    locked.save(update_fields=["applied_at"])
    audit.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="apply_meeting_decisions",
        comment=f"{len(items)} décision(s) appliquée(s), présidence : {audit.actor_label(chair)}",
        ip=ip,
    )
    return locked
