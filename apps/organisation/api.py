import django_filters
from django.db.models import QuerySet
from rest_framework import mixins
from rest_framework.permissions import AllowAny

from apps.core.api import ScopedViewSet
from apps.core.filters import IdFilter

from .models import Place, ServiceCategory
from .selectors import active_categories
from .serializers import CategoryOutput, PlaceOutput


class CategoryViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Service categories (public reference data)."""

    dangerously_unscoped = "public reference data: the service categories anyone may order"
    permission_classes = [AllowAny]
    serializer_class = CategoryOutput
    pagination_class = None

    def get_queryset(self) -> QuerySet[ServiceCategory]:
        return active_categories()


class PlaceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Place.Kind.choices)
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Place
        fields = ["kind", "parent"]


class PlaceViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Townships and villages (public reference data)."""

    dangerously_unscoped = "public reference data: the city's townships and villages"
    permission_classes = [AllowAny]
    serializer_class = PlaceOutput
    filterset_class = PlaceFilter
    pagination_class = None

    def get_queryset(self) -> QuerySet[Place]:
        return Place.objects.order_by("kind", "code", "name")
