"""Reads of offers and tasks, scoped to the user."""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.service_requests.models import ACTIVE_FOR_VOLUNTEERS, ServiceRequest
from apps.volunteers.models import VolunteerProfile

from .models import HOLDS_PLACE, Offer, OfferStatus


def _base() -> QuerySet[Offer]:
    return Offer.objects.select_related("request__category", "request__township", "request__village", "volunteer__user")


def _own(user: User) -> Q:
    """The user's own offers, by their volunteer profile's id looked up in the same query: on
    ``volunteer_id`` itself, so that a list newest first reads the index ``offer_volunteer_recent``
    in order and stops at the page, where a join through the profile sorts every offer."""
    return Q(volunteer_id=Subquery(VolunteerProfile.objects.filter(user=user).values("id")[:1]))


def offers_of_volunteer(*, user: User) -> QuerySet[Offer]:
    return _base().filter(_own(user))


def offers_visible_to(*, user: User) -> QuerySet[Offer]:
    """A volunteer's own offers and, for staff, the offers on the requests of their area
    (a staff member may volunteer too)."""
    if not user.is_org_staff:
        return offers_of_volunteer(user=user)
    in_area = area_of(user).q(township="request__township", village="request__village", category="request__category")
    return _base().filter(_own(user) | in_area)


def _not_lapsed() -> Q:
    """An offer past its time is no longer open, even before the expiry sweep has marked it."""
    return ~Q(status=OfferStatus.OFFERED, expires_at__lte=timezone.now())


# Encrypted columns a row of the offers list does not need to read: the volunteer's own phone
# never, the request's contact only where it is shown (see :func:`with_contacts`).
LIST_DEFERRED = ("volunteer__user__phone", "volunteer__user__password", "request__address", "request__contact_phone")


def offers_listed_for(*, user: User) -> QuerySet[Offer]:
    """The offers list (API): what the user may see, less offers past their time. A page of it
    goes through :func:`with_contacts` before it is shown."""
    return offers_visible_to(user=user).filter(_not_lapsed()).defer(*LIST_DEFERRED)


def with_contacts(offers: list[Offer]) -> list[Offer]:
    """Fill in, with one query, the contact of the requests whose contact the page shows (the
    list reads it deferred: decrypting every row's would be for nothing, reading each on access
    a query per row)."""
    shown = {offer.request_id for offer in offers if volunteer_sees_contact(offer=offer)}
    if shown:
        contacts = {
            row["id"]: row
            for row in ServiceRequest.objects.filter(id__in=shown).values("id", "address", "contact_phone")
        }
        for offer in offers:
            if offer.request_id in contacts:
                offer.request.address = contacts[offer.request_id]["address"]
                offer.request.contact_phone = contacts[offer.request_id]["contact_phone"]
    return offers


def open_offers_of_volunteer(*, user: User) -> QuerySet[Offer]:
    """The offers a volunteer may still answer."""
    return offers_of_volunteer(user=user).filter(status=OfferStatus.OFFERED).filter(_not_lapsed())


def offer_of_volunteer(*, user: User, offer_id: int) -> Offer:
    try:
        return offers_of_volunteer(user=user).get(id=offer_id)
    except Offer.DoesNotExist:
        raise NotFound() from None


def volunteer_sees_contact(*, offer: Offer) -> bool:
    """Only a volunteer holding a place on an active request sees the resident's phone and address."""
    return offer.status in HOLDS_PLACE and offer.request.status in ACTIVE_FOR_VOLUNTEERS


def offer_expected_arrival(offer: Offer) -> datetime | None:
    """When a volunteer on the way (出发) expects to arrive, if they gave an ETA:
    ``eta_minutes`` counts from ``departed_at`` (see ``services.offer_depart``)."""
    if offer.departed_at is None or offer.eta_minutes is None:
        return None
    return offer.departed_at + timedelta(minutes=offer.eta_minutes)


def offers_for_request(*, request: ServiceRequest) -> QuerySet[Offer]:
    return Offer.objects.filter(request=request).select_related("volunteer__user").order_by("created_at", "id")


def assigned_volunteers(*, request: ServiceRequest) -> QuerySet[Offer]:
    return offers_for_request(request=request).filter(status__in=[*HOLDS_PLACE, OfferStatus.COMPLETED])
