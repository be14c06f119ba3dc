"""An offer past its time is no longer open, even before the expiry sweep marks it: the rule
lives in the selectors, so the volunteer's page and the API list agree."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import dispatch_directed
from apps.service_requests.services import request_review
from tests.service_requests.factories import submit_request


@pytest.fixture
def lapsed_and_live(cast, org) -> tuple[Offer, Offer]:
    offers = []
    for title in ("已过答复时间的邀请", "仍可答复的邀请"):
        request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
        request.title = title
        request.save(update_fields=["title"])
        request_review(request=request, actor=cast.staff_a, accept=True)
        (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
        offers.append(offer)
    lapsed, live = offers
    Offer.objects.filter(id=lapsed.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    return lapsed, live


def test_the_api_list_leaves_out_an_offer_past_its_time(cast, api, lapsed_and_live) -> None:
    lapsed, live = lapsed_and_live

    response = api(cast.volunteer).get("/api/v1/offers/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [live.id]
    # Not yet swept: still "offered" in the database.
    assert Offer.objects.get(id=lapsed.id).status == OfferStatus.OFFERED


def test_the_offers_page_leaves_out_an_offer_past_its_time(client, cast, lapsed_and_live) -> None:
    client.force_login(cast.volunteer.user)

    html = client.get("/v/offers/").content.decode()

    assert ("仍可答复的邀请" in html, "已过答复时间的邀请" in html) == (True, False)


def test_an_offer_past_its_time_can_still_be_read_and_its_accept_says_it_expired(cast, api, lapsed_and_live) -> None:
    lapsed, _live = lapsed_and_live
    client = api(cast.volunteer)

    shown = client.get(f"/api/v1/offers/{lapsed.id}/")
    accepted = client.post(f"/api/v1/offers/{lapsed.id}/accept/")

    assert (shown.status_code, shown.json()["id"]) == (200, lapsed.id)
    assert accepted.status_code == 409
    assert accepted.json() == {"detail": "该邀请已过期。", "code": "offer_expired"}


def test_staff_lists_leave_out_offers_past_their_time_too(cast, api, lapsed_and_live) -> None:
    _lapsed, live = lapsed_and_live

    response = api(cast.staff_a).get("/api/v1/offers/")

    assert [row["id"] for row in response.json()["results"]] == [live.id]
