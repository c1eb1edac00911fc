"""A programme's local health diagnostic and its findings, the other schemes of the territory
(PRS, PTSM, contrat de ville, ASV…) with their objectives, what answers each finding (axes,
objectives, fiches), what each fiche contributes to, and the link between a CLS and its CLSM.

All of it is the programme's set-up: the coordination of the programme, or the administrator,
keeps it (``may_set_up``, the rule of ``programme``); every member reads it. Each change is
one audit event in the programme's chain — a link between two programmes in both chains —
with its values before and after (the names of what is linked). A double submit or a page
older than the object refuses (``already_moved``) or changes nothing: nothing is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit import chain
from diagnostic.models import Diagnostic, Finding, ProgrammeLink, Scheme, SchemeObjective
from projects.models import Action, Axis, Objective, Programme

from .directory import coordinated_programmes
from .programme import check_set_up
from .runner import Refused, check_seen, lock, save_once, text_input, validated

DIAGNOSTIC_FIELDS = ("date", "authors", "sources")
FINDING_FIELDS = (
    "title",
    "theme",
    "determinant",
    "population",
    "territory",
    "data",
    "source",
    "year",
)
FINDING_LINKS = ("axes", "objectives", "actions", "scheme_objectives")


def _names(objects: Iterable[models.Model]) -> str | None:
    return "; ".join(sorted(str(o) for o in objects)) or None


def _values(obj: models.Model, fields: Iterable[str]) -> dict[str, object]:
    with translation.override(settings.LANGUAGE_CODE):
        return {name: chain.json_value(getattr(obj, name)) for name in fields}


def _texts(data: dict, fields: Iterable[str]) -> dict:
    """The data with every text stripped and checked (``text_input``)."""
    return {
        name: text_input(value) if isinstance(value, str) else value
        for name, value in data.items()
        if name in fields
    }


def _audit(obj, *, programme_ids, actor, event: str, before: dict, after: dict, ip) -> bool:
    changes = chain.field_changes(before, after)
    if not changes:
        return False
    for programme_id in sorted(set(programme_ids)):
        chain.record(
            programme_id=programme_id,
            actor=actor,
            obj=obj,
            event=event,
            changes=changes,
            ip=ip,
        )
    return True


def _own(programme_id: int, objects, model, path: str, field: str) -> list:
    """``objects`` if each belongs to the programme (``path``: its programme's column)."""
    objects = list(objects or ())
    pks = {o.pk for o in objects}
    if pks and model.objects.filter(pk__in=pks, **{path: programme_id}).count() != len(pks):
        message = _("Choisissez parmi les éléments de ce dispositif.")
        raise Refused("invalid", message, {field: [message]})
    return objects


# --- the diagnostic ---------------------------------------------------------------------------


@transaction.atomic
def save_diagnostic(
    *, programme: Programme, actor, data: dict, seen: int | None = None, ip: str | None = None
) -> Diagnostic:
    """Create the programme's diagnostic or change it (date, authors, sources). ``seen``: the
    version of the diagnostic the page showed (0 when there was none yet)."""
    check_set_up(actor, programme.pk)
    lock(programme)  # one diagnostic per programme, created once
    data = _texts(data, DIAGNOSTIC_FIELDS)
    existing = Diagnostic.objects.filter(programme=programme).first()
    if existing is None:
        diagnostic = Diagnostic(programme=programme, **data)
        validated(diagnostic)
        save_once(diagnostic)
        _audit(
            diagnostic,
            programme_ids=[programme.pk],
            actor=actor,
            event="create_structure",
            before={},
            after=_values(diagnostic, DIAGNOSTIC_FIELDS),
            ip=ip,
        )
        return diagnostic
    locked = lock(existing)
    check_seen(locked, seen)
    before = _values(locked, DIAGNOSTIC_FIELDS)
    for name, value in data.items():
        setattr(locked, name, value)
    validated(locked)
    locked.save()
    _audit(
        locked,
        programme_ids=[programme.pk],
        actor=actor,
        event="update_structure",
        before=before,
        after=_values(locked, DIAGNOSTIC_FIELDS),
        ip=ip,
    )
    return locked


# --- findings ---------------------------------------------------------------------------------


def _finding_links(finding: Finding) -> dict[str, str | None]:
    return {name: _names(getattr(finding, name).all()) for name in FINDING_LINKS}


def _checked_links(programme_id: int, axes, objectives, actions, scheme_objectives) -> dict:
    return {
        "axes": _own(programme_id, axes, Axis, "programme_id", "axes"),
        "objectives": _own(programme_id, objectives, Objective, "axis__programme_id", "objectives"),
        "actions": _own(programme_id, actions, Action, "programme_id", "actions"),
        "scheme_objectives": _own(
            programme_id,
            scheme_objectives,
            SchemeObjective,
            "scheme__programme_id",
            "scheme_objectives",
        ),
    }


def _relink(
    obj, field: str, objects: list, *, other_side: str, event: str, programme_id: int, actor, ip
) -> None:
    """Set ``obj``'s links ``field`` to ``objects``: each object it gains or loses gets an
    event of its own (``event``, its ``other_side`` links before and after), so that its
    history says so and a page of it opened before is stale."""
    changed = sorted(set(getattr(obj, field).all()) ^ set(objects), key=lambda o: o.pk)
    before = {o.pk: _names(getattr(o, other_side).all()) for o in changed}
    getattr(obj, field).set(objects)
    for other in changed:
        _audit(
            other,
            programme_ids=[programme_id],
            actor=actor,
            event=event,
            before={other_side: before[other.pk]},
            after={other_side: _names(getattr(other, other_side).all())},
            ip=ip,
        )


def _set_links(finding: Finding, links: dict[str, list], *, programme_id: int, actor, ip) -> None:
    """Set the finding's links (``links``: those given); a fiche it gains or loses gets an
    event of its own."""
    for name, objects in links.items():
        if name == "actions":
            _relink(
                finding,
                name,
                objects,
                other_side="findings",
                event="update",
                programme_id=programme_id,
                actor=actor,
                ip=ip,
            )
        else:
            getattr(finding, name).set(objects)


@transaction.atomic
def add_finding(
    *,
    programme: Programme,
    actor,
    data: dict,
    axes: Iterable[Axis] = (),
    objectives: Iterable[Objective] = (),
    actions: Iterable[Action] = (),
    scheme_objectives: Iterable[SchemeObjective] = (),
    ip: str | None = None,
) -> Finding:
    """A new finding of the programme's diagnostic, with what answers it. A second one of the
    same title (a double submit) is refused."""
    check_set_up(actor, programme.pk)
    diagnostic = Diagnostic.objects.filter(programme=programme).first()
    if diagnostic is None:
        raise Refused(
            "invalid", _("Enregistrez d'abord le diagnostic (date, auteurs) du dispositif.")
        )
    lock(programme)  # the fiche page links findings too
    links = _checked_links(programme.pk, axes, objectives, actions, scheme_objectives)
    finding = Finding(diagnostic=diagnostic, **_texts(data, FINDING_FIELDS))
    validated(finding)
    save_once(finding)
    _set_links(finding, links, programme_id=programme.pk, actor=actor, ip=ip)
    _audit(
        finding,
        programme_ids=[programme.pk],
        actor=actor,
        event="create_structure",
        before={},
        after=_values(finding, FINDING_FIELDS) | _finding_links(finding),
        ip=ip,
    )
    return finding


@transaction.atomic
def update_finding(
    *,
    finding: Finding,
    actor,
    data: dict,
    axes: Iterable[Axis] | None = None,
    objectives: Iterable[Objective] | None = None,
    actions: Iterable[Action] | None = None,
    scheme_objectives: Iterable[SchemeObjective] | None = None,
    seen: int | None = None,
    ip: str | None = None,
) -> Finding:
    """Change a finding and what answers it (each list given replaces the former one; None
    keeps it)."""
    programme_id = finding.diagnostic.programme_id
    check_set_up(actor, programme_id)
    lock(Programme.objects.get(pk=programme_id))  # the fiche page links findings too
    locked = lock(finding)
    check_seen(locked, seen)
    given = {
        "axes": axes,
        "objectives": objectives,
        "actions": actions,
        "scheme_objectives": scheme_objectives,
    }
    links = {
        name: objects
        for name, objects in _checked_links(programme_id, *given.values()).items()
        if given[name] is not None
    }
    before = _values(locked, FINDING_FIELDS) | _finding_links(locked)
    for name, value in _texts(data, FINDING_FIELDS).items():
        setattr(locked, name, value)
    validated(locked)
    save_once(locked)
    _set_links(locked, links, programme_id=programme_id, actor=actor, ip=ip)
    _audit(
        locked,
        programme_ids=[programme_id],
        actor=actor,
        event="update_structure",
        before=before,
        after=_values(locked, FINDING_FIELDS) | _finding_links(locked),
        ip=ip,
    )
    return locked


# --- other schemes ----------------------------------------------------------------------------


@transaction.atomic
def add_scheme(
    *, programme: Programme, actor, kind: str, name: str, ip: str | None = None
) -> Scheme:
    """Another scheme the programme works with (a second one of the same name is refused)."""
    check_set_up(actor, programme.pk)
    scheme = Scheme(programme=programme, kind=kind, name=text_input(name))
    validated(scheme)
    save_once(scheme)
    _audit(
        scheme,
        programme_ids=[programme.pk],
        actor=actor,
        event="create_structure",
        before={},
        after=_values(scheme, ("kind", "name")),
        ip=ip,
    )
    return scheme


@transaction.atomic
def update_scheme(
    *, scheme: Scheme, actor, kind: str, name: str, seen: int | None = None, ip: str | None = None
) -> Scheme:
    """Rename a scheme or change its kind (its objectives and the fiches' tags stay)."""
    check_set_up(actor, scheme.programme_id)
    locked = lock(scheme)
    check_seen(locked, seen)
    before = _values(locked, ("kind", "name"))
    locked.kind, locked.name = kind, text_input(name)
    validated(locked)
    save_once(locked)
    _audit(
        locked,
        programme_ids=[locked.programme_id],
        actor=actor,
        event="update_structure",
        before=before,
        after=_values(locked, ("kind", "name")),
        ip=ip,
    )
    return locked


@transaction.atomic
def add_scheme_objective(
    *, scheme: Scheme, actor, title: str, ip: str | None = None
) -> SchemeObjective:
    """An objective (or axis) of another scheme, to which fiches may contribute."""
    check_set_up(actor, scheme.programme_id)
    objective = SchemeObjective(scheme=scheme, title=text_input(title))
    validated(objective)
    save_once(objective)
    _audit(
        objective,
        programme_ids=[scheme.programme_id],
        actor=actor,
        event="create_structure",
        before={},
        after={"scheme": scheme.name, "title": objective.title},
        ip=ip,
    )
    return objective


# --- a fiche's findings and contributions -----------------------------------------------------


@transaction.atomic
def set_fiche_links(
    *,
    action: Action,
    actor,
    findings: Iterable[Finding],
    scheme_objectives: Iterable[SchemeObjective],
    seen: int | None = None,
    ip: str | None = None,
) -> Action:
    """The findings the fiche answers and the objectives of other schemes it contributes to:
    one event of the fiche with both lists before and after, by name (none if unchanged), and
    one of each finding it gains or loses (a finding's page opened before is stale)."""
    check_set_up(actor, action.programme_id)
    lock(Programme.objects.get(pk=action.programme_id))  # the finding's page links fiches too
    locked = lock(action)
    check_seen(locked, seen)
    findings = _own(locked.programme_id, findings, Finding, "diagnostic__programme_id", "findings")
    scheme_objectives = _own(
        locked.programme_id,
        scheme_objectives,
        SchemeObjective,
        "scheme__programme_id",
        "scheme_objectives",
    )
    before = {
        "findings": _names(locked.findings.all()),
        "scheme_objectives": _names(locked.scheme_objectives.select_related("scheme")),
    }
    _relink(
        locked,
        "findings",
        findings,
        other_side="actions",
        event="update_structure",
        programme_id=locked.programme_id,
        actor=actor,
        ip=ip,
    )
    locked.scheme_objectives.set(scheme_objectives)
    _audit(
        locked,
        programme_ids=[locked.programme_id],
        actor=actor,
        event="update",
        before=before,
        after={
            "findings": _names(findings),
            "scheme_objectives": _names(scheme_objectives),
        },
        ip=ip,
    )
    return locked


# --- a CLS and its CLSM ---------------------------------------------------------------------


def linkable(actor, programme: Programme) -> models.QuerySet[Programme]:
    """The programmes the actor may link to ``programme``: those they set up too, not linked
    yet."""
    candidates = Programme.objects.all()
    if not actor.is_superuser:
        candidates = candidates.filter(pk__in=coordinated_programmes(actor))
    return (
        candidates.exclude(pk=programme.pk)
        .exclude(pk__in=ProgrammeLink.linked_to(programme.pk).values("pk"))
        .order_by("name")
    )


@transaction.atomic
def link_programmes(
    *, programme: Programme, other: Programme, actor, ip: str | None = None
) -> ProgrammeLink:
    """Link two programmes the actor sets up both of (a CLS and its CLSM): recorded in both
    chains. Linking them again (a double submit) is refused."""
    check_set_up(actor, programme.pk, other.pk)
    if programme.pk == other.pk:
        raise Refused("invalid", _("Un dispositif ne se lie pas à lui-même."))
    first, second = sorted((programme, other), key=lambda p: p.pk)
    link = ProgrammeLink(first=first, second=second)
    validated(link)
    save_once(link)
    _audit(
        link,
        programme_ids=[first.pk, second.pk],
        actor=actor,
        event="create_structure",
        before={},
        after={"first": first.name, "second": second.name},
        ip=ip,
    )
    return link


# --- removing ---------------------------------------------------------------------------------


def _programmes_of(obj: models.Model) -> list[int]:
    if isinstance(obj, Finding):
        return [obj.diagnostic.programme_id]
    if isinstance(obj, Scheme):
        return [obj.programme_id]
    if isinstance(obj, SchemeObjective):
        return [obj.scheme.programme_id]
    if isinstance(obj, ProgrammeLink):
        return [obj.first_id, obj.second_id]
    raise TypeError(f"Not removable here: {type(obj).__name__}")


def _removed_values(obj: models.Model) -> dict[str, object]:
    """What the trail keeps of a removed item: its name and what was linked to it."""
    if isinstance(obj, Finding):
        return _values(obj, ("title", "theme")) | _finding_links(obj)
    if isinstance(obj, Scheme):
        return _values(obj, ("kind", "name")) | {"objectives": _names(obj.objectives.all())}
    if isinstance(obj, SchemeObjective):
        return {
            "scheme": obj.scheme.name,
            "title": obj.title,
            "actions": _names(obj.actions.all()),
        }
    return {"first": obj.first.name, "second": obj.second.name}


@transaction.atomic
def remove_item(
    obj: Finding | Scheme | SchemeObjective | ProgrammeLink,
    *,
    actor,
    seen: int | None = None,
    ip: str | None = None,
) -> None:
    """Remove a finding, a scheme (with its objectives), an objective of a scheme or a link
    between two programmes: the fiches lose their links to it; the trail keeps what it was
    and what was linked to it. Removing it again (a double submit) is refused."""
    check_set_up(actor, *_programmes_of(obj))
    try:
        locked = lock(obj)
    except type(obj).DoesNotExist as exc:
        raise Refused("already_moved", _("Déjà retiré : rien n'a été modifié.")) from exc
    check_seen(locked, seen)
    before = _removed_values(locked)
    label = str(locked)
    pk = locked.pk
    locked.delete()
    locked.pk = pk  # the trail names the object that was removed
    changes = chain.field_changes(before, dict.fromkeys(before))
    for programme_id in sorted(set(_programmes_of(locked))):
        chain.record(
            programme_id=programme_id,
            actor=actor,
            obj=locked,
            event="remove_structure",
            changes=changes,
            comment=label,
            ip=ip,
        )
