"""Candidates for a request, ranked with their reasons: one selector for pages, API and the queue.

Every hard filter and the score are SQL expressions (annotations, ``Exists``, ``Case``/``When``,
Django's math functions) over the volunteer's narrow ``MatchableVolunteer`` row and their
``VolunteerHistory`` row (see ``history``), so PostgreSQL ranks 50,000 volunteers in one query
and returns only the ids and scores of the page asked for; one more query loads those
profiles, and Python builds their components and reasons from the same rows. The same code
runs on the embedded SQLite default (Django supplies the math functions there), only slower.
README "How candidates are ranked" explains each filter, component, weight and setting.

What depends on the request (its window's slots, the age cut-off dates, its point) is worked out
once in Python before the query; nothing is computed per volunteer outside the database but the
page's own components."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ASin, Coalesce, Cos, Power, Radians, Sin, Sqrt
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.models import User
from apps.dispatch.models import HOLDS_PLACE, Offer, OfferStatus
from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest
from apps.volunteers.models import (
    ALL_WEEK,
    MAX_CATEGORY_BIT,
    MatchableVolunteer,
    Skill,
    VolunteerProfile,
    availability_bit,
    skill_bits,
)

from . import history
from .models import VolunteerHistory

# --- The request's window in weekly slots ------------------------------------------------------

# Where each availability slot begins, local time: 上午 06:00–12:00, 下午 12:00–18:00, 晚上 18:00
# to 06:00 the next morning. The small hours belong to the evening before (a 02:00 Tuesday call
# is Monday night), so a night visit always needs the evening slot, and with it the night age.
SLOT_STARTS = (6, 12, 18)
EVENING = 2
_DAY_SHIFT = timedelta(hours=SLOT_STARTS[0])
_SLOT_ENDS = (*(timedelta(hours=start - SLOT_STARTS[0]) for start in SLOT_STARTS[1:]), timedelta(hours=24))

EARTH_RADIUS_KM = 6371.0088
COMPONENTS = ("distance", "skill", "reliability", "rating", "fairness", "response")


@dataclass
class Candidate:
    volunteer: VolunteerProfile
    score: float
    # Translated, short: "同村", "擅长助老陪护", "近30天服务2次", "好评率98%"; joined by " · " on pages.
    reasons: list[str] = field(default_factory=list)
    distance_km: float | None = None
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """The time a request needs a volunteer, and what that asks of one."""

    start: datetime
    end: datetime
    slots: int  # availability bits the window touches
    exact: bool  # short window: every slot needed; long window: any one slot is enough
    at_night: bool  # touches the evening slot: the category's night age applies


def slot_at(moment: datetime) -> tuple[int, int, datetime]:
    """(day 0 = Monday, slot, when the slot ends) of ``moment``, in local time."""
    shifted = timezone.localtime(moment) - _DAY_SHIFT
    midnight = shifted.replace(hour=0, minute=0, second=0, microsecond=0)
    into_day = shifted - midnight
    for slot, end in enumerate(_SLOT_ENDS):
        if into_day < end:
            return shifted.weekday(), slot, midnight + end + _DAY_SHIFT
    raise AssertionError("a day has 24 hours")  # pragma: no cover


def request_window(request: ServiceRequest, *, now: datetime) -> Window:
    """The request's window; without a start it begins now ("尽快"), without an end it lasts
    MATCHING_ASAP_HOURS from its start. A window already under way counts from now."""
    asap = timedelta(hours=settings.MATCHING_ASAP_HOURS)
    start = request.window_start or now
    end = request.window_end if request.window_end and request.window_end > start else start + asap
    if start < now < end:
        start = now
    if end - start >= timedelta(days=7):
        slots, at_night = ALL_WEEK, True
    else:
        slots, at_night, moment = 0, False, start
        while moment < end:
            day, slot, moment = slot_at(moment)
            slots |= availability_bit(day, slot)
            at_night = at_night or slot == EVENING
    exact = end - start <= timedelta(hours=settings.MATCHING_EXACT_WINDOW_HOURS)
    return Window(start=start, end=end, slots=slots, exact=exact, at_night=at_night)


def born_by(day: date, years: int) -> date:
    """The latest birth date of someone at least ``years`` old on ``day`` (29 February → 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# --- Points and distance -----------------------------------------------------------------------


def _place_point(place: Place | None) -> tuple[float, float] | None:
    if place is None or place.latitude is None or place.longitude is None:
        return None
    return float(place.latitude), float(place.longitude)


# Two rough points closer than this are the same township's point, not a distance.
SAME_POINT_KM = 0.05


def home_distance_km(
    *, home_village: Place | None, home_township: Place | None, request: ServiceRequest
) -> float | None:
    """How far the service is from a volunteer's home, as the volunteer's cards show it: the
    home village's point, else the home township's; the request's map point, else its village's,
    else its township's. None when a point is unknown, or when both are the same township's
    rough point (the distance within a township is not known). Reads only the rows passed in."""
    home = _place_point(home_village)
    home_exact = home is not None
    home = home or _place_point(home_township)
    if request.latitude is not None and request.longitude is not None:
        service: tuple[float, float] | None = (float(request.latitude), float(request.longitude))
        service_exact = True
    else:
        service = _place_point(request.village)
        service_exact = service is not None
        service = service or _place_point(request.township)
    if home is None or service is None:
        return None
    km = haversine_km(home, service)
    if km < SAME_POINT_KM and not (home_exact and service_exact):
        return None
    return km


def request_point(request: ServiceRequest) -> tuple[float, float] | None:
    """Where the service is: the request's own coordinates, else its village's, else its township's."""
    if request.latitude is not None and request.longitude is not None:
        return float(request.latitude), float(request.longitude)
    return _place_point(request.village) or _place_point(request.township)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _distance_km(point: tuple[float, float] | None) -> Expression:
    """Haversine distance in km from the volunteer's home point to ``point``, in SQL; NULL when
    either point is unknown."""
    if point is None:
        return Value(None, output_field=FloatField())
    lat0, lng0 = math.radians(point[0]), math.radians(point[1])
    lat, lng = Radians("home_latitude"), Radians("home_longitude")
    h = Power(Sin((lat - Value(lat0)) / Value(2.0)), 2) + Value(math.cos(lat0)) * Cos(lat) * Power(
        Sin((lng - Value(lng0)) / Value(2.0)), 2
    )
    return ExpressionWrapper(Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(h)), output_field=FloatField())


