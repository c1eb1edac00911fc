"""The language switch of the toolbar: Django's own view (the cookie), and the choice kept for
the person's e-mails."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.i18n import set_language as django_set_language

from notifications import outbox


def set_language(request: HttpRequest) -> HttpResponse:
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated:
        if language in dict(settings.LANGUAGES):
            outbox.remember_language(request.user, language)
    return response
