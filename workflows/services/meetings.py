"""Séances of every body — COPIL, COTECH, working groups, assemblée plénière: convening one
(its agenda lists the fiches awaiting the body, and free topics), adding items while it is
planned, keeping its register (chair and co-animators, attendance, one decision per item),
applying the decisions once it has taken place, and its minutes — drafted by whoever keeps
the register, validated by the chair, then published to the members.

The séance is animated by the coordination or by the body's own members (a working group by
its members); its chair and co-animators may be any member. The body decides; the person who
keeps the register records. Each decision runs the fiche's transition with the recorder as its
actor — the trail names the body, the séance and its chair in the comment, and never puts a
decision in the name of someone who did not record it — so every rule of the direct decision
applies, the separation of duties included: whoever submitted a fiche to the COPIL cannot
record its approval either. The chair's validation of the minutes is how the decisions become
theirs.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import chain
from projects import lifecycle
from projects.models import (
    Action,
    AgendaItem,
    Meeting,
    Membership,
    Programme,
    Role,
    WorkingGroup,
)
from projects.permissions import holds_role

from .. import notices
from . import actions
from .runner import Refused, check_seen, record, role_refusal, text_input

ANIMATE = gettext_lazy("Animer une séance de cette instance")


def _animating_roles(body: str) -> set[str]:
    """The coordination, and the body's own members (the COPIL convenes the plenary)."""
    return {Role.COORDINATOR, Meeting.BODY_ROLES.get(body, Role.COPIL)}


def animation_refusal(
    actor, programme: Programme, body: str, working_group: WorkingGroup | None = None
) -> Refused | None:
    """Who convenes a séance of ``body`` and keeps its register: the coordination, or the
    body's members (a working group's own members)."""
    roles = _animating_roles(body)
    scopes = {Role.WG_MEMBER: working_group.pk if working_group else None}
    if holds_role(actor, programme_id=programme.pk, roles=roles, scopes=scopes):
        return None
    return role_refusal(ANIMATE, roles, set())


def convenable(actor, programme: Programme) -> tuple[list[str], list[WorkingGroup]]:
    """The bodies (and working groups) whose séances ``actor`` may convene: one query."""
    held = list(
        Membership.objects.active()
        .filter(user=actor, programme=programme)
        .values_list("role", "working_group_id")
    )
    roles = {role for role, _group in held}
    if Role.COORDINATOR in roles:
        return list(Meeting.Body.values), list(programme.working_groups.all())
    bodies = [b for b in Meeting.Body.values if _animating_roles(b) & roles]
    groups = [g for role, g in held if role == Role.WG_MEMBER and g]
    return bodies, list(programme.working_groups.filter(pk__in=groups))


def may_animate(actor, meeting: Meeting) -> bool:
    """The meeting's chair and co-animators animate it too."""
    if meeting.chair_id == actor.pk or meeting.co_animators.filter(pk=actor.pk).exists():
        return True
    return animation_refusal(actor, meeting.programme, meeting.body, meeting.working_group) is None


def _check_animator(actor, meeting: Meeting) -> None:
    if not may_animate(actor, meeting):
        raise role_refusal(ANIMATE, {Role.COORDINATOR}, set())


def _agenda_actions(meeting: Meeting):
    """The fiches a séance takes up: those awaiting its body's decision; for the COTECH those
    awaiting its opinion; for a working group its fiches being prepared."""
    if meeting.body == Meeting.Body.WORKING_GROUP:
        return meeting.working_group.actions.filter(state__in=actions.EDIT.states)
    states = meeting.states_on_agenda()
    if meeting.body == Meeting.Body.COTECH and meeting.programme.has_cotech:
        states = list(actions.OPINE.states)
    return meeting.programme.actions.filter(state__in=states)