# --- Hard filters ------------------------------------------------------------------------------
#
# Over ``MatchableVolunteer``: one narrow row per volunteer who may be offered work at all
# (approved, verified, not paused), with their categories and skills as bits, so that testing
# 50,000 of them is integer arithmetic on a small row.


def _skill_q(codes: Iterable[str]) -> Q | None:
    """The volunteer lists one of ``codes`` (the alias ``skill_hit``); None when none is known."""
    return Q(skill_hit__gt=0) if skill_bits(list(codes)) else None


def _serves(category_id: int) -> Q:
    """The volunteer serves the category: its bit (the alias ``category_hit``), or for a
    category beyond the bits, the volunteers' category table itself."""
    if category_id <= MAX_CATEGORY_BIT:
        return Q(category_hit__gt=0)
    through = VolunteerProfile.categories.through
    return Q(volunteer_id__in=through.objects.filter(servicecategory_id=category_id).values("volunteerprofile_id"))


def _serves_row(category_id: int) -> Exists:
    """The volunteer (a ``VolunteerProfile`` row) serves the category: one lookup in the unique
    (volunteer, category) index, for the profiles of the page shown."""
    through = VolunteerProfile.categories.through
    return Exists(through.objects.filter(volunteerprofile_id=OuterRef("pk"), servicecategory_id=category_id))


