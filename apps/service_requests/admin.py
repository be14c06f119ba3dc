from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AccessibleAdminMixin, StatusEventInline

from .models import RequestEvent, ServiceRequest


class RequestEventInline(StatusEventInline):
    model = RequestEvent


@admin.register(ServiceRequest)
class ServiceRequestAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["id", "title", "category", "township", "status", "urgency", "created_at"]
    list_filter = ["status", "urgency", "channel", "category", "township"]
    search_fields = ["title"]
    list_select_related = ["category", "township"]
    raw_id_fields = ["requester", "entered_by", "village", "township", "station"]
    # Status changes only through the services, so the event log stays complete.
    readonly_fields = ["status", "shown_status_reason", "volunteers_accepted", "status_changed_at", "created_at"]
    exclude = ["status_reason"]
    inlines = [RequestEventInline]

    @admin.display(description=_("状态说明"))
    def shown_status_reason(self, request: ServiceRequest) -> str:
        return request.display_status_reason
