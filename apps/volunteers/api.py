import django_filters
from django.db.models import QuerySet
from rest_framework import mixins
from rest_framework.permissions import IsAuthenticated

from apps.core.api import ScopedViewSet
from apps.core.filters import BooleanFilter, IdFilter
from apps.core.permissions import IsOrgStaff

from .models import ApplicationStatus, VolunteerProfile
from .selectors import volunteers_visible_to
from .serializers import VolunteerOutput


class VolunteerFilter(django_filters.FilterSet):
    category = IdFilter(field_name="categories__id")
    township = IdFilter(field_name="home_township_id")
    village = IdFilter(field_name="home_village_id")
    verified = BooleanFilter(field_name="is_verified")

    class Meta:
        model = VolunteerProfile
        fields = ["category", "township", "village", "verified"]


class VolunteerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Registered volunteers (approved applications) in the staff member's area, to choose from
    when dispatching. Applications under review are ``/volunteer-applications/``."""

    permission_classes = [IsAuthenticated, IsOrgStaff]
    serializer_class = VolunteerOutput
    filterset_class = VolunteerFilter

    def get_scoped_queryset(self) -> QuerySet[VolunteerProfile]:
        return (
            volunteers_visible_to(user=self.user)
            .filter(status=ApplicationStatus.APPROVED)
            .order_by("volunteer_number")
            .distinct()
        )
