from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AccessibleAdminMixin

from .messages import render
from .models import Notification


@admin.register(Notification)
class NotificationAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "shown_body", "request_id", "email_status", "created_at", "read_at"]
    list_filter = ["kind", "email_status"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["shown_body"]

    @admin.display(description=_("内容"))
    def shown_body(self, notification: Notification) -> str:
        """The text as its reader sees it, in the administrator's language."""
        return render(notification.kind, notification.params, notification.request_id)[1]
