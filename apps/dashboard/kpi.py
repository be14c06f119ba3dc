"""KPIs (指标) over a period and a part of the city, read from :class:`RequestFact` rows.

Every figure is about the requests *submitted* in the period (a cohort): how many were completed,
how long each step took, how they were rated. A request submitted on 31 March and completed on
2 April counts in March, so a month's figures settle as its last requests finish and never move
from one month to another. Percentiles are nearest-rank (PostgreSQL's ``percentile_disc``): the
median of 1, 2, 3, 4 minutes is 2, and p90 of ten values is the tenth."""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from apps.accounts.areas import Area
from apps.core.reasons import CATALOGUE
from apps.dispatch.models import Offer, OfferStatus
from apps.organisation.models import Place, ServiceCategory
from apps.ratings.models import Tag
from apps.service_requests.models import Status

from .facts import TAG_BITS, TYPED_REASON
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


class PercentileDisc(Aggregate):
    """PostgreSQL's nearest-rank percentile; nulls are left out."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = IntegerField()


def nearest_rank(values: list[int], fraction: float) -> int | None:
    """``percentile_disc`` in Python (same float arithmetic): the first value, in order, whose
    1-based position is at least ``fraction × n``."""
    if not values:
        return None
    position = max(1, math.ceil(fraction * len(values)))
    return values[min(position, len(values)) - 1]


def _durations(facts: QuerySet[RequestFact]) -> dict[str, dict[str, int | None]]:
    out: dict[str, dict[str, int | None]] = {}
    if connection.vendor == "postgresql":
        aggregates: dict[str, Any] = {}
        for name, column in DURATIONS.items():
            aggregates[f"{name}_n"] = Count(column)
            aggregates[f"{name}_p50"] = PercentileDisc(column, fraction=0.5)
            aggregates[f"{name}_p90"] = PercentileDisc(column, fraction=0.9)
        row = facts.aggregate(**aggregates)
        for name in DURATIONS:
            out[name] = {"count": row[f"{name}_n"], "median": row[f"{name}_p50"], "p90": row[f"{name}_p90"]}
        return out
    for name, column in DURATIONS.items():
        values = sorted(facts.exclude(**{f"{column}__isnull": True}).values_list(column, flat=True))
        out[name] = {"count": len(values), "median": nearest_rank(values, 0.5), "p90": nearest_rank(values, 0.9)}
    return out


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


def kpis(*, facts: QuerySet[RequestFact], grain: str) -> dict[str, Any]:
    """Every KPI of the issue over ``facts`` (already scoped): totals, the series by ``grain``, by
    field and by township, the four durations' median and p90, reasons, satisfaction, hours and
    active volunteers."""
    totals = _finish(
        facts.aggregate(
            **_counts(),
            **{f"score_{n}": Count("pk", filter=Q(score=n)) for n in range(1, 6)},
            **_tag_counts(),
        )
    )
    satisfaction = {
        "rated": totals["rated"],
        "average": totals["average_score"],
        "distribution": [{"score": n, "count": totals.pop(f"score_{n}")} for n in range(1, 6)],
        "tags": [
            {"tag": tag, "label": str(Tag(tag).label), "count": totals.pop(f"tag_{tag}") or 0} for tag in TAG_BITS
        ],
    }
    truncate = {"day": F("day"), "week": TruncWeek("day"), "month": TruncMonth("day")}[grain]
    series = [
        _finish(dict(row)) | {"period": row["period"]}
        for row in facts.annotate(period=truncate).values("period").annotate(**_counts()).order_by("period")
    ]
    categories = {c.id: c.display_name for c in ServiceCategory.objects.only("id", "name", "name_en")}
    by_category = [
        _finish(dict(row))
        | {
            "category": categories.get(row["category_id"], ""),
            "category_ref": {"id": row["category_id"], "display_name": categories.get(row["category_id"], "")},
        }
        for row in facts.values("category_id").annotate(**_counts()).order_by(F("submitted").desc(), "category_id")
    ]
    places = dict(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", "name"))
    by_township = [
        _finish(dict(row))
        | {
            "township": places.get(row["township_id"], ""),
            "township_ref": {"id": row["township_id"], "name": places.get(row["township_id"], "")},
        }
        for row in facts.values("township_id").annotate(**_counts()).order_by(F("submitted").desc(), "township_id")
    ]
    reasons = {
        status: [
            {"code": row["reason_code"], "label": reason_label(row["reason_code"]), "count": row["n"]}
            for row in facts.filter(status=status)
            .values("reason_code")
            .annotate(n=Count("pk"))
            .order_by("-n", "reason_code")
        ]
        for status in (Status.CANCELLED, Status.REJECTED)
    }
    active = (
        Offer.objects.filter(status=OfferStatus.COMPLETED, request_id__in=facts.values("request_id"))
        .values("volunteer_id")
        .distinct()
        .count()
    )
    totals["active_volunteers"] = active
    return {
        "totals": totals,
        "grain": grain,
        "series": series,
        "by_category": by_category,
        "by_township": by_township,
        "durations": _durations(facts),
        "reasons": reasons,
        "satisfaction": satisfaction,
    }


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)
