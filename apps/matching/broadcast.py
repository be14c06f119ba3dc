"""Broadcast (抢单): the request is open to every eligible volunteer in reach; first N win.

The queue opens the request once (:func:`broadcast_advance`): it is marked open, the timeline
says so and the best-ranked volunteers are told. Every eligible volunteer then finds it in their
open tasks (:func:`open_tasks_for`) and may take it (:func:`open_task_take`): an offer made and
accepted in one transaction under the request's lock, so the places go exactly as they would to
offers accepted first come, first served, however many press at the same instant."""

from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.errors import Conflict, NotFound
from apps.core.reasons import Reason
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import HOLDS_PLACE, Offer, OfferStatus
from apps.dispatch.selectors import offers_for_request
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import DispatchMode
from apps.service_requests import links
from apps.service_requests import services as request_services
from apps.service_requests.models import DISPATCHABLE, ServiceRequest, Status
from apps.volunteers.models import VolunteerProfile

from . import selectors
from .models import MatchState

# Opening a request tells this many of the best-ranked volunteers; everyone eligible sees it in
# their list anyway.
NOTIFY_TOP = 50
# A volunteer's open tasks list looks at this many open requests at most, newest first (few are
# open at once; the bound keeps the eligibility checks of one page bounded too).
LIST_LIMIT = 100
# The offer behind a take is accepted in the same transaction; its expiry only matters if that
# transaction were ever split.
TAKE_EXPIRES_IN_MINUTES = 5
# What a take may answer with, after its lost race.
TAKEN_MESSAGE = gettext_noop("手慢了，这个任务的名额已经被抢完了。")


def open_tasks_url() -> str:
    return reverse("matching:open_tasks")


def broadcast_advance(state: MatchState, request: ServiceRequest) -> None:
    """The queue's step for a broadcast request: open it, once. Called by the engine inside its
    transaction holding the request's lock. Side effects (the first time only): ``broadcast_at``
    set, a ``broadcast_opened`` event on the timeline, the best-ranked :data:`NOTIFY_TOP`
    eligible volunteers told (``OPEN_TASK``). Later calls change nothing."""
    if state.broadcast_at is not None or not request.can_be_dispatched:
        return
    now = timezone.now()
    # Conditional: a second worker that got here with an older read of the state changes nothing.
    if not MatchState.objects.filter(pk=state.pk, broadcast_at__isnull=True).update(broadcast_at=now):
        return
    state.broadcast_at = now
    request_services.request_note(request=request, actor=None, reason=Reason.system("broadcast_opened"))
    best = selectors.rank_candidates(request=request, limit=NOTIFY_TOP)
    notify(
        recipient_ids=[candidate.volunteer.user_id for candidate in best],
        kind=Kind.OPEN_TASK,
        request_id=request.id,
        params={"title": request.title},
        link=open_tasks_url(),
    )


def _open_broadcasts() -> QuerySet[ServiceRequest]:
    """Requests opened to everyone that still have a place."""
    return ServiceRequest.objects.filter(
        dispatch_mode=DispatchMode.BROADCAST,
        status__in=DISPATCHABLE,
        volunteers_accepted__lt=F("volunteers_needed"),
        match__broadcast_at__isnull=False,
    )


def volunteer_may_take(*, request: ServiceRequest, volunteer: VolunteerProfile) -> bool:
    """Whether ``volunteer`` passes every hard filter for ``request`` (the ranking's selector)."""
    return selectors.volunteer_is_eligible(request=request, volunteer=volunteer)


def open_tasks_for(*, volunteer: VolunteerProfile) -> list[ServiceRequest]:
    """The open tasks ``volunteer`` may take: broadcast requests with a place left for which
    they are eligible, most urgent first, then oldest. Each carries what the list shows (when,
    where, how many are needed and have taken it), never the address or the phone."""
    if not volunteer.can_receive_offers:
        return []
    requests = list(
        _open_broadcasts()
        .select_related("category", "township", "village")
        .defer("address", "contact_phone")
        .order_by("-created_at", "-id")[:LIST_LIMIT]
    )
    urgency_rank = {"critical": 0, "urgent": 1, "normal": 2}
    mine = [r for r in requests if volunteer_may_take(request=r, volunteer=volunteer)]
    return sorted(mine, key=lambda r: (urgency_rank.get(r.urgency, 3), r.created_at, r.id))


