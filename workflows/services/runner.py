"""The one way a change happens: lock, version seen, state, role, separation, reason, guard,
save, audit — in the caller's transaction.

``run_step`` runs a lifecycle transition declared on a model (``projects.lifecycle``);
``Rule`` states who may make a change that is not a transition (edit a fiche, add a budget
line…) and in which states; ``record`` saves and audits such a change. Pages ask the same
predicates (``step_refusal``, ``Rule.allows``) to decide which buttons and forms to offer.
A refusal raises ``Refused`` with its rule; nothing is left behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from viewflow.fsm import FSMField, TransitionConditionsUnmet

import uploads
from audit import chain
from audit.labels import Labels
from contracts.models import Amendment, Evaluation, Signing
from funding.models import FundingRequest, Tranche
from projects import calendar, lifecycle
from projects.models import Action, Meeting, Opinion, Programme, ResidentProposal, Role
from projects.permissions import action_scopes, roles_for, roles_in


class Refused(Exception):
    """A change refused by a rule of Coordo. ``rule`` says which one:

    - ``already_moved``: the object changed since the actor saw it (stale page, lost race);
    - ``state``: the change is not possible in the object's current state;
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
class Target:
    """Where an object sits: its programme, the scopes of its scoped roles, its name."""

    programme_id: int
    scopes: dict[str, int | None]
    noun: str


def target(obj: models.Model) -> Target:
    if isinstance(obj, Action):
        return Target(obj.programme_id, action_scopes(obj), _("La fiche action"))
    if isinstance(obj, FundingRequest):
        scopes = action_scopes(obj.action) | {Role.FUNDER: obj.funder_id}
        return Target(obj.action.programme_id, scopes, _("La demande de financement"))
    if isinstance(obj, Tranche):
        return Target(
            target(obj.request).programme_id, target(obj.request).scopes, _("Le versement")
        )
    if isinstance(obj, Programme):
        return Target(obj.pk, {}, _("Le dispositif"))
    if isinstance(obj, Meeting):
        return Target(obj.programme_id, {}, _("La séance"))
    if isinstance(obj, ResidentProposal):
        return Target(obj.programme_id, {}, _("La proposition d'habitant"))
    if isinstance(obj, Opinion):
        return Target(obj.action.programme_id, action_scopes(obj.action), _("L'avis"))
    if isinstance(obj, Amendment):
        return Target(obj.programme_id, {}, _("L'avenant"))
    if isinstance(obj, Evaluation):
        return Target(obj.programme_id, {}, _("L'évaluation du contrat"))
    if isinstance(obj, Signing):
        return Target(obj.programme_id, {}, _("Le tour de signatures"))
    raise TypeError(f"No target for {type(obj).__name__}")


def programme_of(obj: models.Model) -> Programme:
    """The programme an object belongs to (loaded with the object when it is locked)."""
    if isinstance(obj, Programme):
        return obj
    if isinstance(obj, Action | Meeting | Amendment | Evaluation | Signing):
        return obj.programme
    if isinstance(obj, FundingRequest):
        return obj.action.programme
    if isinstance(obj, Tranche):
        return obj.request.action.programme
    return obj.programme  # a resident's proposal


def granted(steps, obj: models.Model) -> frozenset[str]:
    """The roles ``steps`` grant, with those the object's programme settings add."""
    roles = frozenset()
    for step in steps:
        roles |= step.roles
        for setting, extra in step.setting_roles:
            if getattr(programme_of(obj), setting):
                roles |= extra
    return roles


def roles_on(actor, obj: models.Model) -> set[str]:
    """The actor's roles that apply to ``obj`` (one query): pass them to the predicates below
    when a page asks several of them."""
    where = target(obj)
    if isinstance(obj, Programme | Amendment | Evaluation | Signing):
        # The contract is everyone's: a signatory, a funder or a lead counts whatever the
        # organisation they hold the role for.
        return roles_in(actor, where.programme_id)
    return roles_for(actor, programme_id=where.programme_id, scopes=where.scopes)


def roles_label(roles: Iterable[str]) -> str:
    return ", ".join(sorted(str(Role(r).label) for r in roles))


MAX_TEXT = 20_000  # characters of a comment, a reason, notes: several pages of text


def text_input(value: str | None) -> str:
    """Free text typed by someone (a comment, a reason, notes), stripped; a NUL character,
    which no keyboard types and PostgreSQL refuses, or a text of more than ``MAX_TEXT``
    characters, is refused with a message."""
    value = (value or "").strip()
    if "\x00" in value:
        raise Refused("invalid", _("Le texte contient un caractère nul : retapez-le."))
    if len(value) > MAX_TEXT:
        raise Refused(
            "invalid",
            _("Le texte dépasse {max} caractères : raccourcissez-le.").format(max=MAX_TEXT),
        )
    return value


