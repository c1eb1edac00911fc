"""A member's personal data (RGPD): their own data as a file, from « Sécurité du compte »; an
account's data and its erasure for Coordo's administrators (superusers), reached from the
Django admin's user list. Anyone else gets a 404. The rules are the services'."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from audit import chain
from projects.models import Membership
from spreadsheet import for_file_name
from workflows import services

from ..pages import client_ip, run_from_page


def _data_file(user) -> HttpResponse:
    content = json.dumps(services.member_data(user), ensure_ascii=False, indent=2)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    name = for_file_name(user.get_username()) or "compte"
    response["Content-Disposition"] = f'attachment; filename="donnees-{user.pk}-{name}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything Coordo holds about the person signed in (right of access)."""
    return _data_file(request.user)


def _account(request: HttpRequest, user_pk: int):
    if not request.user.is_superuser:
        raise Http404
    return get_object_or_404(get_user_model(), pk=user_pk)


@login_required
def account_data(request: HttpRequest, user_pk: int) -> HttpResponse:
    return _data_file(_account(request, user_pk))


@login_required
def account_erase(request: HttpRequest, user_pk: int) -> HttpResponse:
    """Erase an account at the person's request, after a confirmation page."""
    user = _account(request, user_pk)
    if request.method == "POST":
        done = run_from_page(
            request,
            lambda: services.erase_member(user=user, actor=request.user, ip=client_ip(request)),
            _(
                "Compte n° {number} effacé : le journal d'audit montre désormais « {pseudonym} »."
            ).format(number=user.pk, pseudonym=chain.pseudonym(user.pk)),
        )
        if done:
            return redirect("admin:auth_user_changelist")
    context = {
        "account": user,
        "erased": chain.is_erased(user),
        "memberships": Membership.objects.active()
        .filter(user=user)
        .select_related("programme", "organisation"),
    }
    return render(request, "coordo/account_erase.html", context)
