"""Checking a new password with the configured validators, every message in the reader's language."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from .models import User


def check_new_password(password: str, user: User | None) -> None:
    """Raise ``ValidationError`` with one message per rule the password breaks.

    Django's Chinese catalogue lacks the "too short" message (its msgid gained a plural form), so
    that one is worded here."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        messages = []
        for item in error.error_list:
            if item.code == "password_too_short":
                min_length = (item.params or {}).get("min_length", 8)
                text = ngettext(
                    "密码太短，至少需要 %(min_length)d 个字符。",
                    "密码太短，至少需要 %(min_length)d 个字符。",
                    min_length,
                ) % {"min_length": min_length}
                messages.append(ValidationError(text, code=item.code))
            else:
                messages.append(item)
        raise ValidationError(messages) from None
