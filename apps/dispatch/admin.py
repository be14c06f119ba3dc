from django.contrib import admin

from apps.core.admin import AccessibleAdminMixin, StatusEventInline

from .models import Offer, OfferEvent


class OfferEventInline(StatusEventInline):
    model = OfferEvent


@admin.register(Offer)
class OfferAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["id", "request", "volunteer", "status", "expires_at", "hours"]
    list_filter = ["status"]
    raw_id_fields = ["request", "volunteer", "offered_by"]
    # Status changes only through the services, so the event log stays complete.
    readonly_fields = ["status", "checked_in_at", "checked_out_at", "hours"]
    inlines = [OfferEventInline]
