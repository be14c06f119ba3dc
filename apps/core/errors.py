"""Domain errors raised by services. The API and the pages turn them into 4xx answers; the
messages are translated and shown to the user as they are."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the business refused the action. HTTP 400."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: object, *, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code


class Conflict(DomainError):
    """Someone else changed the row first (a lost race) or its state no longer allows this. HTTP 409."""

    status_code = 409
    default_code = "conflict"


class Forbidden(DomainError):
    """The user can see the object but may not do this to it. HTTP 403."""

    status_code = 403
    default_code = "forbidden"


class NotFound(DomainError, Http404):
    """Unknown, or outside what the user may see. HTTP 404. Also an ``Http404``, so a page
    whose selector refuses the object answers 404 instead of failing with a 500."""

    status_code = 404
    default_code = "not_found"

    def __init__(self, message: object = None, *, code: str | None = None) -> None:
        super().__init__(message or _("未找到，或您无权查看。"), code=code)
