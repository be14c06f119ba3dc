"""服务热线: the number a station, office or the centre answers, as residents dial it.

A hotline is a mobile or a landline with its area code, the same numbers ``apps.accounts.phones``
takes for a contact phone (``tests/organisation/test_hotlines.py`` holds the two to the same
answers: this app sits below accounts and cannot import it). It is kept as people read it aloud,
the area code apart ("0312-3862345"); a ``tel:`` link takes it as it is (RFC 3966 allows the
hyphen as a visual separator)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.text import clean_number

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# 010 and 02x: a three-digit area code and 8 digits; elsewhere (0312 for Baoding) four and 7 or 8.
_LANDLINE = re.compile(r"^(?P<area>010|02\d|0[3-9]\d{2})(?P<local>[2-9]\d{6,7})$")
_SHORT_AREA = re.compile(r"^(?:010|02\d)$")
_SEPARATORS = re.compile(r"[\-()]")


def _digits(raw: str) -> str:
    value = _SEPARATORS.sub("", clean_number(raw or ""))
    if value.startswith("+86"):
        return value[3:]
    if value.startswith("0086"):
        return value[4:]
    return value


def normalize_hotline(raw: str) -> str:
    """The hotline as it is stored and shown: a mobile as its 11 digits, a landline as area code,
    hyphen, local number ("0312-3862345"). Raises ``ValidationError`` for anything else; an empty
    value stays empty (no hotline of its own: see ``selectors.hotline_for``)."""
    value = _digits(raw)
    if not value:
        return ""
    if _MOBILE.match(value):
        return value
    landline = _LANDLINE.match(value)
    if landline is not None:
        area, local = landline["area"], landline["local"]
        if not _SHORT_AREA.match(area) or len(local) == 8:
            return f"{area}-{local}"
    raise ValidationError(_("请输入手机号码或带区号的固定电话。"), code="invalid_phone")


def validate_hotline(raw: str) -> None:
    normalize_hotline(raw)
