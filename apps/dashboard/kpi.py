"""KPIs (指标) over a period and a part of the city, read from :class:`RequestFact` rows.

Every figure is about the requests *submitted* in the period (a cohort): how many were completed,
how long each step took, how they were rated. A request submitted on 31 March and completed on
2 April counts in March, so a month's figures settle as its last requests finish and never move
from one month to another. Percentiles are nearest-rank (PostgreSQL's ``percentile_disc``): the
median of 1, 2, 3, 4 minutes is 2, and p90 of ten values is the tenth."""

import math
from array import array
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.areas import Area
from apps.core.reasons import CATALOGUE
from apps.dispatch.models import Offer, OfferStatus
from apps.organisation.models import Place, ServiceCategory
from apps.ratings.models import Tag
from apps.service_requests.models import Status

from .facts import CACHE_SECONDS, TAG_BITS, TYPED_REASON, month_versions
from .models import RequestFact

DURATIONS = {
    "review": "review_seconds",
    "offer": "offer_seconds",
    "accept": "accept_seconds",
    "complete": "complete_seconds",
}
OPEN_STATUSES = [
    Status.SUBMITTED,
    Status.QUEUED,
    Status.OFFERED,
    Status.ACCEPTED,
    Status.IN_SERVICE,
    Status.ESCALATED,
]
GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class KpiQuery:
    """A period (both days included) and, optionally, one township or village and one field."""

    start: date
    end: date
    township_id: int | None = None
    village_id: int | None = None
    category_id: int | None = None
    grain: str = ""  # day / week / month; empty: chosen from the period's length

    @property
    def effective_grain(self) -> str:
        if self.grain in GRAINS:
            return self.grain
        days = (self.end - self.start).days + 1
        return "day" if days <= 62 else "week" if days <= 190 else "month"


def facts_for(*, area: Area, query: KpiQuery) -> QuerySet[RequestFact]:
    """The facts of ``area`` (the viewer's: see ``area_of``), narrowed to ``query``."""
    facts = area.filter(RequestFact.objects.all(), township="township", village="village", category="category")
    facts = facts.filter(day__gte=query.start, day__lte=query.end)
    if query.township_id is not None:
        facts = facts.filter(township_id=query.township_id)
    if query.village_id is not None:
        facts = facts.filter(village_id=query.village_id)
    if query.category_id is not None:
        facts = facts.filter(category_id=query.category_id)
    return facts.order_by()


def nearest_rank(values: Sequence[int], fraction: float) -> int | None:
    """``percentile_disc`` in Python (same float arithmetic): the first value, in order, whose
    1-based position is at least ``fraction × n``."""
    if not values:
        return None
    position = max(1, math.ceil(fraction * len(values)))
    return values[min(position, len(values)) - 1]


def nearest_rank_of_many(runs: Sequence[Sequence[int]], fraction: float) -> int | None:
    """:func:`nearest_rank` of the values of several sorted ``runs`` together, without merging
    them: the smallest value with at least ``fraction × n`` values at or below it, found by
    bisecting the value range (about 30 steps of one bisection per run)."""
    total = sum(len(run) for run in runs)
    if not total:
        return None
    wanted = min(max(1, math.ceil(fraction * total)), total)
    low = min(run[0] for run in runs if run)
    high = max(run[-1] for run in runs if run)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) >= wanted:
            high = middle
        else:
            low = middle + 1
    return low


def _tag_counts() -> dict[str, Any]:
    # (tag_bits & bit) / bit is 1 with the tag and 0 without, on both databases.
    return {f"tag_{tag}": Sum(F("tag_bits").bitand(bit) / Value(bit)) for tag, bit in TAG_BITS.items()}