def role_refusal(what, allowed: Iterable[str], held: set[str]) -> Refused | None:
    """Refused (``role``) unless the actor holds one of the ``allowed`` roles."""
    if held & set(allowed):
        return None
    return Refused(
        "role", _("« {what} » revient à : {roles}.").format(what=what, roles=roles_label(allowed))
    )


def state_label(obj: models.Model) -> str:
    field = lifecycle.state_field(type(obj))
    value = getattr(obj, field.name)
    return str(dict(field.choices).get(value, value))


# Relations read while checking and auditing a change, loaded with the locked row (not locked).
_LOCK_RELATED = {
    Action: ("programme", "objective", "lead_organisation", "working_group"),
    ResidentProposal: ("programme",),
    FundingRequest: ("action__programme", "funder"),
    Tranche: ("request__action__programme", "request__funder"),
    Amendment: ("programme",),
    Evaluation: ("programme",),
    Signing: ("programme", "amendment", "funding_request__action"),
}


def lock(obj: models.Model) -> models.Model:
    """The row, fresh from the database and locked until the end of the transaction."""
    return (
        type(obj)
        .objects.select_related(*_LOCK_RELATED.get(type(obj), ()))
        .select_for_update(of=("self",))
        .get(pk=obj.pk)
    )


def check_seen(locked: models.Model, seen: int | None) -> None:
    """Refuse (``already_moved``) when ``locked`` changed after the version the actor saw
    (``seen``, from the page; None: a script acting on the current version). The message says
    what changed and who changed it, so that the actor knows what to read again."""
    if seen is None:
        return
    newer = chain.changes_since(locked, seen)
    if not newer:
        return
    labels = Labels()
    what = "; ".join(
        _("« {event} » par {actor} le {at}").format(
            event=labels.event_label(e.object_type, e.event),
            actor=e.actor_label,
            at=formats.date_format(timezone.localtime(e.at), "SHORT_DATETIME_FORMAT"),
        )
        for e in newer
    )
    raise Refused(
        "already_moved",
        _(
            "Modifié depuis que vous avez ouvert la page : {what}. Relisez la version "
            "actuelle ; rien n'a été enregistré."
        ).format(what=what),
    )


@dataclass(frozen=True)
class Rule:
    """Who may make a change that is not a lifecycle transition, and in which states of the
    object (None: any). ``proposer_states``: states in which whoever proposed the object (its
    ``created_by``) may do it too, as a member of the programme, whatever their role.
    ``allows``/``refusal`` are the predicate a page shows; ``check`` is what the service runs
    (the same)."""

    what: object  # translatable: « Modifier la fiche »
    roles: frozenset[str]
    states: tuple[str, ...] | None = None
    proposer_states: tuple[str, ...] = ()

    def refusal(self, actor, obj: models.Model, *, roles: set[str] | None = None) -> Refused | None:
        held = roles_on(actor, obj) if roles is None else roles
        if self._as_proposer(actor, obj, held):
            return None
        refusal = role_refusal(self.what, self.roles, held)
        if refusal:
            return refusal
        if self.states is not None and lifecycle.state_of(obj) not in self.states:
            field = lifecycle.state_field(type(obj))
            allowed = ", ".join(str(label) for v, label in field.choices if v in self.states)
            return Refused(
                "state",
                _(
                    "« {what} » n'est possible qu'à l'état : {allowed} (actuellement « {state} »)."
                ).format(what=self.what, allowed=allowed, state=state_label(obj)),
            )
        return None

    def _as_proposer(self, actor, obj: models.Model, held: set[str]) -> bool:
        """Whoever proposed it, still a member of the programme (in any role: a funder's or
        an action lead's role need not apply to the fiche)."""
        return (
            bool(self.proposer_states)
            and lifecycle.state_of(obj) in self.proposer_states
            and getattr(obj, "created_by_id", None) == actor.pk
            and bool(held or roles_in(actor, target(obj).programme_id))
        )

    def allows(self, actor, obj: models.Model, *, roles: set[str] | None = None) -> bool:
        return self.refusal(actor, obj, roles=roles) is None

    def check(self, actor, obj: models.Model) -> None:
        refusal = self.refusal(actor, obj)
        if refusal:
            raise refusal


