from rest_framework import serializers

from .models import VolunteerProfile


class VolunteerOutput(serializers.ModelSerializer):
    """What staff see when choosing whom to dispatch: masked name, never the phone."""

    name = serializers.CharField(source="user.masked_name")
    home_township = serializers.CharField(source="home_township.name")
    home_village = serializers.CharField(source="home_village.name", default="")
    categories = serializers.SerializerMethodField()

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

    def get_categories(self, obj: VolunteerProfile) -> list[int]:
        return [c.id for c in obj.categories.all()]
