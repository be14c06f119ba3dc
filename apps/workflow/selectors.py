"""Reads that span the domain apps, for the request pages and API."""

from typing import Any

from apps.accounts.models import User
from apps.dispatch.selectors import assigned_volunteers
from apps.ratings.selectors import rating_of
from apps.service_requests.models import ServiceRequest
from apps.service_requests.selectors import request_events, user_manages_request


def request_detail_context(*, request: ServiceRequest) -> dict[str, Any]:
    """Events, assigned volunteers and rating of a request its viewer may see in full."""
    return {
        "events": list(request_events(request=request)),
        "volunteers": list(assigned_volunteers(request=request)),
        "rating": rating_of(request=request),
    }


def may_act_as_requester_or_staff(*, user: User, request: ServiceRequest) -> bool:
    return request.requester_id == user.id or user_manages_request(user=user, request=request)
