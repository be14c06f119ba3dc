from rest_framework import serializers

from .models import Place, ServiceCategory


class CategoryOutput(serializers.ModelSerializer[ServiceCategory]):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = ServiceCategory
        fields = ["id", "code", "name", "description", "auto_accept"]


class PlaceOutput(serializers.ModelSerializer[Place]):
    class Meta:
        model = Place
        fields = ["id", "code", "name", "kind", "parent"]
