"""Keeping :class:`RequestFact` rows: each rewritten whole from the request's own rows."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, DecimalField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.ratings.models import Tag
from apps.service_requests.models import ServiceRequest, Status

from .models import RequestFact

BATCH = 2000
# The rating's tags as bits (bit i is Tag.values[i]); KPIs decode them in the same order.
TAG_BITS: dict[str, int] = {tag: 1 << i for i, tag in enumerate(Tag.values)}
TYPED_REASON = "typed"

_FIELDS = [
    "created_at",
    "day",
    "township_id",
    "village_id",
    "station_id",
    "category_id",
    "urgency",
    "status",
    "reason_code",
    "review_seconds",
    "offer_seconds",
    "accept_seconds",
    "complete_seconds",
    "completed_at",
    "hours",
    "volunteers",
    "score",
    "tag_bits",
    "rated_at",
]


@dataclass(frozen=True)
class Models:
    """The models the facts are built from: the app's own, or a migration's historical ones."""

    request: Any = ServiceRequest
    offer: Any = Offer
    fact: Any = RequestFact


def facts_fill_for_migration(apps: Any, schema_editor: Any) -> None:
    """The migration that creates the facts fills them for an existing database."""
    models = Models(
        request=apps.get_model("service_requests", "ServiceRequest"),
        offer=apps.get_model("dispatch", "Offer"),
        fact=apps.get_model("dashboard", "RequestFact"),
    )
    ids = list(models.request.objects.order_by("id").values_list("id", flat=True))
    for i in range(0, len(ids), BATCH):
        # Nothing can be kept of facts that did not exist, and the cache may not be there yet.
        _write(ids[i : i + BATCH], models, renew_months=False)


def tag_bits(tags: Iterable[str]) -> int:
    bits = 0
    for tag in tags:
        bits |= TAG_BITS.get(tag, 0)
    return bits


def _seconds(since: datetime, at: datetime | None) -> int | None:
    if at is None:
        return None
    return max(0, int((at - since).total_seconds()))


def _rows(request_ids: list[int], models: "Models | None" = None) -> list[RequestFact]:
    models = models or Models()
    done = models.offer.objects.filter(request=OuterRef("pk"), status=OfferStatus.COMPLETED).values("request")
    events = "events__created_at"
    rows = (
        models.request.objects.filter(id__in=request_ids)
        .order_by()
        .values(
            "id",
            "created_at",
            "township_id",
            "village_id",
            "station_id",
            "category_id",
            "urgency",
            "status",
            "status_reason",
            "status_reason_code",
            "rating__score",
            "rating__tags",
            "rating__created_at",
        )
        .annotate(
            # 审核 by a person: the automatic acceptance of a category is no review.
            reviewed=Min(
                events,
                filter=Q(
                    events__from_status=Status.SUBMITTED,
                    events__to_status__in=[Status.QUEUED, Status.REJECTED],
                    events__actor__isnull=False,
                ),
            ),
            offered=Min(events, filter=Q(events__to_status=Status.OFFERED)),
            accepted=Min(events, filter=Q(events__to_status=Status.ACCEPTED)),
            completed=Min(events, filter=Q(events__to_status=Status.COMPLETED)),
            hours=Coalesce(
                Subquery(done.annotate(s=Sum("hours")).values("s")[:1]),
                Value(Decimal(0)),
                output_field=DecimalField(max_digits=7, decimal_places=1),
            ),
            volunteers=Coalesce(Subquery(done.annotate(n=Count("id")).values("n")[:1]), Value(0)),
        )
    )
    facts = []
    for row in rows:
        created = row["created_at"]
        reason = ""
        if row["status"] in (Status.REJECTED, Status.CANCELLED):
            reason = row["status_reason_code"] or (TYPED_REASON if row["status_reason"] else "")
        facts.append(
            models.fact(
                request_id=row["id"],
                created_at=created,
                day=timezone.localdate(created),
                township_id=row["township_id"],
                village_id=row["village_id"],
                station_id=row["station_id"],
                category_id=row["category_id"],
                urgency=row["urgency"],
                status=row["status"],
                reason_code=reason,
                review_seconds=_seconds(created, row["reviewed"]),
                offer_seconds=_seconds(created, row["offered"]),
                accept_seconds=_seconds(created, row["accepted"]),
                complete_seconds=_seconds(created, row["completed"]),
                completed_at=row["completed"],
                hours=row["hours"] or 0,
                volunteers=row["volunteers"] or 0,
                score=row["rating__score"],
                tag_bits=tag_bits(row["rating__tags"] or []),
                rated_at=row["rating__created_at"],
            )
        )
    return facts


def facts_refresh(*, request_ids: Iterable[int] | None = None) -> int:
    """Rewrite the facts of ``request_ids`` (every request when None), in batches; returns how
    many changed. Idempotent; a request that no longer exists simply has no row (its fact went
    with it)."""
    if request_ids is None:
        ids_source: Iterable[int] = ServiceRequest.objects.order_by("id").values_list("id", flat=True).iterator(BATCH)
    else:
        ids_source = sorted(set(request_ids))
    written = 0
    batch: list[int] = []
    for request_id in ids_source:
        batch.append(request_id)
        if len(batch) == BATCH:
            written += _write(batch)
            batch = []
    if batch:
        written += _write(batch)
    return written


def _write(request_ids: list[int], models: "Models | None" = None, *, renew_months: bool = True) -> int:
    """Write the facts of ``request_ids`` that differ from the stored ones (or are new), and give
    their months new versions; an unchanged fact is left alone, and so is its month's cache (the
    nightly rewrite of every fact thus costs the kept months nothing)."""
    models = models or Models()
    facts = _rows(request_ids, models)
    stored = {
        row[0]: row[1:]
        for row in models.fact.objects.filter(request_id__in=request_ids).values_list("request_id", *_FIELDS)
    }
    changed = [fact for fact in facts if stored.get(fact.request_id) != tuple(getattr(fact, f) for f in _FIELDS)]
    if not changed:
        return 0
    models.fact.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["request"],
        update_fields=[f.removesuffix("_id") for f in _FIELDS],
    )
    if renew_months:
        months_changed({fact.day for fact in changed})
    return len(changed)


CACHE_SECONDS = 7 * 24 * 3600


def _version_key(month: date) -> str:
    return f"dashboard:kpi-version:{month:%Y-%m}"


def month_versions(months: Sequence[date]) -> dict[date, str]:
    """The current version of each month, a new one for a month that has none."""
    keys = {_version_key(month): month for month in months}
    found = cache.get_many(list(keys))
    versions = {}
    for key, month in keys.items():
        version = found.get(key)
        if version is None:
            version = uuid.uuid4().hex
            if not cache.add(key, version, CACHE_SECONDS):
                version = cache.get(key) or version
        versions[month] = version
    return versions


def months_changed(months: Iterable[date]) -> None:
    """The facts of ``months`` changed: what was kept of them is not to be read again."""
    cache.set_many({_version_key(month.replace(day=1)): uuid.uuid4().hex for month in months}, CACHE_SECONDS)
