"""Requests for the rating tests, lived through the real services."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.accounts.models import User
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.services import request_review
from tests.conftest import Cast
from tests.service_requests.factories import submit_request

TITLE_A = "帮忙修理漏水的水龙头"


def serve(
    cast: Cast,
    org: dict,
    *,
    village: Any,
    requester: User | None = None,
    title: str = TITLE_A,
    staff: User | None = None,
) -> ServiceRequest:
    """A request served to completion through the real services (volunteer checked in an hour ago)."""
    request = submit_request(requester=requester or cast.resident, category=org["category"], village=village)
    ServiceRequest.objects.filter(id=request.id).update(title=title)
    request.refresh_from_db()
    staff = staff or cast.dispatcher
    request_review(request=request, actor=staff, accept=True)
    offer = dispatch_directed(request=request, actor=staff, volunteers=[cast.volunteer])[0]
    offer_accept(offer=offer, volunteer=cast.volunteer)
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    Offer.objects.filter(id=offer.id).update(checked_in_at=timezone.now() - timedelta(hours=1))
    offer_complete(offer=offer, volunteer=cast.volunteer)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    return request
