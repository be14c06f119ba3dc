"""Phone numbers as they are written in China: the digits of a typed number, a mobile, and a
landline with its area code. The contact phones of accounts and the hotlines of the organisation
tree both read numbers through these, so the two accept the same numbers."""

import re

from apps.core.text import clean_number

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# An area code (010 and 02x for the largest cities, 0 + three digits elsewhere, such as 0312
# for Baoding) and a local number that starts with 2–9: 8 digits after 010/02x, 7 or 8 elsewhere.
_LANDLINE = re.compile(r"^(?P<area>010|02\d|0[3-9]\d{2})(?P<local>[2-9]\d{6,7})$")
_SHORT_AREA = re.compile(r"^(?:010|02\d)$")
_SEPARATORS = re.compile(r"[\-()]")


def phone_digits(raw: str) -> str:
    """The number as digits: full-width digits and signs made ASCII (NFKC), invisible characters,
    spaces and separators removed, the +86/0086 country prefix dropped."""
    value = _SEPARATORS.sub("", clean_number(raw or ""))
    if value.startswith("+86"):
        return value[3:]
    if value.startswith("0086"):
        return value[4:]
    return value


def is_mobile(digits: str) -> bool:
    return _MOBILE.match(digits) is not None


def split_landline(digits: str) -> tuple[str, str] | None:
    """(area code, local number) of a landline, or None if the digits are not one."""
    landline = _LANDLINE.match(digits)
    if landline is None:
        return None
    area, local = landline["area"], landline["local"]
    if _SHORT_AREA.match(area) and len(local) != 8:
        return None
    return area, local
