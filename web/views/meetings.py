"""Séances of the governance bodies: the list (and convening one), the register of a séance
(attendance, decisions, applying them) and its minutes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit import chain
from projects.models import ActionState, Meeting, Role
from projects.permissions import get_visible_programme
from workflows import services

from ..forms import MeetingForm
from ..pages import client_ip, form_errors, seen, status


@login_required
def meeting_list(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    refusal = services.CONVENE.refusal(request.user, programme)
    form = MeetingForm(request.POST or None)
    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal.message)
        if form.is_valid():
            try:
                meeting = services.create_meeting(
                    programme=programme,
                    actor=request.user,
                    ip=client_ip(request),
                    **form.cleaned_data,
                )
            except services.Refused as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Séance créée ; fiches inscrites à l'ordre du jour : {n}.").format(
                        n=meeting.agenda_items.count()
                    ),
                )
                return redirect("coordo:meeting", pk=meeting.pk)
    meetings = programme.meetings.annotate(items=Count("agenda_items")).order_by("-date")
    return render(
        request,
        "coordo/meetings.html",
        {"programme": programme, "meetings": meetings, "form": form, "can_create": not refusal},
        status=status(form),
    )


def _visible_meeting(user, pk: int) -> Meeting:
    meeting = Meeting.objects.select_related("programme", "chair").filter(pk=pk).first()
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    get_visible_programme(user, meeting.programme_id)  # 404 outside the programme
    return meeting


def _user_id(value: str) -> int | None:
    """A member chosen in a list (its id), or None for a value no list could have sent."""
    return int(value) if value.isdigit() and len(value) < 19 else None


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    refusal = services.KEEP_REGISTER.refusal(request.user, meeting)
    editable = not meeting.applied_at and refusal is None
    errors: dict = {}
    version = chain.version(meeting)
    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal.message)
        version = seen(request)
        items = list(meeting.agenda_items.all())
        attendees = [_user_id(v) for v in request.POST.getlist("attendees")]
        try:
            services.record_meeting(
                meeting=meeting,
                actor=request.user,
                chair_id=_user_id(request.POST.get("chair", "")),
                attendee_ids=[a for a in attendees if a is not None],
                other_attendees=request.POST.get("other_attendees", ""),
                notes=request.POST.get("notes", ""),
                decisions={
                    item.pk: (
                        request.POST.get(f"decision_{item.pk}", ""),
                        request.POST.get(f"comment_{item.pk}", ""),
                    )
                    for item in items
                },
                seen=version,
                ip=client_ip(request),
            )
            if "apply" in request.POST:
                services.apply_meeting_decisions(
                    meeting=meeting, actor=request.user, ip=client_ip(request)
                )
                messages.success(request, _("Les décisions de la séance ont été appliquées."))
            else:
                messages.success(request, _("Registre de séance enregistré."))
            return redirect("coordo:meeting", pk=meeting.pk)
        except services.Refused as exc:
            errors = exc.errors
            messages.error(request, exc.message)
            meeting = _visible_meeting(request.user, pk)
            version = chain.version(meeting)
    items = meeting.agenda_items.select_related("action", "action__lead_organisation")
    members = (
        get_user_model()
        .objects.filter(memberships__programme_id=meeting.programme_id, memberships__is_active=True)
        .distinct()
        .order_by("last_name", "first_name")
    )
    copil_ids = set(
        meeting.programme.memberships.filter(role=Role.COPIL, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    return render(
        request,
        "coordo/meeting.html",
        {
            "meeting": meeting,
            "items": items,
            "members": members,
            "copil_members": [m for m in members if m.pk in copil_ids],
            "present": set(meeting.attendees.values_list("pk", flat=True)),
            "editable": editable,
            "errors": errors,
            "error_item": int(errors["item"][0]) if errors.get("item") else None,
            "state_labels": dict(ActionState.choices),
            "version": version,
        },
        status=400 if errors else 200,
    )


@login_required
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    present = set(meeting.attendees.values_list("pk", flat=True))
    members = (
        meeting.programme.memberships.filter(
            is_active=True, role__in=[Role.COPIL, Role.COORDINATOR]
        )
        .select_related("user", "organisation")
        .order_by("user__last_name")
    )
    return render(
        request,
        "coordo/minutes.html",
        {
            "meeting": meeting,
            "items": meeting.agenda_items.select_related("action"),
            "present_users": meeting.attendees.order_by("last_name"),
            "absent": [m for m in members if m.user_id not in present],
            "state_labels": dict(ActionState.choices),
        },
    )
