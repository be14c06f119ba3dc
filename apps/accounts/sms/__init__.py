"""Sending text messages through the configured providers.

A backend is any class with ``send(phone, text, *, params)`` (:class:`SmsBackend`), named by its
dotted path in ``settings.SMS_BACKENDS`` and loaded by name — so a backend may live in an app
above this one (the administrators' inbox lives in notifications). Every message goes to every
configured backend, in order.

``text`` is the whole message as the person reads it; ``params`` are the values of a provider's
approved template (``{"code": "123456"}``), for providers that send templates, not free text.

Sending is network I/O: call :func:`send_sms` outside any database transaction (the services
that send register it with ``transaction.on_commit``).
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The message could not be handed to the provider (HTTP error, timeout, refusal)."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str, *, params: Mapping[str, str]) -> None:
        """Deliver ``text`` to ``phone`` (11 digits); raise :class:`SmsError` if that failed."""


def sms_backends(paths: Sequence[str] | None = None) -> list[SmsBackend]:
    """Instances of the configured backends (``settings.SMS_BACKENDS`` unless ``paths`` is given)."""
    return [import_string(path)() for path in (settings.SMS_BACKENDS if paths is None else paths)]


def send_sms(*, phone: str, text: str, params: Mapping[str, str]) -> None:
    """Send one message through every configured backend. Raises :class:`SmsError` if any failed
    (after trying the others: a development inbox should not hide a file that was written)."""
    failures: list[str] = []
    for backend in sms_backends():
        try:
            backend.send(phone, text, params=params)
        except SmsError as exc:
            logger.warning("SMS backend %s failed: %s", type(backend).__name__, exc)
            failures.append(f"{type(backend).__name__}: {exc}")
    if failures:
        raise SmsError("; ".join(failures))
