"""A person's notifications: what Coordo sent them (or will put in their digest), newest
first, and how each kind reaches them. What is shown is marked read."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications import outbox
from notifications.models import MANDATORY, Kind, Mode, Notification, Settings

from ..forms import Form

PAGE = 30


class PreferencesForm(Form):
    """One choice per kind: immediately, in the daily digest, or never (tasks addressed to the
    person: never « never »)."""

    def __init__(self, *args, chosen: Settings | None, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            choices = [
                (m, mode_label)
                for m, mode_label in Mode.choices
                if not (kind in MANDATORY and m == Mode.NONE)
            ]
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=choices,
                initial=chosen.mode(kind) if chosen else Mode.IMMEDIATE,
                help_text=gettext_lazy("Toujours envoyé : il s'agit de vos tâches.")
                if kind in MANDATORY
                else "",
            )


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    chosen = Settings.objects.filter(user=request.user).first()
    form = PreferencesForm(request.POST or None, chosen=chosen)
    if request.method == "POST" and form.is_valid():
        outbox.set_modes(request.user, form.cleaned_data)
        messages.success(request, _("Vos préférences de notification sont enregistrées."))
        return redirect("coordo:notifications")
    page = Paginator(
        Notification.objects.filter(recipient=request.user)
        .only(
            "pk", "subject", "kind", "link", "created_at", "read_at", "state", "mode", "programme"
        )
        .select_related("programme"),
        PAGE,
    ).get_page(request.GET.get("page"))
    rows = list(page)
    response = render(
        request,
        "coordo/notifications.html",
        {"page": page, "rows": rows, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
    outbox.mark_read(request.user, [row.pk for row in rows if row.read_at is None])
    return response
