"""A programme's set-up: its identity and territory, axes and objectives, working groups,
partner organisations, signatories and memberships — the source of every permission.

Each change is audited in the programme's chain, with its before and after values, so that the
trail the ARS receives says who was made a COPIL member, and when. The coordination sets up its
own programme; the administrator may too (creating a programme and its first coordinator has
to start somewhere) and the trail says who did. An organisation belongs to no single
programme: its changes are written in the chain of every programme it takes part in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
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

from .runner import Refused, check_seen, lock, role_refusal, text_input, validated

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


def check_set_up(actor, *programme_ids: int) -> None:
    """Refuse (rule "role") unless the actor sets up every programme concerned."""
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


def _record(obj, *, actor, event: str, before: dict, programme_ids, ip, comment: str = "") -> None:
    changes = chain.field_changes(before, _values(obj))
    if not changes:
        return
    for programme_id in programme_ids:
        chain.record(
            programme_id=programme_id,
            actor=actor,
            obj=obj,
            event=event,
            changes=changes,
            comment=comment,
            ip=ip,
        )


@transaction.atomic
def save_structure(
    obj: models.Model,
    *,
    actor,
    data: dict | None = None,
    seen: int | None = None,
    ip: str | None = None,
    comment: str = "",
) -> models.Model:
    """Create ``obj`` (no primary key yet) or apply ``data`` to it, validated and audited
    (``comment``: what the trail says beside the values, such as an invitation sent)."""
    if not isinstance(obj, STRUCTURE):
        raise TypeError(f"Not part of a programme's set-up: {type(obj).__name__}")
    if obj.pk is None:
        for name, value in (data or {}).items():
            setattr(obj, name, value)
        if isinstance(obj, Programme) and not actor.is_superuser:
            # In the app, ``create_programme`` also makes its creator the coordinator.
            raise Refused(
                "role", _("Un nouveau dispositif se crée par la page « Nouveau dispositif ».")
            )
        if isinstance(obj, Organisation):  # added by the coordination of any programme
            if not actor.is_superuser and not (
                Membership.objects.active().filter(user=actor, role=Role.COORDINATOR).exists()
            ):
                raise role_refusal(SET_UP, {Role.COORDINATOR}, set())
        elif not isinstance(obj, Programme):
            check_set_up(actor, *programmes_of(obj))
        if isinstance(obj, Objective) and not obj.position:
            obj.position = _next(Objective.objects.filter(axis_id=obj.axis_id), "position")
        validated(obj)
        obj.save()
        _record(
            obj,
            actor=actor,
            event="create_structure",
            before={},
            programme_ids=programmes_of(obj),
            ip=ip,
            comment=comment,
        )
        return obj
    locked = lock(obj)
    check_seen(locked, seen)
    programme_ids = programmes_of(locked)
    check_set_up(actor, *programme_ids)
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
        comment=comment,
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
    check_set_up(actor, locked.pk)
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


# --- Creating a programme ---------------------------------------------------------------------

# What a programme is: its kind, name, territory and period (its settings are elsewhere; its
# communes, EPCI and QPV are its places, ``services.add_place``).
IDENTITY_FIELDS = (
    "kind",
    "name",
    "territory",
    "start_date",
    "end_date",
)


def may_create_programme(actor) -> bool:
    """Who coordinates a programme already, or whom the administrator allowed
    (``projects.add_programme``)."""
    if not actor.is_authenticated:
        return False
    return (
        actor.has_perm("projects.add_programme")
        or Membership.objects.active().filter(user=actor, role=Role.COORDINATOR).exists()
    )


def programme_creation_refusal(actor) -> Refused | None:
    """Why the actor may not create a programme (the page's 403), or None."""
    if may_create_programme(actor):
        return None
    return Refused(
        "role",
        _(
            "Un nouveau dispositif est créé par le coordonnateur ou la coordonnatrice d'un "
            "dispositif, ou par une personne que l'administrateur y autorise."
        ),
    )


@transaction.atomic
def create_programme(*, actor, data: dict, ip: str | None = None) -> Programme:
    """A new programme (``IDENTITY_FIELDS``), in drafting, whose creator is its coordinator."""
    refusal = programme_creation_refusal(actor)
    if refusal:
        raise refusal
    unknown = set(data) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"Not part of a programme's identity: {sorted(unknown)}")
    programme = Programme(**data)
    validated(programme)
    programme.save()
    _record(
        programme,
        actor=actor,
        event="create_structure",
        before={},
        programme_ids=[programme.pk],
        ip=ip,
    )
    coordinator = Membership(user=actor, programme=programme, role=Role.COORDINATOR)
    validated(coordinator)
    coordinator.save()
    _record(
        coordinator,
        actor=actor,
        event="create_structure",
        before={},
        programme_ids=[programme.pk],
        ip=ip,
        comment=_("Créateur du dispositif"),
    )
    return programme


