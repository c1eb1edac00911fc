"""``Authorization: Bearer coordo_…``: a personal token. Revoked or expired: 401. A read-only
token cannot write (403). Each use is counted; the secret itself is never logged or stored."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from .models import PREFIX, ApiToken, digest


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("En-tête d'authentification mal formé."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Jeton illisible.")) from exc
        token = (
            ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
            if secret.startswith(PREFIX)
            else None
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton inconnu."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Ce jeton a été révoqué."))
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Ce jeton a expiré."))
        ApiToken.objects.filter(pk=token.pk).update(uses=F("uses") + 1, last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class TokenScope(permissions.BasePermission):
    """A read-only token reads; a full token, or the browser session, may also write."""

    message = _("Ce jeton est en lecture seule.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        return (
            request.method in permissions.SAFE_METHODS
            or not isinstance(token, ApiToken)
            or not token.read_only
        )


class TokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema: ``Authorization: Bearer coordo_…``."""

    target_class = TokenAuthentication
    name = "jeton"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton personnel, créé depuis la page « Jetons d'API » de Coordo.",
        }
