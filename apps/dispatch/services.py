"""Dispatch (派单) and the volunteer's side of a task (接单, arrive, complete, withdraw).

Locking rule: every write here first locks the request row (``request_lock``) and only then
touches offers, so concurrent accepts, declines, expiries and cancellations queue in one order
and never deadlock. Offer status changes are conditional UPDATEs like request transitions."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from apps.accounts.areas import staff_covering
from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status
from apps.volunteers.models import VolunteerProfile

from .models import HOLDS_PLACE, OFFER_TRANSITIONS, Offer, OfferStatus, round_to_half_hour

MAX_OFFERS_PER_DISPATCH = 50
OPEN_STATUSES = [OfferStatus.OFFERED, OfferStatus.ACCEPTED, OfferStatus.IN_SERVICE, OfferStatus.COMPLETED]


def _offer_transition(*, offer: Offer, from_status: str, to_status: str, **updates: object) -> None:
    if to_status not in OFFER_TRANSITIONS[from_status]:
        raise Conflict(
            _("该邀请当前状态为「%(from)s」，不能变更为「%(to)s」。")
            % {"from": OfferStatus(from_status).label, "to": OfferStatus(to_status).label},
            code="illegal_transition",
        )
    changed = Offer.objects.filter(id=offer.id, status=from_status).update(status=to_status, **updates)
    if not changed:
        raise Conflict(_("该邀请状态已变化，请刷新后重试。"), code="stale_status")
    offer.status = to_status
    for field, value in updates.items():
        setattr(offer, field, value)


def _lock(offer: Offer) -> tuple[ServiceRequest, Offer]:
    """Lock the request, then re-read the offer under that lock."""
    request = request_services.request_lock(request_id=offer.request_id)
    return request, Offer.objects.select_related("volunteer__user").get(id=offer.id)


def _notice(request: ServiceRequest, **extra: object) -> dict[str, object]:
    return {"title": request.title, **extra}


def _staff_ids(request: ServiceRequest) -> list[int]:
    return list(
        staff_covering(
            township_id=request.township_id, village_id=request.village_id, category_id=request.category_id
        ).values_list("id", flat=True)
    )


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
    unavailable = [v.volunteer_number for v in volunteers if not v.can_receive_offers]
    if unavailable:
        raise DomainError(
            _("以下志愿者未通过实名核验或已停止服务：%(numbers)s") % {"numbers": "、".join(unavailable)},
            code="volunteer_unavailable",
        )
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        if not locked.can_be_dispatched:
            raise Conflict(
                _("工单当前状态为「%(status)s」，不能派单。") % {"status": locked.get_status_display()},
                code="not_dispatchable",
            )
        already = set(
            Offer.objects.filter(request=locked, volunteer__in=volunteers, status__in=OPEN_STATUSES).values_list(
                "volunteer__volunteer_number", flat=True
            )
        )
        if already:
            raise DomainError(
                _("已向以下志愿者派过单：%(numbers)s") % {"numbers": "、".join(sorted(already))}, code="already_offered"
            )
        minutes = expires_in_minutes or settings.OFFER_EXPIRY_MINUTES[locked.urgency]
        expires_at = timezone.now() + timedelta(minutes=minutes)
        offers = Offer.objects.bulk_create(
            [Offer(request=locked, volunteer=v, offered_by=actor, expires_at=expires_at) for v in volunteers]
        )
        request_services.request_mark_offered(
            request=locked,
            actor=actor,
            reason=ngettext("已向%(n)d名志愿者发出服务邀请", "已向%(n)d名志愿者发出服务邀请", len(offers))
            % {"n": len(offers)},
        )
        notify(
            recipient_ids=[v.user_id for v in volunteers],
            kind=Kind.OFFERED,
            request_id=locked.id,
            params=_notice(locked, expires=date_format(timezone.localtime(expires_at), "Y-m-d H:i")),
        )
    request.status = locked.status
    return offers


def _closed_message(status: str, request: ServiceRequest | None = None) -> str:
    if request is not None and request.status == Status.CANCELLED:
        # Cancelling withdraws the offers too; "someone else took it" would be untrue.
        return _("该需求已取消。")
    if status == OfferStatus.WITHDRAWN:
        return _("手慢了，这个需求已经有志愿者接单了。")
    if status == OfferStatus.EXPIRED:
        return _("该邀请已过期。")
    return _("该邀请已答复过了。")


def offer_accept(*, offer: Offer, volunteer: VolunteerProfile) -> Offer:
    """接单, first come first served: exactly ``volunteers_needed`` acceptances win; the rest
    get a Conflict saying the request is taken. When the last place fills, the other open
    offers are withdrawn and their volunteers told."""
    with transaction.atomic():
        request, offer = _lock(offer)
        now = timezone.now()
        if offer.status != OfferStatus.OFFERED:
            raise Conflict(_closed_message(offer.status, request), code="offer_closed")
        if offer.expires_at <= now:
            raise Conflict(_closed_message(OfferStatus.EXPIRED), code="offer_expired")
        request = request_services.request_record_acceptance(request_id=request.id, actor=volunteer.user)
        _offer_transition(
            offer=offer, from_status=OfferStatus.OFFERED, to_status=OfferStatus.ACCEPTED, responded_at=now
        )
        if request.status == Status.ACCEPTED:
            others = list(
                Offer.objects.filter(request=request, status=OfferStatus.OFFERED).values_list(
                    "id", "volunteer__user_id"
                )
            )
            Offer.objects.filter(id__in=[oid for oid, _uid in others]).update(
                status=OfferStatus.WITHDRAWN, responded_at=now, response_note=gettext_noop("已满员")
            )
            notify(
                recipient_ids=[uid for _oid, uid in others],
                kind=Kind.OFFER_CLOSED,
                request_id=request.id,
                params=_notice(request, reason=gettext_noop("所需志愿者已满员，感谢您的关注。")),
            )
        params = _notice(request, volunteer=f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）")
        notify(
            recipient_ids=[request.requester_id, *_staff_ids(request)],
            kind=Kind.ACCEPTED,
            request_id=request.id,
            params=params,
        )
    return offer


def offer_decline(*, offer: Offer, volunteer: VolunteerProfile, reason: str = "") -> Offer:
    """婉拒 an offer. If no live offer is left and places remain, the request goes back to the queue."""
    with transaction.atomic():
        request, offer = _lock(offer)
        if offer.status != OfferStatus.OFFERED:
            raise Conflict(_closed_message(offer.status, request), code="offer_closed")
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.OFFERED,
            to_status=OfferStatus.DECLINED,
            responded_at=timezone.now(),
            response_note=reason,
        )
        _return_if_no_live_offers(request)
    return offer


def _live_offers_remain(request: ServiceRequest) -> bool:
    return Offer.objects.filter(request=request, status=OfferStatus.OFFERED, expires_at__gt=timezone.now()).exists()


def _return_if_no_live_offers(request: ServiceRequest) -> None:
    if request.status == Status.OFFERED and not _live_offers_remain(request):
        request_services.request_return_to_queue(request=request, reason=gettext_noop("邀请均已婉拒或过期，退回待派单"))


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
            expired += Offer.objects.filter(request=request, status=OfferStatus.OFFERED, expires_at__lte=now).update(
                status=OfferStatus.EXPIRED
            )
            _return_if_no_live_offers(request)
    return expired


def offer_check_in(*, offer: Offer, volunteer: VolunteerProfile) -> Offer:
    """Arrived: service time starts now (travel is not counted)."""
    with transaction.atomic():
        request, offer = _lock(offer)
        if request.status not in (Status.ACCEPTED, Status.IN_SERVICE):
            raise Conflict(_("请等待所需志愿者全部接单后再签到。"), code="not_ready")
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.ACCEPTED,
            to_status=OfferStatus.IN_SERVICE,
            checked_in_at=timezone.now(),
        )
        request_services.request_start_service(request=request, actor=volunteer.user)
    return offer


def offer_complete(*, offer: Offer, volunteer: VolunteerProfile, report: str = "") -> Offer:
    """Checked out: hours from check-in to now in 0.5 h steps. The request completes when every
    volunteer holding a place has checked out."""
    with transaction.atomic():
        request, offer = _lock(offer)
        now = timezone.now()
        if offer.status != OfferStatus.IN_SERVICE or offer.checked_in_at is None:
            raise Conflict(_("请先签到，再完成服务。"), code="not_checked_in")
        hours = round_to_half_hour((now - offer.checked_in_at).total_seconds())
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.IN_SERVICE,
            to_status=OfferStatus.COMPLETED,
            checked_out_at=now,
            hours=hours,
            report=report,
        )
        if not Offer.objects.filter(request=request, status__in=HOLDS_PLACE).exists():
            request_services.request_complete(
                request=request, actor=volunteer.user, reason=gettext_noop("志愿者已全部完成服务")
            )
    return offer


def offer_release(*, offer: Offer, volunteer: VolunteerProfile, reason: str) -> Offer:
    """A volunteer who accepted but cannot go says so (Art. 22); the place returns to dispatch."""
    if not reason.strip():
        raise DomainError(_("请说明无法前往的原因。"), code="reason_required")
    with transaction.atomic():
        request, offer = _lock(offer)
        _offer_transition(
            offer=offer,
            from_status=OfferStatus.ACCEPTED,
            to_status=OfferStatus.RELEASED,
            responded_at=timezone.now(),
            response_note=reason,
        )
        request_services.request_record_release(
            request=request, actor=volunteer.user, reason=reason, live_offers_remain=_live_offers_remain(request)
        )
        notify(
            recipient_ids=_staff_ids(request),
            kind=Kind.VOLUNTEER_RELEASED,
            request_id=request.id,
            params=_notice(request, volunteer=volunteer.volunteer_number, reason=reason),
        )
    return offer


def request_cancel(*, request: ServiceRequest, actor: User, reason: str) -> ServiceRequest:
    """Cancel a request (by its requester or its staff) and withdraw every open offer."""
    reason = reason.strip() or gettext_noop("群众取消")
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        request_services.request_cancelled(request=locked, actor=actor, reason=reason)
        affected = list(
            Offer.objects.filter(request=locked, status__in=[OfferStatus.OFFERED, *HOLDS_PLACE]).values_list(
                "id", "volunteer__user_id"
            )
        )
        Offer.objects.filter(id__in=[oid for oid, _uid in affected]).update(
            status=OfferStatus.WITHDRAWN, response_note=reason
        )
        notify(
            recipient_ids=[uid for _oid, uid in affected],
            kind=Kind.OFFER_CLOSED,
            request_id=locked.id,
            params=_notice(locked, reason=reason),
        )
    return locked
