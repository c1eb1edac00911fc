"""Permissions, all derived from active memberships (object-level, per programme).

Some roles only count for a given object: a funder for the requests addressed to *its*
organisation, an action lead for the actions its organisation leads, a working-group member
for the actions of *its* group. Objects say which scope applies through ``role_scopes()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Action, Membership, Programme, Role

# For each scoped role, the membership column that must match the object's scope.
SCOPED_ROLES = {
    Role.FUNDER: "organisation_id",
    Role.SIGNATORY: "organisation_id",
    Role.ACTION_LEAD: "organisation_id",
    Role.WG_MEMBER: "working_group_id",
}


def action_scopes(action: Action) -> dict[str, int | None]:
    return {
        Role.ACTION_LEAD: action.lead_organisation_id,
        Role.WG_MEMBER: action.working_group_id,
    }


def _role_condition(roles: Iterable[str], scopes: dict[str, int | None] | None) -> Q:
    """Memberships holding one of ``roles``; a scoped role only within the object's scope."""
    scopes = scopes or {}
    condition = Q()
    for role in roles:
        if role in SCOPED_ROLES:
            scope = scopes.get(role)
            if scope is None:
                continue
            condition |= Q(role=role, **{SCOPED_ROLES[role]: scope})
        else:
            condition |= Q(role=role)
    return condition


def holders(programme_id: int, roles: Iterable[str], scopes: dict[str, int | None] | None = None):
    """The people who hold one of ``roles`` in the programme within the object's scope (what
    ``holds_role`` asks of one person, for everyone): active memberships, active accounts."""
    condition = _role_condition(roles, scopes)
    if not condition:
        return get_user_model().objects.none()
    members = Membership.objects.active().filter(condition, programme_id=programme_id)
    return get_user_model().objects.filter(pk__in=members.values("user_id"), is_active=True)


def members_of(programme_id: int):
    """Everyone with an active membership of the programme, whatever its role or scope."""
    members = Membership.objects.active().filter(programme_id=programme_id)
    return get_user_model().objects.filter(pk__in=members.values("user_id"), is_active=True)


def holds_role(
    user,
    *,
    programme_id: int,
    roles: Iterable[str],
    scopes: dict[str, int | None] | None = None,
) -> bool:
    """Whether ``user`` holds one of ``roles`` in the programme, within the object's scope."""
    if not user or not user.is_authenticated:
        return False
    condition = _role_condition(roles, scopes)
    if not condition:
        return False
    return (
        Membership.objects.active().filter(condition, user=user, programme_id=programme_id).exists()
    )


def actions_where(user, roles: Iterable[str]) -> QuerySet[Action]:
    """The actions for which the user holds one of ``roles`` (scoped roles only for the
    actions in their scope): one query, usable as a subquery."""
    if not user.is_authenticated:
        return Action.objects.none()
    memberships = Membership.objects.active().filter(user=user)
    condition = Q()
    unscoped = [r for r in roles if r not in SCOPED_ROLES]
    if unscoped:
        condition |= Q(
            programme_id__in=memberships.filter(role__in=unscoped).values("programme_id")
        )
    scoped_columns = {Role.ACTION_LEAD: "lead_organisation_id", Role.WG_MEMBER: "working_group_id"}
    for role, action_column in scoped_columns.items():
        if role in roles:
            condition |= Exists(
                memberships.filter(
                    role=role,
                    programme_id=OuterRef("programme_id"),
                    **{SCOPED_ROLES[role]: OuterRef(action_column)},
                )
            )
    if not condition:
        return Action.objects.none()
    # The programmes where the user holds one of the roles first (an index), then the scopes:
    # never every fiche of the region.
    held = memberships.filter(role__in=roles).values("programme_id")
    return Action.objects.filter(programme_id__in=held).filter(condition)


def roles_for(user, *, programme_id: int, scopes: dict[str, int | None]) -> set[str]:
    """The roles the user holds in the programme that apply to an object with these scopes
    (one query; for pages that must show every decision open to the user)."""
    if not user.is_authenticated:
        return set()
    held = set()
    for role, organisation_id, working_group_id in (
        Membership.objects.active()
        .filter(user=user, programme_id=programme_id)
        .values_list("role", "organisation_id", "working_group_id")
    ):
        column = SCOPED_ROLES.get(role)
        scope_value = {"organisation_id": organisation_id, "working_group_id": working_group_id}
        if column is None or (scopes.get(role) is not None and scopes[role] == scope_value[column]):
            held.add(role)
    return held


def roles_in(user, programme_id: int) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(
        Membership.objects.active()
        .filter(user=user, programme_id=programme_id)
        .values_list("role", flat=True)
    )


def visible_programme_ids(user) -> QuerySet:
    return (
        Membership.objects.active().filter(user=user).values("programme_id")
        if user.is_authenticated
        else Membership.objects.none().values("programme_id")
    )


def visible_programmes(user) -> QuerySet[Programme]:
    return Programme.objects.filter(pk__in=visible_programme_ids(user))


def visible_actions(user) -> QuerySet[Action]:
    return Action.objects.filter(programme_id__in=visible_programme_ids(user))


def get_visible_action(user, pk: int) -> Action:
    """The action if the user is a member of its programme; otherwise 404 (not 403): people
    outside a programme must not learn that its actions exist."""
    try:
        return (
            visible_actions(user)
            .select_related(
                "programme",
                "objective",
                "lead_organisation",
                "working_group",
                "created_by",
                "submitted_by",
            )
            .get(pk=pk)
        )
    except Action.DoesNotExist as exc:
        raise Http404(_("Aucune fiche action accessible à ce numéro.")) from exc


def get_visible_programme(user, pk: int) -> Programme:
    try:
        return visible_programmes(user).get(pk=pk)
    except Programme.DoesNotExist as exc:
        raise Http404(_("Aucun dispositif accessible à ce numéro.")) from exc
