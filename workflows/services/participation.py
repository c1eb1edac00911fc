"""Residents' ideas: submitted through a programme's public page without an account, moderated
by the coordination (published as a proposed fiche credited « proposition d'habitant »,
attached to an existing fiche, or declined with a public reason), and their optional contact
erased when its retention period ends.

Neither a resident's contact nor their text enters the audit trail when they submit (the
trail is append-only and the text may hold personal data the detector flags): the trail
records that a proposal arrived and what was flagged, then the moderation — the text enters it
only once a moderator publishes it as a fiche or attaches it to one.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import chain
from projects import personal_data
from projects.models import ACTIVE_STATES, Action, Origin, Programme, ResidentProposal

from .. import notices
from . import actions
from .runner import Refused, check_seen, lock, run_step, step_refusal, text_input, validated

CONTACT = ("contact_email", "contact_consent", "contact_until")


@transaction.atomic
def submit_resident_proposal(
    *,
    programme: Programme,
    idea: str,
    need: str,
    neighbourhood: str = "",
    contact_email: str = "",
    contact_consent: bool = False,
) -> ResidentProposal:
    """A resident's idea, waiting for moderation; likely personal data is flagged."""
    if not programme.public_page:
        raise Refused("state", _("Ce dispositif ne reçoit pas de propositions en ligne."))
    contact_email = text_input(contact_email)
    if contact_email and not contact_consent:
        raise Refused(
            "invalid",
            _("Pour laisser un contact, cochez l'accord pour être recontacté·e."),
            {"contact_consent": [_("Accord nécessaire pour conserver votre courriel.")]},
        )
    proposal = ResidentProposal(
        programme=programme,
        idea=text_input(idea),
        need=text_input(need),
        neighbourhood=text_input(neighbourhood),
        contact_email=contact_email,
        contact_consent=bool(contact_email) and contact_consent,
        contact_until=_retention_end(programme) if contact_email else None,
    )
    proposal.flags = personal_data.detect(proposal.idea, proposal.need, proposal.neighbourhood)
    validated(proposal)
    proposal.save()
    notices.resident_proposed(proposal)
    chain.record(
        programme_id=programme.pk,
        actor=None,
        obj=proposal,
        event="resident_proposal",
        # Not the resident's text: it may hold what the detector flags, and the trail keeps
        # everything forever. It enters the trail once a moderator publishes or attaches it.
        changes=chain.field_changes(
            {}, {"flags": ", ".join(personal_data.describe(proposal.flags))}
        ),
    )
    return proposal


def _retention_end(programme: Programme) -> datetime.date:
    today = timezone.localdate()
    months = today.month - 1 + programme.contact_retention_months
    year, month = today.year + months // 12, months % 12 + 1
    return today.replace(year=year, month=month, day=min(today.day, 28))


def run_transition(
    proposal: ResidentProposal,
    name: str,
    *,
    actor,
    seen: int | None,
    comment: str,
    ip: str | None,
    into: Action | None = None,
) -> ResidentProposal:
    """Moderate a resident's idea: ``publish`` it as a proposed fiche, ``attach`` it to
    ``into`` (its text kept in that fiche's history), or ``decline`` it (``comment``: the
    public reason)."""
    locked = lock(proposal)
    refusal = step_refusal(actor, locked, name)
    if refusal and refusal.rule == "role":  # the role first, whatever the page's age
        raise refusal
    check_seen(locked, seen)
    kwargs: dict = {}
    if name == "publish":
        kwargs["action"] = actions.create_action(
            programme=locked.programme,
            actor=actor,
            data={
                "title": _free_title(locked),
                "context": locked.need,
                "territory": locked.neighbourhood,
            },
            origin=Origin.RESIDENT,
            ip=ip,
        )
    elif name == "attach":
        if (
            into is None
            or into.programme_id != locked.programme_id
            or into.state not in ACTIVE_STATES
        ):
            raise Refused("invalid", _("Choisissez une fiche active du dispositif."))
        kwargs["action"] = into
    elif name == "decline":
        kwargs["public_reason"] = text_input(comment)
    locked, _left = run_step(locked, name, actor=actor, comment=comment, ip=ip, **kwargs)
    notices.resident_answered(locked, name)
    if name == "attach":
        chain.record(
            programme_id=locked.programme_id,
            actor=actor,
            obj=into,
            event="merge_in",
            changes={"resident_proposals": [None, locked.idea]},
            comment=chain.in_trail_language(
                lambda: _("Proposition d'habitant : {text}").format(text=locked.need)
            ),
            ip=ip,
        )
    return locked


def _free_title(proposal: ResidentProposal) -> str:
    """The idea as the fiche's title; numbered when a fiche of the programme has it already
    (titles are unique in a programme, and two residents may have the same idea)."""
    title = proposal.idea[:300]
    if proposal.programme.actions.filter(title__iexact=title).exists():
        suffix = f" (proposition d'habitant n° {proposal.pk})"
        title = title[: 300 - len(suffix)] + suffix
    return title


@transaction.atomic
def erase_expired_contacts(*, today: datetime.date | None = None) -> int:
    """Erase the residents' contacts whose retention period has ended (for cron); returns how
    many. Each programme's trail records how many were erased, and nothing of them."""
    today = today or timezone.localdate()
    expired = ResidentProposal.objects.filter(contact_until__lt=today).exclude(contact_email="")
    counts: dict[int, int] = {}
    for programme_id in expired.values_list("programme_id", flat=True):
        counts[programme_id] = counts.get(programme_id, 0) + 1
    expired.update(contact_email="", contact_consent=False, contact_until=None)
    for programme_id, n in counts.items():
        programme = Programme.objects.get(pk=programme_id)
        chain.record(
            programme_id=programme_id,
            actor=None,
            obj=programme,
            event="erase_contacts",
            changes={"erased_contacts": [None, n]},
        )
    return sum(counts.values())
