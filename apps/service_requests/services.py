"""Every write to a service request. Status changes go through :func:`transition`, a
conditional UPDATE on id and expected status: a lost race changes nothing and raises
:class:`Conflict` (HTTP 409)."""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from apps.accounts.areas import centre_dispatchers, staff_covering
from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import Place, ServiceCategory
from apps.organisation.selectors import station_for_village

from .models import ALLOWED_TRANSITIONS, Channel, RequestEvent, ServiceRequest, Status


def transition(
    *,
    request: ServiceRequest,
    to_status: str,
    actor: User | None,
    reason: str = "",
    expected_status: str | None = None,
    **updates: Any,
) -> ServiceRequest:
    """Move ``request`` from its expected status to ``to_status`` and record the event.

    Must run inside a transaction. Raises Conflict if the move is not in the table or if the
    row is no longer in the expected status (someone else got there first)."""
    from_status = expected_status or request.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise Conflict(
            _("工单当前状态为「%(from)s」，不能变更为「%(to)s」。")
            % {"from": Status(from_status).label, "to": Status(to_status).label},
            code="illegal_transition",
        )
    now = timezone.now()
    changed = ServiceRequest.objects.filter(id=request.id, status=from_status).update(
        status=to_status, status_changed_at=now, **updates
    )
    if changed == 0:
        raise Conflict(_("工单状态已被他人更新，请刷新后重试。"), code="stale_status")
    RequestEvent.objects.create(
        request_id=request.id, from_status=from_status, to_status=to_status, actor=actor, reason=reason
    )
    request.status = to_status
    request.status_changed_at = now
    for field, value in updates.items():
        if not hasattr(value, "resolve_expression"):
            setattr(request, field, value)
    return request


def _staff_ids(request: ServiceRequest) -> list[int]:
    return list(
        staff_covering(
            township_id=request.township_id, village_id=request.village_id, category_id=request.category_id
        ).values_list("id", flat=True)
    )


def _notice(request: ServiceRequest, **extra: Any) -> dict[str, Any]:
    return {"title": request.title, **extra}


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
    *, data: RequestInput, requester: User, entered_by: User, channel: str = Channel.WEB
) -> ServiceRequest:
    """点单: create a request routed to the station that owns its village.

    Side effects: a ``submitted`` event; notifications to the requester and the station's
    staff; requests in an auto-accept category go straight on to the queue."""
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
        )
        reason = (
            "" if channel == Channel.WEB else _("由工作人员代点单（%(channel)s）") % {"channel": Channel(channel).label}
        )
        RequestEvent.objects.create(
            request=request, from_status="", to_status=Status.SUBMITTED, actor=entered_by, reason=reason
        )
        notify(recipient_ids=[requester.id], kind=Kind.RECEIVED, request_id=request.id, params=_notice(request))
        if data.category.auto_accept:
            transition(request=request, to_status=Status.QUEUED, actor=None, reason=gettext_noop("该类别自动受理"))
            notify(recipient_ids=[requester.id], kind=Kind.QUEUED, request_id=request.id, params=_notice(request))
            notify(
                recipient_ids=_staff_ids(request),
                kind=Kind.NEW_IN_QUEUE,
                request_id=request.id,
                params=_notice(request),
            )
        else:
            notify(
                recipient_ids=_staff_ids(request), kind=Kind.NEW_REQUEST, request_id=request.id, params=_notice(request)
            )
    return request


def request_review(*, request: ServiceRequest, actor: User, accept: bool, reason: str = "") -> ServiceRequest:
    """审核: accept into the dispatch queue, or reject with a reason the resident will see."""
    if not accept and not reason.strip():
        raise DomainError(_("不予受理时必须填写原因。"), code="reason_required")
    with transaction.atomic():
        if accept:
            transition(
                request=request, to_status=Status.QUEUED, actor=actor, reason=reason, expected_status=Status.SUBMITTED
            )
            notify(
                recipient_ids=[request.requester_id], kind=Kind.QUEUED, request_id=request.id, params=_notice(request)
            )
        else:
            transition(
                request=request,
                to_status=Status.REJECTED,
                actor=actor,
                reason=reason,
                expected_status=Status.SUBMITTED,
                status_reason=reason,
            )
            notify(
                recipient_ids=[request.requester_id],
                kind=Kind.REJECTED,
                request_id=request.id,
                params=_notice(request, reason=reason),
            )
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


