"""Ranking candidates (apps.matching.selectors): each hard filter on a hand-built cast, the score
order, and the reasons each candidate carries. Everything runs at a fixed ``NOW`` (Wednesday
2 December 2026, 10:00 in Zhuozhou) for a request wanted that afternoon, 14:00–16:00.

The cast lives in 桃园街道 (township A: villages A1 and A2) and 码头镇 (township B, 12 km away),
with a third township C whose point is 3.4 km east of village A1, where the request is."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import translation

from apps.accounts.models import User
from apps.dispatch.models import Offer, OfferStatus
from apps.matching.history import history_refresh
from apps.matching.selectors import (
    eligible_requests_for,
    eligible_volunteers,
    rank_candidates,
    request_window,
    slot_at,
    volunteer_is_eligible,
)
from apps.organisation.models import Place
from apps.ratings.models import Rating
from apps.service_requests.models import ServiceRequest, Status
from apps.volunteers.matchable import matchable_refresh
from apps.volunteers.models import ALL_WEEK, MAX_CATEGORY_BIT, ApplicationStatus, VolunteerProfile, availability_bit
from tests.accounts.factories import make_user
from tests.organisation.factories import ServiceCategoryFactory
from tests.volunteers.factories import make_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
AFTERNOON = (NOW.replace(hour=14), NOW.replace(hour=16))
WEDNESDAY_AFTERNOON = availability_bit(2, 1)


@dataclass
class World:
    org: dict
    township_c: Place
    requester: User
    request: ServiceRequest
    phones: list[int]

    def volunteer(
        self,
        *,
        village: str | None = "village_a1",
        township: str = "township_a",
        categories: tuple[str, ...] = ("category",),
        **fields: object,
    ) -> VolunteerProfile:
        """A volunteer who passes every filter unless ``fields`` say otherwise."""
        self.phones[0] += 1
        place = self.township_c if township == "township_c" else self.org[township]
        profile = make_volunteer(
            township=place,
            village=self.org[village] if village else None,
            categories=[self.org[name] for name in categories],
            name="志愿者",
            phone=f"1370000{self.phones[0]:04d}",
        )
        if fields:
            VolunteerProfile.objects.filter(id=profile.id).update(**fields)
            # Written past the services: what the ranking reads follows as beat's refresh would.
            matchable_refresh(volunteer_ids=[profile.id])
            profile.refresh_from_db()
        return profile

    def other_request(self, *, start: datetime | None, end: datetime | None) -> ServiceRequest:
        return make_request(self, start=start, end=end)

    def offer(
        self,
        volunteer: VolunteerProfile,
        *,
        status: str,
        request: ServiceRequest | None = None,
        days_ago: float = 1,
        answer_minutes: float | None = 5,
        hours: str | None = None,
        rating: int | None = None,
    ) -> Offer:
        """An offer made ``days_ago`` before NOW (on a past request of its own unless given)."""
        created = NOW - timedelta(days=days_ago)
        if request is None:
            request = self.other_request(start=created + timedelta(hours=2), end=created + timedelta(hours=3))
        answered = status not in (OfferStatus.OFFERED, OfferStatus.EXPIRED) and answer_minutes is not None
        offer = Offer.objects.create(
            request=request,
            volunteer=volunteer,
            status=status,
            expires_at=created + timedelta(hours=1),
            responded_at=created + timedelta(minutes=answer_minutes) if answered and answer_minutes else None,
            hours=Decimal(hours) if hours else None,
        )
        Offer.objects.filter(id=offer.id).update(created_at=created)
        if rating is not None:
            Rating.objects.create(request=request, score=rating, rated_by=self.requester)
        # What the matching.history job does after a move or a rating, as of NOW.
        history_refresh(volunteer_ids=[volunteer.id], now=NOW)
        return offer


def make_request(world: World, *, start: datetime | None, end: datetime | None, **fields: object) -> ServiceRequest:
    org = world.org
    values: dict = {
        "requester": world.requester,
        "entered_by": world.requester,
        "category": org["category"],
        "title": "帮忙修理漏水的水龙头",
        "description": "厨房水龙头一直滴水。",
        "township": org["township_a"],
        "village": org["village_a1"],
        "station": org["station_a1"],
        "address": "太平庄村东街12号",
        "contact_name": "王秀兰",
        "contact_phone": "13912345678",
        "window_start": start,
        "window_end": end,
        "status": Status.QUEUED,
        **fields,
    }
    return ServiceRequest.objects.create(**values)


def _place(place: Place, lat: str | None, lng: str | None) -> None:
    place.latitude = Decimal(lat) if lat else None
    place.longitude = Decimal(lng) if lng else None
    place.save(update_fields=["latitude", "longitude"])


@pytest.fixture
def world(org) -> World:
    _place(org["township_a"], "39.470000", "115.955000")
    _place(org["village_a1"], "39.470000", "115.950000")
    _place(org["village_a2"], "39.480000", "115.960000")
    _place(org["township_b"], "39.400000", "116.050000")  # village B1 has no point: the township's counts
    township_c = Place.objects.create(
        code="130681103", name="松林店镇", kind=Place.Kind.TOWNSHIP, parent=org["city"], latitude=Decimal("39.470000")
    )
    _place(township_c, "39.470000", "115.990000")
    category = org["category"]
    category.skills = ["repair", "haircut"]
    category.min_age, category.night_min_age = 16, 18
    category.save(update_fields=["skills", "min_age", "night_min_age"])
    requester = make_user(name="王秀兰")
    world = World(org=org, township_c=township_c, requester=requester, request=None, phones=[0])  # type: ignore[arg-type]
    world.request = make_request(world, start=AFTERNOON[0], end=AFTERNOON[1])
    return world


def ranked_ids(world: World, **kwargs: object) -> list[int]:
    return [c.volunteer.id for c in rank_candidates(request=world.request, now=NOW, **kwargs)]  # type: ignore[arg-type]


def eligible_ids(world: World, **kwargs: object) -> set[int]:
    return set(eligible_volunteers(request=world.request, now=NOW, **kwargs).values_list("pk", flat=True))  # type: ignore[arg-type]


# --- Slots and windows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 12, 2, 6, 0), (2, 0, datetime(2026, 12, 2, 12, 0))),
        (datetime(2026, 12, 2, 11, 59), (2, 0, datetime(2026, 12, 2, 12, 0))),
        (datetime(2026, 12, 2, 12, 0), (2, 1, datetime(2026, 12, 2, 18, 0))),
        (datetime(2026, 12, 2, 18, 0), (2, 2, datetime(2026, 12, 3, 6, 0))),
        # The small hours of Thursday are Wednesday night.
        (datetime(2026, 12, 3, 2, 0), (2, 2, datetime(2026, 12, 3, 6, 0))),
        (datetime(2026, 12, 7, 5, 59), (6, 2, datetime(2026, 12, 7, 6, 0))),
    ],
)
def test_a_moment_falls_in_one_weekly_slot(moment, expected):
    day, slot, end = slot_at(moment.replace(tzinfo=SHANGHAI))
    assert (day, slot, end) == (expected[0], expected[1], expected[2].replace(tzinfo=SHANGHAI))


def test_a_window_touching_two_slots_needs_both_and_an_evening_one_is_at_night(world):
    request = world.request
    request.window_start, request.window_end = NOW.replace(hour=11), NOW.replace(hour=19)
    window = request_window(request, now=NOW)
    assert window.slots == availability_bit(2, 0) | availability_bit(2, 1) | availability_bit(2, 2)
    assert (window.exact, window.at_night) == (True, True)


def test_without_a_window_the_request_needs_the_next_two_hours(world):
    request = world.request
    request.window_start = request.window_end = None
    window = request_window(request, now=NOW)
    assert (window.start, window.end, window.slots, window.at_night) == (
        NOW,
        NOW + timedelta(hours=2),
        availability_bit(2, 0),  # 10:00–12:00: the window ends as the afternoon begins
        False,
    )


def test_a_window_of_a_whole_week_is_any_slot(world):
    request = world.request
    request.window_start, request.window_end = NOW, NOW + timedelta(days=8)
    window = request_window(request, now=NOW)
    assert (window.slots, window.exact) == (ALL_WEEK, False)


# --- Hard filters ------------------------------------------------------------------------------


@pytest.fixture
def filter_cast(world) -> dict[str, VolunteerProfile]:
    """One volunteer per hard filter who fails only that filter, and the volunteers who pass."""
    w = world
    requester_profile = make_volunteer(
        township=w.org["township_a"], village=w.org["village_a1"], categories=[w.org["category"]], user=w.requester
    )
    busy = w.volunteer()
    w.offer(busy, status=OfferStatus.ACCEPTED, request=w.other_request(start=NOW.replace(hour=15), end=None))
    busy_elsewhere = w.volunteer()
    w.offer(busy_elsewhere, status=OfferStatus.ACCEPTED, request=w.other_request(start=AFTERNOON[1], end=None))
    at_cap = w.volunteer()
    for day in (3, 4, 5):
        start = NOW + timedelta(days=day)
        w.offer(at_cap, status=OfferStatus.ACCEPTED, request=w.other_request(start=start, end=None))
    declined = w.volunteer()
    w.offer(declined, status=OfferStatus.DECLINED, request=w.request)
    withdrawn = w.volunteer()
    w.offer(withdrawn, status=OfferStatus.WITHDRAWN, request=w.request, answer_minutes=None)
    inactive_user = w.volunteer()
    User.objects.filter(id=inactive_user.user_id).update(is_active=False)
    return {
        # Pass every filter.
        "same_village": w.volunteer(),
        "same_township": w.volunteer(village="village_a2"),
        "within_radius": w.volunteer(village=None, township="township_c"),
        "skill_only": w.volunteer(categories=("other_category",), skills=["repair"]),
        "aged_16": w.volunteer(birth_date=date(2010, 12, 2)),
        "free_that_afternoon_only": w.volunteer(availability=WEDNESDAY_AFTERNOON),
        "busy_elsewhere_later": busy_elsewhere,
        "withdrawn_offer": withdrawn,
        # Each fails one filter.
        "pending": w.volunteer(status=ApplicationStatus.PENDING),
        "unverified": w.volunteer(is_verified=False),
        "paused": w.volunteer(is_active=False),
        "inactive_user": inactive_user,
        "requester": requester_profile,
        "other_category": w.volunteer(categories=("other_category",), skills=["driving"]),
        "aged_15": w.volunteer(birth_date=date(2010, 12, 3)),
        "not_free": w.volunteer(availability=ALL_WEEK & ~WEDNESDAY_AFTERNOON),
        "busy_overlapping": busy,
        "at_cap": at_cap,
        "too_far": w.volunteer(village="village_b1", township="township_b"),
        "declined_this_request": declined,
    }


PASSING = (
    "same_village",
    "same_township",
    "within_radius",
    "skill_only",
    "aged_16",
    "free_that_afternoon_only",
    "busy_elsewhere_later",
    "withdrawn_offer",
)


def test_exactly_the_volunteers_passing_every_filter_are_eligible(world, filter_cast):
    assert eligible_ids(world) == {filter_cast[name].id for name in PASSING}
    assert set(ranked_ids(world, limit=50)) == {filter_cast[name].id for name in PASSING}


@pytest.mark.parametrize(
    "name",
    [
        "pending",
        "unverified",
        "paused",
        "inactive_user",
        "requester",
        "other_category",
        "aged_15",
        "not_free",
        "busy_overlapping",
        "at_cap",
        "too_far",
        "declined_this_request",
    ],
)
def test_each_hard_filter_excludes_its_volunteer(world, filter_cast, name):
    assert not volunteer_is_eligible(request=world.request, volunteer=filter_cast[name], now=NOW)
    assert volunteer_is_eligible(request=world.request, volunteer=filter_cast["same_village"], now=NOW)


def test_widening_the_reach_takes_in_the_volunteer_twelve_km_away(world, filter_cast):
    far = filter_cast["too_far"]
    assert not volunteer_is_eligible(request=world.request, volunteer=far, now=NOW, extra_km=5)
    assert volunteer_is_eligible(request=world.request, volunteer=far, now=NOW, extra_km=10)


def test_a_minor_is_kept_from_a_night_visit_but_not_from_a_day_one(world):
    aged_17 = world.volunteer(birth_date=date(2009, 6, 1))
    adult = world.volunteer(birth_date=date(2008, 6, 1))
    unknown = world.volunteer()
    day_ids = eligible_ids(world)
    world.request.window_start, world.request.window_end = NOW.replace(hour=19), NOW.replace(hour=21)
    night_ids = eligible_ids(world)
    assert {aged_17.id, adult.id, unknown.id} <= day_ids
    assert adult.id in night_ids and unknown.id in night_ids and aged_17.id not in night_ids


def test_an_unknown_birth_date_counts_as_an_adult_and_no_older(world, settings):
    unknown = world.volunteer()
    aged_30 = world.volunteer(birth_date=date(1996, 1, 1))
    category = world.request.category
    category.min_age = 20
    category.save(update_fields=["min_age"])
    assert eligible_ids(world) == {aged_30.id}
    settings.MATCHING_UNKNOWN_BIRTH_DATE_AGE = 20
    assert eligible_ids(world) == {aged_30.id, unknown.id}


def test_an_accepted_task_without_a_window_keeps_its_volunteer_from_an_asap_request(world):
    busy_now = world.volunteer()
    world.offer(busy_now, status=OfferStatus.ON_THE_WAY, request=world.other_request(start=None, end=None))
    free = world.volunteer()
    world.request.window_start = world.request.window_end = None
    assert eligible_ids(world) == {free.id}
    # The same held task does not overlap a window that starts after its two hours.
    world.request.window_start, world.request.window_end = AFTERNOON
    assert eligible_ids(world) == {free.id, busy_now.id}


def test_a_completed_task_in_the_same_window_does_not_make_a_volunteer_busy(world):
    volunteer = world.volunteer()
    world.offer(
        volunteer, status=OfferStatus.COMPLETED, request=world.other_request(start=AFTERNOON[0], end=AFTERNOON[1])
    )
    assert eligible_ids(world) == {volunteer.id}


# --- Score order -------------------------------------------------------------------------------


def test_same_village_beats_same_township_beats_the_next_township(world):
    city = world.volunteer(village=None, township="township_c")
    township = world.volunteer(village="village_a2")
    village = world.volunteer()
    candidates = rank_candidates(request=world.request, now=NOW)
    assert [c.volunteer.id for c in candidates] == [village.id, township.id, city.id]
    # No history: reliability 0.8, rating 0.75, fairness 1, response 0.5; serving the category
    # without one of its skills: 0.5. Distance 1, 0.6 and 0.5 × 5 / (5 + 3.43 km).
    assert [c.score for c in candidates] == [81.0, 69.0, 59.89]
    assert candidates[2].distance_km == pytest.approx(3.43, abs=0.01)
    assert candidates[0].components == {
        "distance": 1.0,
        "skill": 0.5,
        "reliability": 0.8,
        "rating": 0.75,
        "fairness": 1.0,
        "response": 0.5,
    }


def test_ten_tasks_this_month_rank_below_none(world):
    rested = world.volunteer()
    worked = world.volunteer()
    for day in range(1, 11):
        world.offer(worked, status=OfferStatus.COMPLETED, days_ago=day, hours="1.0")
    candidates = rank_candidates(request=world.request, now=NOW)
    assert [c.volunteer.id for c in candidates] == [rested.id, worked.id]
    assert candidates[1].components["fairness"] == round(1 / (1 + 10 / 4 + 10 / 8), 3)
    assert candidates[0].score > candidates[1].score


def test_a_volunteer_with_the_category_and_its_skill_ranks_above_one_with_either(world):
    only_skill = world.volunteer(categories=("other_category",), skills=["haircut"])
    both = world.volunteer(skills=["haircut"])
    only_category = world.volunteer()
    candidates = rank_candidates(request=world.request, now=NOW)
    # The category alone and the skill alone score the same: the earlier registration goes first.
    assert [(c.volunteer.id, c.components["skill"]) for c in candidates] == [
        (both.id, 1.0),
        (only_skill.id, 0.5),
        (only_category.id, 0.5),
    ]


def test_releases_and_slow_answers_rank_a_volunteer_lower(world):
    steady = world.volunteer()
    for day in (2, 12, 50):
        world.offer(steady, status=OfferStatus.DECLINED, days_ago=day, answer_minutes=2)
    flaky = world.volunteer()
    for day in (3, 13, 51):
        world.offer(flaky, status=OfferStatus.RELEASED, days_ago=day, answer_minutes=120)
    candidates = {c.volunteer.id: c for c in rank_candidates(request=world.request, now=NOW)}
    assert candidates[steady.id].components["reliability"] == 0.5  # (0 + 4) / (3 + 5)
    assert candidates[flaky.id].components["reliability"] == 0.125  # (0 − 3 + 4) / (3 + 5)
    assert candidates[steady.id].components["response"] == round(30 / 32, 3)
    assert candidates[flaky.id].components["response"] == round(30 / 150, 3)
    assert ranked_ids(world) == [steady.id, flaky.id]


@pytest.mark.parametrize("category_id", [7, MAX_CATEGORY_BIT + 40])
def test_a_category_is_read_from_its_bit_or_beyond_the_bits_from_the_category_table(world, category_id):
    # Categories are rows: one with an id up to MAX_CATEGORY_BIT is a bit of the volunteer's
    # matchable row; one the admin adds far on gets no bit, and the ranking reads the
    # volunteers' category table for it instead. (On PostgreSQL the test categories' ids run
    # past the bits, so most tests there take the second way; SQLite's, the first.)
    far = ServiceCategoryFactory(id=category_id, code="far", name="远类", name_en="Far", skills=["haircut"], min_age=0)
    serving = world.volunteer(categories=("other_category",))
    serving.categories.add(far)
    matchable_refresh(volunteer_ids=[serving.id])
    skilled = world.volunteer(categories=("other_category",), skills=["haircut"])
    both = world.volunteer(categories=("other_category",), skills=["haircut"])
    both.categories.add(far)
    matchable_refresh(volunteer_ids=[both.id])
    world.volunteer(categories=("other_category",))  # neither
    world.request.category = far
    assert eligible_ids(world) == {serving.id, skilled.id, both.id}
    candidates = rank_candidates(request=world.request, now=NOW)
    assert [(c.volunteer.id, c.components["skill"]) for c in candidates] == [
        (both.id, 1.0),
        (serving.id, 0.5),
        (skilled.id, 0.5),
    ]


def test_a_page_leaves_out_whoever_stopped_since_their_matchable_row_was_written(world):
    kept, paused = world.volunteer(), world.volunteer()
    VolunteerProfile.objects.filter(id=paused.id).update(is_active=False)  # past the services
    assert eligible_ids(world) == {kept.id, paused.id}  # the row has not caught up yet
    assert ranked_ids(world) == [kept.id]


def test_equal_scores_keep_the_order_of_registration_and_pages_do_not_overlap(world):
    volunteers = [world.volunteer() for _ in range(5)]
    assert ranked_ids(world, limit=3) == [v.id for v in volunteers[:3]]
    assert ranked_ids(world, limit=3, offset=3) == [v.id for v in volunteers[3:]]


def test_search_restriction_and_place_filters_narrow_the_ranking(world):
    village = world.volunteer()
    township = world.volunteer(village="village_a2")
    assert ranked_ids(world, search=township.volunteer_number) == [township.id]
    assert ranked_ids(world, volunteer_ids=[township.id]) == [township.id]
    assert ranked_ids(world, restrict_to=VolunteerProfile.objects.filter(id=village.id)) == [village.id]
    assert ranked_ids(world, village_id=world.org["village_a2"].id) == [township.id]
    assert ranked_ids(world, township_id=world.org["township_b"].id) == []


# --- Reasons -----------------------------------------------------------------------------------


@pytest.fixture
def reasons_cast(world) -> dict[str, VolunteerProfile]:
    """A seasoned volunteer of the village, one of the township who released three tasks, and a
    newcomer of the next township with the skill only."""
    seasoned = world.volunteer(skills=["haircut", "repair"])
    world.offer(seasoned, status=OfferStatus.COMPLETED, days_ago=5, answer_minutes=5, hours="2.0", rating=5)
    world.offer(seasoned, status=OfferStatus.COMPLETED, days_ago=10, answer_minutes=10, hours="1.5", rating=4)
    world.offer(seasoned, status=OfferStatus.COMPLETED, days_ago=40, answer_minutes=3, hours="1.0", rating=2)
    world.offer(seasoned, status=OfferStatus.DECLINED, days_ago=20, answer_minutes=2)
    released = world.volunteer(village="village_a2")
    for day in (3, 33, 63):
        world.offer(released, status=OfferStatus.RELEASED, days_ago=day, answer_minutes=40)
    newcomer = world.volunteer(village=None, township="township_c", categories=("other_category",), skills=["repair"])
    return {"seasoned": seasoned, "released": released, "newcomer": newcomer}


def test_each_candidate_says_why_in_chinese(world, reasons_cast):
    with translation.override("zh-hans"):
        candidates = rank_candidates(request=world.request, now=NOW)
    seasoned, released, newcomer = (reasons_cast[name].id for name in ("seasoned", "released", "newcomer"))
    assert [(c.volunteer.id, c.reasons) for c in candidates] == [
        # The category's skills are listed repair first: its label is the one quoted.
        (seasoned, ["同村", "擅长家电水电维修", "近30天服务2次", "好评率67%", "接单率75%", "响应快"]),
        (newcomer, ["距离3.4公里", "擅长家电水电维修", "近30天未服务"]),
        # Three releases: reliability (0 − 3 + 4) / (3 + 5) = 0.125, below the newcomer's prior 0.8.
        (released, ["同乡镇", "近30天未服务", "接单率100%", "近90天无法前往3次"]),
    ]


def test_each_candidate_says_why_in_english(world, reasons_cast):
    with translation.override("en"):
        candidates = rank_candidates(request=world.request, now=NOW)
    assert [c.reasons for c in candidates] == [
        [
            "Same village",
            "Skilled in Appliance and home repairs",
            "Served 2 times in the last 30 days",
            "Positive rating rate 67%",
            "Acceptance rate 75%",
            "Quick to respond",
        ],
        ["3.4 km away", "Skilled in Appliance and home repairs", "No service in the last 30 days"],
        [
            "Same township",
            "No service in the last 30 days",
            "Acceptance rate 100%",
            "Couldn't go 3 times in the last 90 days",
        ],
    ]


# --- Broadcast helper --------------------------------------------------------------------------


def test_the_requests_a_volunteer_may_take_are_those_they_are_eligible_for(world):
    volunteer = world.volunteer(availability=WEDNESDAY_AFTERNOON)
    evening = make_request(world, start=NOW.replace(hour=19), end=NOW.replace(hour=20))
    other_field = make_request(world, start=AFTERNOON[0], end=AFTERNOON[1], category=world.org["other_category"])
    requests = ServiceRequest.objects.filter(id__in=[world.request.id, evening.id, other_field.id]).order_by("id")
    assert [r.id for r in eligible_requests_for(volunteer, requests, now=NOW)] == [world.request.id]


def test_the_sorted_score_is_the_weighted_sum_of_the_components_shown(world, reasons_cast, settings):
    # The database sorts by one expression; the page shows the components worked out per
    # volunteer from their row and history: both must say the same.
    weights = settings.MATCHING_WEIGHTS
    candidates = rank_candidates(request=world.request, now=NOW)
    assert len(candidates) == 3
    for c in candidates:
        assert c.score == pytest.approx(sum(weights[name] * c.components[name] for name in c.components), abs=0.02)
    seasoned = next(c for c in candidates if c.volunteer.id == reasons_cast["seasoned"].id)
    # Two completed tasks this month (2 h and 1.5 h), three ratings (5, 4, 2), four answers.
    assert seasoned.components == {
        "distance": 1.0,
        "skill": 1.0,
        "reliability": round((3 + 4) / (4 + 5), 3),
        "rating": round(((11 + 20) / (3 + 5) - 1) / 4, 3),
        "fairness": round(1 / (1 + 2 / 4 + 3.5 / 8), 3),
        "response": round(30 / (30 + 5), 3),
    }


def test_the_ranking_is_two_queries_with_reasons_and_one_without_candidates(world, django_assert_num_queries):
    for _ in range(3):
        world.volunteer()
    request = ServiceRequest.objects.select_related("category", "village", "township").get(id=world.request.id)
    # The ranked page (numbers only), then its profiles with their users, places and history.
    with django_assert_num_queries(2):
        assert len(rank_candidates(request=request, now=NOW)) == 3
    with django_assert_num_queries(1):
        assert rank_candidates(request=request, now=NOW, township_id=world.org["township_b"].id) == []


def test_runs_on_the_database_in_use(world):
    # CI runs this module on PostgreSQL and again on the embedded SQLite default.
    assert connection.vendor in {"postgresql", "sqlite"}
    village = world.volunteer(skills=["repair"])
    assert ranked_ids(world) == [village.id]
