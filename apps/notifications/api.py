from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedViewSet

from . import services
from .models import Notification
from .selectors import notifications_for
from .serializers import MarkedOutput, NotificationOutput


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The user's own in-app notifications."""

    serializer_class = NotificationOutput

    def get_scoped_queryset(self) -> QuerySet[Notification]:
        return notifications_for(user=self.user)

    @extend_schema(request=None, responses=NotificationOutput)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        services.notification_mark_read(notification=notification)
        notification.refresh_from_db()
        return Response(NotificationOutput(notification).data)

    @extend_schema(request=None, responses=MarkedOutput)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.notifications_mark_all_read(user_id=self.user.id)})
