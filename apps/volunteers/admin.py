from django.contrib import admin

from .models import VolunteerProfile


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ["volunteer_number", "user", "home_township", "home_village", "is_verified", "is_active"]
    list_filter = ["is_verified", "is_active", "home_township"]
    search_fields = ["volunteer_number"]
    list_select_related = ["user", "home_township", "home_village"]
    autocomplete_fields = []
    filter_horizontal = ["categories"]
    raw_id_fields = ["user"]
