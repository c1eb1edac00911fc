import logging
import time

from django.conf import settings
from django.utils import translation

from notifications.sending import send_pending


class ChosenLanguageMiddleware:
    """French for everyone unless the user picked another language with the switch (the
    ``set_language`` cookie). The browser's Accept-Language is not followed on the pages: a
    coordinator's English-configured browser must not turn dates, amounts and messages to
    English. The API follows it (a program states the language it wants)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES) and request.path.startswith("/api/"):
            # A program asks in its own language (Accept-Language): French unless it says so.
            language = translation.get_language_from_request(request)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # For this request only: the thread goes back to its previous language afterwards.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class SendNotificationsMiddleware:
    """Development: the outbox is delivered after each request (to the console backend), so
    that nobody needs cron to see the e-mails. In production ``send_notifications`` runs from
    cron instead (NOTIFICATIONS_AFTER_REQUEST is off unless DEBUG)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and settings.NOTIFICATIONS_AFTER_REQUEST:
            try:
                send_pending()
            except Exception:  # noqa: BLE001 - a page never fails because of the mail
                logging.getLogger(__name__).exception("Outbox not sent after the request")
        return response


class IdleSessionMiddleware:
    """A session ends after SESSION_COOKIE_AGE without a request (SESSION_IDLE_MINUTES). Its
    expiry moves on at most once every ``REFRESH`` seconds rather than on every page: saving
    the session on each request was a database write per page view, for an expiry that a
    minute either way does not change."""

    REFRESH = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            if time.time() - session.get(REFRESHED, 0) >= self.REFRESH:
                refreshed(session)  # modified: saved with a new expiry
        return response


REFRESHED = "_refreshed"


def refreshed(session) -> None:
    """Mark ``session`` as saved now (its expiry then moves on): at login, and each minute."""
    session[REFRESHED] = int(time.time())