def open_task_for(*, volunteer: VolunteerProfile, request_id: int) -> ServiceRequest:
    """One open task ``volunteer`` may take, or NotFound."""
    request = (
        _open_broadcasts()
        .select_related("category", "township", "village")
        .defer("address", "contact_phone")
        .filter(id=request_id)
        .first()
    )
    if request is None or not volunteer.can_receive_offers:
        raise NotFound()
    if not volunteer_may_take(request=request, volunteer=volunteer):
        raise NotFound()
    return request


def broadcast_request(*, request_id: int) -> ServiceRequest:
    """A request the queue opened to everyone (whatever its places and status now), or
    NotFound: what a take names before :func:`open_task_take` checks it under the lock."""
    request = ServiceRequest.objects.filter(
        id=request_id, dispatch_mode=DispatchMode.BROADCAST, match__broadcast_at__isnull=False
    ).first()
    if request is None:
        raise NotFound()
    return request


def open_task_take(*, request: ServiceRequest, volunteer: VolunteerProfile) -> tuple[Offer, bool]:
    """抢单: ``volunteer`` takes a place on the open ``request``. Returns the task (an accepted
    offer) and whether this call took it.

    Under the request's lock: an offer is made (``offers_send``, via broadcast, event
    ``taken_from_open_tasks``, the volunteer sent a receipt) and accepted (``offer_accept``: the
    places counter, the resident and staff told, the last place closing the request) in one
    transaction, so exactly ``volunteers_needed`` takes win. Refusals: NotFound if the request is
    not open to everyone or the volunteer is not eligible; Conflict ``offer_taken`` once the
    places are gone, ``request_cancelled`` after a cancellation.

    Safe to retry: a volunteer who already holds a place on it gets that task back
    (``False``), unchanged. A volunteer with an unanswered offer on it accepts that offer."""
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        own = offers_for_request(request=locked).filter(volunteer=volunteer)
        held = own.filter(status__in=[*HOLDS_PLACE, OfferStatus.COMPLETED]).first()
        if held is not None:
            return held, False
        opened = MatchState.objects.filter(request=locked, broadcast_at__isnull=False).exists()
        if locked.dispatch_mode != DispatchMode.BROADCAST or not opened:
            raise NotFound()
        # Invited already (an offer of an earlier mode still open): taking is accepting it.
        pending = own.filter(status=OfferStatus.OFFERED, expires_at__gt=timezone.now()).first()
        if pending is None and not (
            volunteer.can_receive_offers and volunteer_may_take(request=locked, volunteer=volunteer)
        ):
            raise NotFound()
        if locked.status == Status.CANCELLED:
            raise Conflict(_("该需求已取消。"), code="request_cancelled")
        if not locked.can_be_dispatched:
            raise Conflict(_(TAKEN_MESSAGE), code="offer_taken")
        if pending is None:
            who = f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"
            (pending,) = dispatch_services.offers_send(
                request=locked,
                volunteers=[volunteer],
                actor=volunteer.user,
                via=DispatchMode.BROADCAST,
                reason=Reason.system("taken_from_open_tasks"),
                expires_in_minutes=TAKE_EXPIRES_IN_MINUTES,
                # A receipt for the volunteer ("志愿者 … 已接单"), not an invitation to answer.
                notice_kind=Kind.ACCEPTED,
                notice_params={"volunteer": who},
                notice_link=links.volunteer_tasks(),
            )
        offer = dispatch_services.offer_accept(offer=pending, volunteer=volunteer)
    return offer, True
