"""The programme's own lifecycle, from its page (the coordination prepares, the COPIL
decides), and its settings (how it works: a COTECH, a public page…), set by its coordination."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from projects import lifecycle
from projects.models import Programme
from projects.permissions import get_visible_programme
from workflows import services

from ..forms import SettingsForm
from ..pages import client_ip, form_errors, run_from_page, seen, status


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


@login_required
def programme_settings(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    if not services.may_set_up(request.user, [programme.pk]):
        raise PermissionDenied(_("Les réglages du dispositif reviennent à sa coordination."))
    form = SettingsForm(request.POST or None, instance=Programme.objects.get(pk=programme.pk))
    version = seen(request) if request.method == "POST" else chain.version(programme)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.save_structure(
                programme, actor=request.user, data=data, seen=version, ip=client_ip(request)
            )
        except services.Refused as exc:
            form_errors(form, exc)
            version = chain.version(programme)
        else:
            messages.success(request, _("Réglages enregistrés."))
            return redirect("coordo:programme", pk=programme.pk)
    return render(
        request,
        "coordo/programme_settings.html",
        {"programme": programme, "form": form, "version": version},
        status=status(form),
    )
