"""Form fields for choosing a place.

``VillageField`` is the one place picker of the platform (registration, volunteer sign-up,
点单, 代点单): its cleaned value is a village or community (``Place`` of kind village) whose
township is ``village.parent``. Without JavaScript it is a single ``<select>`` grouped by
township; ``static/js/place-picker.js`` turns it into a township → village choice with a
type-to-search box that works with a Chinese input method.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator, ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from .models import Place
from .selectors import villages
from .widgets import VillagePicker

if TYPE_CHECKING:
    # Generic only in the type stubs; not subscriptable at runtime.
    _IteratorBase = ModelChoiceIterator[Place]
    _FieldBase = forms.ModelChoiceField[Place]
else:
    _IteratorBase = ModelChoiceIterator
    _FieldBase = forms.ModelChoiceField


class GroupedVillageIterator(_IteratorBase):
    """Choices as ``(township name, [(village id, village name), …])`` groups, in the order
    of the townships' division codes, read in one query when the widget renders."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        group_name: str | None = None
        group: list[tuple[ModelChoiceIteratorValue, str]] = []
        for village in self.queryset:
            township = village.parent
            assert township is not None, "a village always belongs to a township"
            if township.name != group_name:
                if group_name is not None:
                    yield (group_name, group)
                group_name, group = township.name, []
            group.append(self.choice(village))
        if group_name is not None:
            yield (group_name, group)


class VillageField(_FieldBase):
    """A village or community, chosen township first.

    Usage: ``home_village = VillageField(label=_("所在村/社区"))``; pre-fill with
    ``initial=<Place>`` or ``initial=<place id>`` (field or form initial). The township of the
    cleaned value is ``value.parent`` (already fetched)."""

    iterator = GroupedVillageIterator
    widget = VillagePicker
    default_error_messages = {
        "required": _("请选择村/社区。"),
        "invalid_choice": _("没有这个村/社区，请重新选择。"),
        "not_village": _("请选择具体的村或社区，而不是乡镇/街道。"),
    }

    def __init__(self, *, label: Any = None, required: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", _("请选择村/社区"))
        super().__init__(
            queryset=villages().select_related("parent"),
            label=label if label is not None else _("村/社区"),
            required=required,
            **kwargs,
        )

    def label_from_instance(self, obj: Place) -> str:
        return obj.name

    def to_python(self, value: Any) -> Place | None:
        if isinstance(value, Place):
            value = value.pk
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        # ASCII digits only: int() would also read full-width digits and "+1".
        if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**31:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        place_id = int(text)
        place = Place.objects.select_related("parent").filter(pk=place_id).first()
        if place is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        if place.kind != Place.Kind.VILLAGE:
            raise ValidationError(self.error_messages["not_village"], code="not_village")
        return place
