"""The places of a programme's territory (communes, EPCI, QPV): every member reads them, the
coordination adds and removes them (a place a fiche targets stays)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from projects.models import Place
from projects.permissions import get_visible_programme
from workflows import services

from ..clsm_forms import PlaceForm
from ..pages import client_ip, form_errors, run_from_page, status
from ..templatetags.territory import ordered_places


@login_required
def places(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    can_edit = services.may_set_up(request.user, [programme.pk])
    form = PlaceForm(request.POST or None, instance=Place(programme=programme))
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("Le territoire du dispositif est tenu par sa coordination."))
        if form.is_valid():
            try:
                services.add_place(
                    programme=programme,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    name=form.cleaned_data["name"],
                    ip=client_ip(request),
                )
            except services.Refused as exc:
                if exc.rule == "role":
                    raise PermissionDenied(exc.message) from exc
                form_errors(form, exc)
            else:
                messages.success(request, _("Lieu ajouté au territoire."))
                return redirect("coordo:places", pk=programme.pk)
    found = ordered_places(programme)
    used = set(
        Place.actions.through.objects.filter(place__programme=programme).values_list(
            "place_id", flat=True
        )
    )
    return render(
        request,
        "coordo/places.html",
        {
            "programme": programme,
            "places": [(p, p.pk in used) for p in found],
            "form": form if can_edit else None,
            "can_edit": can_edit,
        },
        status=status(form),
    )


@require_POST
@login_required
def place_remove(request: HttpRequest, pk: int, place: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    found = Place.objects.filter(programme=programme, pk=place).first()
    if found is None:
        raise Http404(_("Aucun lieu de ce dispositif à ce numéro."))
    run_from_page(
        request,
        lambda: services.remove_place(place=found, actor=request.user, ip=client_ip(request)),
        _("Lieu retiré du territoire."),
    )
    return redirect("coordo:places", pk=programme.pk)
