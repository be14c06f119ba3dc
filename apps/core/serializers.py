"""Serializer pieces shared by the apps."""

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field


class FieldsBuiltOnce(serializers.Serializer[Any]):
    """An output serializer whose fields are worked out once per class, not once per use.

    A ``ModelSerializer`` reads the model's fields and maps each to a serializer field every time
    it is instantiated: about a millisecond for each list answered, more with nested serializers.
    Here the class keeps the fields it built the first time, unbound, and each instance gets
    copies, so that no two instances share a field bound to one of them. A plain field is copied
    as it is (binding only sets attributes on the copy: its name, parent and source), which costs
    a fraction of DRF's own deep copy that builds the field anew from its arguments; a nested
    serializer, which holds fields of its own, is deep-copied as DRF does. Only for fields that
    do not depend on the instance or its context (output serializers; not one whose
    ``get_fields`` reads ``self.context``)."""

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        cls = type(self)
        built: dict[str, Field[Any, Any, Any, Any]] | None = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built  # type: ignore[attr-defined]
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in built.items()
        }