# --- The axes → objectives tree ---------------------------------------------------------------


def _next(siblings: models.QuerySet, field: str) -> int:
    return (siblings.aggregate(last=Max(field))["last"] or 0) + 1


def _unique_title(siblings: models.QuerySet, title: str, message: str) -> str:
    """A new axis or objective must not repeat a sibling's title (a double submit would)."""
    title = text_input(title)
    # Compared here, not with ``iexact``: SQLite folds the case of ASCII letters only (É, é).
    taken = {t.casefold() for t in siblings.values_list("title", flat=True)}
    if title.casefold() in taken:
        raise Refused("invalid", message, {"title": [message]})
    return title


@transaction.atomic
def add_axis(*, programme: Programme, actor, title: str, ip: str | None = None) -> Axis:
    """A new axis, numbered after the last one (retired ones included)."""
    check_set_up(actor, programme.pk)
    lock(programme)  # one numbering at a time
    axes = Axis.objects.filter(programme=programme)
    title = _unique_title(axes, title, _("Un axe du dispositif porte déjà cet intitulé."))
    axis = Axis(programme=programme, number=_next(axes, "number"), title=title)
    return save_structure(axis, actor=actor, ip=ip)


@transaction.atomic
def add_objective(
    *,
    axis: Axis,
    actor,
    title: str,
    level: str,
    parent: Objective | None = None,
    ip: str | None = None,
) -> Objective:
    """A new objective of ``axis``, last in its rank."""
    check_set_up(actor, axis.programme_id)
    lock(axis)
    siblings = Objective.objects.filter(axis=axis)
    title = _unique_title(siblings, title, _("Un objectif de cet axe porte déjà cet intitulé."))
    objective = Objective(axis=axis, title=title, level=level, parent=parent)
    return save_structure(objective, actor=actor, ip=ip)


