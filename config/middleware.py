from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    """French for everyone unless the user picked another language with the switch (the
    ``set_language`` cookie). The browser's Accept-Language is not followed: a coordinator's
    English-configured browser must not turn dates, amounts and messages to English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # For this request only: the thread goes back to its previous language afterwards.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
