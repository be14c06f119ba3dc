"""Dispatch (派单) and the volunteer's side of a task (接单, arrive, complete, withdraw).

Locking rule: every write here first locks the request row (``request_lock``) and only then
touches offers, so concurrent accepts, declines, expiries and cancellations queue in one order
and never deadlock. Offer status changes go through ``OFFER_MACHINE``, the same transition machine
as requests: a conditional UPDATE and one event row per offer moved."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.core.reasons import NO_REASON, Reason
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import DispatchMode
from apps.service_requests import links
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status
from apps.volunteers.models import VolunteerProfile

from .models import HOLDS_PLACE, OFFER_MACHINE, Offer, OfferEvent, OfferStatus, round_to_half_hour
from .selectors import offer_expected_arrival

MAX_OFFERS_PER_DISPATCH = 50
OPEN_STATUSES = [
    OfferStatus.OFFERED,
    OfferStatus.ACCEPTED,
    OfferStatus.ON_THE_WAY,
    OfferStatus.IN_SERVICE,
    OfferStatus.COMPLETED,
]


def _offer_transition(
    *, offer: Offer, from_status: str, to_status: str, actor: User | None, reason: Reason = NO_REASON, **updates: object
) -> None:
    OFFER_MACHINE.move(offer, to=to_status, expected=from_status, actor=actor, reason=reason, **updates)
    # Accepted, declined, released, completed: what the ranking knows of the volunteer changed.
    request_services.request_history_changed(request_id=offer.request_id)


def _lock(offer: Offer) -> tuple[ServiceRequest, Offer]:
    """Lock the request, then re-read the offer under that lock."""
    request = request_services.request_lock(request_id=offer.request_id)
    return request, Offer.objects.select_related("volunteer__user").get(id=offer.id)


def _notice(request: ServiceRequest, **extra: object) -> dict[str, object]:
    return {"title": request.title, **extra}


def _volunteer_user_ids(offer_ids: list[int]) -> list[int]:
    return list(Offer.objects.filter(id__in=offer_ids).values_list("volunteer__user_id", flat=True))


def dispatch_directed(
    *, request: ServiceRequest, actor: User, volunteers: list[VolunteerProfile], expires_in_minutes: int | None = None
) -> list[Offer]:
    """派单: offer the request to the chosen volunteers. Preconditions (checked by the caller's
    selectors): ``actor`` manages the request and may see every volunteer. Side effects: one
    offer per volunteer with an expiry, the request moves to ``offered``, volunteers notified."""
    if not volunteers:
        raise DomainError(_("请至少选择一名志愿者。"), code="no_volunteers")
    if len(volunteers) > MAX_OFFERS_PER_DISPATCH:
        raise DomainError(_("一次最多向%(n)d名志愿者派单。") % {"n": MAX_OFFERS_PER_DISPATCH}, code="too_many")
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        offers = offers_send(
            request=locked,
            volunteers=volunteers,
            actor=actor,
            via=DispatchMode.DIRECTED,
            expires_in_minutes=expires_in_minutes,
            reason=Reason.system("offers_sent", n=len(volunteers)),
        )
    request.status = locked.status
    return offers


def offers_send(
    *,
    request: ServiceRequest,
    volunteers: list[VolunteerProfile],
    actor: User | None,
    via: str,
    reason: Reason,
    wave: int | None = None,
    expires_in_minutes: int | None = None,
    notice_kind: str = Kind.OFFERED,
    notice_params: dict[str, object] | None = None,
    notice_link: str | None = None,
) -> list[Offer]:
    """Offer ``request`` to ``volunteers``: the one way offers are made, by staff (directed), the
    queue (a wave), or a team leader. Must run inside a transaction holding the request's lock
    (``request_services.request_lock``). Side effects: one offer per volunteer with an expiry, the
    request moves to ``offered`` (an event with ``reason``), the volunteers notified."""
    unavailable = [v.volunteer_number or v.user.masked_name for v in volunteers if not v.can_receive_offers]
    if unavailable:
        raise DomainError(
            _("以下志愿者未通过实名核验或已停止服务：%(numbers)s") % {"numbers": "、".join(unavailable)},
            code="volunteer_unavailable",
        )
    if not request.can_be_dispatched:
        raise Conflict(
            _("工单当前状态为「%(status)s」，不能派单。") % {"status": request.get_status_display()},
            code="not_dispatchable",
        )
    already = set(
        Offer.objects.filter(request=request, volunteer__in=volunteers, status__in=OPEN_STATUSES).values_list(
            "volunteer__volunteer_number", flat=True
        )
    )
    if already:
        raise Conflict(
            _("已向以下志愿者派过单：%(numbers)s") % {"numbers": "、".join(sorted(str(n) for n in already))},
            code="already_offered",
        )
    minutes = expires_in_minutes or settings.OFFER_EXPIRY_MINUTES[request.urgency]
    expires_at = timezone.now() + timedelta(minutes=minutes)
    offers = Offer.objects.bulk_create(
        [
            Offer(request=request, volunteer=v, offered_by=actor, expires_at=expires_at, via=via, wave=wave)
            for v in volunteers
        ]
    )
    OFFER_MACHINE.record_created(offers, actor=actor)
    request_services.request_mark_offered(request=request, actor=actor, reason=reason)
    notify(
        recipient_ids=[v.user_id for v in volunteers],
        kind=notice_kind,
        request_id=request.id,
        params=_notice(
            request, expires=date_format(timezone.localtime(expires_at), "Y-m-d H:i"), **(notice_params or {})
        ),
        link=notice_link or links.volunteer_offers(),
    )
    return offers


# An action whose effect already holds, asked again by the same volunteer (a retry after a lost
# answer), succeeds again and changes nothing: the offer statuses at or past each action's result.
ACCEPTED_OR_LATER = frozenset(
    {OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE, OfferStatus.COMPLETED}
)
DEPARTED_OR_LATER = frozenset({OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE, OfferStatus.COMPLETED})
ARRIVED_OR_LATER = frozenset({OfferStatus.IN_SERVICE, OfferStatus.COMPLETED})
# Holding a place and not yet arrived: may depart (once), check in, or say they cannot go.
BEFORE_ARRIVAL = frozenset({OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY})


def _closed(offer: Offer, request: ServiceRequest) -> Conflict:
    """Why ``offer`` can no longer be answered, each cause with its own code."""
    if request.status == Status.CANCELLED:
        # Cancelling withdraws the offers too; "someone else took it" would be untrue.
        return Conflict(_("该需求已取消。"), code="request_cancelled")
    if offer.status == OfferStatus.WITHDRAWN:
        return Conflict(_("手慢了，这个需求已经有志愿者接单了。"), code="offer_taken")
    if offer.status == OfferStatus.EXPIRED or (
        offer.status == OfferStatus.OFFERED and offer.expires_at <= timezone.now()
    ):
        return Conflict(_("该邀请已过期。"), code="offer_expired")
    if offer.status == OfferStatus.DECLINED:
        return Conflict(_("您已婉拒了这个邀请。"), code="offer_declined")
    if offer.status == OfferStatus.RELEASED:
        return Conflict(_("您已说明无法前往，这个任务已交还派单。"), code="offer_released")
    if offer.status in ACCEPTED_OR_LATER:
        return Conflict(_("您已接下这个任务。"), code="already_accepted")
    return Conflict(_("该邀请已答复过了。"), code="offer_closed")


def offer_accept(*, offer: Offer, volunteer: VolunteerProfile) -> Offer:
    """接单, first come first served: exactly ``volunteers_needed`` acceptances win; the rest
    get a Conflict ``offer_taken``. When the last place fills, the other open offers are
    withdrawn and their volunteers told.

    Safe to retry: if ``volunteer`` already accepted this offer (or has gone on to arrive or
    complete), the offer is returned as it is, with no event, notification or count."""
    with transaction.atomic():
        request, offer = _lock(offer)
        now = timezone.now()
        if offer.volunteer_id == volunteer.id and offer.status in ACCEPTED_OR_LATER:
            return offer
        if offer.status != OfferStatus.OFFERED or offer.expires_at <= now:
            raise _closed(offer, request)
        request = request_services.request_record_acceptance(request_id=request.id, actor=volunteer.user)
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.OFFERED,
            to_status=OfferStatus.ACCEPTED,
            actor=volunteer.user,
            responded_at=now,
        )
        if request.status == Status.ACCEPTED:
            withdrawn = OFFER_MACHINE.move_many(
                Offer.objects.filter(request=request),
                from_status=OfferStatus.OFFERED,
                to=OfferStatus.WITHDRAWN,
                actor=None,
                reason=Reason.system("places_filled"),
                responded_at=now,
            )
            notify(
                recipient_ids=_volunteer_user_ids(withdrawn),
                kind=Kind.OFFER_CLOSED,
                request_id=request.id,
                params=_notice(request, **Reason.system("places_filled_thanks").as_params()),
                link=links.volunteer_tasks(),
            )
        who = f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"
        request_services.tell(
            request,
            Kind.ACCEPTED,
            requester_ids=[request.requester_id],
            staff_ids=request_services.staff_ids_for(request),
            volunteer=who,
        )
    return offer


def offer_decline(*, offer: Offer, volunteer: VolunteerProfile, reason: str = "") -> Offer:
    """婉拒 an offer. If no live offer is left and places remain, the request goes back to the
    queue. Safe to retry: an offer this volunteer already declined is returned as it is."""
    with transaction.atomic():
        request, offer = _lock(offer)
        if offer.volunteer_id == volunteer.id and offer.status == OfferStatus.DECLINED:
            return offer
        if offer.status != OfferStatus.OFFERED:
            raise _closed(offer, request)
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.OFFERED,
            to_status=OfferStatus.DECLINED,
            actor=volunteer.user,
            reason=Reason.typed(reason),
            responded_at=timezone.now(),
            response_note=reason.strip(),
        )
        _return_if_no_live_offers(request)
        request_services.request_needs_matching(request)
    return offer


def _live_offers_remain(request: ServiceRequest) -> bool:
    return Offer.objects.filter(request=request, status=OfferStatus.OFFERED, expires_at__gt=timezone.now()).exists()


def _return_if_no_live_offers(request: ServiceRequest) -> None:
    if request.status == Status.OFFERED and not _live_offers_remain(request):
        request_services.request_return_to_queue(request=request, reason=Reason.system("offers_ran_out"))


def offers_expire(*, now: datetime | None = None) -> int:
    """The beat sweep: expire offers past their time and return requests with no live offer
    to the queue. Safe to run twice or concurrently: every change is conditional."""
    now = now or timezone.now()
    request_ids = list(
        Offer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=now)
        .order_by("request_id")
        .values_list("request_id", flat=True)
        .distinct()[:500]
    )
    expired = 0
    for request_id in request_ids:
        with transaction.atomic():
            request = request_services.request_lock(request_id=request_id)
            expired += len(
                OFFER_MACHINE.move_many(
                    Offer.objects.filter(request=request, expires_at__lte=now),
                    from_status=OfferStatus.OFFERED,
                    to=OfferStatus.EXPIRED,
                    actor=None,
                    reason=Reason.system("offer_lapsed"),
                )
            )
            # An offer left to lapse counts as an answer in the volunteers' history. (Withdrawn
            # offers count nowhere: withdrawing them elsewhere asks for no recount.)
            request_services.request_history_changed(request_id=request.id)
            _return_if_no_live_offers(request)
            request_services.request_needs_matching(request)
    return expired


# 出发: the longest trip a volunteer may announce, in minutes (ten hours).
MAX_ETA_MINUTES = 600
# The largest value ``Offer.eta_minutes`` can hold (a PositiveSmallIntegerField).
_ETA_COLUMN_MAX = 32767


def eta_range_message() -> str:
    """What an ETA out of range is told, in the active language (service, API and page alike)."""
    return _("预计到达时间须在1到%(max)d分钟之间。") % {"max": MAX_ETA_MINUTES}


def offer_depart(*, offer: Offer, volunteer: VolunteerProfile, eta_minutes: int | None = None) -> Offer:
    """出发: the volunteer holding a place sets off, optionally saying in how many minutes
    (1–600) they expect to arrive. Side effects: the offer moves accepted → on the way with
    ``departed_at`` and ``eta_minutes`` (one event, reason ``on_the_way`` or ``on_the_way_eta``);
    the resident and the staff of the area are told, with the volunteer's masked name and number
    and the expected arrival. Service hours still start at check-in: travel is not counted.

    ``Offer.eta_minutes`` counts from ``departed_at``, so the expected arrival is always
    ``departed_at + eta_minutes`` (:func:`offer_expected_arrival`). Departing again while on the
    way with a new ETA revises it (see :func:`_revise_eta`).

    Safe to retry: a repeat that moves the expected arrival by less than a minute (the same ETA
    sent again, or none), and a depart once the volunteer has arrived or completed, return the
    offer as it is, with no event or notification. Refusals (Conflict): ``not_accepted`` before
    接单, or as :func:`_closed` says (cancelled, released, expired…)."""
    if eta_minutes is not None and not 1 <= eta_minutes <= MAX_ETA_MINUTES:
        raise DomainError(eta_range_message(), code="invalid_eta")
    with transaction.atomic():
        request, offer = _lock(offer)
        now = timezone.now()
        if offer.volunteer_id == volunteer.id and offer.status in ARRIVED_OR_LATER:
            return offer
        if request.status == Status.CANCELLED:
            raise _closed(offer, request)
        if offer.volunteer_id == volunteer.id and offer.status == OfferStatus.ON_THE_WAY:
            return _revise_eta(offer=offer, request=request, volunteer=volunteer, eta_minutes=eta_minutes, now=now)
        if offer.status == OfferStatus.OFFERED and offer.expires_at > now:
            raise Conflict(_("请先接单，再出发。"), code="not_accepted")
        if offer.status != OfferStatus.ACCEPTED:
            raise _closed(offer, request)
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.ACCEPTED,
            to_status=OfferStatus.ON_THE_WAY,
            actor=volunteer.user,
            reason=_departure_reason(eta_minutes),
            departed_at=now,
            eta_minutes=eta_minutes,
        )
        _tell_on_the_way(request=request, volunteer=volunteer, eta_minutes=eta_minutes, now=now)
    return offer


def _departure_reason(eta_minutes: int | None) -> Reason:
    return Reason.system("on_the_way_eta", minutes=eta_minutes) if eta_minutes else Reason.system("on_the_way")


def _revise_eta(
    *, offer: Offer, request: ServiceRequest, volunteer: VolunteerProfile, eta_minutes: int | None, now: datetime
) -> Offer:
    """A new ETA from a volunteer already on the way ("still 10 minutes"). Unless it moves the
    expected arrival by a minute or more, nothing changes (a retry). Otherwise ``eta_minutes``
    becomes the minutes from departure to the new expected arrival, a small event on the way →
    on the way with reason ``on_the_way_eta`` (the minutes as given) records it, and the resident
    and staff are told again. The table has no such move: the status does not change, so the
    event is written here, in the same transaction, under the request's lock."""
    if eta_minutes is None or offer.departed_at is None:
        return offer
    expected = now + timedelta(minutes=eta_minutes)
    current = offer_expected_arrival(offer)
    if current is not None and abs((expected - current).total_seconds()) < 60:
        return offer
    total = min(round((expected - offer.departed_at).total_seconds() / 60), _ETA_COLUMN_MAX)
    Offer.objects.filter(id=offer.id, status=OfferStatus.ON_THE_WAY).update(eta_minutes=total)
    offer.eta_minutes = total
    OfferEvent.objects.create(
        offer=offer,
        from_status=OfferStatus.ON_THE_WAY,
        to_status=OfferStatus.ON_THE_WAY,
        actor=volunteer.user,
        **_departure_reason(eta_minutes).as_fields(),
    )
    _tell_on_the_way(request=request, volunteer=volunteer, eta_minutes=eta_minutes, now=now)
    return offer