@transaction.atomic
def create_meeting(
    *,
    programme: Programme,
    actor,
    body: str,
    date,
    place: str,
    working_group: WorkingGroup | None = None,
    ip: str | None = None,
) -> Meeting:
    """Convene a séance; its agenda lists the fiches the body takes up."""
    refusal = animation_refusal(actor, programme, body, working_group)
    if refusal:
        raise refusal
    meeting = Meeting(
        programme=programme,
        body=body,
        working_group=working_group,
        date=date,
        place=place,
        created_by=actor,
    )
    record(
        meeting,
        programme_id=programme.pk,
        actor=actor,
        event="create_meeting",
        after={
            "body": chain.in_trail_language(meeting.get_body_display),
            "working_group": working_group,
            "date": meeting.date,
            "place": place,
        },
        ip=ip,
    )
    waiting = _agenda_actions(meeting).order_by("state", "pk")
    AgendaItem.objects.bulk_create(
        AgendaItem(meeting=meeting, action=a, position=i, state_at_agenda=a.state)
        for i, a in enumerate(waiting, start=1)
    )
    meeting.invited = (
        notices.convened(meeting, invited(meeting)) if notices.still_ahead(meeting) else 0
    )
    return meeting


def invited(meeting: Meeting):
    """Who a séance invites: the coordination and the body's members — a working group's own
    members; everyone for the assemblée plénière — and the leads of the fiches on its agenda,
    who present them."""
    memberships = Membership.objects.active().filter(programme_id=meeting.programme_id)
    role = Meeting.BODY_ROLES.get(meeting.body)
    leads = Q(
        role=Role.ACTION_LEAD,
        organisation_id__in=meeting.agenda_items.exclude(action=None).values(
            "action__lead_organisation_id"
        ),
    )
    if meeting.body == Meeting.Body.WORKING_GROUP:
        memberships = memberships.filter(
            Q(role=Role.COORDINATOR)
            | Q(role=role, working_group_id=meeting.working_group_id)
            | leads
        )
    elif role:
        memberships = memberships.filter(Q(role__in=[Role.COORDINATOR, role]) | leads)
    return get_user_model().objects.filter(pk__in=memberships.values("user_id"))


def _locked_meeting(meeting: Meeting, actor, seen: int | None) -> Meeting:
    locked = Meeting.objects.select_for_update().select_related("programme").get(pk=meeting.pk)
    _check_animator(actor, locked)
    check_seen(locked, seen)
    if locked.applied_at:
        raise Refused("already_moved", _("Les décisions de cette séance sont déjà appliquées."))
    if locked.minutes_validated_at:
        raise Refused(
            "already_moved", _("Le compte rendu de cette séance est validé : elle ne change plus.")
        )
    if locked.cancelled_at:
        raise Refused("already_moved", _("Cette séance est annulée."))
    return locked


@transaction.atomic
def reschedule_meeting(
    *, meeting: Meeting, actor, date, place: str, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """A new date or place: the invitees get the convocation again, replacing the first one
    in their calendars."""
    locked = _locked_meeting(meeting, actor, seen)
    before = {"date": locked.date, "place": locked.place}
    locked.date, locked.place = date, text_input(place)
    if before == {"date": locked.date, "place": locked.place}:
        raise Refused("invalid", _("La date et le lieu sont inchangés."))
    locked.sequence += 1
    record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="reschedule_meeting",
        before=before,
        after={"date": locked.date, "place": locked.place},
        ip=ip,
    )
    if notices.still_ahead(locked):
        notices.convened(locked, invited(locked), change="updated")
    return locked


@transaction.atomic
def cancel_meeting(
    *, meeting: Meeting, actor, reason: str, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """The séance will not take place: the invitees are told, and their calendars remove it."""
    locked = _locked_meeting(meeting, actor, seen)
    reason = text_input(reason)
    if not reason:
        raise Refused("comment", _("Indiquez pourquoi la séance est annulée."))
    if locked.agenda_items.exclude(decision="").exists():
        raise Refused("guard", _("Des décisions sont saisies pour cette séance : elle a eu lieu."))
    locked.cancelled_at = timezone.now()
    locked.sequence += 1
    record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="cancel_meeting",
        after={"cancelled_at": locked.cancelled_at},
        comment=reason,
        ip=ip,
    )
    notices.convened(locked, invited(locked), change="cancelled")
    return locked