def _overlapping(window: Window, *, now: datetime) -> Q:
    """Offers whose request's window overlaps ``window``; a window without a start begins now,
    one without an end lasts MATCHING_ASAP_HOURS from its start."""
    asap = timedelta(hours=settings.MATCHING_ASAP_HOURS)
    begins_before = Q(request__window_start__lt=window.end)
    if now < window.end:
        begins_before |= Q(request__window_start__isnull=True)
    ends_after = Q(request__window_end__gt=window.start) | Q(
        request__window_end__isnull=True, request__window_start__gt=window.start - asap
    )
    if now + asap > window.start:
        ends_after |= Q(request__window_end__isnull=True, request__window_start__isnull=True)
    return begins_before & ends_after


def _held_offers() -> QuerySet[Offer]:
    """Every task a volunteer holds (accepted, on the way, in service), across the city: a few
    thousand rows at most, read once per ranking through the partial index on held offers."""
    return Offer.objects.filter(status__in=HOLDS_PLACE).order_by()


def _hits(category: Any) -> dict[str, Any]:
    """The aliases ``_skill_q`` and ``_serves`` test: the volunteer's bits of the category's skills
    and of the category itself."""
    return {
        "skill_hit": F("skill_bits").bitand(skill_bits(list(category.skills or []))),
        "category_hit": F("category_bits").bitand(1 << category.id if category.id <= MAX_CATEGORY_BIT else 0),
    }


def eligible_volunteers(
    *, request: ServiceRequest, extra_km: int = 0, now: datetime | None = None
) -> QuerySet[MatchableVolunteer]:
    """Every volunteer passing the hard filters for ``request`` (unordered), as their
    ``MatchableVolunteer`` rows (primary key: the volunteer's id), with the alias ``distance_km``
    (NULL when a point is unknown). ``extra_km`` widens every service radius."""
    now = now or timezone.now()
    window = request_window(request, now=now)
    category = request.category
    point = request_point(request)

    min_age = max(category.min_age, category.night_min_age) if window.at_night else category.min_age
    old_enough = Q(birth_date__lte=born_by(timezone.localtime(window.start).date(), min_age))
    if min_age <= settings.MATCHING_UNKNOWN_BIRTH_DATE_AGE:
        old_enough |= Q(birth_date__isnull=True)

    fits = _serves(category.id)
    skill_q = _skill_q(category.skills or [])
    if skill_q is not None:
        fits |= skill_q

    reach = Q(home_village_id=request.village_id) | Q(home_township_id=request.township_id)
    if point is not None:
        reach |= Q(distance_km__lte=F("service_radius_km") + Value(float(extra_km)))

    # Volunteers at their cap: an uncorrelated ``NOT IN`` that PostgreSQL reads once into a hash
    # (a few thousand held tasks), rather than a count per volunteer scanned. Busy and already
    # asked are probed only for the volunteers that passed every other filter.
    held = _held_offers()
    at_cap = (
        held.values("volunteer_id")
        .annotate(n=Count("*"))
        .filter(n__gte=settings.MATCHING_OPEN_TASK_CAP)
        .values("volunteer_id")
    )
    busy = held.filter(volunteer=OuterRef("pk")).exclude(request_id=request.id)
    already = Offer.objects.filter(request_id=request.id, volunteer=OuterRef("pk")).exclude(
        status=OfferStatus.WITHDRAWN
    )
    # One ``alias`` and one ``filter``: every chained call copies the whole query, and building
    # it is a fair share of a ranking's time.
    return MatchableVolunteer.objects.alias(
        # Not selected: the page's distances are worked out for its 20 rows alone.
        distance_km=_distance_km(point),
        free_slots=F("availability").bitand(window.slots),
        **_hits(category),
    ).filter(
        ~Q(user_id=request.requester_id),
        # PostgreSQL tests a row's conditions in this order where it prices them alike: the
        # window's slots (half the city fails them) before the category and skill test.
        # ``>=`` rather than ``=`` (the same, as ``free_slots`` ≤ the mask): PostgreSQL guesses an
        # equality on an expression matches 0.5 % of rows and plans the rest for a handful.
        Q(free_slots__gte=window.slots) if window.exact else Q(free_slots__gt=0),
        old_enough,
        fits,
        reach,
        ~Q(volunteer_id__in=at_cap),
        # Accounts switched off: an anti-join with the few such rows (their partial index).
        ~Exists(User.objects.filter(pk=OuterRef("user_id"), is_active=False)),
        # Busy: a scalar subquery (``LIMIT 1``), which PostgreSQL probes through the held
        # offers' partial index for each row that passed, rather than an anti-join it may
        # choose to hash by reading every request in the city for their windows.
        IsNull(Subquery(busy.filter(_overlapping(window, now=now)).values("pk")[:1]), True),
        ~Exists(already),
    )


