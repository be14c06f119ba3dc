from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import StatusEvent


class StatusEventInline(admin.TabularInline):  # type: ignore[type-arg]  # admin classes take no type arguments at runtime
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
