"""Every write to a service request. Status changes go through :func:`transition`, a
conditional UPDATE on id and expected status: a lost race changes nothing and raises
:class:`Conflict` (HTTP 409)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.areas import centre_dispatchers, staff_covering
from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.reasons import NO_REASON, Reason, source_text
from apps.jobs.services import job_enqueue
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import DispatchMode, Place, ServiceCategory
from apps.organisation.selectors import station_for_village

from . import links
from .models import REQUEST_MACHINE, Channel, RequestEvent, ServiceRequest, Status


def transition(
    *,
    request: ServiceRequest,
    to_status: str,
    actor: User | None,
    reason: Reason = NO_REASON,
    expected_status: str | None = None,
    **updates: Any,
) -> ServiceRequest:
    """Move ``request`` from its expected status to ``to_status`` and record the event (see
    :data:`REQUEST_MACHINE`). Must run inside a transaction. Raises Conflict if the move is not
    in the table or the row is no longer in the expected status (someone else got there first)."""
    moved = REQUEST_MACHINE.move(request, to=to_status, actor=actor, reason=reason, expected=expected_status, **updates)
    request_facts_changed(request_id=request.id)
    if to_status == Status.QUEUED:
        request_needs_matching(request)
    return moved


# By name: the matching queue sits above this app (apps.matching.tasks).
MATCHING_TASK = "matching.advance"


# By name too: the history the ranking scores from (apps.matching.history).
HISTORY_TASK = "matching.history"


def request_history_changed(*, request_id: int) -> None:
    """Tell the matching queue that what the offers on a request say about their volunteers
    changed (one moved, or the request was rated): a job row in the caller's transaction, which
    recounts those volunteers' history a moment later."""
    job_enqueue(HISTORY_TASK, request_id)


# By name: the dashboard's facts sit above this app (apps.dashboard.facts).
FACT_TASK = "dashboard.fact"


def request_facts_changed(*, request_id: int) -> None:
    """Tell the dashboard that what it counts about a request changed (it was submitted or moved):
    a job row in the caller's transaction, which rewrites the request's fact a moment later."""
    job_enqueue(FACT_TASK, request_id)


def request_needs_matching(request: ServiceRequest) -> None:
    """Tell the matching queue that ``request`` may need its next step (it entered the queue, or
    an offer on it ended): a job row in the caller's transaction, for requests the queue works on.
    Directed requests wait for staff."""
    if request.dispatch_mode != DispatchMode.DIRECTED:
        job_enqueue(MATCHING_TASK, request.id)


def request_note(*, request: ServiceRequest, actor: User | None, reason: Reason) -> None:
    """A step that changes no status (the matching queue widened its reach, staff switched the
    dispatch mode): one event in the request's timeline, from and to its current status. Must
    run inside the caller's transaction, after :func:`request_lock`."""
    RequestEvent.objects.create(
        request=request, from_status=request.status, to_status=request.status, actor=actor, **reason.as_fields()
    )


def request_set_dispatch_mode(*, request: ServiceRequest, mode: str, actor: User | None, reason: Reason) -> None:
    """Switch how ``request`` finds its volunteers (the matching queue decides what follows), with
    an event. Must run inside the caller's transaction, after :func:`request_lock`."""
    ServiceRequest.objects.filter(id=request.id).update(dispatch_mode=mode)
    request.dispatch_mode = mode
    request_note(request=request, actor=actor, reason=reason)


def staff_ids_for(request: ServiceRequest) -> list[int]:
    """The staff to tell about ``request``: those whose area holds it (see ``staff_covering``)."""
    return list(
        staff_covering(
            township_id=request.township_id, village_id=request.village_id, category_id=request.category_id
        ).values_list("id", flat=True)
    )


def tell(
    request: ServiceRequest,
    kind: str,
    *,
    requester_ids: Iterable[int] = (),
    staff_ids: Iterable[int] = (),
    **params: Any,
) -> None:
    """Notify people about ``request`` in one go: ``requester_ids`` open the resident's page of
    it, ``staff_ids`` the staff page (someone in both reads it as staff)."""
    pages = {uid: links.for_requester(request.id) for uid in requester_ids}
    pages |= {uid: links.for_staff(request.id) for uid in staff_ids}
    notify(kind=kind, request_id=request.id, params={"title": request.title, **params}, links=pages)


