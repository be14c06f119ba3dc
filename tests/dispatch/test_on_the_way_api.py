"""``POST /api/v1/offers/<id>/depart/`` (出发): who may call it (only the offer's volunteer; staff
who can see the offer get 403, everyone else 404), bad ETAs (400 naming the field, nothing
changed), refusals by state (409 with their code and message), retries, and what the resident
reads of it through the API."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.dispatch.models import Offer, OfferEvent
from apps.dispatch.services import offer_release, request_cancel
from tests.workflow.scenario import (
    ACTORS,
    CONTACT_KEYS,
    INVALID,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    World,
    actor_user,
    advance,
    build_world,
    db_state,
    error_body,
)

# Staff whose area holds ``world.request``: they see the offer but may not act on it.
MANAGERS = {"staff_a", "station_staff_a1", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}
FORBIDDEN_NOT_INVITEE = {"detail": "只有受邀的志愿者本人可以操作。", "code": "forbidden"}
# Whatever is wrong with an ETA, the same message says what is right.
ETA_RANGE = "预计到达时间须在1到600分钟之间。"


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def _url(world: World) -> str:
    assert world.offer is not None
    return f"/api/v1/offers/{world.offer.id}/depart/"


def _state() -> dict[str, Any]:
    """Everything a depart could touch: the shared snapshot, the offers' travel and their events."""
    return {
        **db_state(),
        "travel": sorted(Offer.objects.values_list("id", "departed_at", "eta_minutes")),
        "offer_events": sorted(OfferEvent.objects.values_list("id", "offer_id", "from_status", "to_status")),
    }


def _post(api, world: World, actor: str, body: Any = None):
    return api(actor_user(world.cast, actor)).post(_url(world), body, format="json")


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_offers_volunteer_may_depart(world, api, actor):
    advance(world, "accepted")
    before = _state()

    response = _post(api, world, actor, {"eta_minutes": 15})

    if actor == "volunteer":
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["status"], body["status_display"], body["eta_minutes"]) == ("on_the_way", "已出发", 15)
        departed = parse_datetime(body["departed_at"])
        expected = parse_datetime(body["expected_arrival_at"])
        assert departed is not None and expected == departed + timedelta(minutes=15)
        assert set(body["request"]) >= CONTACT_KEYS  # on the way, the volunteer still needs the address
        stored = Offer.objects.get(id=world.offer.id)
        assert (stored.status, stored.eta_minutes) == ("on_the_way", 15)
        return
    if actor == "anonymous":
        status_code, refusal = 401, NOT_AUTHENTICATED
    elif actor in MANAGERS:
        status_code, refusal = 403, FORBIDDEN_NOT_INVITEE
    else:
        status_code, refusal = 404, NOT_FOUND
    assert response.status_code == status_code, response.content
    assert error_body(response) == refusal
    assert "水龙头" not in response.content.decode()
    assert _state() == before


@pytest.mark.parametrize(
    "eta",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(601, id="over-ten-hours"),
        pytest.param(10**9, id="a-billion"),
        pytest.param(2**70, id="beyond-64-bits"),
        pytest.param("abc", id="not-a-number"),
        pytest.param("", id="empty-text"),
        pytest.param(1.5, id="fraction"),
        pytest.param([15], id="a-list"),
    ],
)
def test_a_bad_eta_is_refused_with_the_field_named_and_nothing_changes(world, api, eta):
    advance(world, "accepted")
    before = _state()

    response = _post(api, world, "volunteer", {"eta_minutes": eta})

    assert response.status_code == 400, response.content
    body = error_body(response)
    assert (body["detail"], body["code"]) == (INVALID, "invalid")
    assert body["errors"] == {"eta_minutes": [ETA_RANGE]}
    assert _state() == before


@pytest.mark.parametrize("body", [None, {}, {"eta_minutes": None}], ids=["no-body", "empty", "null"])
def test_depart_without_an_eta_is_accepted(world, api, body):
    advance(world, "accepted")

    response = _post(api, world, "volunteer", body)

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["eta_minutes"]) == ("on_the_way", None)
    assert response.json()["expected_arrival_at"] is None


def test_a_retry_answers_200_and_changes_nothing_and_a_new_eta_revises_it(world, api):
    advance(world, "accepted")
    first = _post(api, world, "volunteer", {"eta_minutes": 15})
    assert first.status_code == 200
    before = _state()

    again = _post(api, world, "volunteer", {"eta_minutes": 15})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert _state() == before

    # Ten minutes later, "still 10 minutes": the expected arrival moves, one event more, told again.
    departed = timezone.now() - timedelta(minutes=10)
    Offer.objects.filter(id=world.offer.id).update(departed_at=departed)
    revised = _post(api, world, "volunteer", {"eta_minutes": 10})
    assert revised.status_code == 200
    assert revised.json()["eta_minutes"] == 20
    assert parse_datetime(revised.json()["expected_arrival_at"]) == departed + timedelta(minutes=20)
    assert list(OfferEvent.objects.filter(offer=world.offer).values_list("to_status", flat=True))[-2:] == [
        "on_the_way",
        "on_the_way",
    ]


def test_arrive_from_on_the_way_and_depart_after_it_is_a_retry(world, api):
    advance(world, "accepted")
    assert _post(api, world, "volunteer", {"eta_minutes": 15}).status_code == 200

    arrived = api(world.cast.volunteer).post(f"/api/v1/offers/{world.offer.id}/arrive/")

    assert arrived.status_code == 200, arrived.content
    assert arrived.json()["status"] == "in_service"
    assert arrived.json()["checked_in_at"] is not None
    before = _state()
    late = _post(api, world, "volunteer", {"eta_minutes": 5})
    assert (late.status_code, late.json()["status"]) == (200, "in_service")
    assert _state() == before


@pytest.mark.parametrize(
    ("stage", "code", "detail"),
    [
        ("offered", "not_accepted", "请先接单，再出发。"),
        ("cancelled", "request_cancelled", "该需求已取消。"),
        ("released", "offer_released", "您已说明无法前往，这个任务已交还派单。"),
    ],
)
def test_depart_refused_by_the_state_is_409_with_its_reason(world, api, stage, code, detail):
    advance(world, "offered" if stage == "offered" else "accepted")
    if stage == "cancelled":
        request_cancel(request=world.request, actor=world.cast.resident, reason="已自行解决")
    elif stage == "released":
        offer_release(offer=world.offer, volunteer=world.cast.volunteer, reason="家中有急事")
    before = _state()

    response = _post(api, world, "volunteer", {"eta_minutes": 15})

    assert response.status_code == 409, response.content
    assert error_body(response) == {"detail": detail, "code": code}
    assert _state() == before


def test_the_resident_reads_who_is_on_the_way_and_when_they_arrive(world, api):
    advance(world, "accepted")
    departed = _post(api, world, "volunteer", {"eta_minutes": 15}).json()

    detail = api(world.cast.resident).get(f"/api/v1/requests/{world.request.id}/").json()

    assert detail["status"] == "accepted"  # the request does not move; the volunteer's task does
    assert detail["volunteers"] == [
        {
            "volunteer_number": world.cast.volunteer.volunteer_number,
            "name": "张*明",
            "status": "on_the_way",
            "status_display": "已出发",
            "departed_at": departed["departed_at"],
            "eta_minutes": 15,
            "expected_arrival_at": departed["expected_arrival_at"],
            "hours": None,
        }
    ]
