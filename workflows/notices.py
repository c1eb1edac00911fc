"""What Coordo tells people, and when: each function writes the notifications of one event
into the outbox, inside the service's transaction (so a refused or rolled-back change tells
nobody). Recipients come from the memberships of the programme — the roles the lifecycle
names, within the object's scope — never from another programme.

Nothing here carries a patient's data: subjects and texts name fiches, séances, requests and
people's roles, and point to the page.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from contextvars import ContextVar

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from funding.models import FundingRequest, Tranche
from notifications.models import Kind
from notifications.outbox import Message, queue
from projects import lifecycle
from projects.models import Action, Meeting, Opinion, Origin, ResidentProposal, Role
from projects.permissions import action_scopes, holders, members_of

SEANCE_LENGTH = datetime.timedelta(hours=2)
# Who is making the change being told: a task they open themselves is not mailed to them
# (they are on its page already).
_acting: ContextVar = ContextVar("acting", default=None)


@contextmanager
def acting(actor):
    token = _acting.set(getattr(actor, "pk", None))
    try:
        yield
    finally:
        _acting.reset(token)


def _day(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _when(value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _fiche_link(action: Action) -> str:
    return reverse("coordo:action", args=[action.pk])


def coordination(programme_id: int):
    return holders(programme_id, {Role.COORDINATOR})


# --- tasks ---------------------------------------------------------------------------------


def task_opened(*, programme, recipients, what: str, label: str, due, link: str) -> None:
    """A task for you: ``label`` on ``what`` (a fiche, a request…), due on ``due`` — not
    mailed to whoever opened it by their own change."""
    queue(
        kind=Kind.TASK,
        recipients=recipients.exclude(pk=_acting.get()) if _acting.get() else recipients,
        programme=programme,
        compose=lambda: Message(
            _("À faire : {label} — {what}").format(label=label, what=what),
            [
                _(
                    "Une tâche vous attend dans le dispositif {programme} : « {label} » — {what}."
                ).format(programme=programme.name, label=label, what=what),
                _("Échéance : {due}.").format(due=_day(due)) if due else "",
            ],
            link,
            _("Ouvrir la tâche"),
        ),
    )


def task_reminder(*, programme, recipients, what: str, label: str, due, link: str, key: str):
    queue(
        kind=Kind.REMINDER,
        recipients=recipients,
        programme=programme,
        key=key,
        compose=lambda: Message(
            _("Rappel — « {label} » attendu le {due}").format(label=label, due=_day(due)),
            [
                _("La tâche « {label} » ({what}) arrive à échéance le {due}.").format(
                    label=label, what=what, due=_day(due)
                )
            ],
            link,
            _("Ouvrir la tâche"),
        ),
    )


def task_overdue(*, programme, recipients, what: str, label: str, due, link: str, key: str):
    """To whoever holds the task, and to the coordination (the escalation)."""
    queue(
        kind=Kind.OVERDUE,
        recipients={*recipients, *coordination(programme.pk)},
        programme=programme,
        key=key,
        compose=lambda: Message(
            _("En retard — « {label} » attendu le {due}").format(label=label, due=_day(due)),
            [
                _(
                    "La tâche « {label} » ({what}) était attendue le {due} et n'est pas faite. "
                    "La coordination en est informée."
                ).format(label=label, what=what, due=_day(due))
            ],
            link,
            _("Ouvrir la tâche"),
        ),
    )


def fiche_what(action: Action) -> str:
    return _("fiche « {title} »").format(title=action.title)


def request_what(request: FundingRequest) -> str:
    return _("demande de financement {scheme} {year} de la fiche « {title} »").format(
        scheme=request.scheme, year=request.year, title=request.action.title
    )


def signing_what(signing) -> str:
    if signing.amendment_id:
        return _("{amendment} du {programme}").format(
            amendment=signing.amendment, programme=signing.programme.name
        )
    if signing.funding_request_id:
        return _("convention de la {what}").format(what=request_what(signing.funding_request))
    return _("contrat du {programme}").format(programme=signing.programme.name)


def signature_recipients(signature):
    """Who signs for the organisation: its people holding the role the round asks of it."""
    return holders(
        signature.signing.programme_id,
        {signature.role},
        {signature.role: signature.organisation_id},
    )


def stage_recipients(action: Action, roles):
    return holders(action.programme_id, roles, action_scopes(action))


def funder_recipients(request: FundingRequest):
    return holders(request.action.programme_id, {Role.FUNDER}, {Role.FUNDER: request.funder_id})


def opinion_recipients(opinion: Opinion):
    return holders(opinion.action.programme_id, {Role.COTECH}).filter(pk=opinion.member_id)


# --- fiches, proposals, funding ------------------------------------------------------------


def fiche_moved(action: Action, name: str, left: str, actor, comment: str) -> None:
    """After a transition of a fiche: the proposer told of the triage; the lead and the
    coordination told when the evaluation report becomes due."""
    if left == "draft" and action.origin == Origin.MEMBER and action.created_by_id != actor.pk:
        _proposal_outcome(action, name, comment)
    if name in DECISIONS:
        _decided(action, name, comment)
    if name == "finish_implementation":
        queue(
            kind=Kind.EVALUATION,
            recipients={
                *stage_recipients(action, {Role.ACTION_LEAD}),
                *coordination(action.programme_id),
            },
            programme=action.programme,
            compose=lambda: Message(
                _("Rapport d'évaluation attendu — « {title} »").format(title=action.title),
                [
                    _(
                        "La fiche « {title} » entre en évaluation : son rapport d'évaluation et "
                        "une mesure de chaque indicateur sont attendus avant sa clôture."
                    ).format(title=action.title)
                ],
                _fiche_link(action),
            ),
        )


# The COPIL's decisions on a fiche, told to the people who carry it.
DECISIONS = ("approve", "request_changes", "reject", "close", "abandon")


def _decided(action: Action, name: str, comment: str) -> None:
    carriers = {*stage_recipients(action, {Role.ACTION_LEAD})}
    if action.origin == Origin.MEMBER:
        carriers |= set(members_of(action.programme_id).filter(pk=action.created_by_id))
    queue(
        kind=Kind.DECISION,
        recipients=carriers,
        programme=action.programme,
        compose=lambda: Message(
            _("Décision du COPIL — « {title} » : {state}").format(
                title=action.title, state=action.get_state_display()
            ),
            [
                _("Le COPIL a décidé « {decision} » pour la fiche « {title} ».").format(
                    decision=lifecycle.label(Action, name), title=action.title
                ),
                _("Motif : {reason}").format(reason=comment) if comment else "",
            ],
            _fiche_link(action),
        ),
    )


def _proposal_outcome(action: Action, name: str, comment: str) -> None:
    def compose() -> Message:
        if name == "merge":
            text = _(
                "Votre proposition « {title} » est fusionnée avec la fiche « {into} »."
            ).format(title=action.title, into=action.merged_into.title)
        elif name == "decline":
            text = _(
                "Votre proposition « {title} » n'est pas retenue par la coordination. Motif : "
                "{reason}"
            ).format(title=action.title, reason=comment)
        else:
            text = _("Votre proposition « {title} » est prise en co-construction.").format(
                title=action.title
            )
        return Message(
            _("Votre proposition : {title}").format(title=action.title), [text], _fiche_link(action)
        )

    queue(
        kind=Kind.PROPOSAL,
        recipients=members_of(action.programme_id).filter(pk=action.created_by_id),
        programme=action.programme,
        compose=compose,
    )


def resident_answered(proposal: ResidentProposal, name: str) -> None:
    """A resident who left a contact is told what became of their idea."""
    if not (proposal.contact_email and proposal.contact_consent):
        return

    def compose() -> Message:
        if name == "decline":
            text = _(
                "Votre proposition « {idea} » n'a pas été retenue. Réponse de la coordination : "
                "{reason}"
            ).format(idea=proposal.idea, reason=proposal.public_reason)
        else:
            text = _(
                "Votre proposition « {idea} » a été reprise par la coordination dans la fiche "
                "action « {title} »."
            ).format(idea=proposal.idea, title=proposal.action.title)
        return Message(
            _("Votre proposition au {programme}").format(programme=proposal.programme.name),
            [text],
            reverse("public:programme", args=[proposal.programme_id]),
            _("Voir les actions du dispositif"),
            member=False,
        )

    queue(
        kind=Kind.PROPOSAL,
        programme=proposal.programme,
        emails=[proposal.contact_email],
        compose=compose,
    )


def resident_proposed(proposal: ResidentProposal) -> None:
    """A resident's idea waits for the coordination's moderation."""
    programme = proposal.programme
    queue(
        kind=Kind.TASK,
        recipients=coordination(programme.pk),
        programme=programme,
        compose=lambda: Message(
            _("À faire : modérer une proposition d'habitant — {programme}").format(
                programme=programme.name
            ),
            [
                _(
                    "Une proposition d'habitant·e est arrivée par la page publique. Lisez-la "
                    "avant toute publication : elle peut contenir des données personnelles."
                )
            ],
            reverse("coordo:resident-proposals", args=[programme.pk]),
            _("Ouvrir les propositions à modérer"),
        ),
    )


def signing_complete(signing) -> None:
    """A round signed by all: the coordination (and the fiche's lead for an agreement) told."""
    people = {*coordination(signing.programme_id)}
    if signing.funding_request_id:
        people |= set(stage_recipients(signing.funding_request.action, {Role.ACTION_LEAD}))
    queue(
        kind=Kind.DECISION,
        recipients=people,
        programme=signing.programme,
        compose=lambda: Message(
            _("Signé par tous — {what}").format(what=signing_what(signing)),
            [
                _("Toutes les signatures sont recueillies : {what}.").format(
                    what=signing_what(signing)
                )
            ],
            reverse("coordo:signing", args=[signing.pk]),
        ),
    )


def for_copil(obj) -> None:
    """An amendment or an evaluation of the contract submitted to the COPIL: a task for its
    members (the decision is theirs, taken on its page)."""
    if hasattr(obj, "kind"):  # an evaluation
        link = reverse("coordo:contract-evaluation", args=[obj.programme_id, obj.kind])
    else:
        link = reverse("coordo:amendment", args=[obj.pk])
    task_opened(
        programme=obj.programme,
        recipients=holders(obj.programme_id, {Role.COPIL}),
        what=str(obj),
        label=_("Décision du COPIL"),
        due=None,
        link=link,
    )


def signing_refused(signing, signature) -> None:
    queue(
        kind=Kind.DECISION,
        recipients=coordination(signing.programme_id),
        programme=signing.programme,
        compose=lambda: Message(
            _("Signature refusée — {what}").format(what=signing_what(signing)),
            [
                _("{organisation} ne signe pas. Motif : {reason}").format(
                    organisation=signature.organisation.name, reason=signature.reason
                )
            ],
            reverse("coordo:signing", args=[signing.pk]),
        ),
    )


def funder_decided(request: FundingRequest, name: str) -> None:
    """The funder's decision, to the coordination and the fiche's lead."""
    action = request.action
    queue(
        kind=Kind.FUNDING,
        recipients={
            *coordination(action.programme_id),
            *stage_recipients(action, {Role.ACTION_LEAD}),
        },
        programme=action.programme,
        compose=lambda: Message(
            _("Décision du financeur — {what}").format(what=request_what(request)),
            [
                _("{funder} : {decision} ({what}).").format(
                    funder=request.funder.name,
                    decision=request.get_state_display(),
                    what=request_what(request),
                )
            ],
            reverse("coordo:funding-request", args=[request.pk]),
        ),
    )


def payment_due(tranche: Tranche, *, late: bool) -> None:
    request = tranche.request
    action = request.action
    key = f"payment-{'late' if late else 'due'}:{tranche.pk}"

    def compose() -> Message:
        subject = (
            _("Versement en retard — {what}") if late else _("Versement attendu — {what}")
        ).format(what=request_what(request))
        text = (
            _("Le versement « {label} » de {funder} était attendu le {date}.")
            if late
            else _("Le versement « {label} » de {funder} est attendu le {date}.")
        ).format(
            label=tranche.get_label_display(),
            funder=request.funder.name,
            date=_day(tranche.expected_date),
        )
        return Message(subject, [text], reverse("coordo:funding-request", args=[request.pk]))

    queue(
        kind=Kind.PAYMENT,
        recipients={
            *coordination(action.programme_id),
            *stage_recipients(action, {Role.ACTION_LEAD}),
            *funder_recipients(request),
        },
        programme=action.programme,
        key=key,
        compose=compose,
    )


# --- séances -------------------------------------------------------------------------------


def still_ahead(meeting: Meeting) -> bool:
    """Whether a séance is still to come or under way: one recorded after the fact (ended
    already) convenes nobody."""
    return meeting.date + SEANCE_LENGTH > timezone.now()


def calendar(meeting: Meeting, *, cancelled: bool = False) -> str:
    """The séance as an iCalendar event: one UID per séance and a sequence that grows with each
    change, so that calendars replace the invitation (or remove it when cancelled)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Coordo//séances//FR")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"seance-{meeting.pk}@coordo")
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now())
    start = meeting.date.astimezone(datetime.UTC)  # UTC: no time-zone block needed
    event.add("dtstart", start)
    event.add("dtend", start + SEANCE_LENGTH)
    organizer = icalendar.vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = icalendar.vText(f"Coordo — {meeting.programme.name}")
    event.add("organizer", organizer)
    event.add("summary", f"{meeting} — {meeting.programme.name}")
    event.add("location", meeting.place)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical().decode()


def convened(meeting: Meeting, invited, *, change: str = "new") -> int:
    """The convocation (``change``: new, updated or cancelled) to every invitee, with the
    agenda, the place and time, and the event for their calendar."""
    items = [str(item) for item in meeting.agenda_items.select_related("action")]

    def compose() -> Message:
        subject = {
            "new": _("Convocation : {meeting}"),
            "updated": _("Convocation modifiée : {meeting}"),
            "cancelled": _("Séance annulée : {meeting}"),
        }[change].format(meeting=meeting)
        paragraphs = [
            (
                _("La séance « {meeting} » du {programme} est annulée.")
                if change == "cancelled"
                else _("Vous êtes convoqué·e à la séance « {meeting} » du {programme}.")
            ).format(meeting=meeting, programme=meeting.programme.name),
            _("Date et heure : {when} — lieu : {place}.").format(
                when=_when(meeting.date), place=meeting.place
            ),
        ]
        if items and change != "cancelled":
            paragraphs.append(_("Ordre du jour :") + "\n" + "\n".join(items))
        return Message(subject, paragraphs, reverse("coordo:meeting", args=[meeting.pk]))

    return queue(
        kind=Kind.CONVOCATION,
        recipients=invited,
        programme=meeting.programme,
        key=f"convocation:{meeting.pk}:{meeting.sequence}",
        calendar=calendar(meeting, cancelled=change == "cancelled"),
        compose=compose,
    )


def minutes_published(meeting: Meeting, invited) -> None:
    queue(
        kind=Kind.MINUTES,
        recipients={*invited, *meeting.attendees.all()},
        programme=meeting.programme,
        compose=lambda: Message(
            _("Compte rendu validé : {meeting}").format(meeting=meeting),
            [
                _(
                    "Le compte rendu de la séance « {meeting} » est validé par sa présidence et "
                    "publié aux membres."
                ).format(meeting=meeting)
            ],
            reverse("coordo:meeting-minutes", args=[meeting.pk]),
            _("Lire le compte rendu"),
        ),
    )
