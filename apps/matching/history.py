"""A volunteer's history as the ranking sees it: the counts of their offers over the ranking's
windows, kept in ``VolunteerHistory`` so that ranking 50,000 volunteers reads one row per
candidate instead of aggregating everyone's offers each time.

A row is refreshed from the offers themselves (never incremented, so a lost or repeated refresh
leaves nothing wrong behind): for the volunteers of a request whenever one of its offers moves or
it is rated (``matching.history`` jobs, written in the transaction of the change), and for
everyone by beat, as the windows slide. README "How candidates are ranked" says how stale a row
may be."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, DurationField, Expression, ExpressionWrapper, F, FloatField, Q, Sum, Value
from django.db.models.functions import Cast, Extract
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus

from .models import VolunteerHistory

# Offers the volunteer kept (accepted and did not give back), released (accepted, then could not
# go: Art. 22), and answered one way or another (expiry counts as an answer: silence is a no).
KEPT = (OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE, OfferStatus.COMPLETED)
ANSWERED = (*KEPT, OfferStatus.RELEASED, OfferStatus.DECLINED, OfferStatus.EXPIRED)
GOOD_RATING = 4
COUNTS = (
    "kept",
    "taken",
    "released",
    "answered",
    "responses",
    "response_minutes",
    "tasks",
    "month_hours",
    "ratings",
    "rating_sum",
    "good",
)
COMPONENTS = ("reliability", "rating", "fairness", "response")
# Volunteers per grouped query and per upsert in a full refresh.
BATCH = 5000


def _minutes(later: str, earlier: str) -> Expression:
    """Minutes between two datetime columns: EXTRACT(EPOCH …) of the interval on PostgreSQL; SQLite
    stores durations as microseconds."""
    gap = ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())
    if connection.features.has_native_duration_field:
        return ExpressionWrapper(Extract(gap, "epoch") / Value(60.0), output_field=FloatField())
    return ExpressionWrapper(Cast(gap, FloatField()) / Value(60_000_000.0), output_field=FloatField())


def history_counts(*, now: datetime) -> dict[str, Any]:
    """Aggregates over one volunteer's offers (rows of ``Offer``, rating joined through the
    request), one per column of ``VolunteerHistory``."""
    s = settings
    in_history = Q(created_at__gte=now - timedelta(days=s.MATCHING_HISTORY_DAYS))
    in_month = Q(created_at__gte=now - timedelta(days=s.MATCHING_FAIRNESS_DAYS), status__in=KEPT)
    completed = Q(status=OfferStatus.COMPLETED)
    answered_in_history = in_history & Q(responded_at__isnull=False)
    return {
        "kept": Count("id", filter=in_history & Q(status__in=KEPT)),
        "taken": Count("id", filter=in_history & Q(status__in=(*KEPT, OfferStatus.RELEASED))),
        "released": Count("id", filter=in_history & Q(status=OfferStatus.RELEASED)),
        "answered": Count("id", filter=in_history & Q(status__in=ANSWERED)),
        "responses": Count("id", filter=answered_in_history),
        "response_minutes": Avg(_minutes("responded_at", "created_at"), filter=answered_in_history),
        "tasks": Count("id", filter=in_month),
        "month_hours": Sum("hours", filter=in_month),
        "ratings": Count("request__rating", filter=completed),
        "rating_sum": Sum("request__rating__score", filter=completed),
        "good": Count("request__rating", filter=completed & Q(request__rating__score__gte=GOOD_RATING)),
    }


def history_priors() -> dict[str, float]:
    """The four history components of a volunteer who has never had an offer."""
    s = settings
    return {
        "reliability": s.MATCHING_PRIOR_ACCEPT_RATE,
        "rating": (s.MATCHING_PRIOR_RATING - 1) / 4,
        "fairness": 1.0,
        "response": s.MATCHING_RESPONSE_PRIOR,
    }


def history_components(counts: dict[str, Any]) -> dict[str, float]:
    """The four components, each in [0, 1], from a volunteer's counts (README "How candidates
    are ranked"); with no offers at all each is its prior."""
    s = settings
    prior_offers, prior_ratings = s.MATCHING_PRIOR_OFFERS, s.MATCHING_PRIOR_RATINGS
    half = s.MATCHING_RESPONSE_HALF_MINUTES
    minutes = counts["response_minutes"]
    return {
        # (kept − released + prior kept) / (answered + prior offers): a release costs more than a decline.
        "reliability": max(
            (counts["kept"] - counts["released"] + prior_offers * s.MATCHING_PRIOR_ACCEPT_RATE)
            / (counts["answered"] + prior_offers),
            0.0,
        ),
        # Bayesian average of the ratings of requests they completed, 1★ → 0, 5★ → 1.
        "rating": (
            (counts["rating_sum"] + prior_ratings * s.MATCHING_PRIOR_RATING) / (counts["ratings"] + prior_ratings) - 1
        )
        / 4,
        "fairness": 1
        / (1 + counts["tasks"] / s.MATCHING_FAIRNESS_TASKS + counts["month_hours"] / s.MATCHING_FAIRNESS_HOURS),
        # Mean minutes from offer to answer; none yet → the prior.
        "response": half / (half + minutes) if minutes is not None else s.MATCHING_RESPONSE_PRIOR,
    }


