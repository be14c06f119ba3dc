from rest_framework import serializers

from apps.core.serializers import FieldsBuiltOnce

from .messages import render
from .models import Notification


class NotificationOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "request_id", "title", "body", "link", "created_at", "read_at"]
        extra_kwargs = {"link": {"help_text": "The page of this site the notification opens for its reader, or empty."}}

    def to_representation(self, instance: Notification) -> dict:
        # Title and body come from one rendering of the message, not one each.
        self._rendered = render(instance.kind, instance.params, instance.request_id)
        return super().to_representation(instance)

    def get_title(self, obj: Notification) -> str:
        return self._rendered[0]

    def get_body(self, obj: Notification) -> str:
        return self._rendered[1]


class MarkedOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications are now read.")
