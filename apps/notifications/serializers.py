from rest_framework import serializers

from .messages import render
from .models import Notification


class NotificationOutput(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "request_id", "title", "body", "link", "created_at", "read_at"]
        extra_kwargs = {"link": {"help_text": "The page of this site the notification opens for its reader, or empty."}}

    def get_title(self, obj: Notification) -> str:
        return render(obj.kind, obj.params, obj.request_id)[0]

    def get_body(self, obj: Notification) -> str:
        return render(obj.kind, obj.params, obj.request_id)[1]
