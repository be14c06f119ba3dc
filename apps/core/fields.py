"""Input fields that clean what people type (see :mod:`apps.core.text`) before DRF and Django
check it, and a primary-key field that takes whole numbers only."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .text import clean_text


class TextField(serializers.CharField):
    """A CharField whose input is cleaned first: invisible-only input is blank, so "required"
    and ``allow_blank`` judge what a reader would see. ``multiline`` keeps line breaks."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if isinstance(data, str):
            data = clean_text(data, multiline=self.multiline)
        return super().run_validation(data)


class TextFormField(forms.CharField):
    """The form twin of :class:`TextField`."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = clean_text(value, multiline=self.multiline)
        return super().to_python(value)


class IdField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A primary key that must be a whole number: ``1.5``, ``"1.5"`` and ``true`` are refused
    instead of being read as 1, and a missing object gets a message people understand."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _("编号为 {pk_value} 的选项不存在，或不可选择。"),
        "incorrect_type": _("请填写整数编号。"),
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data))
