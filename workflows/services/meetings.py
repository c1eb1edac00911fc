"""Séances of the governance bodies: convening one (its agenda lists the fiches awaiting the
body), keeping its register (attendance, one decision per agenda item), and applying the
decisions once the séance has taken place.

The body decides; the person who keeps the register records. Each decision runs the fiche's
transition with the recorder as its actor — the trail names the body, the séance and its
chair in the comment, and never puts a decision in the name of someone who did not record it —
so every rule of the direct decision applies, the separation of duties included: whoever
submitted a fiche to the COPIL cannot record its approval either.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import chain
from projects import lifecycle
from projects.models import Action, AgendaItem, Meeting, Membership, Programme, Role
from projects.permissions import holds_role

from . import actions
from .runner import Refused, Rule, check_seen, record, text_input

CONVENE = Rule(gettext_lazy("Préparer une séance"), frozenset({Role.COORDINATOR}))
KEEP_REGISTER = Rule(gettext_lazy("Tenir le registre d'une séance"), frozenset({Role.COORDINATOR}))


@transaction.atomic
def create_meeting(
    *, programme: Programme, actor, body: str, date, place: str, ip: str | None = None
) -> Meeting:
    """Convene a séance; its agenda lists the fiches awaiting the body."""
    CONVENE.check(actor, programme)
    meeting = Meeting(programme=programme, body=body, date=date, place=place, created_by=actor)
    record(
        meeting,
        programme_id=programme.pk,
        actor=actor,
        event="create_meeting",
        after={
            "body": chain.in_trail_language(meeting.get_body_display),
            "date": meeting.date,
            "place": place,
        },
        ip=ip,
    )
    waiting = programme.actions.filter(state__in=meeting.states_on_agenda()).order_by("state", "pk")
    AgendaItem.objects.bulk_create(
        AgendaItem(meeting=meeting, action=a, position=i, state_at_agenda=a.state)
        for i, a in enumerate(waiting, start=1)
    )
    return meeting


def _locked_meeting(meeting: Meeting, actor, seen: int | None) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    KEEP_REGISTER.check(actor, locked)
    check_seen(locked, seen)
    if locked.applied_at:
        raise Refused("already_moved", _("Les décisions de cette séance sont déjà appliquées."))
    return locked


def _attendees_label(meeting: Meeting) -> str:
    return ", ".join(sorted(str(u) for u in meeting.attendees.all()))


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
    seen: int | None = None,
    ip: str | None = None,
) -> Meeting:
    """Record attendance and one decision per agenda item (nothing is applied yet)."""
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
    before = {"chair": locked.chair, "attendees": _attendees_label(locked)}
    locked.chair_id = chair_id
    locked.other_attendees = other_attendees
    locked.notes = notes
    locked.save()
    locked.attendees.set(attendee_ids)
    for item_id, (decision, comment) in decisions.items():
        item = items[item_id]
        item.decision, item.comment = decision, comment.strip()
        item.save(update_fields=["decision", "comment"])
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="record_meeting",
        changes=chain.field_changes(
            before, {"chair": locked.chair, "attendees": _attendees_label(locked)}
        )
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


@transaction.atomic
def apply_meeting_decisions(
    *, meeting: Meeting, actor, seen: int | None = None, ip: str | None = None
) -> Meeting:
    """Apply every decision of the séance, all or nothing: the first refused item undoes the
    others, and the error names the item and the rule. Only once the séance has taken place."""
    locked = _locked_meeting(meeting, actor, seen)
    if locked.date > timezone.now():
        raise Refused(
            "guard",
            _(
                "La séance a lieu le {date} : ses décisions s'appliquent à partir de cette date, "
                "pas avant."
            ).format(
                date=formats.date_format(timezone.localtime(locked.date), "SHORT_DATETIME_FORMAT")
            ),
        )
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
            session=locked, chair=chain.actor_label(chair)
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
                extra_roles=KEEP_REGISTER.roles,
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
        comment=f"{len(items)} décision(s) appliquée(s), présidence : {chain.actor_label(chair)}",
        ip=ip,
    )
    return locked
