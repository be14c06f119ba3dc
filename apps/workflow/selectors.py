"""Reads that span the domain apps, for the request pages and API."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from apps.accounts.models import User
from apps.core.reasons import Reason
from apps.dispatch.models import HOLDS_PLACE, Offer, OfferStatus
from apps.dispatch.selectors import assigned_volunteers, offer_expected_arrival, open_offers_of_volunteer
from apps.matching.selectors import home_distance_km
from apps.organisation.selectors import hotline_for
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


@dataclass(frozen=True)
class ReachVolunteer:
    """A volunteer holding a place on the request (accepted, on the way, in service), as its
    requester reaches them: the number to call is the volunteer's own if they consented
    (``share_phone_with_residents``), else the station's hotline (``calls_volunteer`` says which).
    A task done, withdrawn (the request cancelled) or given up holds no place: no number."""

    offer: Offer
    expected_at: datetime | None
    call_number: str
    calls_volunteer: bool


class RequestReach:
    """How the requester reaches the people serving a request: the hotline of the station that
    owns it (its nearest ancestor's, see ``hotline_for``) and, per volunteer holding a place, whom
    to call and when they come. Built from rows already read for the page; the hotline costs one
    query, and only when a page reads it (the staff pages and the API's staff answers do not)."""

    def __init__(self, *, request: ServiceRequest, volunteers: Iterable[Offer], for_requester: bool) -> None:
        # A volunteer consents to show their phone to the residents they serve, not to staff:
        # ``for_requester`` False (staff reading the request) always gives the hotline.
        self._request = request
        self._offers = [offer for offer in volunteers if offer.status in HOLDS_PLACE]
        self._for_requester = for_requester

    def for_viewer(self, *, user_id: int) -> "RequestReach":
        """This reach as ``user_id`` may see it: the volunteers' own phones only for the requester."""
        for_requester = user_id == self._request.requester_id
        if for_requester == self._for_requester:
            return self
        return RequestReach(request=self._request, volunteers=self._offers, for_requester=for_requester)

    @cached_property
    def hotline(self) -> str:
        return hotline_for(self._request.station)

    @cached_property
    def volunteers(self) -> list[ReachVolunteer]:
        reach = []
        for offer in self._offers:
            shares = self._for_requester and offer.volunteer.share_phone_with_residents
            own = offer.volunteer.user.phone if shares else ""
            reach.append(
                ReachVolunteer(
                    offer=offer,
                    expected_at=offer_expected_arrival(offer),
                    call_number=own or self.hotline,
                    calls_volunteer=bool(own),
                )
            )
        return reach

    @property
    def hotline_apart(self) -> bool:
        """Whether the hotline needs a line of its own: no volunteer's button calls it already."""
        return bool(self.hotline) and all(volunteer.calls_volunteer for volunteer in self.volunteers)


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
        # As the requester reaches the people serving it (templates/workflow/resident/_reach.html);
        # the API narrows it to its caller with ``for_viewer``. Not for the staff pages to show.
        "reach": RequestReach(request=request, volunteers=volunteers, for_requester=True),
    }


def with_rated(requests: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """``requests`` with ``rated``: whether the resident has rated it, for the list's words
    (已评价 rather than a bare 已关闭) without a query per row."""
    return requests.annotate(rated=Exists(Rating.objects.filter(request=OuterRef("pk"))))


def may_act_as_requester_or_staff(*, user: User, request: ServiceRequest) -> bool:
    return request.requester_id == user.id or user_manages_request(user=user, request=request)


# --- The volunteer's offer cards -------------------------------------------------------------


def distance_from_home_km(*, volunteer: VolunteerProfile, request: ServiceRequest) -> float | None:
    """How far the service is from the volunteer's home (``apps.matching.selectors.home_distance_km``).
    Reads only rows already joined."""
    return home_distance_km(home_village=volunteer.home_village, home_township=volunteer.home_township, request=request)


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