def tell_requester(request: ServiceRequest, kind: str, **params: Any) -> None:
    tell(request, kind, requester_ids=[request.requester_id], **params)


def tell_staff(
    request: ServiceRequest, kind: str, *, recipient_ids: Iterable[int] | None = None, **params: Any
) -> None:
    """Notify ``recipient_ids``, by default the staff whose area holds ``request``."""
    tell(request, kind, staff_ids=staff_ids_for(request) if recipient_ids is None else recipient_ids, **params)


@dataclass(frozen=True)
class RequestInput:
    category: ServiceCategory
    title: str
    description: str
    village: Place
    address: str
    contact_name: str
    contact_phone: str
    urgency: str
    volunteers_needed: int = 1
    window_start: datetime | None = None
    window_end: datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "RequestInput":
        """From a validated form's or serializer's data; keys that are not fields are ignored."""
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def request_submit(
    *,
    data: RequestInput,
    requester: User,
    entered_by: User,
    channel: str = Channel.WEB,
    accept_on_entry: bool = False,
) -> ServiceRequest:
    """点单: create a request routed to the station that owns its village.

    ``accept_on_entry``: staff entering a request for a resident (代点单) are its review, so it
    is accepted (受理) as it is entered. Precondition: ``entered_by`` is staff whose area holds
    the request (the caller checks it: see ``apps.workflow.services.request_submit_on_behalf``).

    Side effects: a ``submitted`` event; notifications to the requester and the station's
    staff; requests in an auto-accept category, or accepted on entry, go straight on to the
    queue (a ``queued`` event by the staff member who entered it, else by the category's rule), and
    the resident is told it was accepted rather than received. Staff are never told of a
    request they entered themselves."""
    if data.village.kind != Place.Kind.VILLAGE:
        raise DomainError(_("请选择村或社区。"), code="invalid_village")
    if not data.category.is_active:
        raise DomainError(_("该服务类别已停用。"), code="inactive_category")
    latest = data.window_end or data.window_start
    if latest is not None and latest < timezone.now():
        raise DomainError(_("期望的服务时间已经过去，请重新选择。"), code="window_in_past")
    township_id = data.village.parent_id
    assert township_id is not None, "a village always belongs to a township"
    with transaction.atomic():
        request = ServiceRequest.objects.create(
            requester=requester,
            entered_by=entered_by,
            channel=channel,
            category=data.category,
            title=data.title,
            description=data.description,
            township_id=township_id,
            village=data.village,
            station=station_for_village(village=data.village),
            address=data.address,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            latitude=data.latitude,
            longitude=data.longitude,
            window_start=data.window_start,
            window_end=data.window_end,
            urgency=data.urgency,
            volunteers_needed=data.volunteers_needed,
            dispatch_mode=data.category.default_dispatch_mode,
        )
        REQUEST_MACHINE.record_created(
            [request],
            actor=entered_by,
            reason=NO_REASON
            if channel == Channel.WEB
            else Reason.system("entered_on_behalf", channel=source_text(Channel(channel).label)),
        )
        request_facts_changed(request_id=request.id)
        # Told of the request by its own page, not by a notice of what they just did.
        staff_ids = [uid for uid in staff_ids_for(request) if uid != entered_by.id]
        if data.category.auto_accept or accept_on_entry:
            if not accept_on_entry:
                tell_requester(request, Kind.RECEIVED)
            accepted_by, reason = (
                (entered_by, Reason.system("accepted_on_entry"))
                if accept_on_entry
                else (None, Reason.system("auto_accepted"))
            )
            transition(request=request, to_status=Status.QUEUED, actor=accepted_by, reason=reason)
            tell_requester(request, Kind.QUEUED)
            tell_staff(request, Kind.NEW_IN_QUEUE, recipient_ids=staff_ids)
        else:
            tell_requester(request, Kind.RECEIVED)
            tell_staff(request, Kind.NEW_REQUEST, recipient_ids=staff_ids)
    return request