def volunteer_is_eligible(
    *, request: ServiceRequest, volunteer: VolunteerProfile, extra_km: int = 0, now: datetime | None = None
) -> bool:
    """Whether ``volunteer`` passes every hard filter for ``request`` (one query)."""
    return eligible_volunteers(request=request, extra_km=extra_km, now=now).filter(pk=volunteer.pk).exists()


def eligible_requests_for(
    volunteer: VolunteerProfile, requests_qs: QuerySet[ServiceRequest], *, now: datetime | None = None
) -> list[ServiceRequest]:
    """The requests of ``requests_qs`` that ``volunteer`` passes every hard filter for (broadcast:
    the open tasks a volunteer may take). One query per request, so pass a bounded set (the open
    broadcast requests around the volunteer), not every request in the city."""
    now = now or timezone.now()
    requests = requests_qs.select_related("category", "village", "township")
    return [r for r in requests if volunteer_is_eligible(request=r, volunteer=volunteer, now=now)]


# --- Score -------------------------------------------------------------------------------------
#
# Distance and skill are columns of the volunteer's row. The four components read from their
# offers (reliability, rating, fairness, response) come from their ``VolunteerHistory`` row (see
# ``history``), one indexed lookup per candidate; the reasons quote the same row.


def _history_score() -> Expression:
    """Σ weight × component over the four history components, from the candidate's history
    row (no row: the priors): a scalar subquery, one primary-key lookup for each row that
    passed every filter."""
    weights = settings.MATCHING_WEIGHTS
    priors = history.history_priors()
    weighted = sum((Value(float(weights[name])) * F(name) for name in priors), start=Value(0.0))
    row = VolunteerHistory.objects.filter(volunteer_id=OuterRef("pk")).annotate(value=weighted).values("value")[:1]
    default = sum(weights[name] * prior for name, prior in priors.items())
    return Coalesce(Subquery(row, output_field=FloatField()), Value(float(default)), output_field=FloatField())


def _place_score(request: ServiceRequest) -> Expression:
    """weight × distance + weight × skill, each component in [0, 1], from the volunteer's own
    row (``distance_component`` and ``skill_component`` say the same for one volunteer)."""
    s = settings
    weights = s.MATCHING_WEIGHTS
    half_km = float(s.MATCHING_DISTANCE_HALF_KM)
    skill_q = _skill_q(request.category.skills or [])
    both = skill_q & _serves(request.category_id) if skill_q is not None else None
    distance = Case(
        When(home_village_id=request.village_id, then=Value(1.0)),
        When(home_township_id=request.township_id, then=Value(float(s.MATCHING_SAME_TOWNSHIP_SCORE))),
        # NULL (a point unknown) → 0.
        default=Coalesce(
            Value(s.MATCHING_CITY_SCORE * half_km) / (Value(half_km) + F("distance_km")),
            Value(0.0),
            output_field=FloatField(),
        ),
        output_field=FloatField(),
    )
    skill = Case(
        *([When(both, then=Value(1.0))] if both is not None else []),
        default=Value(float(s.MATCHING_SKILL_ONLY_ONE_SCORE)),
        output_field=FloatField(),
    )
    return Value(float(weights["distance"])) * distance + Value(float(weights["skill"])) * skill


