"""The optional second factor (TOTP, django-otp): a person turns it on from *Sécurité du compte*
by scanning a QR code with an authenticator app and typing one code; from then on, after the
password, Coordo asks for the app's code before any page. Recommended to coordinators, the ARS
and administrators (the page says so to them)."""

from __future__ import annotations

import base64
import io
from binascii import unhexlify

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from projects.models import Membership, Role

SECOND_FACTOR = "second_factor_required"  # session: the password is not enough for this person


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code à 6 chiffres de votre application d'authentification"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def wrong_code() -> str:
    return _("Code incorrect ou expiré : tapez le code affiché maintenant.")


def _confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recommended(user) -> bool:
    """Coordinators, the ARS and administrators hold what most needs protecting."""
    return (
        user.is_staff
        or Membership.objects.active()
        .filter(user=user, role__in=[Role.COORDINATOR, Role.ARS_REFERENT])
        .exists()
    )


@login_required
def security_page(request: HttpRequest) -> HttpResponse:
    """Turn the second factor on (new device, QR code, a first code) or off (a code)."""
    device = _confirmed(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device is not None:  # turning it off takes a code too
            if device.verify_token(form.cleaned_data["code"]):
                TOTPDevice.objects.filter(user=request.user).delete()
                request.session[SECOND_FACTOR] = False
                messages.success(request, _("Double authentification désactivée."))
                return redirect("coordo:security")
            form.add_error(
                "code", _("Code incorrect ou expiré : tapez le code affiché maintenant.")
            )
        else:
            pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
            if pending is not None and pending.verify_token(form.cleaned_data["code"]):
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                django_otp.login(request, pending)
                request.session[SECOND_FACTOR] = True
                messages.success(
                    request,
                    _(
                        "Double authentification activée : Coordo vous demandera un code à chaque "
                        "connexion."
                    ),
                )
                return redirect("coordo:security")
            form.add_error(
                "code", _("Code incorrect ou expiré : tapez le code affiché maintenant.")
            )
    context = {"device": device, "form": form, "recommended": recommended(request.user)}
    if device is None:
        pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if pending is None:
            pending = TOTPDevice.objects.create(user=request.user, name="Coordo", confirmed=False)
        svg = io.BytesIO()
        write_qrcode_image(pending.config_url, svg)
        context["qr"] = "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()
        context["secret"] = base64.b32encode(unhexlify(pending.key)).decode()
    return render(request, "coordo/security.html", context, status=400 if form.errors else 200)


@login_required
def verify_page(request: HttpRequest) -> HttpResponse:
    """After the password: the authenticator app's code, then the page asked for."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        wanted = settings.LOGIN_REDIRECT_URL
    device = _confirmed(request.user)
    if device is None or request.user.is_verified():
        return redirect(wanted)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            django_otp.login(request, device)
            return redirect(wanted)
        form.add_error("code", wrong_code())
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": wanted},
        status=400 if form.errors else 200,
    )
