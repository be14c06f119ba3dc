"""Reads of service requests, already scoped to what the user may see."""

from django.db.models import QuerySet

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import NotFound

from .models import RequestEvent, ServiceRequest


def _base() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related("category", "township", "village", "station")


# What a row of a requests list shows (``RequestListOutput``): not the contact, whose columns are
# encrypted and would each be decrypted for nothing, nor the station.
LIST_DEFERRED = ("address", "contact_phone", "description", "status_reason", "status_reason_params")


def as_list_rows(requests: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """``requests`` reading only what a list row shows."""
    return requests.select_related(None).select_related("category", "township", "village").defer(*LIST_DEFERRED)


def requests_managed_by(*, user: User) -> QuerySet[ServiceRequest]:
    """Requests a staff member handles: those in their area (see ``area_of``)."""
    return area_of(user).filter(_base(), township="township", village="village", category="category")


def requests_of_requester(*, user: User) -> QuerySet[ServiceRequest]:
    return _base().filter(requester=user)


def requests_visible_to(*, user: User) -> QuerySet[ServiceRequest]:
    """What the requests list shows: staff see their area, everyone else their own requests.
    Volunteers see the requests they were offered through their offers, not here."""
    if not user.is_org_staff:
        return requests_of_requester(user=user)
    if area_of(user).whole_city:
        # Their own requests are in the city too; an OR here would make every count scan.
        return requests_managed_by(user=user)
    # Staff are residents too: their own requests stay theirs wherever they live.
    return requests_managed_by(user=user) | requests_of_requester(user=user)


def request_for_staff(*, user: User, request_id: int) -> ServiceRequest:
    try:
        return requests_managed_by(user=user).get(id=request_id)
    except ServiceRequest.DoesNotExist:
        raise NotFound() from None


def request_for_requester(*, user: User, request_id: int) -> ServiceRequest:
    try:
        return requests_of_requester(user=user).get(id=request_id)
    except ServiceRequest.DoesNotExist:
        raise NotFound() from None


def request_events(*, request: ServiceRequest) -> QuerySet[RequestEvent]:
    return RequestEvent.objects.filter(request=request).select_related("actor")


def user_manages_request(*, user: User, request: ServiceRequest) -> bool:
    return area_of(user).covers(
        township_id=request.township_id, village_id=request.village_id, category_id=request.category_id
    )