def request_review(*, request: ServiceRequest, actor: User, accept: bool, reason: str = "") -> ServiceRequest:
    """审核: accept into the dispatch queue, or reject with a reason the resident will see."""
    typed = Reason.typed(reason)
    if not accept and not typed:
        raise DomainError(_("不予受理时必须填写原因。"), code="reason_required")
    with transaction.atomic():
        if accept:
            transition(
                request=request, to_status=Status.QUEUED, actor=actor, reason=typed, expected_status=Status.SUBMITTED
            )
            tell_requester(request, Kind.QUEUED)
        else:
            transition(
                request=request,
                to_status=Status.REJECTED,
                actor=actor,
                reason=typed,
                expected_status=Status.SUBMITTED,
                **typed.as_fields("status_reason"),
            )
            tell_requester(request, Kind.REJECTED, **typed.as_params())
    return request


def request_lock(*, request_id: int) -> ServiceRequest:
    """Lock the request row for the rest of the transaction. Every write that touches a
    request and its offers takes this lock first, so they all queue in one order and cannot
    deadlock each other. ``of=("self",)``: without it PostgreSQL's FOR UPDATE also locks the
    joined station row, which would serialise every write on every request of a station."""
    try:
        return ServiceRequest.objects.select_for_update(of=("self",)).select_related("station").get(id=request_id)
    except ServiceRequest.DoesNotExist:
        raise NotFound() from None


def request_mark_offered(*, request: ServiceRequest, actor: User | None, reason: Reason) -> None:
    """Called by dispatch inside its transaction when offers go out."""
    if request.status not in (Status.QUEUED, Status.OFFERED, Status.ESCALATED):
        raise Conflict(
            _("工单当前状态为「%(status)s」，不能派单。") % {"status": request.get_status_display()},
            code="not_dispatchable",
        )
    transition(request=request, to_status=Status.OFFERED, actor=actor, reason=reason)


def request_record_acceptance(*, request_id: int, actor: User) -> ServiceRequest:
    """Count one more accepted volunteer. The increment is a conditional UPDATE that only
    succeeds while places remain, so N places give exactly N acceptances however many arrive
    together (and a CHECK constraint backs it). When the last place fills, the request moves
    to ``accepted``. Must run inside the caller's transaction, after :func:`request_lock`."""
    won = ServiceRequest.objects.filter(
        id=request_id, status=Status.OFFERED, volunteers_accepted__lt=F("volunteers_needed")
    ).update(volunteers_accepted=F("volunteers_accepted") + 1)
    if not won:
        raise Conflict(_("手慢了，这个需求已经有志愿者接单了。"), code="offer_taken")
    request = ServiceRequest.objects.select_related("station").get(id=request_id)
    if request.volunteers_accepted == request.volunteers_needed:
        transition(request=request, to_status=Status.ACCEPTED, actor=actor, reason=Reason.system("fully_staffed"))
    return request


def request_free_places(*, request: ServiceRequest, places: int) -> None:
    """``places`` accepted volunteers no longer hold a place (released, or withdrawn by a
    cancellation): count them out in one conditional UPDATE, never below zero. Must run inside
    the caller's transaction, after :func:`request_lock`."""
    if places <= 0:
        return
    freed = ServiceRequest.objects.filter(id=request.id, volunteers_accepted__gte=places).update(
        volunteers_accepted=F("volunteers_accepted") - places
    )
    if not freed:  # the count was already lower than the tasks it counts: it can only go to zero
        ServiceRequest.objects.filter(id=request.id).update(volunteers_accepted=0)
    request.refresh_from_db(fields=["volunteers_accepted"])


def request_record_release(*, request: ServiceRequest, actor: User, reason: Reason, live_offers_remain: bool) -> None:
    """An accepted volunteer withdrew before service began: free their place and, if the
    request was fully staffed, send it back to dispatch."""
    request_free_places(request=request, places=1)
    request.refresh_from_db(fields=["volunteers_accepted", "status"])
    if request.status == Status.ACCEPTED:
        to_status = Status.OFFERED if live_offers_remain else Status.QUEUED
        transition(request=request, to_status=to_status, actor=actor, reason=reason)
    elif request.status == Status.OFFERED and not live_offers_remain:
        transition(request=request, to_status=Status.QUEUED, actor=actor, reason=reason)


