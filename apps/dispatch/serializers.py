from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.fields import TextField
from apps.core.filters import MAX_ID
from apps.core.masking import mask_name
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.serializers import LabelField

from .models import Offer, OfferStatus
from .selectors import volunteer_sees_contact


class DispatchInput(serializers.Serializer):
    volunteer_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=50,
        help_text=_("志愿者ID（志愿者列表中的 id）"),
    )
    expires_in_minutes = serializers.IntegerField(min_value=5, max_value=1440, required=False, allow_null=True)

    def validate_volunteer_ids(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("志愿者不能重复。"))
        return value


class DeclineInput(serializers.Serializer):
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class ReleaseInput(serializers.Serializer):
    reason = TextField(max_length=500)


class CompleteInput(serializers.Serializer):
    report = TextField(multiline=True, max_length=2000, required=False, allow_blank=True, default="")


class _Named(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OfferRequestOutput(serializers.ModelSerializer):
    """What a volunteer sees of a request before holding a place: no phone, no address,
    the contact's name masked."""

    category = serializers.CharField(source="category.display_name")
    township = _Named()
    village = _Named()
    status_display = LabelField(Status, source="status")
    contact_name = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "title",
            "description",
            "category",
            "township",
            "village",
            "urgency",
            "status",
            "status_display",
            "window_start",
            "window_end",
            "volunteers_needed",
            "volunteers_accepted",
            "contact_name",
        ]

    def get_contact_name(self, obj: ServiceRequest) -> str:
        return mask_name(obj.contact_name)


class OfferRequestWithContactOutput(OfferRequestOutput):
    """For the volunteer holding a place on an active request: whom to call and where to go."""

    class Meta(OfferRequestOutput.Meta):
        fields = [*OfferRequestOutput.Meta.fields, "address", "contact_phone", "latitude", "longitude"]

    def get_contact_name(self, obj: ServiceRequest) -> str:
        return obj.contact_name


class OfferOutput(serializers.ModelSerializer):
    status_display = LabelField(OfferStatus, source="status")
    request = serializers.SerializerMethodField()
    volunteer = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "status",
            "status_display",
            "created_at",
            "expires_at",
            "responded_at",
            "checked_in_at",
            "checked_out_at",
            "hours",
            "report",
            "request",
            "volunteer",
        ]

    def get_request(self, obj: Offer) -> dict:
        # One nested serializer of each kind for the whole list, not one built per row.
        sees_contact = volunteer_sees_contact(offer=obj)
        nested = self._nested.get(sees_contact)
        if nested is None:
            kind = OfferRequestWithContactOutput if sees_contact else OfferRequestOutput
            nested = self._nested[sees_contact] = kind(context=self.context)
        return nested.to_representation(obj.request)

    @cached_property
    def _nested(self) -> dict[bool, OfferRequestOutput]:
        return {}

    def get_volunteer(self, obj: Offer) -> dict:
        return {
            "id": obj.volunteer_id,
            "volunteer_number": obj.volunteer.volunteer_number,
            "name": obj.volunteer.user.masked_name,
        }


def assigned_volunteer_data(offer: Offer) -> dict:
    return {
        "volunteer_number": offer.volunteer.volunteer_number,
        "name": mask_name(offer.volunteer.user.name),
        "status": offer.status,
        "status_display": offer.get_status_display(),
        "hours": str(offer.hours) if offer.hours is not None else None,
    }
