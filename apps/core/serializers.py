"""Serializer pieces shared by the apps."""

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field


class FieldsBuiltOnce(serializers.Serializer[Any]):
    """An output serializer whose fields are worked out once per class, not once per use.

    A ``ModelSerializer`` reads the model's fields and maps each to a serializer field every time
    it is instantiated: about a millisecond for each list answered, more with nested serializers.
    Here the class keeps the fields it built the first time, and each instance gets copies of
    them — the copies DRF itself makes of a serializer's declared fields — so that instances
    never share a field bound to another. Only for fields that do not depend on the instance or
    its context (output serializers; not one whose ``get_fields`` reads ``self.context``)."""

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        cls = type(self)
        built: dict[str, Field[Any, Any, Any, Any]] | None = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built  # type: ignore[attr-defined]
        return copy.deepcopy(built)