def _tell_on_the_way(
    *, request: ServiceRequest, volunteer: VolunteerProfile, eta_minutes: int | None, now: datetime
) -> None:
    params: dict[str, object] = {"volunteer": f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"}
    if eta_minutes:
        arrival = timezone.localtime(now + timedelta(minutes=eta_minutes))
        params |= {"eta_minutes": eta_minutes, "arrive": date_format(arrival, "H:i")}
    request_services.tell(
        request,
        Kind.ON_THE_WAY,
        requester_ids=[request.requester_id],
        staff_ids=request_services.staff_ids_for(request),
        **params,
    )


def offer_check_in(*, offer: Offer, volunteer: VolunteerProfile) -> Offer:
    """Arrived, from accepted or on the way (出发 is optional): service time starts now (travel
    is not counted, even when the volunteer tapped 出发). Safe to retry: an offer this volunteer
    already checked in on (or completed) is returned as it is."""
    with transaction.atomic():
        request, offer = _lock(offer)
        if offer.volunteer_id == volunteer.id and offer.status in ARRIVED_OR_LATER:
            return offer
        if request.status == Status.CANCELLED:
            raise _closed(offer, request)
        if request.status not in (Status.ACCEPTED, Status.IN_SERVICE):
            raise Conflict(_("请等待所需志愿者全部接单后再签到。"), code="not_ready")
        if offer.status not in BEFORE_ARRIVAL:
            raise _closed(offer, request)
        _offer_transition(
            offer=offer,
            from_status=offer.status,
            to_status=OfferStatus.IN_SERVICE,
            actor=volunteer.user,
            checked_in_at=timezone.now(),
        )
        request_services.request_start_service(request=request, actor=volunteer.user)
    return offer


def offer_complete(*, offer: Offer, volunteer: VolunteerProfile, report: str = "") -> Offer:
    """Checked out: hours from check-in to now in 0.5 h steps. The request completes when every
    volunteer holding a place has checked out. Safe to retry: an offer this volunteer already
    completed is returned as it is (the first report and hours stand)."""
    with transaction.atomic():
        request, offer = _lock(offer)
        now = timezone.now()
        if offer.volunteer_id == volunteer.id and offer.status == OfferStatus.COMPLETED:
            return offer
        if request.status == Status.CANCELLED:
            raise _closed(offer, request)
        if offer.status != OfferStatus.IN_SERVICE or offer.checked_in_at is None:
            raise Conflict(_("请先签到，再完成服务。"), code="not_checked_in")
        hours = round_to_half_hour((now - offer.checked_in_at).total_seconds())
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.IN_SERVICE,
            to_status=OfferStatus.COMPLETED,
            actor=volunteer.user,
            checked_out_at=now,
            hours=hours,
            report=report,
        )
        if not Offer.objects.filter(request=request, status__in=HOLDS_PLACE).exists():
            request_services.request_complete(
                request=request, actor=volunteer.user, reason=Reason.system("all_completed")
            )
    return offer


