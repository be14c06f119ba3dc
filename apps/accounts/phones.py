"""Phone numbers: normalisation, validation and the keyed lookup hash.

Phones are sensitive personal information: they are stored encrypted, and found by an HMAC
of the normalised number so that the database never holds them in clear."""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.text import clean_number

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# An area code (010 and 02x for the largest cities, 0 + three digits elsewhere, such as 0312
# for Baoding) and a local number that starts with 2–9: 8 digits after 010/02x, 7 or 8 elsewhere.
_LANDLINE = re.compile(r"^(?:(?:010|02\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7})$")
_SEPARATORS = re.compile(r"[\-()]")


def normalize_phone(raw: str) -> str:
    """The number as digits: full-width digits and signs made ASCII (NFKC), invisible characters,
    spaces and separators removed, the +86/0086 country prefix dropped. Validation and the
    look-up hash both use it, so one person is one account however the number was typed."""
    value = _SEPARATORS.sub("", clean_number(raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def validate_mobile(raw: str) -> str:
    value = normalize_phone(raw)
    if not _MOBILE.match(value):
        raise ValidationError(_("请输入11位手机号码。"), code="invalid_phone")
    return value


def validate_contact_phone(raw: str) -> str:
    """A mobile or a landline with area code (many elderly residents only have a landline)."""
    value = normalize_phone(raw)
    if not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise ValidationError(_("请输入手机号码或带区号的固定电话。"), code="invalid_phone")
    return value


def phone_digest(raw: str) -> str:
    if not settings.PHONE_LOOKUP_KEY:
        raise ImproperlyConfigured("PHONE_LOOKUP_KEY or DJANGO_SECRET_KEY is required to look phone numbers up.")
    key = settings.PHONE_LOOKUP_KEY.encode()
    return hmac.new(key, normalize_phone(raw).encode(), hashlib.sha256).hexdigest()
