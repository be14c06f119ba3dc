from datetime import datetime

from django.utils.functional import cached_property, lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.core.fields import TextField
from apps.core.filters import MAX_ID
from apps.core.masking import mask_name
from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.serializers import CategoryRef, PlaceRef
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.serializers import LabelField

from .models import Offer, OfferStatus
from .selectors import offer_expected_arrival, volunteer_sees_contact
from .services import MAX_ETA_MINUTES, eta_range_message


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


# Any ETA that is not a whole number of minutes in range reads the same, in the reader's language.
ETA_RANGE = lazy(eta_range_message, str)()


class DepartInput(serializers.Serializer):
    eta_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ETA_MINUTES,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("预计多少分钟后到达（1–600，可不填）"),
        error_messages={key: ETA_RANGE for key in ("invalid", "min_value", "max_value", "max_string_length")},
    )


class ReleaseInput(serializers.Serializer):
    reason = TextField(max_length=500)


class CompleteInput(serializers.Serializer):
    report = TextField(multiline=True, max_length=2000, required=False, allow_blank=True, default="")


class OfferRequestOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    """What a volunteer sees of a request before holding a place, or once the request is over:
    no phone, no address, no coordinates, the contact's name masked."""

    category = CategoryRef()
    township = PlaceRef()
    village = PlaceRef()
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
    """The request of an offer holding a place (accepted, arrived) while the request is not over:
    whom to call and where to go, the contact's name in full."""

    class Meta(OfferRequestOutput.Meta):
        fields = [*OfferRequestOutput.Meta.fields, "address", "contact_phone", "latitude", "longitude"]

    def get_contact_name(self, obj: ServiceRequest) -> str:
        return obj.contact_name


class OfferVolunteerOutput(serializers.Serializer[Offer]):
    """The volunteer an offer is for, as staff and the volunteer see it: the name masked."""

    id = serializers.IntegerField(source="volunteer_id")
    volunteer_number = serializers.CharField(source="volunteer.volunteer_number")
    name = serializers.CharField(source="volunteer.user.masked_name")


OFFER_REQUEST_RULE = (
    "The request offered. Its contact (address, phone, coordinates, the contact name in full) is "
    "there only while the offer holds a place (accepted, or arrived) and the request is not over "
    "(not completed, closed, rejected or cancelled): for the volunteer going, and for the staff of "
    "the area, who see it on the request too. Otherwise the contact name is masked and the rest "
    "is absent."
)


EXPECTED_ARRIVAL_HELP = (
    "When the volunteer on the way expects to arrive: departed_at + eta_minutes, or null if they gave no ETA "
    "(eta_minutes counts from departed_at; a later ETA given on the way is added to the time already travelled)."
)


class OfferOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    status_display = LabelField(OfferStatus, source="status")
    expected_arrival_at = serializers.SerializerMethodField(help_text=EXPECTED_ARRIVAL_HELP)
    request = serializers.SerializerMethodField(help_text=OFFER_REQUEST_RULE)
    volunteer = OfferVolunteerOutput(source="*")

    class Meta:
        model = Offer
        fields = [
            "id",
            "status",
            "status_display",
            "created_at",
            "expires_at",
            "responded_at",
            "departed_at",
            "eta_minutes",
            "expected_arrival_at",
            "checked_in_at",
            "checked_out_at",
            "hours",
            "report",
            "request",
            "volunteer",
        ]

    def get_expected_arrival_at(self, obj: Offer) -> datetime | None:
        return offer_expected_arrival(obj)

    @extend_schema_field(
        PolymorphicProxySerializer(
            component_name="OfferRequest",
            serializers=[OfferRequestOutput, OfferRequestWithContactOutput],
            resource_type_field_name=None,
        )
    )
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


class AssignedVolunteerOutput(serializers.ModelSerializer[Offer]):
    """A volunteer holding (or who held) a place on a request, as its requester and staff see it."""

    volunteer_number = serializers.CharField(source="volunteer.volunteer_number")
    name = serializers.CharField(source="volunteer.user.masked_name")
    status_display = LabelField(OfferStatus, source="status")
    expected_arrival_at = serializers.SerializerMethodField(help_text=EXPECTED_ARRIVAL_HELP)

    class Meta:
        model = Offer
        fields = [
            "volunteer_number",
            "name",
            "status",
            "status_display",
            "departed_at",
            "eta_minutes",
            "expected_arrival_at",
            "hours",
        ]

    def get_expected_arrival_at(self, obj: Offer) -> datetime | None:
        return offer_expected_arrival(obj)