def offer_release(*, offer: Offer, volunteer: VolunteerProfile, reason: str) -> Offer:
    """A volunteer who accepted (or is already on the way) but cannot go says so (Art. 22); the
    place returns to dispatch. Safe to retry: an offer this volunteer already released is
    returned as it is."""
    typed = Reason.typed(reason)
    if not typed:
        raise DomainError(_("请说明无法前往的原因。"), code="reason_required")
    with transaction.atomic():
        request, offer = _lock(offer)
        if offer.volunteer_id == volunteer.id and offer.status == OfferStatus.RELEASED:
            return offer
        if request.status == Status.CANCELLED:
            raise _closed(offer, request)
        _offer_transition(
            offer=offer,
            # Any other status is refused by the machine (the offer is not the accepted one it expects).
            from_status=offer.status if offer.status in BEFORE_ARRIVAL else OfferStatus.ACCEPTED,
            to_status=OfferStatus.RELEASED,
            actor=volunteer.user,
            reason=typed,
            responded_at=timezone.now(),
            response_note=typed.text,
        )
        request_services.request_record_release(
            request=request, actor=volunteer.user, reason=typed, live_offers_remain=_live_offers_remain(request)
        )
        request_services.tell_staff(
            request, Kind.VOLUNTEER_RELEASED, volunteer=volunteer.volunteer_number, **typed.as_params()
        )
        request_services.request_needs_matching(request)
    return offer


