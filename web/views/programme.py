"""The programme's own lifecycle, from its page: the coordination prepares, the COPIL decides."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from projects import lifecycle
from projects.models import Programme
from projects.permissions import get_visible_programme
from workflows import services

from ..pages import client_ip, run_from_page, seen


@require_POST
@login_required
def programme_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    if name not in lifecycle.names(Programme):
        raise Http404(_("Transition inconnue."))
    run_from_page(
        request,
        lambda: services.transition(
            programme,
            name,
            actor=request.user,
            seen=seen(request),
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("« {what} » : fait.").format(what=lifecycle.label(Programme, name)),
    )
    return redirect("coordo:programme", pk=programme.pk)