def distance_component(*, request: ServiceRequest, volunteer: VolunteerProfile, distance_km: float | None) -> float:
    """Same village 1, same township MATCHING_SAME_TOWNSHIP_SCORE, further away
    MATCHING_CITY_SCORE × half / (half + km), 0 when a point is unknown."""
    s = settings
    if volunteer.home_village_id == request.village_id:
        return 1.0
    if volunteer.home_township_id == request.township_id:
        return float(s.MATCHING_SAME_TOWNSHIP_SCORE)
    if distance_km is None:
        return 0.0
    half_km = float(s.MATCHING_DISTANCE_HALF_KM)
    return float(s.MATCHING_CITY_SCORE * half_km / (half_km + distance_km))


def skill_component(*, request: ServiceRequest, volunteer: VolunteerProfile, serves: bool) -> float:
    """1 when the volunteer serves the category and has one of its skills, else (one of the two)
    MATCHING_SKILL_ONLY_ONE_SCORE."""
    has_skill = bool(set(request.category.skills or []) & set(volunteer.skills or []))
    return 1.0 if serves and has_skill else float(settings.MATCHING_SKILL_ONLY_ONE_SCORE)


def ranked_volunteers(
    *,
    request: ServiceRequest,
    extra_km: int = 0,
    search: str = "",
    volunteer_ids: list[int] | None = None,
    restrict_to: QuerySet[VolunteerProfile] | None = None,
    township_id: int | None = None,
    village_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet[MatchableVolunteer]:
    """The eligible volunteers best first, annotated with ``score`` (unsliced:
    :func:`rank_candidates` takes a page of it). Arguments as for :func:`rank_candidates`."""
    now = now or timezone.now()
    qs = eligible_volunteers(request=request, extra_km=extra_km, now=now)
    if volunteer_ids is not None:
        qs = qs.filter(pk__in=volunteer_ids)
    if restrict_to is not None:
        qs = qs.filter(pk__in=restrict_to.values("id"))
    if township_id is not None:
        qs = qs.filter(home_township_id=township_id)
    if village_id is not None:
        qs = qs.filter(home_village_id=village_id)
    if search := search.strip():
        qs = qs.filter(Q(volunteer__volunteer_number__icontains=search) | Q(user__name__icontains=search))
    score = _place_score(request) + _history_score()
    return qs.annotate(score=ExpressionWrapper(score, output_field=FloatField())).order_by("-score", "pk")


def rank_candidates(
    *,
    request: ServiceRequest,
    limit: int = 20,
    offset: int = 0,
    extra_km: int = 0,
    search: str = "",
    volunteer_ids: list[int] | None = None,
    restrict_to: QuerySet[VolunteerProfile] | None = None,
    township_id: int | None = None,
    village_id: int | None = None,
    now: datetime | None = None,
) -> list[Candidate]:
    """The best ``limit`` candidates after ``offset``, best first, each with its reasons.
    ``extra_km`` widens the reach; ``search`` matches number or name; ``volunteer_ids`` restricts
    the ranking to these volunteers (a team's members, one volunteer's eligibility);
    ``restrict_to`` to the volunteers a staff member may see; ``township_id``/``village_id`` to
    volunteers living there. Two queries (one when nobody is eligible), whatever the city's size."""
    now = now or timezone.now()
    ranked = ranked_volunteers(
        request=request,
        extra_km=extra_km,
        search=search,
        volunteer_ids=volunteer_ids,
        restrict_to=restrict_to,
        township_id=township_id,
        village_id=village_id,
        now=now,
    )
    # The ranking returns numbers only. The page's profiles, with their account, places,
    # history row and whether they serve the category, come in a second query: joining those
    # for every eligible volunteer costs more than one more small query.
    page: list[tuple[int, float]] = list(ranked.values_list("pk", "score")[offset : offset + limit])  # type: ignore[misc]
    if not page:
        return []
    profiles = (
        VolunteerProfile.objects.select_related("user", "home_township", "home_village", "match_history")
        .annotate(serves=_serves_row(request.category_id))
        .defer("id_number", "emergency_contact_phone", "guardian_phone")
        .in_bulk([volunteer_id for volunteer_id, _score in page])
    )
    point = request_point(request)
    priors = history.history_priors()
    candidates = []
    for volunteer_id, score in page:
        v = profiles.get(volunteer_id)
        # Deleted since, or no longer offered work though the matchable row has not caught up
        # yet (the queue's next step rewrites such rows): left out.
        if v is None or not v.can_receive_offers:
            continue
        home = _place_point(v.home_village) or _place_point(v.home_township)
        distance_km = haversine_km(point, home) if point is not None and home is not None else None
        v.distance_km = distance_km  # type: ignore[attr-defined]
        stats = history_stats(v)
        components = {
            "distance": distance_component(request=request, volunteer=v, distance_km=distance_km),
            "skill": skill_component(request=request, volunteer=v, serves=v.serves),
            **{name: stats.get(name, prior) for name, prior in priors.items()},
        }
        candidates.append(
            Candidate(
                volunteer=v,
                score=round(score, 2),
                reasons=reasons_for(request=request, volunteer=v, stats=stats),
                distance_km=distance_km,
                components={name: round(components[name], 3) for name in COMPONENTS},
            )
        )
    return candidates


def history_stats(volunteer: VolunteerProfile) -> dict[str, Any]:
    """The counts and components of ``volunteer``'s history row (empty without one)."""
    try:
        row = volunteer.match_history
    except VolunteerHistory.DoesNotExist:
        return {}
    return {name: getattr(row, name) for name in (*history.COUNTS, *history.COMPONENTS)}


# --- Reasons -----------------------------------------------------------------------------------


def reasons_for(*, request: ServiceRequest, volunteer: VolunteerProfile, stats: dict[str, Any]) -> list[str]:
    """Short translated phrases saying why ``volunteer`` ranks where they do for ``request``:
    where they live, their skill, recent load, rating, accept rate, speed, releases."""
    s = settings
    reasons: list[str] = []
    distance = getattr(volunteer, "distance_km", None)
    if volunteer.home_village_id is not None and volunteer.home_village_id == request.village_id:
        reasons.append(_("同村"))
    elif volunteer.home_township_id == request.township_id:
        reasons.append(_("同乡镇"))
    elif distance is not None:
        reasons.append(_("距离%(km)s公里") % {"km": f"{distance:.1f}"})
    skills = set(volunteer.skills or [])
    for code in request.category.skills or []:
        if code in skills and code in Skill.values:
            reasons.append(_("擅长%(skill)s") % {"skill": Skill(code).label})
            break
    tasks = stats.get("tasks", 0)
    days = s.MATCHING_FAIRNESS_DAYS
    if tasks:
        served = ngettext("近%(days)d天服务%(count)d次", "近%(days)d天服务%(count)d次", tasks)
        reasons.append(served % {"days": days, "count": tasks})
    else:
        reasons.append(_("近%(days)d天未服务") % {"days": days})
    minimum = s.MATCHING_REASON_MIN_HISTORY
    if stats.get("ratings", 0) >= minimum:
        reasons.append(_("好评率%(percent)d%%") % {"percent": round(100 * stats["good"] / stats["ratings"])})
    if stats.get("answered", 0) >= minimum:
        reasons.append(_("接单率%(percent)d%%") % {"percent": round(100 * stats["taken"] / stats["answered"])})
    if stats.get("responses", 0) >= minimum and stats["response_minutes"] <= s.MATCHING_FAST_RESPONSE_MINUTES:
        reasons.append(_("响应快"))
    if released := stats.get("released", 0):
        reasons.append(
            ngettext("近%(days)d天无法前往%(count)d次", "近%(days)d天无法前往%(count)d次", released)
            % {"days": s.MATCHING_HISTORY_DAYS, "count": released}
        )
    return reasons
