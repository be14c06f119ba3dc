"""The board and the scorecards as the API's serializers read them (see ``serializers``); and
``plain``, for the JSON the KPI page's charts are drawn from."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.dispatch.models import Offer

from .board import Board
from .scorecards import Scorecard


def plain(value: Any) -> Any:
    """``value`` with dates as ISO strings and decimals as floats, recursively."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _offer(offer: Offer) -> dict[str, Any]:
    return {
        "request": offer.request_id,
        "volunteer": offer.volunteer.user.masked_name,
        "volunteer_number": offer.volunteer.volunteer_number,
        "status": offer.status,
        "expires_at": offer.expires_at,
    }


def board_data(board: Board) -> dict[str, Any]:
    return {
        "now": board.now,
        "counts": board.counts,
        "waiting_total": board.waiting_total,
        "sla": board.sla_totals,
        "waiting": [
            {
                "request": row.request.id,
                "title": row.request.title,
                "township": row.request.township.name,
                "urgency": row.request.urgency,
                "status": row.request.status,
                "submitted_at": row.request.created_at,
                "waited_minutes": row.waited_minutes,
                "sla": row.sla,
                "why": row.why,
            }
            for row in board.waiting
        ],
        "unanswered_offers": board.offers_total,
        "offers": [_offer(offer) for offer in board.offers],
        "on_duty": board.on_duty_total,
        "on_duty_rows": [_offer(offer) for offer in board.on_duty],
        "today": board.today,
        "townships": [{"id": dot.place_id, "name": dot.name, "open": dot.open} for dot in board.townships],
    }


def card_data(card: Scorecard, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "id": card.key,
        "name": card.name,
        "number": card.number,
        "handled": card.handled,
        "hours": card.hours,
        "rated": card.rated,
        "average": card.average,
        "score": card.score,
        "complaints": card.complaints,
        "follow_ups": card.follow_ups,
        "response_median_seconds": card.response_median,
        "completion_median_seconds": card.completion_median,
    }
