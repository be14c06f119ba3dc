from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.phones import validate_contact_phone, validate_mobile
from apps.core.fields import IdField, TextField
from apps.core.masking import mask_name
from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.models import Place, ServiceCategory
from apps.organisation.serializers import CategoryRef, OrgNodeRef, PlaceRef

from .models import Channel, RequestEvent, ServiceRequest, Status, Urgency


class StorableDateTimeField(serializers.DateTimeField):
    """A time the database can store and the API can write back. The database keeps UTC, and
    DRF lets a naive time near year 1 through (or crashes on it while checking it), which then
    fails with OverflowError: a 500. Before 1901 the local time is Shanghai's mean solar time,
    +08:05:43, an offset RFC 3339 cannot write: the answer would not be a date-time."""

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            aware = super().enforce_timezone(value)
            aware.astimezone(UTC)
        except OverflowError:
            self.fail("overflow")
        offset = aware.utcoffset()
        if offset is not None and offset % timedelta(minutes=1):
            self.fail("overflow")
        return aware


class RequestCreateInput(serializers.Serializer):
    category = IdField(queryset=ServiceCategory.objects.filter(is_active=True))
    title = TextField(max_length=80)
    description = TextField(multiline=True, max_length=2000)
    village = IdField(queryset=Place.objects.filter(kind=Place.Kind.VILLAGE))
    address = TextField(max_length=200)
    contact_name = TextField(max_length=50)
    contact_phone = TextField(max_length=20)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    volunteers_needed = serializers.IntegerField(min_value=1, max_value=20, default=1)
    window_start = StorableDateTimeField(required=False, allow_null=True)
    window_end = StorableDateTimeField(required=False, allow_null=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )

    def validate_contact_phone(self, value: str) -> str:
        return validate_contact_phone(value)

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("window_start"), attrs.get("window_end")
        if start and end and end <= start:
            raise serializers.ValidationError({"window_end": _("结束时间须晚于开始时间。")})
        return attrs


class OnBehalfCreateInput(RequestCreateInput):
    """代点单: staff enter a request taken by phone or at the desk."""

    requester_phone = TextField(max_length=20)
    requester_name = TextField(max_length=50)
    channel = serializers.ChoiceField(
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.DESK, Channel.DESK.label)]
    )

    def validate_requester_phone(self, value: str) -> str:
        return validate_mobile(value)


class ReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("accept", _("受理")), ("reject", _("不予受理"))])
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class CancelInput(serializers.Serializer):
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class LabelField(serializers.CharField):
    """The label of a choice, in the reader's language: what ``get_<field>_display()`` gives, for
    a fraction of its cost in a list (Django rebuilds the choices for every call)."""

    def __init__(self, choices: type[models.Choices], **kwargs: Any) -> None:
        self.labels = dict(choices.choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        return str(self.labels.get(value, value))


class RequestListOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    category = CategoryRef()
    township = PlaceRef()
    village = PlaceRef()
    status_display = LabelField(Status, source="status")

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "title",
            "category",
            "township",
            "village",
            "status",
            "status_display",
            "urgency",
            "channel",
            "volunteers_needed",
            "volunteers_accepted",
            "created_at",
            "status_changed_at",
        ]


class EventOutput(serializers.ModelSerializer):
    """One step of a request's timeline. ``actor`` is the masked name of who acted, empty for the
    system; ``reason`` is in the reader's language."""

    from_status_display = serializers.SerializerMethodField()
    to_status_display = serializers.CharField(source="get_to_status_display")
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField(source="display_reason")

    class Meta:
        model = RequestEvent
        fields = [
            "from_status",
            "from_status_display",
            "to_status",
            "to_status_display",
            "actor",
            "reason",
            "created_at",
        ]

    def get_from_status_display(self, obj: RequestEvent) -> str:
        return obj.get_from_status_display() if obj.from_status else ""

    def get_actor(self, obj: RequestEvent) -> str:
        # Residents see who acted by masked name only; the system acts as nobody.
        return mask_name(obj.actor.name) if obj.actor else ""


class RequestDetailBase(RequestListOutput):
    """The full request, for its requester and the staff who manage it: what this app knows of it.
    The API answers with ``apps.workflow.serializers.RequestDetailOutput``, which adds the
    volunteers and the rating from their own apps."""

    station = OrgNodeRef()
    status_reason = serializers.CharField(
        source="display_status_reason", read_only=True, help_text="Why it was rejected or cancelled, in your language."
    )
    events = serializers.SerializerMethodField(help_text="The timeline, oldest first.")

    class Meta(RequestListOutput.Meta):
        fields = [
            *RequestListOutput.Meta.fields,
            "description",
            "station",
            "address",
            "contact_name",
            "contact_phone",
            "latitude",
            "longitude",
            "window_start",
            "window_end",
            "status_reason",
            "events",
        ]

    @extend_schema_field(EventOutput(many=True))
    def get_events(self, obj: ServiceRequest) -> list[dict]:
        # With many=True DRF returns a ListSerializer, whose .data is a list; the stubs still type
        # the call as EventOutput (typeddjango/djangorestframework-stubs#260).
        return EventOutput(self.context["events"], many=True).data  # type: ignore[return-value]
