from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

ELDER_MODE_COOKIE = "elder_mode"


class ElderModeMiddleware:
    """Reads the 长辈版 (large text) preference so every template can honour it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.elder_mode = request.COOKIES.get(ELDER_MODE_COOKIE) == "1"  # type: ignore[attr-defined]
        return self.get_response(request)
