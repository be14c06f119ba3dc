from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import OrgNode, Place, ServiceCategory


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "parent", "latitude", "longitude", "coordinates_are_estimate"]
    list_filter = ["kind", "coordinates_are_estimate"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]


@admin.register(OrgNode)
class OrgNodeAdmin(TreeAdmin):
    form = movenodeform_factory(OrgNode)
    list_display = ["name", "kind", "place"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "auto_accept", "is_active", "sort_order"]
    list_editable = ["auto_accept", "is_active", "sort_order"]