@transaction.atomic
def add_agenda_item(
    *,
    meeting: Meeting,
    actor,
    action: Action | None = None,
    topic: str = "",
    seen: int | None = None,
    ip: str | None = None,
) -> AgendaItem:
    """A fiche or a free topic added to a séance's agenda."""
    locked = _locked_meeting(meeting, actor, seen)
    topic = text_input(topic)[:300]
    if action is None and not topic:
        raise Refused("invalid", _("Choisissez une fiche ou écrivez le sujet à aborder."))
    if action is not None and (
        action.programme_id != locked.programme_id
        or locked.agenda_items.filter(action=action).exists()
    ):
        raise Refused("invalid", _("Cette fiche n'est pas à ajouter à cette séance."))
    position = (
        locked.agenda_items.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    item = AgendaItem(
        meeting=locked,
        action=action,
        topic=topic,
        position=position,
        state_at_agenda=action.state if action else "",
    )
    return record(
        item,
        programme_id=locked.programme_id,
        actor=actor,
        event="add_agenda_item",
        after={"action": action, "topic": topic, "position": position},
        ip=ip,
    )


def _names(users) -> str:
    """People as the sealed trail names them: by account number (``chain.person``)."""
    return ", ".join(chain.person(u) for u in sorted(users, key=lambda u: u.pk))


@transaction.atomic
def record_meeting(
    *,
    meeting: Meeting,
    actor,
    chair_id: int | None,
    attendee_ids: list[int],
    co_animator_ids: list[int] = (),
    other_attendees: str = "",
    notes: str = "",
    decisions: dict[int, tuple[str, str]],
    seen: int | None = None,
    ip: str | None = None,
) -> Meeting:
    """Record the chair, co-animators, attendance and one decision per agenda item (nothing is
    applied yet). Decisions are recorded from the séance's date on, never before."""
    locked = _locked_meeting(meeting, actor, seen)
    other_attendees, notes = text_input(other_attendees), text_input(notes)
    decisions = {item: (d, text_input(c)) for item, (d, c) in decisions.items()}
    members = set(
        Membership.objects.active()
        .filter(programme_id=locked.programme_id)
        .values_list("user_id", flat=True)
    )
    errors: dict[str, list[str]] = {}
    if set(attendee_ids) - members:
        errors["attendees"] = [_("Seuls les membres du dispositif peuvent être cochés présents.")]
    if set(co_animator_ids) - members:
        errors["co_animators"] = [_("La co-animation revient à des membres du dispositif.")]
    if chair_id and chair_id not in members:
        errors["chair"] = [_("La présidence revient à un membre du dispositif.")]
    items = {item.pk: item for item in locked.agenda_items.select_related("meeting")}
    for item_id, (decision, _comment) in decisions.items():
        item = items.get(item_id)
        if item is None or decision not in dict(item.decision_choices()):
            errors[f"decision_{item_id}"] = [_("Décision impossible pour ce point.")]
    if errors:
        raise Refused("invalid", _("Certaines saisies ne sont pas valides."), errors)
    if any(d for d, _c in decisions.values()) and locked.date > timezone.now():
        raise Refused("guard", _before_the_seance(locked))
    before = {
        "chair": locked.chair,
        "co_animators": _names(locked.co_animators.all()),
        "attendees": _names(locked.attendees.all()),
    }
    locked.chair_id = chair_id
    locked.other_attendees = other_attendees
    locked.notes = notes
    locked.save()
    locked.attendees.set(attendee_ids)
    locked.co_animators.set(co_animator_ids)
    for item_id, (decision, comment) in decisions.items():
        item = items[item_id]
        item.decision, item.comment = decision, comment
        item.save(update_fields=["decision", "comment"])
    after = {
        "chair": locked.chair,
        "co_animators": _names(locked.co_animators.all()),
        "attendees": _names(locked.attendees.all()),
    }
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="record_meeting",
        changes=chain.field_changes(before, after)
        | {
            f"point {items[i].position}": [
                None,
                f"{chain.in_trail_language(items[i].get_decision_display)} {c}".strip(),
            ]
            for i, (d, c) in decisions.items()
            if d
        },
        ip=ip,
    )
    return locked


