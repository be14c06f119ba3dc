"""The request as the API answers it: this app composes what the domain apps know of it."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.dispatch.serializers import AssignedVolunteerOutput
from apps.ratings.serializers import RatingOutput
from apps.service_requests.models import ServiceRequest
from apps.service_requests.serializers import RequestDetailBase


class RequestDetailOutput(RequestDetailBase):
    """The full request, for its requester and the staff who manage it. The contact fields
    (address, phone, coordinates) are in full: no one else reads a request here — volunteers
    read the requests offered to them through ``/offers/``."""

    volunteers = serializers.SerializerMethodField(help_text="The volunteers holding or who held a place, masked.")
    rating = serializers.SerializerMethodField(help_text="The resident's rating, once given.")

    class Meta(RequestDetailBase.Meta):
        fields = [*RequestDetailBase.Meta.fields, "volunteers", "rating"]

    @extend_schema_field(AssignedVolunteerOutput(many=True))
    def get_volunteers(self, obj: ServiceRequest) -> list[dict[str, Any]]:
        return AssignedVolunteerOutput(self.context["volunteers"], many=True).data  # type: ignore[return-value]

    @extend_schema_field(RatingOutput(allow_null=True))
    def get_rating(self, obj: ServiceRequest) -> dict[str, Any] | None:
        rating = self.context["rating"]
        return RatingOutput(rating).data if rating is not None else None
