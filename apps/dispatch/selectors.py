"""Reads of offers and tasks, scoped to the user."""

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.service_requests.models import ACTIVE_FOR_VOLUNTEERS, ServiceRequest
from apps.service_requests.selectors import requests_managed_by

from .models import HOLDS_PLACE, Offer, OfferStatus


def _base() -> QuerySet[Offer]:
    return Offer.objects.select_related("request__category", "request__township", "request__village", "volunteer__user")


def offers_of_volunteer(*, user: User) -> QuerySet[Offer]:
    return _base().filter(volunteer__user=user)


def offers_visible_to(*, user: User) -> QuerySet[Offer]:
    """A volunteer's own offers and, for staff, the offers on the requests of their area
    (a staff member may volunteer too)."""
    if user.is_superuser or user.staff_node_id is not None:
        return _base().filter(Q(volunteer__user=user) | Q(request__in=requests_managed_by(user=user)))
    return offers_of_volunteer(user=user)


def offer_of_volunteer(*, user: User, offer_id: int) -> Offer:
    try:
        return offers_of_volunteer(user=user).get(id=offer_id)
    except Offer.DoesNotExist:
        raise NotFound() from None


def volunteer_sees_contact(*, offer: Offer) -> bool:
    """Only a volunteer holding a place on an active request sees the resident's phone and address."""
    return offer.status in HOLDS_PLACE and offer.request.status in ACTIVE_FOR_VOLUNTEERS


def offers_for_request(*, request: ServiceRequest) -> QuerySet[Offer]:
    return Offer.objects.filter(request=request).select_related("volunteer__user").order_by("created_at", "id")


def assigned_volunteers(*, request: ServiceRequest) -> QuerySet[Offer]:
    return offers_for_request(request=request).filter(status__in=[*HOLDS_PLACE, OfferStatus.COMPLETED])
