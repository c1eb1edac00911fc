"""A person's API tokens: create one (its secret shown once), see when each was last used,
revoke it. Nobody else sees them; the secret is never stored, only its digest."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.models import ApiToken, revoke

from ..forms import Form

log = logging.getLogger(__name__)
SECRET = "api_token_secret"  # in the session, shown once on the next page


class TokenForm(Form):
    name = forms.CharField(
        label=gettext_lazy("Nom (à quoi sert ce jeton)"),
        max_length=100,
        help_text=gettext_lazy("Par exemple : tableau de bord du Département."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valable (jours)"), min_value=1, max_value=365, initial=90
    )
    read_only = forms.BooleanField(
        label=gettext_lazy("Lecture seule (recommandé)"), required=False, initial=True
    )


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = ApiToken.issue(user=request.user, **form.cleaned_data)
        log.info("API token %s created by user %s", token.pk, request.user.pk)
        request.session[SECRET] = secret
        return redirect("coordo:api-tokens")
    return render(
        request,
        "coordo/api_tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user),
            "secret": request.session.pop(SECRET, None),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404(_("Jeton introuvable."))
    revoke(token)
    log.info("API token %s revoked by user %s", token.pk, request.user.pk)
    messages.success(request, _("Jeton révoqué : il ne donne plus accès à rien."))
    return redirect("coordo:api-tokens")
