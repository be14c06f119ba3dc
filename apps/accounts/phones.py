"""Phone numbers: normalisation, validation and the keyed lookup hash.

Phones are sensitive personal information: they are stored encrypted, and found by an HMAC
of the normalised number so that the database never holds them in clear."""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalize_phone(raw: str) -> str:
    value = _SEPARATORS.sub("", raw or "")
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
