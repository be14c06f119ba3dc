"""The one known starting state of the API and page tests, built with the services the real
roles use, and a snapshot of everything a refused write must leave alone."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete
from apps.notifications.models import Notification
from apps.organisation.models import Place, ServiceCategory
from apps.ratings.models import Rating
from apps.ratings.services import rating_submit
from apps.service_requests.models import RequestEvent, ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from apps.volunteers.models import VolunteerProfile
from tests.conftest import Cast
from tests.volunteers.factories import make_volunteer

ACTORS = [
    "anonymous",
    "resident",
    "other_resident",
    "volunteer",
    "other_volunteer",
    "staff_a",
    "station_staff_a1",
    "staff_b",
    "sub_centre_staff",
    "centre_office_staff",
    "dispatcher",
    "admin",
]
STAGES = ["submitted", "queued", "offered", "accepted", "in_service", "completed", "closed"]

# What the resident typed and only an accepted volunteer on an active request may read.
TITLE = "帮忙修理漏水的水龙头"
CONTACT_PHONE = "13912345678"
ADDRESS = "太平庄村东街12号"
# What the other resident typed for ``request_b`` (码头村, township B) ...
THEIR_TITLE, THEIR_ADDRESS, THEIR_PHONE = "清理院内积雪", "码头村西街7号", "13698765432"
# ... and for ``request_env``, in the field no sub-centre looks after (环境治理, also 码头村).
ENV_TITLE, ENV_ADDRESS, ENV_PHONE = "清理河沟里的垃圾", "码头村河堤路3号", "13655554444"
CONTACT_KEYS = {"contact_phone", "address", "latitude", "longitude"}

NOT_FOUND = {"detail": "未找到，或您无权查看。", "code": "not_found"}
NOT_AUTHENTICATED = {"detail": "身份认证信息未提供。", "code": "not_authenticated"}
INVALID = "提交的内容有误，请检查后重试。"


def actor_user(cast: Cast, actor: str) -> User | None:
    if actor == "anonymous":
        return None
    person = getattr(cast, actor)
    return person.user if isinstance(person, VolunteerProfile) else person


@dataclass
class World:
    """Requests and volunteers on top of the cast.

    ``request`` (the one the tests act on) and ``resident_a2`` belong to the resident, in villages
    A1 and A2 of township A; ``request_b`` belongs to the other resident, in township B;
    ``volunteer_b`` lives in township B. All of them are in the field "convenience", which the
    sub-centre looks after. With ``other_field``, the other resident also asked for
    ``request_env`` in township B and ``volunteer_env`` of township B serves only in the field
    "environment", which no sub-centre looks after. Only ``request`` moves through the loop (see
    :func:`advance`); the others stay submitted."""

    cast: Cast
    org: dict
    volunteer_b: VolunteerProfile
    request: ServiceRequest
    resident_a2: ServiceRequest
    request_b: ServiceRequest
    request_env: ServiceRequest | None = None
    volunteer_env: VolunteerProfile | None = None
    offer: Offer | None = None  # the volunteer's offer on ``request``, once dispatched
    other_offer: Offer | None = None  # the other volunteer's offer on ``request``

    def refresh(self) -> None:
        self.request.refresh_from_db()
        for offer in (self.offer, self.other_offer):
            if offer is not None:
                offer.refresh_from_db()


def submit(
    *,
    requester: User,
    village: Place,
    category: ServiceCategory,
    title: str = TITLE,
    address: str = ADDRESS,
    phone: str = CONTACT_PHONE,
) -> ServiceRequest:
    """A request as its requester types it on the web."""
    return request_submit(
        data=RequestInput(
            category=category,
            title=title,
            description="老人行动不便，需要帮忙。",
            village=village,
            address=address,
            contact_name=requester.name,
            contact_phone=phone,
            urgency="normal",
        ),
        requester=requester,
        entered_by=requester,
    )


def build_world(cast: Cast, org: dict, *, other_field: bool = False) -> World:
    world = World(
        cast=cast,
        org=org,
        volunteer_b=make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[org["category"]], name="马码头"
        ),
        request=submit(requester=cast.resident, category=org["category"], village=org["village_a1"]),
        resident_a2=submit(requester=cast.resident, category=org["category"], village=org["village_a2"]),
        request_b=submit(
            requester=cast.other_resident,
            category=org["category"],
            village=org["village_b1"],
            title=THEIR_TITLE,
            address=THEIR_ADDRESS,
            phone=THEIR_PHONE,
        ),
    )
    if other_field:
        world.request_env = submit(
            requester=cast.other_resident,
            category=org["other_category"],
            village=org["village_b1"],
            title=ENV_TITLE,
            address=ENV_ADDRESS,
            phone=ENV_PHONE,
        )
        world.volunteer_env = make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[org["other_category"]], name="陈志强"
        )
    return world


def advance(world: World, to: str) -> World:
    """Move ``world.request`` through the loop up to stage ``to``, as the people who would do it:
    staff A reviews and offers it to both volunteers of township A, the volunteer accepts,
    arrives, completes an hour later, the resident rates (which closes it)."""
    cast = world.cast
    for stage in STAGES[1 : STAGES.index(to) + 1]:
        request = ServiceRequest.objects.get(id=world.request.id)
        if stage == "queued":
            request_review(request=request, actor=cast.staff_a, accept=True)
        elif stage == "offered":
            offers = dispatch_directed(
                request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer]
            )
            world.offer, world.other_offer = offers
        elif stage == "accepted":
            assert world.offer is not None
            offer_accept(offer=world.offer, volunteer=cast.volunteer)
        elif stage == "in_service":
            assert world.offer is not None
            offer_check_in(offer=world.offer, volunteer=cast.volunteer)
            Offer.objects.filter(id=world.offer.id).update(checked_in_at=timezone.now() - timedelta(hours=1, minutes=5))
            world.offer.refresh_from_db()
        elif stage == "completed":
            assert world.offer is not None
            offer_complete(offer=world.offer, volunteer=cast.volunteer, report="已更换阀芯")
        elif stage == "closed":
            rating_submit(request=request, actor=cast.resident, score=5, tags=["friendly"], comment="谢谢")
    world.refresh()
    return world


def db_state() -> dict[str, Any]:
    """Everything an API write could touch. A refused write must leave it equal."""
    return {
        "users": sorted(User.objects.values_list("id", "is_active")),
        "requests": sorted(
            ServiceRequest.objects.values_list("id", "status", "volunteers_accepted", "status_reason", "title")
        ),
        "events": sorted(RequestEvent.objects.values_list("id", "request_id", "to_status")),
        "offers": sorted(
            Offer.objects.values_list("id", "status", "checked_in_at", "checked_out_at", "hours", "report")
        ),
        "ratings": sorted(Rating.objects.values_list("id", "request_id", "score")),
        "notifications": sorted(Notification.objects.values_list("id", "recipient_id", "kind", "read_at")),
        "tokens": sorted(Token.objects.values_list("user_id", flat=True)),
    }


def error_body(response) -> dict:
    """The JSON error body, checked for the shape every error shares."""
    assert response["Content-Type"].startswith("application/json"), response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    assert isinstance(body["code"], str) and body["code"], body
    return body
