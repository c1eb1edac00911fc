"""Personal API tokens: a person creates one from their profile, sees it once, and may revoke
it. Only a SHA-256 digest of the secret is stored (a token is a random 256-bit secret, so a
plain hash cannot be brute-forced); its first characters identify it in lists. A token may be
read-only and expires; each use is counted with its time."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX = "coordo_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("personne"),
    )
    name = models.CharField(_("nom"), max_length=100)
    # The first characters of the token, shown in lists to recognise it (not a secret).
    start = models.CharField(_("début du jeton"), max_length=16, unique=True)
    digest = models.CharField(_("empreinte"), max_length=64, unique=True)
    read_only = models.BooleanField(_("lecture seule"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("utilisations"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.name} ({self.start}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @classmethod
    def issue(cls, *, user, name: str, days: int, read_only: bool) -> tuple[ApiToken, str]:
        """A new token and its secret, to show once."""
        secret = PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            start=secret[: len(PREFIX) + 6],
            digest=digest(secret),
            read_only=read_only,
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )
        return token, secret


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
