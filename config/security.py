"""What defends Coordo around its pages: the login lockout's page (django-axes), the headers
every response carries, and the security log's login events — naming people by their user id
only (no name, no e-mail, no address)."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.middleware import refreshed
from web.pages import client_ip
from web.views.two_factor import SECOND_FACTOR

log = logging.getLogger("coordo.security")


def locked_out(request, original_response=None, credentials=None):
    """Too many failed logins for this account or from this address: the login page says so
    and when to try again; never a lock for good (the cool-off ends it)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    log.warning("login_locked_out", extra={"event": "login_locked_out"})
    return render(
        request,
        "registration/login.html",
        {
            "locked": _(
                "Trop de tentatives de connexion échouées : réessayez dans {minutes} minutes, "
                "ou demandez un nouveau mot de passe."
            ).format(minutes=minutes)
        },
        status=429,
    )


def axes_client_ip(request) -> str | None:
    """The address axes counts failures against: the same as the audit trail's."""
    return client_ip(request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username") or ""
    user_id = (
        get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    )
    log.info("login_failed", extra={"event": "login_failed", "user_id": user_id})


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    log.info("login", extra={"event": "login", "user_id": user.pk})
    if request is not None and hasattr(request, "session"):
        refreshed(request.session)  # the login saves it: the next page need not
        request.session[SECOND_FACTOR] = TOTPDevice.objects.filter(
            user=user, confirmed=True
        ).exists()


class SecondFactorMiddleware:
    """Whoever turned the second factor on reaches no page but the code's (and logging out)
    until they type it: the password alone is not enough."""

    OPEN = {"two-factor-verify", "logout", "set_language"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.session.get(SECOND_FACTOR)
            and not user.is_verified()
        ):
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in self.OPEN:
                verify = reverse("two-factor-verify")
                return redirect(f"{verify}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers the other middleware do not set: what the browser may use (Permissions-Policy)
    and, for a signed-in person's pages and files, that nothing is kept in a cache."""

    PERMISSIONS = (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "interest-cohort=(), browsing-topics=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in:
            response.headers["Cache-Control"] = "private, no-store"
        if response.status_code in (401, 403):
            log.info(
                "forbidden",
                extra={
                    "event": "forbidden",
                    "status": response.status_code,
                    "user_id": user.pk if signed_in else None,
                    "path": request.path,
                },
            )
        return response