def _counts() -> dict[str, Any]:
    return {
        "submitted": Count("pk"),
        "completed": Count("completed_at"),
        "rejected": Count("pk", filter=Q(status=Status.REJECTED)),
        "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "hours": Sum("hours"),
        "rated": Count("score"),
        "score_sum": Sum("score"),
    }


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Derived figures from one row of counts."""
    received = row["submitted"] - row["rejected"]
    row["hours"] = row["hours"] or Decimal("0.0")
    row["score_sum"] = row["score_sum"] or 0
    row["completion_rate"] = rate(row["completed"], received)
    row["average_score"] = round(row["score_sum"] / row["rated"], 2) if row["rated"] else None
    return row


def reason_label(code: str) -> str:
    if code == TYPED_REASON:
        return _("工作人员填写的其他原因")
    entry = CATALOGUE.get(code)
    return str(entry.message) if entry is not None else code or _("未注明")


COUNT_NAMES = ("submitted", "completed", "rejected", "cancelled", "open", "rated", "score_sum")


def _plain_counts(row: Mapping[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = {name: int(row[name] or 0) for name in COUNT_NAMES}
    counts["hours"] = Decimal(row["hours"] or 0)
    return counts


def _add(into: dict[str, Any], counts: Mapping[str, Any]) -> None:
    for name, value in counts.items():
        into[name] = into.get(name, 0) + value


@dataclass
class Partial:
    """What the KPIs need of one stretch of facts, in a form that adds up: counts (in total, per
    day, per field, per township, per reason), the four durations as sorted runs of seconds and
    the volunteers who served. The KPIs of a year are those of its months added together."""

    totals: dict[str, Any] = field(default_factory=dict)
    days: dict[date, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    townships: dict[int, dict[str, Any]] = field(default_factory=dict)
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)
    durations: dict[str, "array[int]"] = field(default_factory=dict)
    # Sorted ids: an array pickles as bytes, a set of ints one int at a time (ten times slower).
    volunteers: "array[int]" = field(default_factory=lambda: array("q"))


def _grouped(facts: QuerySet[RequestFact], by: str) -> dict[Any, dict[str, Any]]:
    return {row[by]: _plain_counts(row) for row in facts.values(by).annotate(**_counts()).order_by()}


def _sorted_runs(facts: QuerySet[RequestFact]) -> dict[str, "array[int]"]:
    """Each duration's values, sorted: on PostgreSQL in one statement, as arrays (the driver
    builds a list of 30,000 numbers about five times faster than as many rows)."""
    if connection.vendor == "postgresql":
        row = facts.aggregate(
            **{
                name: ArrayAgg(column, filter=Q(**{f"{column}__isnull": False}), order_by=column, default=[])
                for name, column in DURATIONS.items()
            }
        )
        return {name: array("q", row[name]) for name in DURATIONS}
    return {
        name: array("q", facts.filter(**{f"{column}__isnull": False}).order_by(column).values_list(column, flat=True))
        for name, column in DURATIONS.items()
    }


def partial_of(facts: QuerySet[RequestFact]) -> Partial:
    """One stretch's :class:`Partial`, read from the database (a dozen grouped queries)."""
    totals = facts.aggregate(
        **_counts(),
        **{f"score_{n}": Count("pk", filter=Q(score=n)) for n in range(1, 6)},
        **_tag_counts(),
    )
    extra = {f"score_{n}": int(totals[f"score_{n}"] or 0) for n in range(1, 6)}
    extra |= {f"tag_{tag}": int(totals[f"tag_{tag}"] or 0) for tag in TAG_BITS}
    return Partial(
        totals=_plain_counts(totals) | extra,
        days={row["day"]: _plain_counts(row) for row in facts.values("day").annotate(**_counts()).order_by()},
        categories={
            row["category_id"]: _plain_counts(row)
            for row in facts.values("category_id").annotate(**_counts()).order_by()
        },
        townships={
            row["township_id"]: _plain_counts(row)
            for row in facts.values("township_id").annotate(**_counts()).order_by()
        },
        reasons={
            (row["status"], row["reason_code"]): row["n"]
            for row in facts.filter(status__in=[Status.CANCELLED, Status.REJECTED])
            .values("status", "reason_code")
            .annotate(n=Count("pk"))
            .order_by()
        },
        durations={
            name: array(
                "q", facts.filter(**{f"{column}__isnull": False}).order_by(column).values_list(column, flat=True)
            )
            for name, column in DURATIONS.items()
        },
        volunteers=array(
            "q",
            Offer.objects.filter(status=OfferStatus.COMPLETED, request_id__in=facts.values("request_id"))
            .values_list("volunteer_id", flat=True)
            .distinct()
            .order_by("volunteer_id"),
        ),
    )