@transaction.atomic
def move_in_tree(
    obj: Axis | Objective, *, actor, up: bool, seen: int | None = None, ip: str | None = None
) -> Axis | Objective:
    """Move an axis (it swaps numbers with its neighbour) or an objective (within its axis)
    one place up or down. Fiches keep their objective: only the order changes."""
    if not isinstance(obj, Axis | Objective):
        raise TypeError(f"Not part of the tree: {type(obj).__name__}")
    check_set_up(actor, *programmes_of(obj))
    locked = lock(obj)
    check_seen(locked, seen)
    if isinstance(locked, Axis):
        siblings = list(
            Axis.objects.filter(programme_id=locked.programme_id)
            .select_for_update()
            .order_by("number")
        )
        field = "number"
    else:
        siblings = list(
            Objective.objects.filter(axis_id=locked.axis_id)
            .select_for_update()
            .order_by("position", "pk")
        )
        field = "position"
    index = next(i for i, s in enumerate(siblings) if s.pk == locked.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        raise Refused(
            "invalid",
            _("Déjà en première position.") if up else _("Déjà en dernière position."),
        )
    siblings[index], siblings[other] = siblings[other], siblings[index]
    if field == "number":  # numbers stay those the axes had, in the new order
        values = sorted(s.number for s in siblings)
    else:  # ranks 1, 2, 3… (objectives created outside the services may share a rank)
        values = list(range(1, len(siblings) + 1))
    moved = [(s, v) for s, v in zip(siblings, values, strict=True) if getattr(s, field) != v]
    befores = {s.pk: _values(s) for s, _v in moved}
    if field == "number":  # the numbers are unique: park the moved axes out of the way first
        parking = _next(Axis.objects.filter(programme_id=locked.programme_id), "number")
        for offset, (axis, _v) in enumerate(moved):
            Axis.objects.filter(pk=axis.pk).update(number=parking + offset)
    for sibling, value in moved:
        setattr(sibling, field, value)
        sibling.save(update_fields=[field])
        _record(
            sibling,
            actor=actor,
            event="update_structure",
            before=befores[sibling.pk],
            programme_ids=programmes_of(sibling),
            ip=ip,
        )
    return next(s for s in siblings if s.pk == locked.pk)


@transaction.atomic
def set_retired(
    obj: Axis | Objective,
    *,
    actor,
    retired: bool,
    seen: int | None = None,
    ip: str | None = None,
) -> Axis | Objective:
    """Retire an axis or an objective (new fiches can no longer choose it; the fiches that
    answer it keep it, and the reports too), or bring it back."""
    if not isinstance(obj, Axis | Objective):
        raise TypeError(f"Not part of the tree: {type(obj).__name__}")
    check_set_up(actor, *programmes_of(obj))
    locked = lock(obj)
    check_seen(locked, seen)
    if (locked.retired_at is not None) == retired:
        raise Refused(
            "already_moved",
            _("Déjà retiré : rien n'a été modifié.")
            if retired
            else _("Déjà rétabli : rien n'a été modifié."),
        )
    return save_structure(
        locked, actor=actor, data={"retired_at": timezone.now() if retired else None}, ip=ip
    )


# --- Memberships --------------------------------------------------------------------------------


def _group_only_for_its_members(role: str, working_group: WorkingGroup | None) -> None:
    """What the model does not say: a working group is named for its members only."""
    if working_group is not None and role != Role.WG_MEMBER:
        message = _("Le groupe de travail ne s'indique que pour un membre de groupe de travail.")
        raise Refused("invalid", message, {"working_group": [message]})


def _same_membership(membership: Membership) -> Membership | None:
    """The person's other membership with the same role, organisation and group, if any
    (the active one first): a second identical one is refused, an ended one resumed."""
    return (
        Membership.objects.filter(
            user_id=membership.user_id,
            programme_id=membership.programme_id,
            role=membership.role,
            organisation_id=membership.organisation_id,
            working_group_id=membership.working_group_id,
        )
        .exclude(pk=membership.pk)
        .order_by("-is_active", "pk")
        .first()
    )


def _already(membership: Membership) -> Refused:
    return Refused(
        "invalid",
        _("{person} est déjà « {role} » dans ce dispositif : rien n'a été ajouté.").format(
            person=membership.user.get_full_name() or membership.user.get_username(),
            role=membership.get_role_display(),
        ),
    )


def is_last_coordinator(membership: Membership) -> bool:
    """Whether ``membership`` is its programme's only active coordination: a programme keeps at
    least one, someone has to set it up."""
    if membership.role != Role.COORDINATOR or not membership.is_active:
        return False
    return not (
        Membership.objects.active()
        .filter(programme_id=membership.programme_id, role=Role.COORDINATOR, user__is_active=True)
        .exclude(user_id=membership.user_id)
        .exists()
    )


def _keeps_a_coordinator(membership: Membership) -> None:
    if is_last_coordinator(membership):
        raise Refused(
            "guard",
            _(
                "Le dispositif doit garder au moins un·e coordonnateur·rice : nommez-en un·e "
                "autre avant de changer ce rôle ou d'y mettre fin."
            ),
        )


@transaction.atomic
def add_member(
    *,
    programme: Programme,
    actor,
    user,
    role: str,
    organisation: Organisation | None = None,
    working_group: WorkingGroup | None = None,
    ip: str | None = None,
    comment: str = "",
) -> Membership:
    """Give ``user`` a role in the programme (an ended identical membership is resumed)."""
    check_set_up(actor, programme.pk)
    lock(programme)  # one membership change at a time: a double submit adds one
    _group_only_for_its_members(role, working_group)
    membership = Membership(
        user=user,
        programme=programme,
        role=role,
        organisation=organisation,
        working_group=working_group,
    )
    same = _same_membership(membership)
    if same is not None and same.is_active:
        raise _already(same)
    if same is not None:
        return save_structure(same, actor=actor, data={"is_active": True}, ip=ip, comment=comment)
    return save_structure(membership, actor=actor, ip=ip, comment=comment)


def _free_username(email: str) -> str:
    """The account's login, from the address's local part (``marie.dupont``), numbered when
    taken. Not the whole address: the login is written in the audit trail, kept for good."""
    User = get_user_model()
    base = re.sub(r"[^\w.+-]", "", email.split("@")[0].lower())[:140] or "membre"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        message = _("« {email} » n'est pas une adresse e-mail valide.").format(email=email[:80])
        raise Refused("invalid", message, {"email": [message]}) from exc
    return email


@transaction.atomic
def invite_member(
    *,
    programme: Programme,
    actor,
    email: str,
    role: str,
    organisation: Organisation | None = None,
    working_group: WorkingGroup | None = None,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
) -> Membership:
    """Invite a person by e-mail: the account of that address, or a new one (without a
    password); a person who has never chosen a password receives Django's set-password link
    once the change is committed. The trail says whether the account was created."""
    check_set_up(actor, programme.pk)
    email = _clean_email(email)
    lock(programme)  # the address is looked up and its account created once
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("-is_active", "pk").first()
    created = user is None
    if created:
        user = User(
            username=_free_username(email),
            email=email,
            first_name=text_input(first_name)[:150],
            last_name=text_input(last_name)[:150],
        )
        user.set_unusable_password()
        user.save()
    elif not user.is_active:
        message = _("Le compte de cette adresse est désactivé : voyez l'administrateur.")
        raise Refused("invalid", message, {"email": [message]})
    membership = add_member(
        programme=programme,
        actor=actor,
        user=user,
        role=role,
        organisation=organisation,
        working_group=working_group,
        ip=ip,
        comment=_("Invitation par e-mail (compte créé)")
        if created
        else _("Invitation par e-mail (compte existant)"),
    )
    if not user.has_usable_password():
        transaction.on_commit(
            lambda: send_invitation(user=user, membership=membership, inviter=actor)
        )
    return membership


class _Invitation(PasswordResetForm):
    """Django's set-password e-mail, for the one account the service chose (the stock form
    skips accounts without a usable password: an invited person's, precisely)."""

    def __init__(self, user):
        super().__init__({"email": user.email})
        self.user = user

    def get_users(self, email):
        return [self.user]


def send_invitation(*, user, membership: Membership, inviter) -> None:
    """The invitation, with the link to choose a password (one use, limited in time), sent
    through the e-mail backend in the application's language."""
    form = _Invitation(user)
    if not form.is_valid():
        return
    site = urlsplit(settings.SITE_URL)
    with translation.override(settings.LANGUAGE_CODE):
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            subject_template_name="coordo/setup_invitation_subject.txt",
            email_template_name="coordo/setup_invitation_email.txt",
            extra_email_context={
                "programme": membership.programme,
                "role": membership.get_role_display(),
                "inviter": inviter.get_full_name() or inviter.get_username(),
                "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            },
        )


@transaction.atomic
def change_membership(
    *,
    membership: Membership,
    actor,
    role: str,
    organisation: Organisation | None = None,
    working_group: WorkingGroup | None = None,
    seen: int | None = None,
    ip: str | None = None,
) -> Membership:
    """Change a person's role in the programme (and the organisation or group it is for)."""
    check_set_up(actor, membership.programme_id)
    locked = lock(membership)
    check_seen(locked, seen)
    if not locked.is_active:
        raise Refused("state", _("Cette appartenance a pris fin : invitez de nouveau la personne."))
    _group_only_for_its_members(role, working_group)
    if role != Role.COORDINATOR:
        _keeps_a_coordinator(locked)
    after = Membership(
        pk=locked.pk,
        user_id=locked.user_id,
        programme_id=locked.programme_id,
        role=role,
        organisation=organisation,
        working_group=working_group,
    )
    same = _same_membership(after)
    if same is not None and same.is_active:
        raise _already(same)
    return save_structure(
        locked,
        actor=actor,
        data={"role": role, "organisation": organisation, "working_group": working_group},
        ip=ip,
    )


@transaction.atomic
def end_membership(
    *, membership: Membership, actor, seen: int | None = None, ip: str | None = None
) -> Membership:
    """End a membership: the person loses what this role gave them (kept in the trail)."""
    check_set_up(actor, membership.programme_id)
    locked = lock(membership)
    check_seen(locked, seen)
    if not locked.is_active:
        raise Refused("already_moved", _("Cette appartenance a déjà pris fin."))
    _keeps_a_coordinator(locked)
    return save_structure(locked, actor=actor, data={"is_active": False}, ip=ip)
