"""Reads that span the domain apps, for the request pages and API."""

from typing import Any

from apps.accounts.models import User
from apps.dispatch.selectors import assigned_volunteers
from apps.dispatch.serializers import assigned_volunteer_data
from apps.ratings.selectors import rating_of
from apps.ratings.serializers import RatingOutput
from apps.service_requests.models import ServiceRequest
from apps.service_requests.selectors import request_events, user_manages_request


def request_detail_context(*, request: ServiceRequest) -> dict[str, Any]:
    """Events, assigned volunteers and rating of a request its viewer may see in full."""
    rating = rating_of(request=request)
    return {
        "events": list(request_events(request=request)),
        "volunteers": [assigned_volunteer_data(o) for o in assigned_volunteers(request=request)],
        "rating": RatingOutput(rating).data if rating else None,
    }


def may_act_as_requester_or_staff(*, user: User, request: ServiceRequest) -> bool:
    return request.requester_id == user.id or user_manages_request(user=user, request=request)
