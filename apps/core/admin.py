from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import Field, Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import StatusEvent

# "自动受理（便民服务）": a field named by what it belongs to, for inputs that have no label of their own.
_NAMED_PART = _("%(field)s（%(part)s）")

if TYPE_CHECKING:
    _AdminBase = admin.options.BaseModelAdmin[Any]
else:
    _AdminBase = object


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, each named for a screen reader ("到期时间（日期）"):
    Django writes "日期：" and "时间：" beside them as plain text, and the field's own label
    points at neither."""

    def __init__(self, attrs: dict[str, Any] | None = None, *, field_label: str = "") -> None:
        super().__init__(attrs)
        self.field_label = field_label

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        parts = (str(context["date_label"]).rstrip(":："), str(context["time_label"]).rstrip(":："))
        for subwidget, part in zip(context["widget"]["subwidgets"], parts, strict=True):
            subwidget["attrs"]["aria-label"] = _NAMED_PART % {"field": self.field_label, "part": part}
        return context


class AccessibleAdminMixin(_AdminBase):
    """For every ModelAdmin and inline of the project: each input the admin draws has a name a
    screen reader can say (axe-core's "label" rule; tests/core/test_admin_axe.py)."""

    def formfield_for_dbfield(self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is AdminSplitDateTime:
            formfield.widget = LabelledSplitDateTime(
                formfield.widget.attrs, field_label=str(formfield.label or db_field.verbose_name)
            )
        return formfield

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm[Any]]:
        """``list_editable`` cells: each input is named by its column and its row."""
        base: type[forms.ModelForm[Any]] = super().get_changelist_form(request, **kwargs)  # type: ignore[misc]

        class RowLabelledForm(base):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, **form_kwargs)
                for field in self.fields.values():
                    if not field.widget.is_hidden:
                        field.widget.attrs["aria-label"] = _NAMED_PART % {"field": field.label, "part": self.instance}

        return RowLabelledForm


class StatusEventInline(AccessibleAdminMixin, admin.TabularInline):  # type: ignore[type-arg]  # admin classes take no type arguments at runtime
    """An event log under its subject, read-only: events are written by the transition machine only."""

    extra = 0
    can_delete = False
    fields = ("from_status", "to_status", "actor", "shown_reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("说明"))
    def shown_reason(self, event: StatusEvent) -> str:
        return event.display_reason
