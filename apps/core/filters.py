"""Query-string filters shared by the API. Each refuses a value the database cannot take, so a
bad query string is a 400 rather than a driver error (a 500)."""

from datetime import UTC
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

# Every id is a signed 64-bit integer (BigAutoField). A larger number names no row, but lookups
# through a foreign key or ``__in`` hand it to the driver as is, which fails with OverflowError
# (SQLite) or "bigint out of range" (PostgreSQL).
MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """An id in the query string (``?township=3``): a whole number within the range of an id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("decimal_places", 0)
        super().__init__(*args, **kwargs)


class _StorableIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)
        if result is not None:
            try:
                # The database compares in UTC. PostgreSQL would also refuse the offset as given
                # when it is past ±15:59 (``+23:41``), which Python allows.
                result = result.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return result


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time in the query string, compared in UTC (one that cannot be, near year 1 or 9999, is a 400)."""

    field_class = _StorableIsoDateTimeField


class _StrictBooleanField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        spelled = str(value).lower()
        if spelled not in ("true", "false"):
            raise forms.ValidationError(_("请填写 true 或 false。"), code="invalid")
        return spelled == "true"


class BooleanFilter(django_filters.BooleanFilter):
    """``?verified=true`` or ``false``. django-filter's own would take any other value as no
    filter at all, answering a question nobody asked."""

    field_class = _StrictBooleanField
