from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Offer, OfferEvent


class OfferEventInline(admin.TabularInline):
    model = OfferEvent
    extra = 0
    can_delete = False
    fields = ("from_status", "to_status", "actor", "shown_reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Offer | None = None) -> bool:
        return False

    @admin.display(description=_("说明"))
    def shown_reason(self, event: OfferEvent) -> str:
        return event.display_reason


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["id", "request", "volunteer", "status", "expires_at", "hours"]
    list_filter = ["status"]
    raw_id_fields = ["request", "volunteer", "offered_by"]
    # Status changes only through the services, so the event log stays complete.
    readonly_fields = ["status", "checked_in_at", "checked_out_at", "hours"]
    inlines = [OfferEventInline]
