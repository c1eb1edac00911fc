"""Every error of the API as ``{"code", "message", "errors"}``: a refusal of the services
keeps its rule as a stable code — ``role``/``separation`` 403, ``already_moved``/``state``/
``guard`` 409, ``invalid``/``comment`` 400 — and the message in the request's language."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from workflows.services import Refused

STATUS = {
    "role": status.HTTP_403_FORBIDDEN,
    "separation": status.HTTP_403_FORBIDDEN,
    "already_moved": status.HTTP_409_CONFLICT,
    "state": status.HTTP_409_CONFLICT,
    "guard": status.HTTP_409_CONFLICT,
    "comment": status.HTTP_400_BAD_REQUEST,
    "invalid": status.HTTP_400_BAD_REQUEST,
}
CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "role",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "invalid",
    exceptions.ValidationError: "invalid",
}


def body(code: str, message: str, errors: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "errors": errors or {}}


def handle(exc, context) -> Response | None:
    if isinstance(exc, Refused):
        return Response(
            body(exc.rule, exc.message, {k: [str(m) for m in v] for k, v in exc.errors.items()}),
            status=STATUS.get(exc.rule, status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Introuvable, ou hors de vos dispositifs."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for kind, c in CODES.items() if isinstance(exc, kind)), "error")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = body(
            code,
            _("Certaines valeurs ne sont pas valides."),
            {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()},
        )
    else:
        response.data = body(code, getattr(exc, "detail", str(exc)))
    return response
