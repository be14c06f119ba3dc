"""抢单 cards say the same as the offer cards: what, when, where with the distance from the
volunteer's home, and how many are needed, have taken it and are still missing."""

import re

from django.test import Client

from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest
from tests.matching.test_broadcast import open_broadcast
from tests.workflow.offer_card_world import SERVICE_POINT, WINDOW_END, WINDOW_START, place_points


def _card(html: str, request_id: int) -> list[str]:
    start = html.index(f'id="open-task-{request_id}"')
    card = html[start : html.index("<details>", start)]
    paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", card, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", p)).strip() for p in paragraphs]


def test_open_task_card_shows_when_where_how_far_and_how_many(db, cast, org):
    request = open_broadcast(cast, org, needed=3, village=org["village_a2"])
    ServiceRequest.objects.filter(id=request.id).update(
        window_start=WINDOW_START, window_end=WINDOW_END, volunteers_accepted=1
    )
    place_points(org)
    client = Client()
    client.force_login(cast.volunteer.user)
    html = client.get("/v/open-tasks/").content.decode()
    assert _card(html, request.id) == [
        "便民服务",
        "厨房水龙头一直滴水，老两口拧不动。",
        "时间：12月5日 周四 09:00–11:00",
        "地点：桃园街道 · 东庄头村 · 约 3.2 公里",
        "人数：需要3人 · 已有1人接单 · 还差2人",
    ]


def test_open_task_card_without_points_or_window(db, cast, org):
    request = open_broadcast(cast, org, needed=1)
    client = Client()
    client.force_login(cast.volunteer.user)
    html = client.get("/v/open-tasks/").content.decode()
    assert _card(html, request.id)[2:] == [
        "时间：尽快",
        "地点：桃园街道 · 太平庄村 · 就在您家所在的村",  # the volunteer's home village: no distance needed
        "人数：需要1人 · 已有0人接单 · 还差1人",
    ]


def test_open_task_distance_reads_the_map_point_and_falls_back_to_the_home_township(db, cast, org):
    request = open_broadcast(cast, org, needed=1, village=org["village_a2"])
    # The resident's map point is exact; neither village has a point, so the volunteer's
    # township's is the home point: 1.98 km.
    ServiceRequest.objects.filter(id=request.id).update(latitude=SERVICE_POINT[0], longitude=SERVICE_POINT[1])
    Place.objects.filter(id=org["township_a"].id).update(latitude="39.490000", longitude="115.975000")
    client = Client()
    client.force_login(cast.volunteer.user)
    html = client.get("/v/open-tasks/").content.decode()
    assert _card(html, request.id)[3] == "地点：桃园街道 · 东庄头村 · 约 2.0 公里"
