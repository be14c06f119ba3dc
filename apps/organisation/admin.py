from django import forms
from django.contrib import admin
from django.http import HttpRequest
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from apps.core.admin import AccessibleAdminMixin

from .hotlines import normalize_hotline
from .models import OrgNode, Place, ServiceCategory


@admin.register(Place)
class PlaceAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "code", "parent", "latitude", "longitude", "coordinates_are_estimate"]
    list_filter = ["kind", "coordinates_are_estimate"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]

    def save_model(self, request: HttpRequest, obj: Place, form: forms.ModelForm, change: bool) -> None:
        # Coordinates an operator enters are theirs: ``load_places`` replaces only estimates.
        moved = {"latitude", "longitude"} & set(form.changed_data)
        if moved and "coordinates_are_estimate" not in form.changed_data:
            obj.coordinates_are_estimate = False
        super().save_model(request, obj, form, change)


class OrgNodeForm(MoveNodeForm):
    def clean_hotline(self) -> str:
        # Stored as it is shown and dialled: "0312-3862345", however the operator typed it.
        return normalize_hotline(self.cleaned_data.get("hotline", ""))


@admin.register(OrgNode)
class OrgNodeAdmin(AccessibleAdminMixin, TreeAdmin):
    form = movenodeform_factory(OrgNode, form=OrgNodeForm)
    list_display = ["name", "kind", "place", "hotline"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(AccessibleAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "auto_accept", "is_active", "sort_order"]
    list_editable = ["auto_accept", "is_active", "sort_order"]