def step_refusal(
    actor, obj: models.Model, name: str, *, roles: set[str] | None = None, extra_roles=frozenset()
) -> Refused | None:
    """Why the actor may not run transition ``name`` on ``obj`` as it stands — its state,
    the actor's role, the separation of who prepares and who approves — or None. Guards and
    mandatory reasons are checked when it runs. ``extra_roles``: roles allowed besides the
    transition's own in this call (e.g. the coordinator recording a funder's decision)."""
    model = type(obj)
    step = lifecycle.step(model, name, lifecycle.state_of(obj))
    if step is None:
        return Refused(
            "state",
            _("« {transition} » n'est pas possible depuis l'état « {state} ».").format(
                transition=lifecycle.label(model, name), state=state_label(obj)
            ),
        )
    held = roles_on(actor, obj) if roles is None else roles
    refusal = role_refusal(step.label, granted([step], obj) | extra_roles, held)
    if refusal:
        return refusal
    if step.preparer_excluded and getattr(obj, "submitted_by_id", None) == actor.pk:
        return Refused(
            "separation",
            _(
                "Vous avez soumis cette fiche au COPIL : une autre personne du COPIL doit la "
                "valider (celui qui prépare ne peut pas approuver)."
            ),
        )
    return None


@dataclass(frozen=True)
class Offer:
    """A transition a page offers the actor: ``refusal`` is set when it is shown but may not
    be run by them (the separation of duties, explained on the button)."""

    step: lifecycle.Step
    refusal: Refused | None


def offered(actor, obj: models.Model, *, roles: set[str], extra_roles=frozenset()) -> list[Offer]:
    """The transitions leaving the object's state that the actor's roles cover."""
    offers = []
    for step in lifecycle.available(obj):
        if step.automatic:
            continue
        refusal = step_refusal(actor, obj, step.name, roles=roles, extra_roles=extra_roles)
        if refusal is None or refusal.rule == "separation":
            offers.append(Offer(step, refusal))
    return offers


def run_step(
    obj: models.Model,
    name: str,
    *,
    actor,
    seen: int | None = None,
    comment: str = "",
    ip: str | None = None,
    extra_roles: frozenset[str] = frozenset(),
    extra_changes: dict[str, list[object]] | None = None,
    **kwargs,
) -> tuple[models.Model, str]:
    """Run transition ``name`` on ``obj`` as the actor saw it (the instance's state, and
    ``seen``); returns the locked, saved object and the state it left. Call inside ``atomic``.
    The trail records the state change, every other field the transition changed, and
    ``extra_changes`` (what the trail must keep beside them, such as a document's hash)."""
    comment = text_input(comment)
    locked = lock(obj)
    model = type(locked)
    field = lifecycle.state_field(model).name
    current = getattr(locked, field)
    if getattr(obj, field) != current:
        raise Refused(
            "already_moved",
            _(
                "{noun} a déjà changé d'état entre-temps (état actuel : « {state} »). "
                "Rien n'a été modifié."
            ).format(noun=target(locked).noun, state=state_label(locked)),
        )
    # The role first (a 403 whatever the page's age), then the version the actor saw, then
    # what the current state allows.
    held = roles_on(actor, locked)
    allowed = granted([s for s in lifecycle.steps(model) if s.name == name], locked)
    refusal = role_refusal(lifecycle.label(model, name), allowed | extra_roles, held)
    if refusal:
        raise refusal
    check_seen(locked, seen)
    refusal = step_refusal(actor, locked, name, roles=held, extra_roles=extra_roles)
    if refusal:
        raise refusal
    step = lifecycle.step(model, name, current)
    if step.reason_required and not comment:
        raise Refused(
            "comment",
            _("« {what} » demande un motif ou un commentaire.").format(what=step.label),
        )
    fields = [f.name for f in locked._meta.concrete_fields if f.name not in (field, "updated_at")]
    before = {f: getattr(locked, f) for f in fields}
    try:
        getattr(locked, name)(**kwargs)
    except TransitionConditionsUnmet as exc:
        raise Refused("guard", exc.unmet_message or str(exc)) from exc
    except ValidationError as exc:  # an argument the transition refuses (e.g. merged into)
        raise Refused(
            "invalid", _invalid_message(locked, exc.message_dict), exc.message_dict
        ) from exc
    validated(locked)  # what the transition wrote (a reference, a date…) obeys the model too
    locked.save()
    chain.record(
        programme_id=target(locked).programme_id,
        actor=actor,
        obj=locked,
        event=name,
        from_state=current,
        to_state=getattr(locked, field),
        changes=chain.field_changes(before, {f: getattr(locked, f) for f in fields})
        | (extra_changes or {}),
        comment=comment,
        ip=ip,
    )
    return locked, current


