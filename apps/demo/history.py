"""Six weeks of past work for the demo, so that the board, the KPIs, the scorecards and the
monthly report have something to show: requests from a demo resident in 桃园街道, reviewed,
offered, accepted, served, most rated (a few low, which opens follow-up cases), some rejected
or cancelled. Each one goes through the real services; its times are then set back to when it
happened, and its dashboard fact rewritten. Seeded once (a fixed random seed: the same history
on every machine)."""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.dashboard.facts import facts_refresh
from apps.dispatch.models import Offer, round_to_half_hour
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete, request_cancel
from apps.organisation.models import Place, ServiceCategory
from apps.ratings.models import FollowUp, FollowUpCall, FollowUpOutcome, Rating
from apps.ratings.services import follow_up_record_call, rating_submit
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import RequestInput, request_review, request_submit
from apps.volunteers.models import VolunteerProfile

DAYS = 42
REQUESTS = 48
TITLES = [
    ("convenience", "帮忙换个灯泡"),
    ("convenience", "修理漏水的水龙头"),
    ("elderly-disabled", "陪老人去医院复查"),
    ("elderly-disabled", "帮独居老人打扫院子"),
    ("environment", "清理胡同里的垃圾"),
    ("convenience", "帮忙疏通下水道"),
]
TAG_SETS = [["friendly"], ["on_time", "skilled"], ["patient"], ["friendly", "patient"], []]


def _when(base: datetime, minutes: int) -> datetime:
    return base + timedelta(minutes=minutes)


def _follow_up_then(*, request_id: int, rated: datetime, staff: User, now: datetime) -> None:
    """A low rating's case as it would stand today: opened when the rating came, due 48 hours
    later; one older than four days was called and closed the next day (the resident told)."""
    case = FollowUp.objects.filter(request_id=request_id).first()
    if case is None:
        return
    due = rated + timedelta(hours=settings.FOLLOW_UP_DUE_HOURS)
    FollowUp.objects.filter(id=case.id).update(opened_at=rated, due_at=due)
    if rated < now - timedelta(days=4):
        follow_up_record_call(
            case=FollowUp.objects.get(id=case.id),
            actor=staff,
            reached=True,
            notes="已电话回访：志愿者迟到是因路上堵车，已向群众致歉，群众表示理解。",
            outcome=FollowUpOutcome.EXPLAINED,
            close=True,
        )
        called = rated + timedelta(hours=20)
        FollowUp.objects.filter(id=case.id).update(closed_at=called)
        FollowUpCall.objects.filter(case_id=case.id).update(called_at=called)


def seed_history(*, resident: User, staff: User, township: Place, villages: list[Place]) -> int:
    """The history, unless it is there already. Returns how many requests it added."""
    if ServiceRequest.objects.filter(requester=resident).exists():
        return 0
    rng = random.Random(2026)  # noqa: S311 — demo data, the same on every machine
    volunteers = list(
        VolunteerProfile.objects.filter(home_township=township, volunteer_number__isnull=False)
        .prefetch_related("categories")
        .order_by("volunteer_number")
    )
    categories = {c.code: c for c in ServiceCategory.objects.filter(code__in={code for code, _ in TITLES})}
    now = timezone.now()
    ids = []
    for i in range(REQUESTS):
        code, title = TITLES[i % len(TITLES)]
        category = categories[code]
        base = (now - timedelta(days=DAYS - i * DAYS / REQUESTS)).replace(second=0, microsecond=0)
        request = request_submit(
            data=RequestInput(
                category=category,
                title=title,
                description="示例数据：过去六周的服务记录。",
                village=villages[i % len(villages)],
                address="示例地址",
                contact_name=resident.name,
                contact_phone="13900000003",
                urgency="urgent" if i % 7 == 0 else "normal",
            ),
            requester=resident,
            entered_by=resident,
        )
        ids.append(request.id)
        times: dict[str, datetime] = {Status.SUBMITTED: base}
        review = _when(base, rng.randint(5, 120))
        if i % 16 == 5:
            request_review(request=request, actor=staff, accept=False, reason="不属于志愿服务范围，已转交村委会")
            times[Status.REJECTED] = review
        else:
            request_review(request=request, actor=staff, accept=True)
            times[Status.QUEUED] = review
            able = [v for v in volunteers if category in v.categories.all()]
            if i % 12 == 7 or not able:
                request_cancel(request=ServiceRequest.objects.get(id=request.id), actor=resident, reason="")
                times[Status.CANCELLED] = _when(review, rng.randint(10, 300))
            else:
                volunteer = able[i % len(able)]
                offered = _when(review, rng.randint(3, 90))
                (offer,) = dispatch_directed(
                    request=ServiceRequest.objects.get(id=request.id), actor=staff, volunteers=[volunteer]
                )
                offer_accept(offer=offer, volunteer=volunteer)
                offer_check_in(offer=Offer.objects.get(id=offer.id), volunteer=volunteer)
                offer_complete(offer=Offer.objects.get(id=offer.id), volunteer=volunteer, report="已完成")
                accepted = _when(offered, rng.randint(2, 150))
                checked_in = _when(accepted, rng.randint(20, 240))
                completed = _when(checked_in, rng.randint(30, 180))
                times |= {Status.OFFERED: offered, Status.ACCEPTED: accepted, Status.IN_SERVICE: checked_in}
                times[Status.COMPLETED] = completed
                Offer.objects.filter(id=offer.id).update(
                    created_at=offered,
                    responded_at=accepted,
                    checked_in_at=checked_in,
                    checked_out_at=completed,
                    hours=round_to_half_hour((completed - checked_in).total_seconds()),
                )
                if i % 5 != 4:  # four in five are rated; one in nine of those low
                    score = 2 if i % 9 == 2 else rng.choices([5, 4, 3], weights=[70, 22, 8])[0]
                    tags = ["late"] if score <= 2 else rng.choice(TAG_SETS)
                    rating_submit(
                        request=ServiceRequest.objects.get(id=request.id), actor=resident, score=score, tags=tags
                    )
                    rated = _when(completed, rng.randint(30, 2000))
                    times[Status.RATED] = times[Status.CLOSED] = rated
                    Rating.objects.filter(request_id=request.id).update(created_at=rated)
                    _follow_up_then(request_id=request.id, rated=rated, staff=staff, now=now)
        for event in RequestEvent.objects.filter(request_id=request.id):
            at = times.get(event.to_status)
            if at is not None:
                RequestEvent.objects.filter(id=event.id).update(created_at=at)
        last = max(times.values())
        ServiceRequest.objects.filter(id=request.id).update(created_at=base, status_changed_at=last)
    facts_refresh(request_ids=ids)
    return len(ids)
