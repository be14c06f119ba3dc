"""A small month of work, lived through the real services with the clock set for each step, so
that every KPI can be worked out by hand (see the numbers in ``EXPECTED``).

All in township A's village A1 and field "convenience" unless said; times from submission:

=====  =========================================================================================
R1     reviewed +10 min, offered +20, accepted +30, checked in +35, completed +120 → 1.5 h; 5★ friendly
R2     reviewed +30, offered +40, accepted +60, checked in +70, completed +180 → 2.0 h; 2★ late
R3     rejected by staff +5 ("不属于志愿服务范围")
R4     township B, field "environment": reviewed +50 by B's office, cancelled by the resident +60
R5     submitted, waiting for review
=====  =========================================================================================
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from apps.dashboard.facts import facts_refresh
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete, request_cancel
from apps.ratings.services import rating_submit
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from tests.conftest import Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2 November 2026, 09:00 in Zhuozhou.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


@contextmanager
def clock(at: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@dataclass
class Month:
    r1: ServiceRequest
    r2: ServiceRequest
    r3: ServiceRequest
    r4: ServiceRequest
    r5: ServiceRequest


def _submit(
    cast: Cast, org: dict, at: datetime, *, village: str = "village_a1", category: str = "category"
) -> ServiceRequest:
    with clock(at):
        return request_submit(
            data=RequestInput(
                category=org[category],
                title=f"需求 {at:%m-%d}",
                description="帮忙",
                village=org[village],
                address="东街1号",
                contact_name="王秀兰",
                contact_phone="13912345678",
                urgency="normal",
                volunteers_needed=1,
            ),
            requester=cast.resident,
            entered_by=cast.resident,
        )


def _serve(
    cast: Cast, request: ServiceRequest, volunteer, start: datetime, minutes: tuple[int, int, int, int, int]
) -> Offer:
    review, offer_at, accept, check_in, complete = minutes
    with clock(start + timedelta(minutes=review)):
        request_review(request=ServiceRequest.objects.get(id=request.id), actor=cast.staff_a, accept=True)
    with clock(start + timedelta(minutes=offer_at)):
        (offer,) = dispatch_directed(
            request=ServiceRequest.objects.get(id=request.id), actor=cast.staff_a, volunteers=[volunteer]
        )
    with clock(start + timedelta(minutes=accept)):
        offer_accept(offer=offer, volunteer=volunteer)
    with clock(start + timedelta(minutes=check_in)):
        offer_check_in(offer=Offer.objects.get(id=offer.id), volunteer=volunteer)
    with clock(start + timedelta(minutes=complete)):
        offer_complete(offer=Offer.objects.get(id=offer.id), volunteer=volunteer, report="好了")
    return offer


def build_month(cast: Cast, org: dict) -> Month:
    t1, t2, t3, t4, t5 = (T0 + timedelta(days=d) for d in range(5))
    r1 = _submit(cast, org, t1)
    _serve(cast, r1, cast.volunteer, t1, (10, 20, 30, 35, 120))
    with clock(t1 + timedelta(hours=3)):
        rating_submit(request=ServiceRequest.objects.get(id=r1.id), actor=cast.resident, score=5, tags=["friendly"])
    r2 = _submit(cast, org, t2)
    _serve(cast, r2, cast.other_volunteer, t2, (30, 40, 60, 70, 180))
    with clock(t2 + timedelta(hours=4)):
        rating_submit(request=ServiceRequest.objects.get(id=r2.id), actor=cast.resident, score=2, tags=["late"])
    r3 = _submit(cast, org, t3)
    with clock(t3 + timedelta(minutes=5)):
        request_review(
            request=ServiceRequest.objects.get(id=r3.id), actor=cast.staff_a, accept=False, reason="不属于志愿服务范围"
        )
    r4 = _submit(cast, org, t4, village="village_b1", category="other_category")
    with clock(t4 + timedelta(minutes=50)):
        request_review(request=ServiceRequest.objects.get(id=r4.id), actor=cast.staff_b, accept=True)
    with clock(t4 + timedelta(minutes=60)):
        request_cancel(request=ServiceRequest.objects.get(id=r4.id), actor=cast.resident, reason="")
    r5 = _submit(cast, org, t5)
    # What the dashboard.fact jobs would do a moment after each change.
    facts_refresh()
    return Month(r1=r1, r2=r2, r3=r3, r4=r4, r5=r5)
