"""Reads that span the domain apps, for the request pages and API."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from apps.accounts.models import User
from apps.core.reasons import Reason
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.selectors import assigned_volunteers, offer_expected_arrival, open_offers_of_volunteer
from apps.matching.selectors import haversine_km
from apps.organisation.models import Place
from apps.ratings.models import Rating
from apps.ratings.selectors import rating_of
from apps.service_requests.models import RequestEvent, ServiceRequest
from apps.service_requests.selectors import request_events, user_manages_request
from apps.volunteers.models import VolunteerProfile


@dataclass(frozen=True)
class TimelineStep:
    """One line of a request's timeline on its pages: a change of the request's status, or a
    volunteer setting off (出发), which moves the volunteer's task, not the request."""

    created_at: datetime
    label: str
    reason: str = ""
    # 出发: who is on the way, and when they expect to arrive (if they said).
    volunteer: str = ""
    expected_at: datetime | None = None


def request_timeline(*, events: Iterable[RequestEvent], volunteers: Iterable[Offer]) -> list[TimelineStep]:
    """The request's events and the departures of the volunteers holding (or who held) its
    places, oldest first. Built from rows already read for the page: no query of its own. A
    departure shows the latest expected arrival (an ETA revised on the way replaces the first)."""
    steps = [
        TimelineStep(created_at=e.created_at, label=e.get_to_status_display(), reason=e.display_reason) for e in events
    ]
    for offer in volunteers:
        if offer.departed_at is None:
            continue
        reason = (
            Reason.system("on_the_way_eta", minutes=offer.eta_minutes)
            if offer.eta_minutes
            else Reason.system("on_the_way")
        )
        steps.append(
            TimelineStep(
                created_at=offer.departed_at,
                label=str(OfferStatus.ON_THE_WAY.label),
                reason=str(reason),
                volunteer=f"{offer.volunteer.user.masked_name}（{offer.volunteer.volunteer_number}）",
                expected_at=offer_expected_arrival(offer),
            )
        )
    return sorted(steps, key=lambda step: step.created_at)


def request_detail_context(*, request: ServiceRequest) -> dict[str, Any]:
    """Events, assigned volunteers and rating of a request its viewer may see in full, and the
    timeline its pages show (the events with the volunteers' departures)."""
    events = list(request_events(request=request))
    volunteers = list(assigned_volunteers(request=request))
    return {
        "events": events,
        "volunteers": volunteers,
        "timeline": request_timeline(events=events, volunteers=volunteers),
        "rating": rating_of(request=request),
    }


def with_rated(requests: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """``requests`` with ``rated``: whether the resident has rated it, for the list's words
    (已评价 rather than a bare 已关闭) without a query per row."""
    return requests.annotate(rated=Exists(Rating.objects.filter(request=OuterRef("pk"))))


def may_act_as_requester_or_staff(*, user: User, request: ServiceRequest) -> bool:
    return request.requester_id == user.id or user_manages_request(user=user, request=request)


# --- The volunteer's offer cards -------------------------------------------------------------

# Two rough points closer than this are the same township's point, not a distance.
SAME_POINT_KM = 0.05


def _place_point(place: Place | None) -> tuple[float, float] | None:
    if place is None or place.latitude is None or place.longitude is None:
        return None
    return float(place.latitude), float(place.longitude)


def distance_from_home_km(*, volunteer: VolunteerProfile, request: ServiceRequest) -> float | None:
    """How far the service is from the volunteer's home, as the matching queue measures it: the
    home village's point, else the home township's; the request's map point, else its village's,
    else its township's. None when a point is unknown, or when both are the same township's
    rough point (the distance within a township is not known). Reads only rows already joined."""
    home = _place_point(volunteer.home_village)
    home_exact = home is not None
    home = home or _place_point(volunteer.home_township)
    if request.latitude is not None and request.longitude is not None:
        service: tuple[float, float] | None = (float(request.latitude), float(request.longitude))
        service_exact = True
    else:
        service = _place_point(request.village)
        service_exact = service is not None
        service = service or _place_point(request.township)
    if home is None or service is None:
        return None
    km = haversine_km(home, service)
    if km < SAME_POINT_KM and not (home_exact and service_exact):
        return None
    return km


@dataclass(frozen=True)
class OfferCard:
    """One open offer as the volunteer's card shows it."""

    offer: Offer
    distance_km: float | None


def open_offers_for_cards(*, user: User) -> QuerySet[Offer]:
    """The volunteer's open offers, with their home village and township joined in the same
    query, for the cards' distance."""
    return open_offers_of_volunteer(user=user).select_related("volunteer__home_village", "volunteer__home_township")


def offer_cards(offers: Iterable[Offer]) -> list[OfferCard]:
    """Cards for a page of :func:`open_offers_for_cards`: no query of their own."""
    return [
        OfferCard(offer=offer, distance_km=distance_from_home_km(volunteer=offer.volunteer, request=offer.request))
        for offer in offers
    ]
