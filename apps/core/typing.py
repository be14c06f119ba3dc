"""Types for the type checker (mypy with django-stubs) that Django itself does not provide."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from apps.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``@login_required``: ``request.user`` is a signed-in ``User``,
    never ``AnonymousUser``. Only an annotation; Django still passes a plain ``HttpRequest``."""

    user: "User"
