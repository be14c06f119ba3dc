"""The city the matching benchmarks rank in: Zhuozhou's 14 townships and 450 villages (the real
division list, ``load_places``), its practice network and service categories, ``n`` volunteers
and their history — about two offers each over the last six months, with the requests they
answered and the ratings residents gave.

``build_world(n_volunteers)`` is the hook both benchmarks share: ``bench/matching.py`` ranks in
it, ``bench/matching_queue.py`` queues requests into it (``new_request`` builds one, unsaved).
It needs Django set up on a migrated, empty PostgreSQL database (``benchkit.bench_database``)
and writes everything with ``bulk_create`` in batches: 50,000 volunteers and 100,000 offers
take well under a minute on 2 cores.

What it makes, so that every filter and score component has work to do:

* villages: two thirds get a point within 3 km of their township's (the rest have none, as in
  the real data, and fall back to the township's);
* volunteers: 92 % approved and verified (the rest pending, unverified, left), 5 % paused, birth
  years 1950–2011 (a few unknown), service radius 2–20 km, one to three categories, skills on
  half of them (from the categories' lists), each of the 21 weekly slots free with probability
  0.6;
* offers: per approved volunteer 0–10 (mean about two) over 180 days — completed 45 %,
  declined 22 %, expired 14 %, released 3 %, withdrawn 3 %, and the live ones: accepted 6 % on
  requests of the coming days (the overlap and cap filters), offered 7 % in the last hour; answers
  after minutes (exponential, mean 20), service hours 0.5–4;
* ratings on 70 % of the requests with a completed offer (mostly 5 and 4 stars)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

BATCH = 5_000
HISTORY_DAYS = 180
OFFER_COUNTS = ((0, 25), (1, 20), (2, 20), (3, 15), (4, 10), (6, 7), (10, 3))
OFFER_STATUSES = (
    ("completed", 45),
    ("declined", 22),
    ("expired", 14),
    ("released", 3),
    ("withdrawn", 3),
    ("accepted", 6),
    ("offered", 7),
)
RATING_SCORES = ((5, 60), (4, 25), (3, 10), (2, 3), (1, 2))


@dataclass
class World:
    now: datetime
    requester: Any  # User: the resident every request is filed for
    dispatcher: Any  # User: staff of the centre
    categories: list[Any]  # ServiceCategory
    villages: list[Any]  # Place (kind village), with ``parent`` (township) loaded
    stations: dict[int, Any]  # village id → its OrgNode station
    volunteers: int
    offers: int
    ratings: int
    seconds: float
    history_seconds: float = 0.0  # the full recount of everyone's history (beat's job)
    matchable_seconds: float = 0.0  # every volunteer's MatchableVolunteer row written (beat's job)


def _weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


@contextmanager
def _keeping_created_at(*models: Any) -> Iterator[None]:
    """``created_at`` (and the like) is ``auto_now_add``: switched off while the history is
    written with its own dates."""
    fields = [f for model in models for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def new_request(world: World, *, rng: random.Random, created: datetime, window_start: datetime | None, **fields: Any):
    """An unsaved request of ``world.requester`` in a random village and category (both may be
    given in ``fields``), wanted from ``window_start`` for two hours (``None``: as soon as possible)."""
    from apps.service_requests.models import ServiceRequest, Status

    village = fields.pop("village", None) or rng.choice(world.villages)
    values: dict[str, Any] = {
        "requester": world.requester,
        "entered_by": world.requester,
        "category": rng.choice(world.categories),
        "title": "帮忙修理漏水的水龙头",
        "description": "厨房水龙头一直滴水，老两口拧不动。",
        "township_id": village.parent_id,
        "village": village,
        "station": world.stations[village.id],
        "address": "东街12号",
        "contact_name": "王秀兰",
        "contact_phone": "13912345678",
        "window_start": window_start,
        "window_end": window_start + timedelta(hours=2) if window_start else None,
        "status": Status.QUEUED,
        "created_at": created,
        "status_changed_at": created,
        **fields,
    }
    return ServiceRequest(**values)


def _give_villages_points(rng: random.Random) -> None:
    from apps.organisation.models import Place

    villages = list(Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent"))
    for village in villages:
        township = village.parent
        if township.latitude is None or rng.random() < 1 / 3:
            continue
        km, bearing = 3 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lat = float(township.latitude) + km * math.cos(bearing) / 111.2
        lng = float(township.longitude) + km * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
        village.latitude, village.longitude = Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")
    Place.objects.bulk_update(villages, ["latitude", "longitude"], batch_size=BATCH)


def _volunteers(n: int, *, rng: random.Random, now: datetime, villages: list[Any], categories: list[Any]) -> list[int]:
    """``n`` users with their volunteer profiles and categories; returns the approved ids."""
    from apps.accounts.models import User
    from apps.volunteers.models import ApplicationStatus, VolunteerProfile

    users = [
        User(phone_digest=f"bench-volunteer-{i:06d}", phone=f"137{i:08d}", name="志愿者", password="!")  # noqa: S106
        for i in range(n)
    ]
    for start in range(0, n, BATCH):
        User.objects.bulk_create(users[start : start + BATCH])
    user_ids = list(
        User.objects.filter(phone_digest__startswith="bench-volunteer-").order_by("id").values_list("id", flat=True)
    )

    profiles = []
    chosen: list[list[Any]] = []
    for i, user_id in enumerate(user_ids):
        village = rng.choice(villages)
        roll = rng.random()
        status = (
            ApplicationStatus.APPROVED
            if roll < 0.95
            else rng.choice([ApplicationStatus.PENDING, ApplicationStatus.LEFT])
        )
        verified = status == ApplicationStatus.APPROVED and rng.random() < 0.97
        cats = rng.sample(categories, k=_weighted(rng, ((1, 50), (2, 35), (3, 15))))
        chosen.append(cats)
        pool = sorted({code for c in cats for code in c.skills})
        skills = rng.sample(pool, k=min(len(pool), rng.choice([1, 2]))) if pool and rng.random() < 0.5 else []
        birth = None if rng.random() < 0.02 else date(rng.randint(1950, 2011), rng.randint(1, 12), rng.randint(1, 28))
        profiles.append(
            VolunteerProfile(
                user_id=user_id,
                volunteer_number=f"ZZV{i + 1:07d}" if verified else None,
                status=status,
                is_verified=verified,
                is_active=rng.random() >= 0.05,
                birth_date=birth,
                home_township_id=village.parent_id,
                home_village_id=village.id,
                service_radius_km=_weighted(rng, ((2, 15), (3, 15), (5, 40), (10, 20), (20, 10))),
                skills=skills,
                availability=sum(1 << bit for bit in range(21) if rng.random() < 0.6),
                submitted_at=now - timedelta(days=rng.randint(200, 900)),
            )
        )
    for start in range(0, n, BATCH):
        VolunteerProfile.objects.bulk_create(profiles[start : start + BATCH])
    ids = list(VolunteerProfile.objects.filter(user_id__in=user_ids).order_by("user_id").values_list("id", flat=True))
    through = VolunteerProfile.categories.through
    links = [
        through(volunteerprofile_id=profile_id, servicecategory_id=c.id)
        for profile_id, cats in zip(ids, chosen, strict=True)
        for c in cats
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    return list(
        VolunteerProfile.objects.filter(status=ApplicationStatus.APPROVED, is_verified=True).values_list(
            "id", flat=True
        )
    )


def _history(world: World, approved: list[int], *, rng: random.Random) -> tuple[int, int]:
    """Past and live offers of the approved volunteers, on requests of their own, and ratings."""
    from apps.dispatch.models import Offer
    from apps.ratings.models import Rating
    from apps.service_requests.models import ServiceRequest, Status

    now = world.now
    plans: list[tuple[int, str, datetime]] = []  # (volunteer, status, offered at)
    for volunteer_id in approved:
        for _ in range(_weighted(rng, OFFER_COUNTS)):
            status = _weighted(rng, OFFER_STATUSES)
            if status == "accepted":
                offered = now - timedelta(hours=rng.uniform(1, 48))
            elif status == "offered":
                offered = now - timedelta(minutes=rng.uniform(1, 55))
            else:
                offered = now - timedelta(days=rng.uniform(0.2, HISTORY_DAYS))
            plans.append((volunteer_id, status, offered))

    # One request per offer: a request with several offers changes nothing the ranking reads.
    requests = []
    for _, status, offered in plans:
        if status == "accepted":
            start = now + timedelta(hours=rng.uniform(2, 96))
        else:
            start = offered + timedelta(hours=rng.uniform(2, 30))
        request_status = {"completed": Status.COMPLETED, "accepted": Status.ACCEPTED, "offered": Status.OFFERED}.get(
            status, Status.CLOSED
        )
        requests.append(
            new_request(
                world, rng=rng, created=offered - timedelta(minutes=30), window_start=start, status=request_status
            )
        )
    with _keeping_created_at(ServiceRequest, Offer):
        for start_at in range(0, len(requests), BATCH):
            ServiceRequest.objects.bulk_create(requests[start_at : start_at + BATCH])
        offers = []
        for (volunteer_id, status, offered), request in zip(plans, requests, strict=True):
            answered = None
            if status not in ("offered", "expired"):
                answered = offered + timedelta(minutes=min(rng.expovariate(1 / 20), 24 * 60))
            hours = checked_in = checked_out = None
            if status == "completed":
                hours = Decimal(rng.choice(["0.5", "1.0", "1.5", "2.0", "3.0", "4.0"]))
                checked_in = request.window_start
                checked_out = checked_in + timedelta(hours=float(hours))
            offers.append(
                Offer(
                    request_id=request.id,
                    volunteer_id=volunteer_id,
                    status=status,
                    via="auto",
                    created_at=offered,
                    expires_at=offered + timedelta(hours=1),
                    responded_at=answered,
                    checked_in_at=checked_in,
                    checked_out_at=checked_out,
                    hours=hours,
                )
            )
        for start_at in range(0, len(offers), BATCH):
            Offer.objects.bulk_create(offers[start_at : start_at + BATCH])
        ratings = [
            Rating(
                request_id=offer.request_id,
                score=_weighted(rng, RATING_SCORES),
                rated_by=world.requester,
                created_at=offer.checked_out_at + timedelta(hours=rng.uniform(1, 72)),
            )
            for offer in offers
            if offer.status == "completed" and rng.random() < 0.7
        ]
    with _keeping_created_at(Rating):
        Rating.objects.bulk_create(ratings, batch_size=BATCH)
    return len(offers), len(ratings)


def build_world(n_volunteers: int = 50_000, *, seed: int = 1) -> World:
    """The benchmark city with ``n_volunteers`` volunteers and their history (see the module's
    docstring), in the current (empty, migrated) database; statistics gathered at the end."""
    import time

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.matching.history import history_refresh
    from apps.organisation.models import OrgNode, Place, ServiceCategory
    from apps.volunteers.matchable import matchable_refresh

    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    call_command("load_places", verbosity=0)
    _give_villages_points(rng)
    centre = OrgNode.objects.get(kind=OrgNode.Kind.CENTRE)
    dispatcher = User.objects.create_user(phone="13900000001", password=None, name="赵调度", staff_node=centre)
    requester = User.objects.create_user(phone="13900000002", password=None, name="王秀兰")
    villages = list(Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent").order_by("id"))
    stations = {
        node.place_id: node for node in OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION, place__isnull=False)
    }
    categories = list(ServiceCategory.objects.filter(is_active=True).order_by("id"))
    world = World(
        now=now,
        requester=requester,
        dispatcher=dispatcher,
        categories=categories,
        villages=villages,
        stations=stations,
        volunteers=n_volunteers,
        offers=0,
        ratings=0,
        seconds=0.0,
    )
    approved = _volunteers(n_volunteers, rng=rng, now=now, villages=villages, categories=categories)
    world.offers, world.ratings = _history(world, approved, rng=rng)
    # Volunteers and offers were bulk-inserted: write what the ranking reads of them as beat's
    # refresh jobs do (the services write it as they go).
    counted = time.perf_counter()
    matchable_refresh()
    world.matchable_seconds = time.perf_counter() - counted
    counted = time.perf_counter()
    history_refresh(now=now)
    world.history_seconds = time.perf_counter() - counted
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    world.seconds = time.perf_counter() - started
    return world
