"""Reads of the matching queue at work, for staff pages: what the queue did for one request, and
a staff queue split into requests that need a person and requests the queue is working on.

Callers pass requests already scoped to the reader (``service_requests.selectors``); volunteers
appear masked (name and number), as on the other staff pages."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.organisation.models import DispatchMode
from apps.service_requests.models import DISPATCHABLE, ServiceRequest

from .models import MatchState, MatchWave, NeedsPerson
from .services import QUEUE_MODES

# How a wave's offer ended, as the request page groups them.
ACCEPTED_OR_LATER = frozenset(
    {OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE, OfferStatus.COMPLETED}
)


def _outcome(offer: Offer, now: datetime) -> str:
    if offer.status in ACCEPTED_OR_LATER:
        return "accepted"
    if offer.status == OfferStatus.OFFERED:
        return "waiting" if offer.expires_at > now else "expired"
    if offer.status in (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.RELEASED, OfferStatus.WITHDRAWN):
        return str(offer.status)
    return "waiting"


def _who(offer: Offer) -> str:
    volunteer = offer.volunteer
    return f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"


def match_summary(request: ServiceRequest) -> dict[str, Any]:
    """What the queue did for ``request`` (three queries):

    ``waves``: one dict per wave, in order: ``number``, ``sent_at``, ``offered`` (how many),
    ``radius_extra_km``, ``due_at``, and the volunteers by outcome (``accepted``, ``declined``,
    ``expired``, ``released``, ``withdrawn``, ``waiting``), each a list of masked names with
    numbers; ``next_wave_at`` (when the next wave goes if nobody answers, or None);
    ``needs_person`` (a :class:`NeedsPerson` code or ""), ``needs_person_display``;
    ``escalated_to`` (node name or ""); ``widened``; ``mode`` and ``mode_display``."""
    now = timezone.now()
    state = MatchState.objects.filter(request=request).select_related("escalated_to", "team").first()
    waves = list(MatchWave.objects.filter(request=request).order_by("number"))
    by_wave: dict[int, dict[str, list[str]]] = {
        w.number: {"accepted": [], "declined": [], "expired": [], "released": [], "withdrawn": [], "waiting": []}
        for w in waves
    }
    if waves:
        offers = (
            Offer.objects.filter(request=request, via=DispatchMode.AUTO, wave__isnull=False)
            .select_related("volunteer__user")
            .order_by("wave", "id")
        )
        for offer in offers:
            if offer.wave in by_wave:
                by_wave[offer.wave][_outcome(offer, now)].append(_who(offer))
    needs_person = state.needs_person if state is not None else ""
    return {
        "mode": request.dispatch_mode,
        "mode_display": request.get_dispatch_mode_display(),
        "waves": [
            {
                "number": w.number,
                "sent_at": w.sent_at,
                "offered": w.offered,
                "radius_extra_km": w.radius_extra_km,
                "due_at": w.due_at,
                **by_wave[w.number],
            }
            for w in waves
        ],
        "next_wave_at": state.next_wave_at if state is not None and not needs_person else None,
        "needs_person": needs_person,
        "needs_person_display": NeedsPerson(needs_person).label if needs_person else "",
        "escalated_to": state.escalated_to.name if state is not None and state.escalated_to is not None else "",
        "widened": bool(state is not None and state.widened),
        "team": state.team.name if state is not None and state.team is not None else "",
    }


@dataclass(frozen=True)
class QueueGroups:
    """A staff queue split three ways: ``needs_person`` (the queue gave up: no candidates,
    escalated, the team declined), ``working`` (auto, broadcast or team mode, the queue on it),
    ``directed`` (staff pick the volunteers)."""

    needs_person: QuerySet[ServiceRequest]
    working: QuerySet[ServiceRequest]
    directed: QuerySet[ServiceRequest]


def split_queue(requests: QuerySet[ServiceRequest]) -> QueueGroups:
    """``requests`` (already scoped to the reader) that are still dispatchable, in three groups."""
    open_ = requests.filter(status__in=DISPATCHABLE)
    waiting_for_person = Q(match__needs_person__in=NeedsPerson.values)
    return QueueGroups(
        needs_person=open_.filter(waiting_for_person),
        working=open_.filter(dispatch_mode__in=QUEUE_MODES).exclude(waiting_for_person),
        directed=open_.filter(dispatch_mode=DispatchMode.DIRECTED).exclude(waiting_for_person),
    )
