"""Every write of ratings (评单) and of their follow-up cases (回访).

A rating of 1–2 stars, or one tagged as a complaint, opens a follow-up case in the rating's own
transaction; staff sample completed requests for routine 回访 too. Staff record each call and
close the case with an outcome the resident is told; a case still open past its deadline is
escalated to the centre by a periodic sweep (``ratings.escalate_overdue_follow_ups``)."""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.accounts.areas import area_of, centre_dispatchers
from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.reasons import source_text
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status

from .models import (
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpReason,
    FollowUpStatus,
    Rating,
    Tag,
)
from .selectors import requests_for_routine_follow_up

# The longest note of one call (FollowUpCall.notes).
CALL_NOTES_MAX = 500
# How many requests one routine sample may pick.
SAMPLE_MAX = 20
# Cases escalated per transaction by the sweep.
ESCALATE_BATCH = 500


class RatingResult(NamedTuple):
    rating: Rating
    created: bool  # False: the same rating by the same person was already there (a retry)


def rating_submit(*, request: ServiceRequest, actor: User, score: int, tags: list[str], comment: str = "") -> Rating:
    """评单, once. See :func:`rating_submit_or_repeat`."""
    return rating_submit_or_repeat(request=request, actor=actor, score=score, tags=tags, comment=comment).rating


def rating_submit_or_repeat(
    *, request: ServiceRequest, actor: User, score: int, tags: list[str], comment: str = ""
) -> RatingResult:
    """评单, once. Preconditions: ``actor`` is the requester or staff managing the request
    (checked by the caller's selector). Side effects: the request moves completed → rated → closed;
    a score of 1–2 (or else a complaint tag, see ``COMPLAINT_TAGS``) opens a follow-up case for the
    station's staff, who are told, in the same transaction.

    Safe to retry: if ``actor`` already gave exactly this rating (score, tags and comment), the
    existing rating is returned with ``created=False`` and nothing changes. Any other second
    rating is a Conflict ``already_rated``."""
    if not 1 <= score <= 5:
        raise DomainError(_("评分须为1到5。"), code="invalid_score")
    unknown = [t for t in tags if t not in Tag.values]
    if unknown:
        raise DomainError(_("未知的评价标签：%(tags)s") % {"tags": "、".join(unknown)}, code="invalid_tag")
    tags = list(dict.fromkeys(tags))
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        existing = Rating.objects.filter(request=locked).first()
        if existing is not None:
            if existing.rated_by_id == actor.id and (existing.score, existing.tags, existing.comment) == (
                score,
                tags,
                comment,
            ):
                return RatingResult(existing, created=False)
            raise Conflict(_("该工单已经评价过了。"), code="already_rated")
        if locked.status != Status.COMPLETED:
            raise Conflict(_("服务完成后才能评价。"), code="not_completed")
        rating = Rating.objects.create(
            request=locked,
            score=score,
            tags=tags,
            comment=comment,
            rated_by=actor,
            on_behalf=actor.id != locked.requester_id,
        )
        request_services.request_mark_rated(request=locked, actor=actor)
        # The volunteers who served it now have one more rating in their history.
        request_services.request_history_changed(request_id=locked.id)
        reason = rating.follow_up_reason
        if reason is not None:
            _follow_up_open_for_rating(request=locked, reason=reason, now=timezone.now())
    return RatingResult(rating, created=True)


# --- follow-up (回访) --------------------------------------------------------------------------------


def _case_link(case: FollowUp) -> str:
    return reverse("ratings:follow_up_detail", args=[case.id])


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _due_from(now: datetime) -> datetime:
    return now + timedelta(hours=settings.FOLLOW_UP_DUE_HOURS)


def _follow_up_open_for_rating(*, request: ServiceRequest, reason: str, now: datetime) -> FollowUp:
    """Open a ``reason`` case on a just-rated ``request`` and tell the staff whose area holds it.
    Must run inside the rating's transaction, after ``request_lock`` (a routine sample locks the
    request too before it opens a case, so the two never both open one).

    A routine case already open on the request (sampled before the resident rated) becomes this
    case: it keeps its deadline and takes the rating's reason."""
    case = FollowUp.objects.filter(request=request, status=FollowUpStatus.OPEN).first()
    if case is not None:
        if case.reason != FollowUpReason.ROUTINE:
            return case
        FollowUp.objects.filter(id=case.id, status=FollowUpStatus.OPEN).update(reason=reason)
        case.reason = reason
    else:
        case = FollowUp.objects.create(
            request=request, station_id=request.station_id, reason=reason, due_at=_due_from(now)
        )
    notify(
        recipient_ids=request_services.staff_ids_for(request),
        kind=Kind.FOLLOW_UP_OPENED,
        request_id=request.id,
        params={
            "title": request.title,
            "follow_up_reason": source_text(FollowUpReason(reason).label),
            "due": _local(case.due_at),
        },
        link=_case_link(case),
    )
    return case


def _check_manages(actor: User, request: ServiceRequest) -> None:
    if not area_of(actor).covers(
        township_id=request.township_id, village_id=request.village_id, category_id=request.category_id
    ):
        raise NotFound()


