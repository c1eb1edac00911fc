"""A programme's public page, without an account: residents propose an idea (moderated by the
coordination), then read a confirmation. Only programmes that switched the page on answer.

Bots are kept out without any third-party captcha, before anything is saved: a honeypot field
that people never see, the time the form was shown (signed, so a script cannot make it up),
and a limit per client address and programme counted in Django's cache, refused attempts
included. The address is only ever kept as a keyed hash, for an hour.
"""

from __future__ import annotations

import time

from django.core import signing
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from projects.models import Programme
from workflows import services

from ..forms import ResidentProposalForm
from ..pages import client_ip, form_errors, status

# A person reads the warning and types an idea in more than a few seconds; a form kept open
# longer than a day is refused too (its signed time cannot be reused forever by a script).
MIN_SECONDS = 3
MAX_SECONDS = 24 * 60 * 60
# Submissions per client address and programme in a window, refused attempts included.
RATE_LIMIT = 5
RATE_WINDOW = 60 * 60
HONEYPOT = "site_internet"  # a field bots fill in; hidden from people and screen readers
SHOWN = "shown"  # the signed time the form was displayed
_SALT = "coordo.public.proposal"


def _open_programme(pk: int) -> Programme:
    """The programme if it receives proposals online; 404 otherwise (whether it exists or not)."""
    programme = Programme.objects.filter(pk=pk, public_page=True).first()
    if programme is None:
        raise Http404(_("Aucune page de propositions ouverte à ce numéro."))
    return programme


def display_token(programme_id: int, *, at: float | None = None) -> str:
    """The signed time (``at``, by default now) the form of a programme was displayed."""
    return signing.dumps(
        {"p": programme_id, "t": int(time.time() if at is None else at)}, salt=_SALT
    )


def timing_refusal(token: str, programme_id: int) -> str | None:
    """Why a form posted with ``token`` cannot come from a person who read it (a message), or
    None: a signature that does not verify, another programme's form, too fast, too old."""
    try:
        shown = signing.loads(token, salt=_SALT)
        at, programme = int(shown["t"]), shown["p"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        programme = None
    if programme != programme_id:
        return _("Ce formulaire n'a pas pu être vérifié. Rechargez la page et recommencez.")
    elapsed = time.time() - at
    if elapsed < MIN_SECONDS:
        return _(
            "Formulaire envoyé trop vite pour avoir été lu. Patientez quelques secondes, "
            "puis envoyez-le à nouveau."
        )
    if elapsed > MAX_SECONDS:
        return _(
            "Ce formulaire a été ouvert il y a plus d'un jour. Rechargez la page et recommencez."
        )
    return None


def _attempts(request: HttpRequest, programme: Programme) -> int:
    """Count this attempt for the client's address and the programme; returns the count in the
    current window. The address is hashed with the site's secret key: the cache never holds it
    in clear, and the hash cannot be reversed by trying every address."""
    address = salted_hmac(_SALT, client_ip(request) or "unknown").hexdigest()
    key = f"public-proposal:{programme.pk}:{address}"
    cache.add(key, 0, timeout=RATE_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window starts
        cache.set(key, 1, timeout=RATE_WINDOW)
        return 1


def _refused(request: HttpRequest, programme: Programme, message: str, code: int) -> HttpResponse:
    response = render(
        request, "public/refused.html", {"programme": programme, "message": message}, status=code
    )
    if code == 429:
        response["Retry-After"] = str(RATE_WINDOW)
    return response


@never_cache  # each display carries its own signed time
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    programme = _open_programme(pk)
    months = programme.contact_retention_months
    if request.method != "POST":
        form = ResidentProposalForm(retention_months=months)
        return _page(request, programme, form, display_token(programme.pk))
    if _attempts(request, programme) > RATE_LIMIT:
        return _refused(
            request,
            programme,
            _(
                "Trop de propositions envoyées depuis cette connexion. Réessayez dans une "
                "heure ; rien n'a été enregistré."
            ),
            429,
        )
    if request.POST.get(HONEYPOT, ""):
        return _refused(
            request,
            programme,
            _("Votre envoi n'a pas pu être accepté ; rien n'a été enregistré."),
            400,
        )
    token = request.POST.get(SHOWN, "")
    refusal = timing_refusal(token, programme.pk)
    if refusal:
        return _refused(request, programme, refusal + " " + _("Rien n'a été enregistré."), 400)
    form = ResidentProposalForm(request.POST, retention_months=months)
    if form.is_valid():
        try:
            services.submit_resident_proposal(programme=programme, **form.cleaned_data)
        except services.Refused as exc:
            form_errors(form, exc)
        else:
            return redirect("public:thanks", pk=programme.pk)
    return _page(request, programme, form, token)


def _page(request: HttpRequest, programme: Programme, form, token: str) -> HttpResponse:
    return render(
        request,
        "public/propose.html",
        {"programme": programme, "form": form, "shown": token, "honeypot": HONEYPOT},
        status=status(form),
    )


def thanks(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "public/thanks.html", {"programme": _open_programme(pk)})