def _bucket(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def combine(partials: Sequence[Partial], *, grain: str) -> dict[str, Any]:
    """The KPIs of the stretches of ``partials`` together: every KPI of the issue — totals, the
    series by ``grain``, by field and by township, the four durations' median and p90 (nearest
    rank over all the runs), reasons, satisfaction, hours and active volunteers."""
    totals: dict[str, Any] = {}
    periods: dict[date, dict[str, Any]] = defaultdict(dict)
    by_category: dict[int, dict[str, Any]] = defaultdict(dict)
    by_township: dict[int, dict[str, Any]] = defaultdict(dict)
    reasons: dict[tuple[str, str], int] = defaultdict(int)
    volunteers: set[int] = set()
    for part in partials:
        _add(totals, part.totals)
        for day, counts in part.days.items():
            _add(periods[_bucket(day, grain)], counts)
        for key, counts in part.categories.items():
            _add(by_category[key], counts)
        for key, counts in part.townships.items():
            _add(by_township[key], counts)
        for reason, n in part.reasons.items():
            reasons[reason] += n
        volunteers.update(part.volunteers)
    if not totals:
        totals = _plain_counts(dict.fromkeys((*COUNT_NAMES, "hours"), 0))
        totals |= {f"score_{n}": 0 for n in range(1, 6)} | {f"tag_{tag}": 0 for tag in TAG_BITS}
    totals = _finish(totals)
    totals["active_volunteers"] = len(volunteers)
    satisfaction = {
        "rated": totals["rated"],
        "average": totals["average_score"],
        "distribution": [{"score": n, "count": totals.pop(f"score_{n}")} for n in range(1, 6)],
        "tags": [{"tag": tag, "label": str(Tag(tag).label), "count": totals.pop(f"tag_{tag}")} for tag in TAG_BITS],
    }
    categories = {c.id: c.display_name for c in ServiceCategory.objects.only("id", "name", "name_en")}
    places = dict(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", "name"))
    durations = {}
    for name in DURATIONS:
        runs = [part.durations[name] for part in partials if part.durations.get(name)]
        durations[name] = {
            "count": sum(len(run) for run in runs),
            "median": nearest_rank_of_many(runs, 0.5),
            "p90": nearest_rank_of_many(runs, 0.9),
        }
    return {
        "totals": totals,
        "grain": grain,
        "series": [_finish(counts) | {"period": period} for period, counts in sorted(periods.items())],
        "by_category": [
            _finish(counts)
            | {
                "category": categories.get(key, ""),
                "category_ref": {"id": key, "display_name": categories.get(key, "")},
            }
            for key, counts in sorted(by_category.items(), key=lambda item: (-item[1]["submitted"], item[0]))
        ],
        "by_township": [
            _finish(counts)
            | {"township": places.get(key, ""), "township_ref": {"id": key, "name": places.get(key, "")}}
            for key, counts in sorted(by_township.items(), key=lambda item: (-item[1]["submitted"], item[0]))
        ],
        "durations": durations,
        "reasons": {
            status: [
                {"code": code, "label": reason_label(code), "count": n}
                for (of, code), n in sorted(reasons.items(), key=lambda item: (-item[1], item[0][1]))
                if of == status
            ]
            for status in (Status.CANCELLED, Status.REJECTED)
        },
        "satisfaction": satisfaction,
    }


def kpis(*, facts: QuerySet[RequestFact], grain: str) -> dict[str, Any]:
    """The KPIs of ``facts`` (already scoped), read in one go with no cache."""
    return combine([partial_of(facts)], grain=grain)


# --- The month cache --------------------------------------------------------------------------------
#
# A year's KPIs for the whole city read a third of a million facts a dozen times over: more than a
# second. But a month that has ended changes only when one of its requests does (a late rating, a
# fact rewritten). So each stretch of an ended month is kept in the shared cache as its Partial,
# under the month's *version*; every rewrite of a fact gives its month a new version (see
# ``facts``), which leaves the kept stretches of that month unread. The current month is always
# read from the database. A version is a random token, never a counter: a version lost from the
# cache comes back as a new token, so a stretch kept under an old one can never be read again.


def _scope_key(area: Area, query: KpiQuery) -> str:
    categories = ",".join(map(str, sorted(area.category_ids))) if area.category_ids is not None else "-"
    return (
        f"{int(area.whole_city)}.{area.township_id}.{area.village_id}.{categories}."
        f"{query.township_id}.{query.village_id}.{query.category_id}"
    )


def stretches(start: date, end: date) -> list[tuple[date, date, date]]:
    """``start``–``end`` cut at month boundaries: (month, first day, last day) of each piece."""
    out = []
    day = start
    while day <= end:
        first, last = month_bounds(day)
        out.append((first, day, min(last, end)))
        day = last + timedelta(days=1)
    return out


def kpis_for(*, area: Area, query: KpiQuery, today: date | None = None) -> dict[str, Any]:
    """The KPIs of ``query`` in ``area``: the stretches of ended months from the cache (read and
    kept on a miss), the current month's from the database. Figures equal :func:`kpis` over the
    whole period (tested)."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    pieces = stretches(query.start, query.end)
    ended = [piece for piece in pieces if piece[0] < this_month]
    versions = month_versions([month for month, _first, _last in ended])
    scope = _scope_key(area, query)
    keys = {
        f"dashboard:kpi:{versions[month]}:{first:%Y%m%d}-{last:%Y%m%d}:{scope}": (month, first, last)
        for month, first, last in ended
    }
    kept = cache.get_many(list(keys))
    partials = []
    missed = {}
    for key, (_month, first, last) in keys.items():
        part = kept.get(key)
        if part is None:
            part = partial_of(facts_for(area=area, query=replace(query, start=first, end=last)))
            missed[key] = part
        partials.append(part)
    if missed:
        cache.set_many(missed, CACHE_SECONDS)
    for month, first, last in pieces:
        if month >= this_month:
            partials.append(partial_of(facts_for(area=area, query=replace(query, start=first, end=last))))
    return combine(partials, grain=query.effective_grain)


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)
