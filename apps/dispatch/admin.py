from django.contrib import admin

from .models import Offer


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["id", "request", "volunteer", "status", "expires_at", "hours"]
    list_filter = ["status"]
    raw_id_fields = ["request", "volunteer", "offered_by"]
    readonly_fields = ["status", "checked_in_at", "checked_out_at", "hours"]