def _row(volunteer_id: int, found: Mapping[str, Any], now: datetime) -> VolunteerHistory:
    counts: dict[str, Any] = {name: found.get(name) or 0 for name in COUNTS}
    counts["month_hours"] = float(counts["month_hours"])
    counts["response_minutes"] = found.get("response_minutes")
    return VolunteerHistory(volunteer_id=volunteer_id, refreshed_at=now, **counts, **history_components(counts))


def _upsert(rows: list[VolunteerHistory]) -> None:
    VolunteerHistory.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["volunteer"],
        update_fields=[*COUNTS, *COMPONENTS, "refreshed_at"],
        batch_size=1000,
    )


def history_refresh(*, volunteer_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Recount the history of ``volunteer_ids`` (everyone with an offer when None) from their
    offers, as of ``now``; returns the rows written. A listed volunteer without offers gets a
    row of zeros, which scores exactly as no row (the priors). Everyone: in batches of
    ``BATCH`` volunteers, each batch its own transaction."""
    now = now or timezone.now()
    counts = history_counts(now=now)
    if volunteer_ids is not None:
        ids = sorted(set(volunteer_ids))
        if not ids:
            return 0
        found = {
            row["volunteer_id"]: row
            for row in Offer.objects.filter(volunteer_id__in=ids).order_by().values("volunteer_id").annotate(**counts)
        }
        _upsert([_row(volunteer_id, found.get(volunteer_id, {}), now) for volunteer_id in ids])
        return len(ids)
    written, after = 0, 0
    while True:
        batch_ids = list(
            Offer.objects.filter(volunteer_id__gt=after)
            .order_by("volunteer_id")
            .values_list("volunteer_id", flat=True)
            .distinct()[:BATCH]
        )
        if not batch_ids:
            return written
        rows = (
            Offer.objects.filter(volunteer_id__gte=batch_ids[0], volunteer_id__lte=batch_ids[-1])
            .order_by()
            .values("volunteer_id")
            .annotate(**counts)
        )
        with transaction.atomic():
            _upsert([_row(row["volunteer_id"], row, now) for row in rows])
        written += len(batch_ids)
        after = batch_ids[-1]


def history_refresh_request(*, request_id: int, now: datetime | None = None) -> int:
    """Recount the history of every volunteer who had an offer on the request (one of them
    moved, or the request was rated)."""
    volunteer_ids = Offer.objects.filter(request_id=request_id).values_list("volunteer_id", flat=True)
    return history_refresh(volunteer_ids=list(volunteer_ids), now=now)