def request_return_to_queue(*, request: ServiceRequest, reason: Reason) -> bool:
    """Offers ran out before enough volunteers accepted: back to the dispatch queue.
    Returns False if the request had already moved on (nothing to do)."""
    try:
        transition(request=request, to_status=Status.QUEUED, actor=None, reason=reason, expected_status=Status.OFFERED)
    except Conflict:
        return False
    # The matching queue takes a request of the other modes on at once (the job written by
    # ``transition``) and tells staff itself if it must give up.
    if request.dispatch_mode == DispatchMode.DIRECTED:
        tell_staff(request, Kind.RETURNED_TO_QUEUE)
    return True


def request_start_service(*, request: ServiceRequest, actor: User) -> None:
    """The first accepted volunteer checked in."""
    if request.status == Status.ACCEPTED:
        transition(request=request, to_status=Status.IN_SERVICE, actor=actor, reason=Reason.system("volunteer_arrived"))
        tell_requester(request, Kind.IN_SERVICE)


def request_complete(*, request: ServiceRequest, actor: User, reason: Reason) -> None:
    """Every accepted volunteer has checked out."""
    transition(
        request=request, to_status=Status.COMPLETED, actor=actor, reason=reason, expected_status=Status.IN_SERVICE
    )
    tell_requester(request, Kind.PLEASE_RATE)
    tell_staff(request, Kind.COMPLETED)


def request_cancelled(*, request: ServiceRequest, actor: User, reason: Reason) -> None:
    """Record the cancellation itself; dispatch withdraws the offers around it."""
    if not request.can_be_cancelled:
        raise Conflict(
            _("工单当前状态为「%(status)s」，不能取消。") % {"status": request.get_status_display()},
            code="not_cancellable",
        )
    transition(
        request=request, to_status=Status.CANCELLED, actor=actor, reason=reason, **reason.as_fields("status_reason")
    )
    # Everyone but the person who cancelled.
    tell(
        request,
        Kind.CANCELLED,
        requester_ids={request.requester_id} - {actor.id},
        staff_ids=set(staff_ids_for(request)) - {actor.id},
        **reason.as_params(),
    )


def request_mark_rated(*, request: ServiceRequest, actor: User) -> None:
    """评单 done: completed → rated → closed. (Follow-up of low ratings comes with evaluation.)"""
    transition(request=request, to_status=Status.RATED, actor=actor, expected_status=Status.COMPLETED)
    transition(
        request=request,
        to_status=Status.CLOSED,
        actor=actor,
        reason=Reason.system("rated_and_closed"),
        expected_status=Status.RATED,
    )


def requests_escalate_overdue(*, now: datetime | None = None) -> int:
    """The SLA sweep: a request still waiting in the queue longer after submission than its
    urgency allows escalates to the centre, whose dispatchers are told. Requests out with
    volunteers are left alone (their offers' expiry brings them back here first)."""
    now = now or timezone.now()
    escalated = 0
    for urgency, minutes in settings.ESCALATE_AFTER_MINUTES.items():
        overdue = ServiceRequest.objects.filter(
            status=Status.QUEUED, urgency=urgency, created_at__lt=now - timedelta(minutes=minutes)
        ).select_related("station")[:500]
        for request in overdue:
            try:
                with transaction.atomic():
                    transition(
                        request=request,
                        to_status=Status.ESCALATED,
                        actor=None,
                        reason=Reason.system("escalated_overdue"),
                        expected_status=Status.QUEUED,
                    )
                    dispatchers = centre_dispatchers().values_list("id", flat=True)
                    tell_staff(request, Kind.ESCALATED, recipient_ids=dispatchers)
            except Conflict:
                continue  # dispatched in the meantime
            escalated += 1
    return escalated


def requests_close_unrated(*, now: datetime | None = None) -> int:
    """Close requests completed long ago that nobody rated, without inventing a rating."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.UNRATED_CLOSE_AFTER_DAYS)
    closed = 0
    for request in ServiceRequest.objects.filter(status=Status.COMPLETED, status_changed_at__lt=cutoff)[:500]:
        try:
            with transaction.atomic():
                transition(
                    request=request,
                    to_status=Status.CLOSED,
                    actor=None,
                    reason=Reason.system("closed_unrated", days=settings.UNRATED_CLOSE_AFTER_DAYS),
                    expected_status=Status.COMPLETED,
                )
            closed += 1
        except Conflict:
            continue  # rated in the meantime
    return closed
