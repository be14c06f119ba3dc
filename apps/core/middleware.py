from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

ELDER_MODE_COOKIE = "elder_mode"


class ElderModeMiddleware:
    """Reads the 长辈版 (large text) preference so every template can honour it: the account's
    when someone is logged in, else this browser's cookie. A logged-in page also leaves the
    account's choice in the cookie, so the log-in page after logging out keeps the same size; a
    choice made before logging in is carried onto the account by the log-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cookie = request.COOKIES.get(ELDER_MODE_COOKIE)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        request.elder_mode = bool(user.elder_mode) if signed_in else cookie == "1"  # type: ignore[attr-defined,union-attr]
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        if not signed_in and cookie in ("0", "1") and user.elder_mode != (cookie == "1"):
            # Logged in by this request: the choice made on this phone before log-in carries over.
            user.elder_mode = cookie == "1"
            user.save(update_fields=["elder_mode"])
        wanted = "1" if user.elder_mode else "0"
        if cookie != wanted and ELDER_MODE_COOKIE not in response.cookies:
            remember_elder_mode(response, enabled=wanted == "1")
        return response


def remember_elder_mode(response: HttpResponseBase, *, enabled: bool) -> None:
    """Keep the 长辈版 choice in this browser for a year."""
    response.set_cookie(
        ELDER_MODE_COOKIE, "1" if enabled else "0", max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )


class PageGZipMiddleware(GZipMiddleware):
    """Django's gzip for the site's HTML pages only. Static files come compressed from WhiteNoise
    already; API answers stay as they are, for clients that do not decode what they asked for."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
