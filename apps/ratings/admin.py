from django.contrib import admin

from apps.core.admin import AccessibleAdminMixin

from .models import FollowUp, FollowUpCall, Rating


@admin.register(Rating)
class RatingAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["request", "score", "on_behalf", "created_at"]
    list_filter = ["score", "on_behalf"]
    raw_id_fields = ["request", "rated_by"]


class FollowUpCallInline(AccessibleAdminMixin, admin.TabularInline):
    model = FollowUpCall
    extra = 0
    raw_id_fields = ["called_by"]
    readonly_fields = ["called_at"]


@admin.register(FollowUp)
class FollowUpAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["request", "reason", "status", "station", "due_at", "escalated_at", "closed_at", "outcome"]
    list_filter = ["status", "reason", "outcome"]
    raw_id_fields = ["request", "station", "closed_by"]
    readonly_fields = ["opened_at"]
    inlines = [FollowUpCallInline]
