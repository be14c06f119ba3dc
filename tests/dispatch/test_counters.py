"""``volunteers_accepted`` counts the places volunteers hold now: it drops when a volunteer
releases their place and when a cancellation withdraws the accepted tasks."""

import pytest

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import dispatch_directed, offer_accept, offer_decline, offer_release, request_cancel
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.services import request_review
from tests.service_requests.factories import submit_request
from tests.volunteers.factories import make_volunteer


@pytest.fixture
def third_volunteer(org):
    return make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])


def _offered(cast, org, volunteers, needed: int) -> tuple[ServiceRequest, dict[int, Offer]]:
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=needed
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    offers = dispatch_directed(request=request, actor=cast.staff_a, volunteers=volunteers)
    return request, {offer.volunteer_id: offer for offer in offers}


def _stored(request: ServiceRequest) -> tuple[str, int]:
    stored = ServiceRequest.objects.get(id=request.id)
    return stored.status, stored.volunteers_accepted


def test_cancelling_a_fully_staffed_request_frees_every_place(cast, org) -> None:
    request, offers = _offered(cast, org, [cast.volunteer, cast.other_volunteer], needed=2)
    for volunteer in (cast.volunteer, cast.other_volunteer):
        offer_accept(offer=offers[volunteer.id], volunteer=volunteer)
    assert _stored(request) == (Status.ACCEPTED, 2)

    request_cancel(request=request, actor=cast.resident, reason="")

    assert _stored(request) == (Status.CANCELLED, 0)
    assert set(Offer.objects.filter(request=request).values_list("status", flat=True)) == {OfferStatus.WITHDRAWN}


def test_cancelling_a_partly_staffed_request_frees_the_places_held(cast, org, third_volunteer) -> None:
    request, offers = _offered(cast, org, [cast.volunteer, cast.other_volunteer, third_volunteer], needed=3)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    offer_decline(offer=offers[third_volunteer.id], volunteer=third_volunteer)
    assert _stored(request) == (Status.OFFERED, 1)

    request_cancel(request=request, actor=cast.staff_a, reason="重复工单")

    assert _stored(request) == (Status.CANCELLED, 0)


def test_cancelling_an_unstaffed_request_leaves_the_count_at_zero(cast, org) -> None:
    request, _offers = _offered(cast, org, [cast.volunteer], needed=1)
    request_cancel(request=request, actor=cast.resident, reason="")
    assert _stored(request) == (Status.CANCELLED, 0)


def test_a_release_frees_one_place_and_reopens_dispatch(cast, org) -> None:
    request, offers = _offered(cast, org, [cast.volunteer, cast.other_volunteer], needed=2)
    for volunteer in (cast.volunteer, cast.other_volunteer):
        offer_accept(offer=offers[volunteer.id], volunteer=volunteer)

    offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="临时有事")

    assert _stored(request) == (Status.QUEUED, 1)
    # A repeated release changes nothing.
    offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="临时有事")
    assert _stored(request) == (Status.QUEUED, 1)

    request_cancel(request=request, actor=cast.resident, reason="")
    assert _stored(request) == (Status.CANCELLED, 0)


def test_a_repeated_accept_counts_once(cast, org) -> None:
    request, offers = _offered(cast, org, [cast.volunteer, cast.other_volunteer], needed=2)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    assert _stored(request) == (Status.OFFERED, 1)
