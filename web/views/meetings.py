"""Séances of every body — COPIL, COTECH, working groups, assemblée plénière: the list (and
convening one), the register of a séance (chair, co-animators, attendance, decisions, applying
them, items added), and its minutes (drafted by the animators, validated by the chair, then
published to the members)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from projects.models import ActionState, Meeting
from projects.permissions import get_visible_programme
from workflows import services

from ..forms import AgendaItemForm, CancelForm, MeetingForm, MinutesForm, RescheduleForm
from ..pages import client_ip, form_errors, form_messages, run_from_page, seen, status
from .documents import documents_context


@login_required
def meeting_list(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    bodies, groups = services.convenable(request.user, programme)
    form = MeetingForm(request.POST or None, programme=programme, bodies=bodies, groups=groups)
    if request.method == "POST":
        if not bodies:
            raise PermissionDenied(_("Vous n'animez aucune instance de ce dispositif."))
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
                    _(
                        "Séance créée ; points inscrits à l'ordre du jour : {n} ; "
                        "invitations envoyées : {sent}."
                    ).format(n=meeting.agenda_items.count(), sent=meeting.invited),
                )
                return redirect("coordo:meeting", pk=meeting.pk)
    meetings = (
        programme.meetings.select_related("working_group")
        .annotate(items=Count("agenda_items"))
        .order_by("-date")
    )
    return render(
        request,
        "coordo/meetings.html",
        {"programme": programme, "meetings": meetings, "form": form, "can_create": bool(bodies)},
        status=status(form),
    )


def _visible_meeting(user, pk: int) -> Meeting:
    meeting = (
        Meeting.objects.select_related("programme", "chair", "working_group").filter(pk=pk).first()
    )
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    get_visible_programme(user, meeting.programme_id)  # 404 outside the programme
    return meeting


def _user_id(value: str) -> int | None:
    """A member chosen in a list (its id), or None for a value no list could have sent."""
    return int(value) if value.isdigit() and len(value) < 19 else None


def _user_ids(request: HttpRequest, name: str) -> list[int]:
    return [i for i in map(_user_id, request.POST.getlist(name)) if i is not None]


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    animates = services.may_animate(request.user, meeting)
    errors: dict = {}
    version = chain.version(meeting)
    if request.method == "POST":
        if not animates:
            raise PermissionDenied(_("Seuls les animateurs de la séance tiennent son registre."))
        version = seen(request)
        try:
            services.record_meeting(
                meeting=meeting,
                actor=request.user,
                chair_id=_user_id(request.POST.get("chair", "")),
                attendee_ids=_user_ids(request, "attendees"),
                co_animator_ids=_user_ids(request, "co_animators"),
                other_attendees=request.POST.get("other_attendees", ""),
                notes=request.POST.get("notes", ""),
                decisions={
                    item.pk: (
                        request.POST.get(f"decision_{item.pk}", ""),
                        request.POST.get(f"comment_{item.pk}", ""),
                    )
                    for item in meeting.agenda_items.all()
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
    return render(
        request,
        "coordo/meeting.html",
        _register(request.user, meeting, animates)
        | {
            "errors": errors,
            "error_item": int(errors["item"][0]) if errors.get("item") else None,
            "version": version,
            "documents": documents_context(request.user, meeting, meeting.documents.all()),
        },
        status=400 if errors else 200,
    )


def _register(user, meeting: Meeting, animates: bool) -> dict:
    """What the séance page shows: agenda, members to choose from, the forms its animators
    and its chair use."""
    open_ = not (meeting.applied_at or meeting.minutes_validated_at or meeting.cancelled_at)
    members = (
        get_user_model()
        .objects.filter(memberships__programme_id=meeting.programme_id, memberships__is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    invited = set(services.invited(meeting).values_list("pk", flat=True))
    return {
        "meeting": meeting,
        "items": meeting.agenda_items.select_related(
            "action", "action__lead_organisation"
        ).order_by("position"),
        "members": [(m, m.pk in invited) for m in members],
        "present": set(meeting.attendees.values_list("pk", flat=True)),
        "co_animating": set(meeting.co_animators.values_list("pk", flat=True)),
        "editable": open_ and animates,
        "animates": animates,
        "agenda_form": AgendaItemForm(programme=meeting.programme, meeting=meeting)
        if open_ and animates
        else None,
        "minutes_form": MinutesForm(initial={"minutes": meeting.minutes})
        if animates and not meeting.minutes_validated_at
        else None,
        "reschedule_form": RescheduleForm(instance=meeting) if open_ and animates else None,
        "cancel_form": CancelForm() if open_ and animates else None,
        "may_validate": meeting.chair_id == user.pk
        and bool(meeting.minutes)
        and not meeting.minutes_validated_at,
        "state_labels": dict(ActionState.choices),
    }


@login_required
@require_POST
def agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    form = AgendaItemForm(request.POST, programme=meeting.programme, meeting=meeting)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.add_agenda_item(
                meeting=meeting,
                actor=request.user,
                seen=seen(request),
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Point ajouté à l'ordre du jour."),
        )
    return redirect("coordo:meeting", pk=meeting.pk)


@login_required
@require_POST
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    form = RescheduleForm(request.POST, instance=Meeting(programme=meeting.programme))
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.reschedule_meeting(
                meeting=meeting,
                actor=request.user,
                seen=seen(request),
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Séance déplacée : les invités reçoivent la convocation modifiée."),
        )
    return redirect("coordo:meeting", pk=meeting.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.cancel_meeting(
                meeting=meeting,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Séance annulée : les invités en sont prévenus."),
        )
    return redirect("coordo:meeting", pk=meeting.pk)


@login_required
@require_POST
def minutes_write(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.write_minutes(
                meeting=meeting,
                actor=request.user,
                text=form.cleaned_data["minutes"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Projet de compte rendu enregistré ; la présidence de séance le valide."),
        )
    return redirect("coordo:meeting", pk=meeting.pk)


@login_required
@require_POST
def minutes_validate(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _visible_meeting(request.user, pk)
    run_from_page(
        request,
        lambda: services.validate_minutes(
            meeting=meeting, actor=request.user, seen=seen(request), ip=client_ip(request)
        ),
        _("Compte rendu validé : il est publié aux membres."),
    )
    return redirect("coordo:meeting-minutes", pk=meeting.pk)


@login_required
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The minutes: the validated text is published to every member; before that, only the
    séance's animators read the draft."""
    meeting = _visible_meeting(request.user, pk)
    present = set(meeting.attendees.values_list("pk", flat=True))
    invited = services.invited(meeting).order_by("last_name", "first_name", "username")
    items = list(meeting.agenda_items.select_related("action").order_by("position"))
    return render(
        request,
        "coordo/minutes.html",
        {
            "meeting": meeting,
            "items": items,
            "decided": any(item.decision for item in items),
            "present_users": meeting.attendees.order_by("last_name"),
            "absent": [u for u in invited if u.pk not in present],
            "co_animators": meeting.co_animators.order_by("last_name"),
            "shows_draft": services.may_animate(request.user, meeting)
            or meeting.chair_id == request.user.pk,
            "state_labels": dict(ActionState.choices),
        },
    )
