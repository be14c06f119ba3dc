"""Phone numbers: normalisation, validation and the keyed lookup hash.

Phones are sensitive personal information: they are stored encrypted, and found by an HMAC
of the normalised number so that the database never holds them in clear."""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.phones import is_mobile, phone_digits, split_landline


def normalize_phone(raw: str) -> str:
    """The number as digits (``apps.core.phones.phone_digits``). Validation and the look-up hash
    both use it, so one person is one account however the number was typed."""
    return phone_digits(raw)


def validate_mobile(raw: str) -> str:
    value = normalize_phone(raw)
    if not is_mobile(value):
        raise ValidationError(_("请输入11位手机号码。"), code="invalid_phone")
    return value


def validate_contact_phone(raw: str) -> str:
    """A mobile or a landline with area code (many elderly residents only have a landline)."""
    value = normalize_phone(raw)
    if not (is_mobile(value) or split_landline(value)):
        raise ValidationError(_("请输入手机号码或带区号的固定电话。"), code="invalid_phone")
    return value


def phone_digest(raw: str) -> str:
    if not settings.PHONE_LOOKUP_KEY:
        raise ImproperlyConfigured("PHONE_LOOKUP_KEY or DJANGO_SECRET_KEY is required to look phone numbers up.")
    key = settings.PHONE_LOOKUP_KEY.encode()
    return hmac.new(key, normalize_phone(raw).encode(), hashlib.sha256).hexdigest()
