"""The volunteer's offers and tasks pages show 20 per page, with the pager, in a fixed number of
queries whatever the page holds."""

import re

import pytest

from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept
from apps.service_requests.services import request_review
from tests.workflow.scenario import submit

OFFERS = 45


def _offered(cast, org, n: int) -> list[Offer]:
    offers = []
    for _ in range(n):
        request = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
        request_review(request=request, actor=cast.staff_a, accept=True)
        offers += dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    return offers


def _newest_first(offers: list[Offer]) -> list[int]:
    return [o.id for o in sorted(offers, key=lambda o: (o.created_at, o.id), reverse=True)]


def _shown(html: str, prefix: str) -> list[int]:
    return [int(n) for n in re.findall(rf'id="{prefix}-(\d+)"', html)]


@pytest.mark.parametrize(("url", "prefix", "accepted"), [("/v/offers/", "offer", False), ("/v/tasks/", "task", True)])
def test_pages_of_twenty(client, cast, org, django_assert_num_queries, url, prefix, accepted):
    offers = _offered(cast, org, OFFERS)
    if accepted:
        for offer in offers:
            offer_accept(offer=offer, volunteer=cast.volunteer)
    expected = _newest_first(offers)
    client.force_login(cast.volunteer.user)
    assert client.get(url).status_code == 200  # served once before it is measured

    pages = {}
    for number in (1, 2, 3):
        # The same queries for a full page as for the last one of five: nothing per row.
        with django_assert_num_queries(6 if accepted else 5):
            response = client.get(url, {"page": number})
        assert response.status_code == 200
        pages[number] = response.content.decode()

    assert _shown(pages[1], prefix) == expected[:20]
    assert _shown(pages[2], prefix) == expected[20:40]
    assert _shown(pages[3], prefix) == expected[40:]
    assert len(_shown(pages[3], prefix)) == 5
    assert 'class="pager"' in pages[1] and "1 / 3" in pages[1] and 'href="?page=2"' in pages[1]
    assert 'href="?page=2"' in pages[3] and 'href="?page=4"' not in pages[3]


def test_a_page_past_the_end_shows_the_last(client, cast, org):
    offers = _offered(cast, org, 21)
    client.force_login(cast.volunteer.user)
    html = client.get("/v/offers/", {"page": 9}).content.decode()
    assert _shown(html, "offer") == _newest_first(offers)[20:]


def test_one_page_has_no_pager(client, cast, org):
    _offered(cast, org, 3)
    client.force_login(cast.volunteer.user)
    html = client.get("/v/offers/").content.decode()
    assert len(_shown(html, "offer")) == 3
    assert 'class="pager"' not in html
