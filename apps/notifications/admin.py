from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "request_id", "email_status", "created_at", "read_at"]
    list_filter = ["kind", "email_status"]
    raw_id_fields = ["recipient"]