def request_mark_offered(*, request: ServiceRequest, actor: User, reason: str) -> None:
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
        raise Conflict(_("手慢了，这个需求已经有志愿者接单了。"), code="already_taken")
    request = ServiceRequest.objects.select_related("station").get(id=request_id)
    if request.volunteers_accepted == request.volunteers_needed:
        transition(request=request, to_status=Status.ACCEPTED, actor=actor, reason=gettext_noop("所需志愿者已全部接单"))
    return request


def request_record_release(*, request: ServiceRequest, actor: User, reason: str, live_offers_remain: bool) -> None:
    """An accepted volunteer withdrew before service began: free their place and, if the
    request was fully staffed, send it back to dispatch."""
    ServiceRequest.objects.filter(id=request.id, volunteers_accepted__gt=0).update(
        volunteers_accepted=F("volunteers_accepted") - 1
    )
    request.refresh_from_db(fields=["volunteers_accepted", "status"])
    if request.status == Status.ACCEPTED:
        to_status = Status.OFFERED if live_offers_remain else Status.QUEUED
        transition(request=request, to_status=to_status, actor=actor, reason=reason)
    elif request.status == Status.OFFERED and not live_offers_remain:
        transition(request=request, to_status=Status.QUEUED, actor=actor, reason=reason)


def request_return_to_queue(*, request: ServiceRequest, reason: str) -> bool:
    """Offers ran out before enough volunteers accepted: back to the dispatch queue.
    Returns False if the request had already moved on (nothing to do)."""
    try:
        transition(request=request, to_status=Status.QUEUED, actor=None, reason=reason, expected_status=Status.OFFERED)
    except Conflict:
        return False
    notify(
        recipient_ids=_staff_ids(request), kind=Kind.RETURNED_TO_QUEUE, request_id=request.id, params=_notice(request)
    )
    return True


def request_start_service(*, request: ServiceRequest, actor: User) -> None:
    """The first accepted volunteer checked in."""
    if request.status == Status.ACCEPTED:
        transition(request=request, to_status=Status.IN_SERVICE, actor=actor, reason=gettext_noop("志愿者已到达"))
        notify(
            recipient_ids=[request.requester_id], kind=Kind.IN_SERVICE, request_id=request.id, params=_notice(request)
        )


def request_complete(*, request: ServiceRequest, actor: User, reason: str) -> None:
    """Every accepted volunteer has checked out."""
    transition(
        request=request, to_status=Status.COMPLETED, actor=actor, reason=reason, expected_status=Status.IN_SERVICE
    )
    notify(recipient_ids=[request.requester_id], kind=Kind.PLEASE_RATE, request_id=request.id, params=_notice(request))
    notify(recipient_ids=_staff_ids(request), kind=Kind.COMPLETED, request_id=request.id, params=_notice(request))


def request_cancelled(*, request: ServiceRequest, actor: User, reason: str) -> None:
    """Record the cancellation itself; dispatch withdraws the offers around it."""
    if not request.can_be_cancelled:
        raise Conflict(
            _("工单当前状态为「%(status)s」，不能取消。") % {"status": request.get_status_display()},
            code="not_cancellable",
        )
    transition(request=request, to_status=Status.CANCELLED, actor=actor, reason=reason, status_reason=reason)
    recipients = set(_staff_ids(request)) | {request.requester_id}
    recipients.discard(actor.id)
    notify(recipient_ids=recipients, kind=Kind.CANCELLED, request_id=request.id, params=_notice(request, reason=reason))


def request_mark_rated(*, request: ServiceRequest, actor: User) -> None:
    """评单 done: completed → rated → closed. (Follow-up of low ratings comes with evaluation.)"""
    transition(request=request, to_status=Status.RATED, actor=actor, expected_status=Status.COMPLETED)
    transition(
        request=request,
        to_status=Status.CLOSED,
        actor=actor,
        reason=gettext_noop("已评价，工单办结"),
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
                        reason=gettext_noop("超时未派出，已上报中心"),
                        expected_status=Status.QUEUED,
                    )
                    dispatchers = centre_dispatchers().values_list("id", flat=True)
                    notify(
                        recipient_ids=dispatchers, kind=Kind.ESCALATED, request_id=request.id, params=_notice(request)
                    )
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
                    reason=ngettext(
                        "超过%(days)s天未评价，自动办结",
                        "超过%(days)s天未评价，自动办结",
                        settings.UNRATED_CLOSE_AFTER_DAYS,
                    )
                    % {"days": settings.UNRATED_CLOSE_AFTER_DAYS},
                    expected_status=Status.COMPLETED,
                )
            closed += 1
        except Conflict:
            continue  # rated in the meantime
    return closed
