from django.contrib import admin
from django.http import HttpRequest

from .models import RequestEvent, ServiceRequest


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: ServiceRequest | None = None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "category", "township", "status", "urgency", "created_at"]
    list_filter = ["status", "urgency", "channel", "category", "township"]
    search_fields = ["title"]
    list_select_related = ["category", "township"]
    raw_id_fields = ["requester", "entered_by", "village", "township", "station"]
    # Status changes only through the services, so the event log stays complete.
    readonly_fields = ["status", "volunteers_accepted", "status_changed_at", "created_at"]
    inlines = [RequestEventInline]