def request_cancel(*, request: ServiceRequest, actor: User, reason: str) -> ServiceRequest:
    """Cancel a request (by its requester or its staff) and withdraw every open offer and task.
    The places of the withdrawn tasks are freed in the same transaction, so
    ``volunteers_accepted`` counts only places still held (none, once cancelled)."""
    why = Reason.typed(reason) or Reason.system(
        "cancelled_by_resident" if actor.id == request.requester_id else "cancelled_by_staff"
    )
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        request_services.request_cancelled(request=locked, actor=actor, reason=why)
        withdrawn: dict[str, list[int]] = {}
        # Cancelling is refused once service has begun, so no offer is in service here; a
        # volunteer on the way is stopped like one who accepted, and told.
        for from_status in (OfferStatus.OFFERED, OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY):
            withdrawn[from_status] = OFFER_MACHINE.move_many(
                Offer.objects.filter(request=locked),
                from_status=from_status,
                to=OfferStatus.WITHDRAWN,
                actor=actor,
                reason=why,
                response_note=why.text,
            )
        request_services.request_free_places(
            request=locked, places=len(withdrawn[OfferStatus.ACCEPTED]) + len(withdrawn[OfferStatus.ON_THE_WAY])
        )
        notify(
            recipient_ids=_volunteer_user_ids([pk for ids in withdrawn.values() for pk in ids]),
            kind=Kind.OFFER_CLOSED,
            request_id=locked.id,
            params=_notice(locked, **why.as_params()),
            link=links.volunteer_tasks(),
        )
    return locked
