"""The request as the API answers it: this app composes what the domain apps know of it."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.dispatch.models import OfferStatus
from apps.dispatch.serializers import EXPECTED_ARRIVAL_HELP, AssignedVolunteerOutput
from apps.ratings.serializers import RatingOutput
from apps.service_requests.models import ServiceRequest
from apps.service_requests.serializers import LabelField, RequestDetailBase

from .selectors import RequestReach


class ReachVolunteerOutput(serializers.Serializer[Any]):
    """A volunteer holding a place on the request, and the number that reaches them."""

    volunteer_number = serializers.CharField(source="offer.volunteer.volunteer_number")
    name = serializers.CharField(source="offer.volunteer.user.masked_name", help_text="Masked (张*明).")
    status = serializers.ChoiceField(source="offer.status", choices=OfferStatus.choices)
    status_display = LabelField(OfferStatus, source="offer.status")
    expected_arrival_at = serializers.DateTimeField(
        source="expected_at", allow_null=True, help_text=EXPECTED_ARRIVAL_HELP
    )
    call_number = serializers.CharField(
        help_text="The number to dial (tel:): the volunteer's own phone when calls_volunteer, else the station's "
        "hotline; empty when neither is known."
    )
    calls_volunteer = serializers.BooleanField(
        help_text="The volunteer consented to show their phone to the residents they serve, and you are the "
        "requester of this active request. Staff always get the hotline."
    )


class RequestReachOutput(serializers.Serializer[Any]):
    """Whom the requester can call about the request."""

    hotline = serializers.CharField(
        help_text="The 服务热线 of the station that owns the request, or of its nearest office or centre that has "
        "one (e.g. 0312-3862345); empty when none is set."
    )
    volunteers = ReachVolunteerOutput(many=True, help_text="The volunteers holding a place now (not those done).")


class RequestDetailOutput(RequestDetailBase):
    """The full request, for its requester and the staff who manage it. The contact fields
    (address, phone, coordinates) are in full: no one else reads a request here — volunteers
    read the requests offered to them through ``/offers/``."""

    volunteers = serializers.SerializerMethodField(help_text="The volunteers holding or who held a place, masked.")
    rating = serializers.SerializerMethodField(help_text="The resident's rating, once given.")
    reach = serializers.SerializerMethodField(
        help_text="Whom to call: the station's hotline and each volunteer's number."
    )

    class Meta(RequestDetailBase.Meta):
        fields = [*RequestDetailBase.Meta.fields, "volunteers", "rating", "reach"]

    @extend_schema_field(AssignedVolunteerOutput(many=True))
    def get_volunteers(self, obj: ServiceRequest) -> list[dict[str, Any]]:
        return AssignedVolunteerOutput(self.context["volunteers"], many=True).data  # type: ignore[return-value]

    @extend_schema_field(RatingOutput(allow_null=True))
    def get_rating(self, obj: ServiceRequest) -> dict[str, Any] | None:
        rating = self.context["rating"]
        return RatingOutput(rating).data if rating is not None else None

    @extend_schema_field(RequestReachOutput())
    def get_reach(self, obj: ServiceRequest) -> dict[str, Any]:
        reach: RequestReach = self.context["reach"]
        return RequestReachOutput(reach.for_viewer(user_id=self.context["request"].user.id)).data
