from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

ELDER_MODE_COOKIE = "elder_mode"


class ElderModeMiddleware:
    """Reads the 长辈版 (large text) preference so every template can honour it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.elder_mode = request.COOKIES.get(ELDER_MODE_COOKIE) == "1"  # type: ignore[attr-defined]
        return self.get_response(request)


class PageGZipMiddleware(GZipMiddleware):
    """Django's gzip for the site's HTML pages only. Static files come compressed from WhiteNoise
    already; API answers stay as they are, for clients that do not decode what they asked for."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
