from django.contrib import admin

from .models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["request", "score", "on_behalf", "created_at"]
    list_filter = ["score", "on_behalf"]
    raw_id_fields = ["request", "rated_by"]
