"""服务热线: the number a station, office or the centre answers, as residents dial it.

A hotline is a mobile or a landline with its area code, the same numbers ``apps.accounts.phones``
takes for a contact phone (both read them through ``apps.core.phones``). It is kept as people read it aloud,
the area code apart ("0312-3862345"); a ``tel:`` link takes it as it is (RFC 3966 allows the
hyphen as a visual separator)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.phones import is_mobile, phone_digits, split_landline


def normalize_hotline(raw: str) -> str:
    """The hotline as it is stored and shown: a mobile as its 11 digits, a landline as area code,
    hyphen, local number ("0312-3862345"). Raises ``ValidationError`` for anything else; an empty
    value stays empty (no hotline of its own: see ``selectors.hotline_for``)."""
    value = phone_digits(raw)
    if not value:
        return ""
    if is_mobile(value):
        return value
    landline = split_landline(value)
    if landline is not None:
        return "-".join(landline)
    raise ValidationError(_("请输入手机号码或带区号的固定电话。"), code="invalid_phone")


def validate_hotline(raw: str) -> None:
    normalize_hotline(raw)
