"""Checks every long-running process makes before it serves anything."""

from django.conf import settings


def require_secret_key() -> None:
    """Refuse to start without DJANGO_SECRET_KEY (outside debug). Reading an empty SECRET_KEY
    makes Django raise ImproperlyConfigured, which is exactly the refusal we want, at start-up
    rather than on the first request."""
    _ = settings.SECRET_KEY
