"""A request as the offer-card tests need it: wanted on Thursday 5 December 2030 from 09:00 to
11:00, in 东庄头村 3.2 km north of the volunteer's home village 太平庄村, for three volunteers of
whom one has accepted, offered to ``cast.volunteer`` for 25 minutes."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept
from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from tests.conftest import Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD_TITLE = "帮忙搬运过冬的白菜"
WINDOW_START = datetime(2030, 12, 5, 9, 0, tzinfo=SHANGHAI)
WINDOW_END = datetime(2030, 12, 5, 11, 0, tzinfo=SHANGHAI)
# 0.0288° of latitude north: 3.2024 km on the matching queue's sphere.
HOME_POINT = (Decimal("39.470000"), Decimal("115.955000"))
SERVICE_POINT = (Decimal("39.498800"), Decimal("115.955000"))


def place_points(org: dict) -> None:
    """The volunteer's home village and the service's village get their points."""
    Place.objects.filter(id=org["village_a1"].id).update(latitude=HOME_POINT[0], longitude=HOME_POINT[1])
    Place.objects.filter(id=org["village_a2"].id).update(latitude=SERVICE_POINT[0], longitude=SERVICE_POINT[1])


def card_request(
    cast: Cast, org: dict, *, title: str = CARD_TITLE, windowed: bool = True, needed: int = 3
) -> ServiceRequest:
    request = request_submit(
        data=RequestInput(
            category=org["category"],
            title=title,
            description="院里堆了三百斤白菜，老人搬不动，需要几位志愿者帮忙搬进地窖。",
            village=org["village_a2"],
            address="东庄头村北街8号",
            contact_name=cast.resident.name,
            contact_phone="13912345678",
            urgency="normal",
            volunteers_needed=needed,
            window_start=WINDOW_START if windowed else None,
            window_end=WINDOW_END if windowed else None,
        ),
        requester=cast.resident,
        entered_by=cast.resident,
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    return request


def offered_card(cast: Cast, org: dict, *, minutes: int = 25, **kwargs: object) -> Offer:
    """The request offered to both volunteers; the other one accepts, ``cast.volunteer`` has
    ``minutes`` to answer."""
    request = card_request(cast, org, **kwargs)  # type: ignore[arg-type]
    (theirs,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.other_volunteer])
    offer_accept(offer=theirs, volunteer=cast.other_volunteer)
    (mine,) = dispatch_directed(
        request=request, actor=cast.staff_a, volunteers=[cast.volunteer], expires_in_minutes=minutes
    )
    return mine