def _before_the_seance(meeting: Meeting) -> str:
    return _(
        "La séance a lieu le {date} : ses décisions se saisissent et s'appliquent à partir de "
        "cette date, pas avant."
    ).format(date=formats.date_format(timezone.localtime(meeting.date), "SHORT_DATETIME_FORMAT"))


@transaction.atomic
def apply_meeting_decisions(
    *, meeting: Meeting, actor, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """Apply every decision of the séance, all or nothing: the first refused item undoes the
    others, and the error names the item and the rule. Only once the séance has taken place."""
    locked = _locked_meeting(meeting, actor, seen)
    if locked.date > timezone.now():
        raise Refused("guard", _before_the_seance(locked))
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
    session = chain.in_trail_language(
        lambda: _("décision de la séance « {session} », présidence : {chair}").format(
            session=locked, chair=chain.person(chair)
        )
    )
    for item in items:
        step = lifecycle.step(Action, item.decision, item.action.state)
        comment = f"{item.comment.strip()} — {session}" if item.comment.strip() else ""
        if not comment and not (step and step.reason_required):
            comment = session  # a missing mandatory reason must stay missing
        try:
            if item.action.state != item.state_at_agenda:
                raise Refused(
                    "already_moved",
                    _(
                        "la fiche est passée de « {then} » à « {now} » depuis son inscription à "
                        "l'ordre du jour."
                    ).format(
                        then=item.get_state_at_agenda_display(),
                        now=item.action.get_state_display(),
                    ),
                )
            actions.run_transition(
                item.action,
                item.decision,
                actor=actor,
                seen=None,
                comment=comment,
                ip=ip,
                extra_roles=frozenset({Role.COORDINATOR}),
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
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="apply_meeting_decisions",
        comment=f"{len(items)} décision(s) appliquée(s), présidence : {chain.person(chair)}",
        ip=ip,
    )
    return locked


@transaction.atomic
def write_minutes(
    *, meeting: Meeting, actor, text: str, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """The minutes, drafted (and redrafted) by the séance's animators until the chair
    validates them."""
    locked = Meeting.objects.select_for_update().select_related("programme").get(pk=meeting.pk)
    _check_animator(actor, locked)
    check_seen(locked, seen)
    if locked.minutes_validated_at:
        raise Refused("already_moved", _("Le compte rendu est validé : il ne change plus."))
    before = locked.minutes
    locked.minutes = text_input(text)
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="write_minutes",
        before={"minutes": before},
        after={"minutes": locked.minutes},
        ip=ip,
    )


@transaction.atomic
def validate_minutes(
    *, meeting: Meeting, actor, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """The chair validates the minutes (and so the decisions they record): they are then
    published to the members and no longer change."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.chair_id != actor.pk:
        raise Refused("role", _("Le compte rendu est validé par la présidence de la séance."))
    check_seen(locked, seen)
    if locked.minutes_validated_at:
        raise Refused("already_moved", _("Le compte rendu est déjà validé."))
    if not locked.minutes.strip() or locked.date > timezone.now():
        raise Refused(
            "guard",
            _("Le compte rendu se valide une fois la séance tenue et le compte rendu rédigé."),
        )
    if not locked.applied_at and locked.agenda_items.exclude(decision="").exists():
        raise Refused(
            "guard",
            _(
                "Des décisions sont saisies mais pas encore appliquées : appliquez-les (ou "
                "retirez-les) avant de valider le compte rendu qui les rapporte."
            ),
        )
    locked.minutes_validated_at = timezone.now()
    notices.minutes_published(locked, invited(locked))
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="validate_minutes",
        after={"minutes_validated_at": locked.minutes_validated_at},
        ip=ip,
    )
