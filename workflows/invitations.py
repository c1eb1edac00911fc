"""Invitations to a séance: an e-mail to each invited member with the séance as an iCalendar
event (``icalendar`` builds the file; any calendar application opens it). Sent once the séance
is stored; a mail server that fails does not undo the séance, it is logged."""

from __future__ import annotations

import datetime
import logging

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.models import Meeting

log = logging.getLogger(__name__)
DURATION = datetime.timedelta(hours=2)


def calendar(meeting: Meeting) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Coordo//séances//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"seance-{meeting.pk}@coordo")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.date)
    event.add("dtend", meeting.date + DURATION)
    event.add("summary", f"{meeting} — {meeting.programme.name}")
    event.add("location", meeting.place)
    cal.add_component(event)
    return cal.to_ical()


def send(meeting: Meeting, recipients: list[str]) -> None:
    when = timezone.localtime(meeting.date)
    subject = _("Invitation : {meeting}").format(meeting=meeting)
    body = _(
        "Bonjour,\n\nVous êtes invité·e à la séance « {meeting} » du dispositif {programme}, "
        "le {day} à {hour}, lieu : {place}.\n\nL'ordre du jour et le registre sont dans "
        "Coordo. L'événement est joint pour votre agenda.\n"
    ).format(
        meeting=meeting,
        programme=meeting.programme.name,
        day=when.strftime("%d/%m/%Y"),
        hour=when.strftime("%H:%M"),
        place=meeting.place,
    )
    ics = calendar(meeting)
    try:
        with get_connection() as connection:
            for address in recipients:  # one mail each: members do not see each other's address
                mail = EmailMessage(
                    subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection
                )
                mail.attach("seance.ics", ics, "text/calendar; charset=utf-8; method=PUBLISH")
                mail.send()
    except OSError:
        log.exception("Invitations to séance %s not sent", meeting.pk)
