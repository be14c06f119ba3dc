from rest_framework import serializers

from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.serializers import CategoryRef, PlaceRef

from .models import VolunteerProfile


class VolunteerOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    """What staff see when choosing whom to dispatch: masked name, never the phone."""

    name = serializers.CharField(source="user.masked_name")
    home_township = PlaceRef()
    home_village = PlaceRef(allow_null=True)
    categories = CategoryRef(many=True, help_text="The service categories the volunteer serves.")

    class Meta:
        model = VolunteerProfile
        fields = [
            "id",
            "volunteer_number",
            "name",
            "home_township",
            "home_village",
            "categories",
            "is_verified",
            "is_active",
        ]
