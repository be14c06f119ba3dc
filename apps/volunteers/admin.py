from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AccessibleAdminMixin

from .identity import mask_id
from .matchable import matchable_refresh
from .models import IdReveal, VolunteerEvent, VolunteerProfile


class VolunteerEventInline(AccessibleAdminMixin, admin.TabularInline):
    model = VolunteerEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "from_status", "to_status", "actor", "reason"]
    readonly_fields = ["at", "kind", "from_status", "to_status", "actor", "reason"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["volunteer_number", "user", "status", "home_township", "home_village", "is_verified", "is_active"]
    list_filter = ["status", "is_verified", "is_active", "home_township"]
    search_fields = ["volunteer_number"]
    list_select_related = ["user", "home_township", "home_village"]
    autocomplete_fields = []
    filter_horizontal = ["categories"]
    raw_id_fields = ["user", "reviewed_by"]
    # Sensitive personal information (PIPL Art. 28) is never shown or edited here: the full ID
    # number only through the audited reveal on the review page.
    exclude = ["id_number", "guardian_phone", "emergency_contact_phone"]
    readonly_fields = ["masked_id", "status", "id_digest", "submitted_at", "reviewed_at", "left_at"]
    inlines = [VolunteerEventInline]

    @admin.display(description=_("证件号码"))
    def masked_id(self, obj: VolunteerProfile) -> str:
        return mask_id(obj.id_number)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """After the profile and its categories are saved: what the matching ranking reads of
        them follows at once."""
        super().save_related(request, form, formsets, change)
        matchable_refresh(volunteer_ids=[form.instance.id])


@admin.register(IdReveal)
class IdRevealAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    """The audit of ID reveals: read only."""

    list_display = ["at", "staff", "volunteer", "reason"]
    list_select_related = ["staff", "volunteer__user"]
    date_hierarchy = "at"
    readonly_fields = ["at", "staff", "volunteer", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
