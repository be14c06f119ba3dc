"""The volunteer's offer card says what, when, where (and how far from home), how many, and how
long the offer stays open; completed tasks show hours to the half hour. The formatting filters
of ``apps/core/templatetags/civic.py`` are pinned here with exact texts."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import timezone

from apps.core.templatetags.civic import distance, places, reply_countdown, service_hours, service_window
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete
from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest
from apps.volunteers.models import VolunteerProfile
from apps.workflow.selectors import distance_from_home_km
from tests.workflow.offer_card_world import SHANGHAI, card_request, offered_card, place_points

# --------------------------------------------------------------------------- the filters


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (Decimal("0.0"), "0.5 小时"),  # a few minutes of service: never "0.0"
        (Decimal("0.5"), "0.5 小时"),
        (Decimal("1.0"), "1 小时"),
        (Decimal("1.5"), "1.5 小时"),
        (Decimal("2.0"), "2 小时"),
        (Decimal("1.2"), "1 小时"),  # typed elsewhere to the tenth: to the nearest half hour
        (Decimal("1.3"), "1.5 小时"),
        (Decimal("1.75"), "2 小时"),  # half up
        (Decimal("12.5"), "12.5 小时"),
        (3, "3 小时"),
        (2.5, "2.5 小时"),
        (None, ""),
        ("", ""),
        ("abc", ""),
        (Decimal("NaN"), ""),
    ],
)
def test_service_hours_are_shown_to_the_half_hour_and_never_as_nothing(stored, shown):
    assert service_hours(stored) == shown


def _window(start: datetime | None, end: datetime | None) -> SimpleNamespace:
    return SimpleNamespace(window_start=start, window_end=end)


THU_9 = datetime(2030, 12, 5, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (THU_9, THU_9 + timedelta(hours=2), "12月5日 周四 09:00–11:00"),
        (THU_9, THU_9 + timedelta(days=1, hours=2), "12月5日 周四 09:00 – 12月6日 周五 11:00"),
        (THU_9, None, "12月5日 周四 09:00 起"),
        (None, THU_9 + timedelta(hours=2), "12月5日 周四 11:00 前"),
        (None, None, "尽快"),
        # Stored in UTC, shown in Zhuozhou's time: 2030-12-05 01:00Z is 09:00 there.
        (datetime(2030, 12, 5, 1, 0, tzinfo=UTC), None, "12月5日 周四 09:00 起"),
        (datetime(2030, 12, 8, 23, 30, tzinfo=SHANGHAI), None, "12月8日 周日 23:30 起"),
    ],
)
def test_service_window_is_written_for_a_phone(start, end, shown):
    assert service_window(_window(start, end)) == shown


@pytest.mark.parametrize(
    ("km", "shown"), [(3.2024, "约 3.2 公里"), (12.96, "约 13.0 公里"), (0.01, "约 0.1 公里"), (None, "")]
)
def test_distance_is_a_rough_figure(km, shown):
    assert distance(km) == shown


@pytest.mark.parametrize(
    ("needed", "taken", "shown"),
    [
        (3, 1, "需要3人 · 已有1人接单 · 还差2人"),
        (1, 0, "需要1人 · 已有0人接单 · 还差1人"),
        (2, 2, "需要2人 · 已满员"),
    ],
)
def test_places_say_how_many_are_needed_taken_and_left(needed, taken, shown):
    assert places(SimpleNamespace(volunteers_needed=needed, volunteers_accepted=taken)) == shown


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (timedelta(minutes=25), "还剩 25 分钟答复"),
        (timedelta(minutes=24, seconds=1), "还剩 25 分钟答复"),  # rounded up: never "0 分钟" while open
        (timedelta(seconds=20), "还剩 1 分钟答复"),
        (timedelta(minutes=59, seconds=30), "还剩 1 小时答复"),
        (timedelta(minutes=120), "还剩 2 小时答复"),
        (timedelta(minutes=90), "还剩 1 小时 30 分钟答复"),
        (timedelta(seconds=-5), "答复时间已过"),
    ],
)
def test_countdown_text_is_right_without_script(left, shown):
    expires_at = timezone.now() + left
    html = reply_countdown(expires_at)
    match = re.fullmatch(r'<time class="countdown" datetime="([^"]+)" data-seconds="(\d+)" .*>(.*)</time>', html)
    assert match is not None, html
    assert match.group(3) == shown
    assert datetime.fromisoformat(match.group(1)) == expires_at.replace(microsecond=0)
    # The seconds left when the page was made (the script counts down from them): a moment
    # has passed since ``expires_at`` was set.
    assert int(match.group(2)) in {max(0, int(left.total_seconds()) - 1), max(0, int(left.total_seconds()))}
    # What the script fills in: the same sentences, in the reader's language.
    assert 'data-text-minutes="还剩 {m} 分钟答复"' in html
    assert 'data-text-hours="还剩 {h} 小时 {m} 分钟答复"' in html
    assert 'data-text-whole-hours="还剩 {h} 小时答复"' in html
    assert 'data-text-over="答复时间已过"' in html


def test_the_filters_load_in_a_template():
    request = SimpleNamespace(window_start=None, window_end=None, volunteers_needed=2, volunteers_accepted=0)
    html = Template("{% load civic %}{{ r|service_window }}|{{ r|places }}|{{ h|service_hours }}").render(
        Context({"r": request, "h": Decimal("0.0")})
    )
    assert html == "尽快|需要2人 · 已有0人接单 · 还差2人|0.5 小时"


# --------------------------------------------------------------------------- the distance


def test_distance_from_home_uses_the_home_village_and_the_request_village(db, cast, org):
    place_points(org)
    offer = offered_card(cast, org)
    offer = Offer.objects.select_related(
        "request__village", "request__township", "volunteer__home_village", "volunteer__home_township"
    ).get(id=offer.id)
    assert round(distance_from_home_km(volunteer=offer.volunteer, request=offer.request) or 0, 4) == 3.2024


def test_distance_is_unknown_without_points_and_within_one_townships_rough_point(db, cast, org):
    offer = offered_card(cast, org)
    volunteer, request = offer.volunteer, ServiceRequest.objects.get(id=offer.request_id)
    assert distance_from_home_km(volunteer=volunteer, request=request) is None
    # Only the township has a point: both ends fall back to it, which says nothing.
    Place.objects.filter(id=org["township_a"].id).update(latitude=Decimal("39.47"), longitude=Decimal("115.955"))
    volunteer.home_township.refresh_from_db()
    request.township.refresh_from_db()
    assert distance_from_home_km(volunteer=volunteer, request=request) is None
    # The request's own map point is exact: measured from the home township's point.
    request.latitude, request.longitude = Decimal("39.490000"), Decimal("115.975000")
    assert round(distance_from_home_km(volunteer=volunteer, request=request) or 0, 4) == 2.8093


# --------------------------------------------------------------------------- the page


def _card(html: str, offer_id: int) -> str:
    start = html.index(f'id="offer-{offer_id}"')
    return html[start : html.index("</li>", start)]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def test_offer_card_shows_what_when_where_how_many_and_time_left_in_that_order(client, cast, org):
    place_points(org)
    offer = offered_card(cast, org)
    client.force_login(cast.volunteer.user)
    html = client.get("/v/offers/").content.decode()
    card = _card(html, offer.id)

    lines = [_text(p) for p in re.findall(r"<p[^>]*>(.*?)</p>", card, flags=re.S)]
    assert lines == [
        "便民服务",
        "院里堆了三百斤白菜，老人搬不动，需要几位志愿者帮忙搬进地窖。",
        "时间：12月5日 周四 09:00–11:00",
        "地点：桃园街道 · 东庄头村 · 约 3.2 公里",
        "人数：需要3人 · 已有1人接单 · 还差2人",
        "时限：还剩 25 分钟答复",
    ]
    assert "帮忙搬运过冬的白菜" in card.split("<p", 1)[0]  # the title comes first
    deadline = timezone.localtime(Offer.objects.get(id=offer.id).expires_at).isoformat(timespec="seconds")
    assert f'<time class="countdown" datetime="{deadline}"' in card
    assert html.count('src="/static/js/countdown.js"') == 1
    # The address and the phone stay hidden until the volunteer accepts.
    assert "东庄头村北街8号" not in html and "13912345678" not in html


def test_offer_card_without_a_window_or_points_says_as_soon_as_possible_and_no_distance(client, cast, org):
    offer = offered_card(cast, org, windowed=False, minutes=120)
    client.force_login(cast.volunteer.user)
    card = _text(_card(client.get("/v/offers/").content.decode(), offer.id))
    assert "时间：尽快 " in card
    assert "地点：桃园街道 · 东庄头村 人数：" in card  # no distance when it is not known
    assert "时限：还剩 2 小时答复" in card
    assert "公里" not in card


@pytest.mark.parametrize("rows", [1, 5])
def test_offer_cards_cost_no_query_per_card(client, cast, org, django_assert_num_queries, rows):
    place_points(org)
    offers = [offered_card(cast, org, title=f"搬白菜{i}") for i in range(rows)]
    client.force_login(cast.volunteer.user)
    assert client.get("/v/offers/").status_code == 200
    with django_assert_num_queries(5):
        # 1. the session 2. the user 3. the volunteer profile (menu) 4. COUNT(*) for the pager
        # 5. the page of offers joined to request, category, township, village, volunteer, user
        #    and the volunteer's home village and township: the distance reads no more
        html = client.get("/v/offers/").content.decode()
    assert [_text(_card(html, o.id)).count("约 3.2 公里") for o in offers] == [1] * rows


# --------------------------------------------------------------------------- hours of completed tasks


@pytest.mark.parametrize(
    ("minutes_served", "shown"), [(5, "0.5 小时"), (50, "1 小时"), (100, "1.5 小时"), (125, "2 小时")]
)
def test_completed_tasks_show_hours_to_the_half_hour(client, cast, org, minutes_served, shown):
    (offer,) = dispatch_directed(
        request=card_request(cast, org, needed=1), actor=cast.staff_a, volunteers=[cast.volunteer]
    )
    offer_accept(offer=offer, volunteer=cast.volunteer)
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    Offer.objects.filter(id=offer.id).update(checked_in_at=timezone.now() - timedelta(minutes=minutes_served))
    offer_complete(offer=Offer.objects.get(id=offer.id), volunteer=cast.volunteer)
    client.force_login(cast.volunteer.user)
    html = client.get("/v/tasks/").content.decode()
    done = html[html.index("已完成") :]
    day = timezone.localdate().isoformat()
    assert f'<li class="card">帮忙搬运过冬的白菜 · {shown} · {day}</li>' in done
    assert "0.0" not in done


def test_an_offer_in_the_volunteers_own_village_says_so_rather_than_a_distance(client, cast, org):
    place_points(org)
    offer = offered_card(cast, org)
    VolunteerProfile.objects.filter(id=cast.volunteer.id).update(home_village=offer.request.village)
    client.force_login(cast.volunteer.user)
    card = _text(_card(client.get("/v/offers/").content.decode(), offer.id))
    assert "地点：桃园街道 · 东庄头村 · 就在您家所在的村 人数：" in card
    assert "公里" not in card
