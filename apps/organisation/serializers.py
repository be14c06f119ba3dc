from typing import Any

from rest_framework import serializers

from .models import OrgNode, Place, ServiceCategory


class CategoryOutput(serializers.ModelSerializer[ServiceCategory]):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = ServiceCategory
        fields = ["id", "code", "name", "description", "auto_accept"]


class PlaceOutput(serializers.ModelSerializer[Place]):
    class Meta:
        model = Place
        fields = ["id", "code", "name", "kind", "parent"]


class CategoryRef(serializers.Serializer[Any]):
    """A service category where another object names it: the same ``{id, name}`` everywhere,
    ``name`` in the reader's language. ``/categories/`` describes each in full."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class PlaceRef(serializers.Serializer[Any]):
    """A township or village where another object names it. ``/places/`` describes each in full."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class OrgNodeRef(serializers.Serializer[Any]):
    """A node of the practice network (the centre, a sub-centre, a township office, a station)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OrgNode.Kind.choices)
