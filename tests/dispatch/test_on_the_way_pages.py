"""出发 on the pages: the volunteer's task form (who may post it, the ETA picked or typed, bad
input told and nothing changed), and the departure on the resident's and the staff's timelines."""

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.dispatch.models import Offer, OfferEvent
from apps.dispatch.services import offer_check_in, offer_depart
from tests.workflow.scenario import ACTORS, World, actor_user, advance, build_world, db_state

DEPARTED = "已出发，已告知群众和工作人员。路上注意安全！"
ETA_RANGE = "预计到达时间须在1到600分钟之间。"


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def _as(client, world: World, actor: str):
    user = actor_user(world.cast, actor)
    if user is not None:
        client.force_login(user)
    return client


def _url(world: World) -> str:
    assert world.offer is not None
    return f"/v/offers/{world.offer.id}/depart/"


def _state() -> dict[str, Any]:
    return {
        **db_state(),
        "travel": sorted(Offer.objects.values_list("id", "departed_at", "eta_minutes")),
        "offer_events": sorted(OfferEvent.objects.values_list("id", "offer_id", "from_status", "to_status")),
    }


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _timeline(html: str) -> str:
    start = html.index('<ol class="timeline"')
    return html[start : html.index("</ol>", start)]


def _clock(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_offers_volunteer_may_post_the_depart_form(client, world, actor):
    advance(world, "accepted")
    before = _state()

    response = _as(client, world, actor).post(_url(world), {"eta_minutes": "15"})

    if actor == "volunteer":
        assert (response.status_code, response["Location"]) == (302, "/v/tasks/")
        assert _messages(response) == [("success", DEPARTED)]
        stored = Offer.objects.get(id=world.offer.id)
        assert (stored.status, stored.eta_minutes) == ("on_the_way", 15)
        return
    if actor == "anonymous":
        assert (response.status_code, response["Location"]) == (302, f"/login/?next={quote(_url(world))}")
    else:
        assert response.status_code == 404
    assert _state() == before


@pytest.mark.parametrize(
    ("form", "eta"),
    [
        pytest.param({}, None, id="no-eta"),
        pytest.param({"eta_pick": "", "eta_minutes": ""}, None, id="left-blank"),
        pytest.param({"eta_pick": "20"}, 20, id="quick-pick"),
        pytest.param({"eta_minutes": "45"}, 45, id="typed"),
        pytest.param({"eta_pick": "10", "eta_minutes": "15"}, 15, id="typed-wins-over-pick"),
    ],
)
def test_the_eta_is_picked_or_typed(client, world, form, eta):
    advance(world, "accepted")

    response = _as(client, world, "volunteer").post(_url(world), form)

    assert _messages(response) == [("success", DEPARTED)]
    stored = Offer.objects.get(id=world.offer.id)
    assert (stored.status, stored.eta_minutes) == ("on_the_way", eta)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        pytest.param({"eta_minutes": "0"}, ETA_RANGE, id="zero"),
        pytest.param({"eta_minutes": "-1"}, ETA_RANGE, id="negative"),
        pytest.param({"eta_minutes": "601"}, ETA_RANGE, id="over-ten-hours"),
        pytest.param({"eta_minutes": "1000000000"}, ETA_RANGE, id="a-billion"),
        pytest.param({"eta_minutes": "abc"}, ETA_RANGE, id="not-a-number"),
        pytest.param({"eta_pick": "7"}, "选择一个有效的选项。 7 不在可用的选项中。", id="not-a-pick"),
    ],
)
def test_a_bad_eta_is_told_and_nothing_changes(client, world, form, message):
    advance(world, "accepted")
    before = _state()

    response = _as(client, world, "volunteer").post(_url(world), form)

    assert (response.status_code, response["Location"]) == (302, "/v/tasks/")
    assert _messages(response) == [("error", message)]
    assert _state() == before


def test_depart_before_accepting_is_refused_with_a_message(client, world):
    advance(world, "offered")
    before = _state()

    response = _as(client, world, "volunteer").post(_url(world), {"eta_minutes": "15"})

    assert _messages(response) == [("error", "请先接单，再出发。")]
    assert _state() == before


def test_the_task_offers_出发_then_arriving_with_the_expected_time(client, world):
    advance(world, "accepted")
    client = _as(client, world, "volunteer")

    html = client.get("/v/tasks/").content.decode()
    assert f'action="/v/offers/{world.offer.id}/depart/"' in html
    assert 'name="eta_pick" value="10"' in html and 'name="eta_pick" value="30"' in html
    assert 'name="eta_minutes" min="1" max="600"' in html

    offer_depart(offer=world.offer, volunteer=world.cast.volunteer, eta_minutes=15)
    departed = Offer.objects.get(id=world.offer.id).departed_at
    assert departed is not None
    html = client.get("/v/tasks/").content.decode()
    assert "已出发" in html
    assert f"出发时间：{_clock(departed)} · 预计 {_clock(departed + timedelta(minutes=15))} 到达" in html
    assert f'action="/v/offers/{world.offer.id}/arrive/"' in html
    assert "更新预计到达时间" in html


@pytest.mark.parametrize(("who", "url"), [("resident", "/r/requests/{id}/"), ("staff_a", "/s/requests/{id}/")])
def test_the_timeline_shows_the_departure_and_the_expected_arrival(client, world, who, url):
    advance(world, "accepted")
    offer_depart(offer=world.offer, volunteer=world.cast.volunteer, eta_minutes=15)
    departed = Offer.objects.get(id=world.offer.id).departed_at
    assert departed is not None
    arrival = _clock(departed + timedelta(minutes=15))

    html = _as(client, world, who).get(url.format(id=world.request.id)).content.decode()

    timeline = _timeline(html)
    assert timeline.count("<li>") == 5  # submitted, queued, offered, accepted, then on the way
    last = timeline.rsplit("<li>", 1)[1]
    assert "<strong>已出发</strong>" in last
    assert '<span class="reason">志愿者已出发，预计15分钟到达</span>' in last
    assert f"张*明（{world.cast.volunteer.volunteer_number}） · 约 {arrival} 到达" in last

    # Arrived: the departure stays in the timeline, before the service began.
    offer_check_in(offer=world.offer, volunteer=world.cast.volunteer)
    html = client.get(url.format(id=world.request.id)).content.decode()
    strong = [part.split("</strong>")[0] for part in _timeline(html).split("<strong>")[1:]]
    assert strong[-2:] == ["已出发", "服务中"]


def test_a_new_eta_posted_on_the_way_revises_the_expected_arrival(client, world):
    advance(world, "accepted")
    offer_depart(offer=world.offer, volunteer=world.cast.volunteer, eta_minutes=15)
    departed = timezone.now() - timedelta(minutes=10)
    Offer.objects.filter(id=world.offer.id).update(departed_at=departed)

    response = _as(client, world, "volunteer").post(_url(world), {"eta_pick": "10"})

    assert _messages(response) == [("success", DEPARTED)]
    stored = Offer.objects.get(id=world.offer.id)
    assert (stored.status, stored.departed_at, stored.eta_minutes) == ("on_the_way", departed, 20)
    assert list(OfferEvent.objects.filter(offer=world.offer).values_list("from_status", "to_status"))[-2:] == [
        ("accepted", "on_the_way"),
        ("on_the_way", "on_the_way"),
    ]
