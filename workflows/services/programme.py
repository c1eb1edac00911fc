"""A programme's set-up: its identity and territory, axes and objectives, working groups,
partner organisations, signatories and memberships — the source of every permission.

Each change is audited in the programme's chain, with its before and after values, so that the
trail the ARS receives says who was made a COPIL member, and when. The coordination sets up its
own programme; the administrator may too (creating a programme and its first coordinator has
to start somewhere) and the trail says who did. An organisation belongs to no single
programme: its changes are written in the chain of every programme it takes part in.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.fsm import FSMField

from audit import chain
from projects.models import (
    Axis,
    Membership,
    Objective,
    Organisation,
    Programme,
    Role,
    WorkingGroup,
)
from projects.permissions import holds_role

from .runner import Refused, check_seen, lock, role_refusal, validated

STRUCTURE = (Programme, Axis, Objective, WorkingGroup, Membership, Organisation)


def programmes_of(obj: models.Model) -> list[int]:
    """The programmes whose chain records a change of ``obj``."""
    if isinstance(obj, Programme):
        return [obj.pk]
    if isinstance(obj, Objective):
        return [obj.axis.programme_id]
    if isinstance(obj, Organisation):
        if obj.pk is None:
            return []
        return list(
            Programme.objects.filter(
                Q(memberships__organisation=obj)
                | Q(signatories=obj)
                | Q(actions__lead_organisation=obj)
                | Q(actions__partners=obj)
                | Q(actions__funding_requests__funder=obj)
            )
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return [obj.programme_id]


def may_set_up(actor, programme_ids: Iterable[int]) -> bool:
    """The administrator, or a coordinator of every programme concerned."""
    if actor.is_superuser:
        return True
    return all(holds_role(actor, programme_id=p, roles={Role.COORDINATOR}) for p in programme_ids)


SET_UP = gettext_lazy("Paramétrer le dispositif")


def _check(actor, programme_ids: list[int]) -> None:
    if not may_set_up(actor, programme_ids):
        raise role_refusal(SET_UP, {Role.COORDINATOR}, set())


def _values(obj: models.Model) -> dict[str, object]:
    """The object's fields as the trail keeps them (names of related objects, in French)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {
            f.name: chain.json_value(getattr(obj, f.name))
            for f in obj._meta.concrete_fields
            if not f.primary_key and not isinstance(f, FSMField)
        }


def _record(obj, *, actor, event: str, before: dict, programme_ids, ip) -> None:
    changes = chain.field_changes(before, _values(obj))
    if not changes:
        return
    for programme_id in programme_ids:
        chain.record(
            programme_id=programme_id, actor=actor, obj=obj, event=event, changes=changes, ip=ip
        )


@transaction.atomic
def save_structure(
    obj: models.Model,
    *,
    actor,
    data: dict | None = None,
    seen: int | None = None,
    ip: str | None = None,
) -> models.Model:
    """Create ``obj`` (no primary key yet) or apply ``data`` to it, validated and audited."""
    if not isinstance(obj, STRUCTURE):
        raise TypeError(f"Not part of a programme's set-up: {type(obj).__name__}")
    if obj.pk is None:
        for name, value in (data or {}).items():
            setattr(obj, name, value)
        if isinstance(obj, Programme) and not actor.is_superuser:
            raise Refused("role", _("Un nouveau dispositif est créé par l'administrateur."))
        if isinstance(obj, Organisation):  # added by the coordination of any programme
            if not actor.is_superuser and not (
                Membership.objects.active().filter(user=actor, role=Role.COORDINATOR).exists()
            ):
                raise role_refusal(SET_UP, {Role.COORDINATOR}, set())
        elif not isinstance(obj, Programme):
            _check(actor, programmes_of(obj))
        validated(obj)
        obj.save()
        _record(
            obj,
            actor=actor,
            event="create_structure",
            before={},
            programme_ids=programmes_of(obj),
            ip=ip,
        )
        return obj
    locked = lock(obj)
    check_seen(locked, seen)
    programme_ids = programmes_of(locked)
    _check(actor, programme_ids)
    before = _values(locked)
    for name, value in (data or {}).items():
        setattr(locked, name, value)
    validated(locked)
    locked.save()
    # A membership moved to another programme is recorded in both chains.
    _record(
        locked,
        actor=actor,
        event="update_structure",
        before=before,
        programme_ids=sorted(set(programme_ids) | set(programmes_of(locked))),
        ip=ip,
    )
    return locked


@transaction.atomic
def set_signatories(
    *,
    programme: Programme,
    actor,
    organisations: Iterable[Organisation],
    seen: int | None = None,
    ip: str | None = None,
) -> Programme:
    """The organisations that sign the programme's contract."""
    locked = lock(programme)
    check_seen(locked, seen)
    _check(actor, [locked.pk])
    before = ", ".join(sorted(str(o) for o in locked.signatories.all())) or None
    locked.signatories.set(organisations)
    after = ", ".join(sorted(str(o) for o in locked.signatories.all())) or None
    if before != after:
        chain.record(
            programme_id=locked.pk,
            actor=actor,
            obj=locked,
            event="update_structure",
            changes=chain.field_changes({"signatories": before}, {"signatories": after}),
            ip=ip,
        )
    return locked