def validated(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Validate before saving, with messages for people, without needless queries: the one
    validation every write goes through, whatever sent it (a form, the import, a script).

    Beyond the model's own rules: no date outside the years Coordo accepts, no NUL character
    in text (PostgreSQL refuses it). Skipped: FSM fields (protected; they only change through
    transitions), relations given as loaded objects (they exist), and CHECK constraints (each
    model's ``clean()`` and field validators state the same rules with readable messages; the
    database still enforces them). Unique constraints are checked, as they need the database.
    """
    skip = [
        f.name
        for f in obj._meta.concrete_fields
        if isinstance(f, FSMField) or (f.is_relation and f.is_cached(obj))
    ]
    skip += exclude or []
    errors: dict[str, list[str]] = {}
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        try:
            if isinstance(f, models.DateField):  # DateTimeField included
                calendar.check_date(value)
            elif isinstance(value, str) and "\x00" in value:
                raise ValidationError(_("Le texte contient un caractère nul : retapez-le."))
        except ValidationError as exc:
            errors.setdefault(f.name, []).extend(exc.messages)
    try:
        if errors:
            raise ValidationError(errors)
        obj.full_clean(exclude=skip, validate_constraints=False)
        unique = [c for c in obj._meta.constraints if isinstance(c, models.UniqueConstraint)]
        if unique:
            in_unique = {name for c in unique for name in _fields_of(c)}
            obj.validate_constraints(
                exclude={f.name for f in obj._meta.concrete_fields if f.name not in in_unique}
            )
    except ValidationError as exc:
        errors = exc.message_dict
        raise Refused("invalid", _invalid_message(obj, errors), errors) from exc


def _invalid_message(obj: models.Model, errors: dict[str, list[str]]) -> str:
    """The errors in one sentence, each introduced by the label of its field."""
    parts = []
    for name, messages in errors.items():
        text = " ".join(messages)
        try:
            label = obj._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            parts.append(text)  # about the whole object
        else:
            parts.append(f"{label} : {text}")
    return _("Certaines valeurs ne sont pas valides : ") + " ; ".join(parts)


def _fields_of(constraint: models.UniqueConstraint) -> set[str]:
    """The fields a unique constraint reads, named or inside its expressions."""
    names = set(constraint.fields)
    pending = list(constraint.expressions)
    while pending:
        expression = pending.pop()
        if isinstance(expression, models.F):
            names.add(expression.name)
        else:
            pending += expression.get_source_expressions()
    return names


def save_once(obj: models.Model) -> None:
    """Save, and turn a duplicate inserted by a simultaneous request (the unique constraint of
    the database, past the validation both requests passed) into the same refusal."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        validated(obj)  # names the duplicate, now that the other one is visible
        raise Refused("already_moved", _("Cet enregistrement existe déjà.")) from exc


def record(
    obj: models.Model,
    *,
    programme_id: int,
    actor,
    event: str,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    comment: str = "",
    ip: str | None = None,
    to_state: str = "",
) -> models.Model:
    """Validate, save and audit a change that is not a transition (``before``/``after``: the
    values shown in the trail; the object's own fields when ``after`` is None)."""
    validated(obj)
    save_once(obj)
    if after is None:  # a new part of a fiche: its values, but not the fiche it belongs to
        after = {
            f.name: getattr(obj, f.name)
            for f in obj._meta.concrete_fields
            if f.name not in ("id", "action", "indicator")
        }
    chain.record(
        programme_id=programme_id,
        actor=actor,
        obj=obj,
        event=event,
        to_state=to_state,
        changes=chain.field_changes(before or {}, after),
        comment=comment,
        ip=ip,
    )
    return obj


@contextmanager
def stored_upload(
    document, field: str, folder: str, *, limit: int = uploads.MAX_BYTES, text: bool = False
) -> Iterator[tuple[str, uploads.Kind | None, str]]:
    """Check an uploaded document by its content and size (``Refused`` naming ``field`` and
    saying what is accepted), store it under ``folder`` and give its path, kind and SHA-256 to
    the change; if the change fails, the stored file is removed: nothing of a refused change
    stays behind. No document (None): nothing is stored, ``("", None, "")``."""
    if document is None:
        yield "", None, ""
        return
    try:
        kind = uploads.check(document, document.size, limit=limit, text=text)
    except uploads.UploadRefused as exc:
        raise Refused("invalid", exc.message, {field: [exc.message]}) from exc
    digest = uploads.sha256(document)
    stored = default_storage.save(f"{folder}/{uuid.uuid4().hex}.{kind.extension}", document)
    try:
        yield stored, kind, digest
    except BaseException:
        default_storage.delete(stored)
        raise