def follow_up_record_call(
    *, case: FollowUp, actor: User, reached: bool, notes: str = "", outcome: str | None = None, close: bool = False
) -> FollowUpCall:
    """Record one 回访 call on ``case`` (reached or not), and close the case if ``close``.

    Preconditions: ``actor`` is staff whose area holds the case's request (else NotFound). Closing
    needs an ``outcome`` (one of ``FollowUpOutcome``), whether the resident was reached or not (one
    never reached after several tries is closed as ``unresolved``); an outcome is given only to
    close. A closed case takes no more calls: Conflict ``follow_up_closed``.

    Side effects: a call row; on closing, the case's status, time, closer, ``reached``, outcome and
    notes, and a notification telling the resident the outcome. The case row is locked for the
    transaction, so two staff closing it at once close it once: the second gets the Conflict."""
    notes = notes.strip()
    outcome = outcome or ""
    if len(notes) > CALL_NOTES_MAX:
        raise DomainError(_("回访记录不能超过%(max)d个字。") % {"max": CALL_NOTES_MAX}, code="notes_too_long")
    if outcome and outcome not in FollowUpOutcome.values:
        raise DomainError(_("未知的回访结果：%(outcome)s") % {"outcome": outcome}, code="invalid_outcome")
    if close and not outcome:
        raise DomainError(_("办结回访时必须选择回访结果。"), code="outcome_required")
    if outcome and not close:
        raise DomainError(_("选择回访结果即表示办结，请同时勾选“办结”。"), code="outcome_without_close")
    _check_manages(actor, case.request)
    with transaction.atomic():
        try:
            locked = FollowUp.objects.select_for_update(of=("self",)).select_related("request").get(id=case.id)
        except FollowUp.DoesNotExist:
            raise NotFound() from None
        if locked.status != FollowUpStatus.OPEN:
            raise Conflict(_("该回访工单已办结，不能再记录回访。"), code="follow_up_closed")
        call = FollowUpCall.objects.create(case=locked, called_by=actor, reached=reached, notes=notes)
        if close:
            now = timezone.now()
            FollowUp.objects.filter(id=locked.id, status=FollowUpStatus.OPEN).update(
                status=FollowUpStatus.CLOSED,
                closed_at=now,
                closed_by=actor,
                reached=reached,
                outcome=outcome,
                notes=notes,
            )
            request_services.tell_requester(
                locked.request, Kind.FOLLOW_UP_CLOSED, outcome=source_text(FollowUpOutcome(outcome).label)
            )
    return call


def follow_ups_escalate_overdue(*, now: datetime | None = None) -> int:
    """The 回访 sweep: every open case past its deadline and not yet escalated is marked escalated
    at ``now`` and the centre's dispatchers are told, once per case. Idempotent. Works in batches
    of ``ESCALATE_BATCH`` cases, one transaction each; a case being closed at that moment (its row
    locked) is skipped and, if it stays open, taken by the next run. Returns how many escalated."""
    now = now or timezone.now()
    dispatcher_ids = list(centre_dispatchers().values_list("id", flat=True))
    escalated = 0
    while True:
        with transaction.atomic():
            batch = list(
                FollowUp.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(status=FollowUpStatus.OPEN, escalated_at__isnull=True, due_at__lt=now)
                .select_related("request", "station")
                .defer("request__address", "request__contact_phone", "request__description")
                .order_by("due_at", "id")[:ESCALATE_BATCH]
            )
            if not batch:
                break
            FollowUp.objects.filter(id__in=[case.id for case in batch], escalated_at__isnull=True).update(
                escalated_at=now
            )
            for case in batch:
                notify(
                    recipient_ids=dispatcher_ids,
                    kind=Kind.FOLLOW_UP_ESCALATED,
                    request_id=case.request_id,
                    params={"title": case.request.title, "station": case.station.name, "due": _local(case.due_at)},
                    link=_case_link(case),
                )
        escalated += len(batch)
        if len(batch) < ESCALATE_BATCH:
            break
    return escalated


def follow_ups_sample(*, actor: User, count: int, days: int = 30) -> list[FollowUp]:
    """例行抽查回访: open ``routine`` cases on up to ``count`` (1–``SAMPLE_MAX``) requests of
    ``actor``'s area, picked at random among those served to completion in the last ``days`` days
    that never had a follow-up case. Returns the cases opened (fewer than ``count``, or none, when
    fewer requests qualify). Nobody is notified: the actor asked for them.

    Each picked request is locked before its case opens, so a rating arriving at the same moment
    either opens its own case first (the request is then skipped) or finds the routine case and
    takes it over."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= SAMPLE_MAX:
        raise DomainError(_("抽样数量须为1到%(max)d之间的整数。") % {"max": SAMPLE_MAX}, code="invalid_count")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DomainError(_("抽样天数须为正整数。"), code="invalid_days")
    now = timezone.now()
    picked = list(
        requests_for_routine_follow_up(user=actor, since=now - timedelta(days=days))
        .order_by("?")
        .values_list("id", flat=True)[:count]
    )
    cases = []
    with transaction.atomic():
        # In id order: every writer that locks several requests does, so none waits on another in a circle.
        for request_id in sorted(picked):
            request = request_services.request_lock(request_id=request_id)
            if FollowUp.objects.filter(request_id=request_id).exists():
                continue  # rated meanwhile, and the rating opened a case
            cases.append(
                FollowUp.objects.create(
                    request=request, station_id=request.station_id, reason=FollowUpReason.ROUTINE, due_at=_due_from(now)
                )
            )
    return cases
