from typing import Any

from rest_framework import serializers

from apps.core.fields import TextField

from .models import Rating, Tag


class RatingInput(serializers.Serializer[Any]):
    score = serializers.IntegerField(min_value=1, max_value=5)
    tags = serializers.ListField(
        child=serializers.ChoiceField(choices=Tag.choices), required=False, default=list, max_length=6
    )
    comment = TextField(multiline=True, max_length=500, required=False, allow_blank=True, default="")


class RatingOutput(serializers.ModelSerializer[Rating]):
    score = serializers.IntegerField(min_value=1, max_value=5)
    tags = serializers.ListField(child=serializers.ChoiceField(choices=Tag.choices))
    on_behalf = serializers.BooleanField(help_text="Given by staff for the resident (by phone, at the desk).")

    class Meta:
        model = Rating
        fields = ["score", "tags", "comment", "on_behalf", "created_at"]
