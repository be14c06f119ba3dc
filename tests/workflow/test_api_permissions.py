"""Who may do what through the API: every endpoint against the whole cast.

Each cell checks the exact status code and, for a refusal, that the body names no data of the
object and that nothing in the database changed. Out-of-scope objects are 404 (their existence
is not revealed); an object the user may see but not act on is 403; anonymous callers get DRF's
403 ``not_authenticated`` (session authentication comes first, so there is no
``WWW-Authenticate`` challenge and DRF answers 403, not 401)."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_release, request_cancel
from apps.notifications.models import Notification
from apps.organisation.models import Place
from apps.ratings.models import Rating
from apps.service_requests.models import Channel, RequestEvent, ServiceRequest
from apps.service_requests.services import request_review
from tests.accounts.factories import PASSWORD
from tests.service_requests.factories import request_payload, submit_request
from tests.workflow.scenario import (
    ACTORS,
    ADDRESS,
    CONTACT_KEYS,
    CONTACT_PHONE,
    ENV_ADDRESS,
    ENV_PHONE,
    ENV_TITLE,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    THEIR_ADDRESS,
    THEIR_PHONE,
    THEIR_TITLE,
    TITLE,
    World,
    actor_user,
    advance,
    build_world,
    db_state,
    error_body,
)

# Staff whose area holds ``world.request`` (太平庄村, township A, "convenience"): its station, its
# township's office, the sub-centre of its field, and the centre's office, the centre and the admin.
MANAGERS = {"staff_a", "station_staff_a1", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}
FORBIDDEN_MANAGE = {"detail": "只有负责该区域的工作人员可以操作。", "code": "forbidden"}
FORBIDDEN_NOT_INVITEE = {"detail": "只有受邀的志愿者本人可以操作。", "code": "forbidden"}
FORBIDDEN_ON_BEHALF = {"detail": "只有工作人员可以代点单。", "code": "forbidden"}
PERMISSION_DENIED = {"detail": "您没有执行该操作的权限。", "code": "permission_denied"}
OUT_OF_AREA = {"detail": "该村/社区不在您的服务范围内。", "code": "out_of_area"}
OUT_OF_FIELD = {"detail": "该服务类别不在您的服务范围内。", "code": "out_of_field"}

REQUEST_LIST_KEYS = {
    "id",
    "title",
    "category",
    "township",
    "village",
    "status",
    "status_display",
    "urgency",
    "channel",
    "volunteers_needed",
    "volunteers_accepted",
    "created_at",
    "status_changed_at",
}
REQUEST_DETAIL_KEYS = REQUEST_LIST_KEYS | {
    "description",
    "station",
    "address",
    "contact_name",
    "contact_phone",
    "latitude",
    "longitude",
    "window_start",
    "window_end",
    "status_reason",
    "events",
    "volunteers",
    "rating",
    "reach",
}
OFFER_REQUEST_KEYS = {
    "id",
    "title",
    "description",
    "category",
    "township",
    "village",
    "urgency",
    "status",
    "status_display",
    "window_start",
    "window_end",
    "volunteers_needed",
    "volunteers_accepted",
    "contact_name",
}
VOLUNTEER_KEYS = {
    "id",
    "volunteer_number",
    "name",
    "home_township",
    "home_village",
    "categories",
    "is_verified",
    "is_active",
}


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org, other_field=True)


def _client(api, world: World, actor: str):
    return api(actor_user(world.cast, actor))


def _assert_refused(response, status_code: int, body: dict, before: dict) -> None:
    """A refusal: the exact status and error body, nothing of the request in it, nothing changed."""
    assert response.status_code == status_code, response.content
    assert error_body(response) == body
    text = response.content.decode()
    assert CONTACT_PHONE not in text and ADDRESS not in text and "水龙头" not in text
    assert db_state() == before


def _refusal(actor: str, *, allowed: set[str], sees: set[str], forbidden_body: dict) -> tuple[int, dict] | None:
    """The expected refusal for ``actor``: None if allowed, 403 with ``forbidden_body`` if they
    can see the object but may not act, 404 if it is out of their scope."""
    if actor in allowed:
        return None
    if actor == "anonymous":
        return 401, NOT_AUTHENTICATED
    if actor in sees:
        return 403, forbidden_body
    return 404, NOT_FOUND


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------

REQUESTS_SEEN = {
    "resident": ["resident_a2", "request"],
    "other_resident": ["request_env", "request_b"],
    "volunteer": [],
    "other_volunteer": [],
    "staff_a": ["resident_a2", "request"],
    "station_staff_a1": ["request"],
    "staff_b": ["request_env", "request_b"],
    # "convenience" in both townships, not "environment" in either.
    "sub_centre_staff": ["request_b", "resident_a2", "request"],
    "centre_office_staff": ["request_env", "request_b", "resident_a2", "request"],
    "dispatcher": ["request_env", "request_b", "resident_a2", "request"],
    "admin": ["request_env", "request_b", "resident_a2", "request"],
}


@pytest.mark.parametrize("actor", ACTORS)
def test_requests_list_shows_exactly_the_requests_in_the_users_scope(world, api, actor):
    advance(world, "accepted")  # the volunteers hold offers on it, and still do not see it here
    response = _client(api, world, actor).get("/api/v1/requests/")

    if actor == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert error_body(response) == NOT_AUTHENTICATED
        return
    assert response.status_code == 200
    body = response.json()
    expected = [getattr(world, name).id for name in REQUESTS_SEEN[actor]]
    assert [row["id"] for row in body["results"]] == expected
    assert body["count"] == len(expected)
    for row in body["results"]:
        assert set(row) == REQUEST_LIST_KEYS
    text = response.content.decode()
    assert CONTACT_PHONE not in text and ADDRESS not in text


@pytest.mark.parametrize("actor", ACTORS)
def test_request_detail_is_shown_only_to_its_requester_and_the_staff_of_its_area(world, api, actor):
    advance(world, "accepted")
    before = db_state()
    response = _client(api, world, actor).get(f"/api/v1/requests/{world.request.id}/")

    refusal = _refusal(actor, allowed={"resident", *MANAGERS}, sees=set(), forbidden_body={})
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200
    body = response.json()
    assert set(body) == REQUEST_DETAIL_KEYS
    assert body["id"] == world.request.id
    assert body["status"] == "accepted"
    assert body["contact_phone"] == CONTACT_PHONE
    assert body["address"] == ADDRESS
    assert [v["volunteer_number"] for v in body["volunteers"]] == [world.cast.volunteer.volunteer_number]
    assert body["volunteers"][0]["name"] == "张*明"


# What each request's requester typed: (title, phone, address).
REQUEST_TEXTS = {
    "request": (TITLE, CONTACT_PHONE, ADDRESS),
    "resident_a2": (TITLE, CONTACT_PHONE, ADDRESS),
    "request_b": (THEIR_TITLE, THEIR_PHONE, THEIR_ADDRESS),
    "request_env": (ENV_TITLE, ENV_PHONE, ENV_ADDRESS),
}


@pytest.mark.parametrize("target", list(REQUEST_TEXTS))
@pytest.mark.parametrize("actor", ACTORS)
def test_a_requests_detail_is_shown_exactly_to_those_who_list_it(world, api, actor, target):
    """Township, village and field alike: a request's detail answers whoever lists it, and no one else."""
    request = getattr(world, target)
    before = db_state()
    response = _client(api, world, actor).get(f"/api/v1/requests/{request.id}/")

    if actor == "anonymous" or target not in REQUESTS_SEEN[actor]:
        expected = (401, NOT_AUTHENTICATED) if actor == "anonymous" else (404, NOT_FOUND)
        _assert_refused(response, *expected, before)
        assert not any(text in response.content.decode() for text in REQUEST_TEXTS[target])
        return
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["category"]["id"], body["township"]["id"], body["village"]["id"]) == (
        request.id,
        request.category_id,
        request.township_id,
        request.village_id,
    )
    assert (body["title"], body["contact_phone"], body["address"]) == REQUEST_TEXTS[target]


@pytest.mark.parametrize("actor", ACTORS)
def test_every_signed_in_user_may_submit_a_request_as_themselves(world, api, org, actor):
    before = db_state()
    response = _client(api, world, actor).post(
        "/api/v1/requests/", request_payload(category=org["category"], village=org["village_a1"]), format="json"
    )

    if actor == "anonymous":
        _assert_refused(response, 401, NOT_AUTHENTICATED, before)
        return
    assert response.status_code == 201, response.content
    user = actor_user(world.cast, actor)
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.requester, created.entered_by, created.channel) == (user, user, Channel.WEB)
    assert created.station == org["station_a1"]
    assert list(RequestEvent.objects.filter(request=created).values_list("from_status", "to_status")) == [
        ("", "submitted")
    ]
    assert ServiceRequest.objects.count() == len(before["requests"]) + 1
    assert response.json()["contact_phone"] == CONTACT_PHONE


ON_BEHALF_REFUSALS: dict[str, tuple[int, dict]] = {
    "anonymous": (401, NOT_AUTHENTICATED),
    "resident": (403, FORBIDDEN_ON_BEHALF),
    "other_resident": (403, FORBIDDEN_ON_BEHALF),
    "volunteer": (403, FORBIDDEN_ON_BEHALF),
    "other_volunteer": (403, FORBIDDEN_ON_BEHALF),
    "staff_b": (400, OUT_OF_AREA),
}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_staff_of_the_area_may_submit_on_a_residents_behalf(world, api, org, actor):
    payload = request_payload(
        category=org["category"],
        village=org["village_a1"],
        requester_phone="13711112222",
        requester_name="吴大爷",
        channel="phone",
    )
    before = db_state()
    response = _client(api, world, actor).post("/api/v1/requests/on-behalf/", payload, format="json")

    if actor in ON_BEHALF_REFUSALS:
        _assert_refused(response, *ON_BEHALF_REFUSALS[actor], before)
        assert not User.objects.filter(name="吴大爷").exists()
        return
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert created.requester.name == "吴大爷"
    assert created.requester.phone == "13711112222"
    assert created.entered_by == actor_user(world.cast, actor)
    assert created.channel == Channel.PHONE
    assert created.station == org["station_a1"]


STAFF = {"staff_a", "station_staff_a1", "staff_b", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}
# 代点单 in another field or township than the test above: (category, village) → the staff whose
# area holds it. The sub-centre may enter "convenience" anywhere, never "environment".
ON_BEHALF_ELSEWHERE = {
    ("category", "village_b1"): {"staff_b", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"},
    ("other_category", "village_a1"): {"staff_a", "station_staff_a1", "centre_office_staff", "dispatcher", "admin"},
    ("other_category", "village_b1"): {"staff_b", "centre_office_staff", "dispatcher", "admin"},
}


@pytest.mark.parametrize(("category", "village"), list(ON_BEHALF_ELSEWHERE))
@pytest.mark.parametrize("actor", ACTORS)
def test_on_behalf_follows_the_staff_area_by_place_and_field(world, api, org, actor, category, village):
    payload = request_payload(
        category=org[category],
        village=org[village],
        requester_phone="13711112222",
        requester_name="吴大爷",
        channel="desk",
    )
    before = db_state()
    response = _client(api, world, actor).post("/api/v1/requests/on-behalf/", payload, format="json")

    if actor not in ON_BEHALF_ELSEWHERE[(category, village)]:
        if actor == "anonymous":
            expected = (401, NOT_AUTHENTICATED)
        else:
            if actor not in STAFF:
                expected = (403, FORBIDDEN_ON_BEHALF)
            else:
                # A sub-centre covers every place, for its own fields only: the refusal names the field.
                expected = (400, OUT_OF_FIELD if actor == "sub_centre_staff" else OUT_OF_AREA)
        _assert_refused(response, *expected, before)
        assert not User.objects.filter(name="吴大爷").exists()
        return
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.category, created.village, created.channel) == (org[category], org[village], Channel.DESK)
    assert created.station == org["station_a1" if village == "village_a1" else "station_b1"]
    assert created.entered_by == actor_user(world.cast, actor)
    assert created.requester.name == "吴大爷"


@pytest.mark.parametrize("actor", ACTORS)
def test_only_staff_of_the_area_may_review_a_request(world, api, actor):
    before = db_state()
    response = _client(api, world, actor).post(
        f"/api/v1/requests/{world.request.id}/review/", {"decision": "accept"}, format="json"
    )

    refusal = _refusal(actor, allowed=MANAGERS, sees={"resident"}, forbidden_body=FORBIDDEN_MANAGE)
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    last = RequestEvent.objects.filter(request=world.request).last()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor) == ("submitted", "queued", actor_user(world.cast, actor))


@pytest.mark.parametrize("actor", ACTORS)
def test_only_staff_of_the_area_may_dispatch_a_request(world, api, actor):
    advance(world, "queued")
    before = db_state()
    response = _client(api, world, actor).post(
        f"/api/v1/requests/{world.request.id}/dispatch/", {"volunteer_ids": [world.cast.volunteer.id]}, format="json"
    )

    refusal = _refusal(actor, allowed=MANAGERS, sees={"resident"}, forbidden_body=FORBIDDEN_MANAGE)
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 201, response.content
    offers = response.json()
    assert [o["volunteer"]["id"] for o in offers] == [world.cast.volunteer.id]
    assert set(offers[0]["request"]) == OFFER_REQUEST_KEYS
    assert list(Offer.objects.filter(request=world.request).values_list("volunteer_id", "status")) == [
        (world.cast.volunteer.id, "offered")
    ]
    assert ServiceRequest.objects.get(id=world.request.id).status == "offered"


@pytest.mark.parametrize("target", ["request_b", "request_env"])
@pytest.mark.parametrize("actor", ACTORS)
def test_staff_review_the_requests_of_township_b_by_place_and_field(world, api, actor, target):
    """码头村 has a request in each field: its office reviews both, the sub-centre only the one of its field."""
    request = getattr(world, target)
    before = db_state()
    response = _client(api, world, actor).post(
        f"/api/v1/requests/{request.id}/review/", {"decision": "accept"}, format="json"
    )

    refusal = _refusal(
        actor,
        allowed={a for a in STAFF if target in REQUESTS_SEEN[a]},
        sees={"other_resident"},
        forbidden_body=FORBIDDEN_MANAGE,
    )
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "queued"
    last = RequestEvent.objects.filter(request=request).last()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor) == ("submitted", "queued", actor_user(world.cast, actor))


@pytest.mark.parametrize(
    ("volunteers", "refused"),
    [
        (["volunteer", "volunteer_b"], []),  # the field's volunteers of both townships
        (["volunteer", "volunteer_env"], ["volunteer_env"]),  # not one of another field, even in township B
    ],
)
def test_the_sub_centre_dispatches_to_the_volunteers_of_its_field_city_wide(world, api, volunteers, refused):
    advance(world, "queued")
    chosen = [_volunteer(world, name) for name in volunteers]
    before = db_state()
    response = api(world.cast.sub_centre_staff).post(
        f"/api/v1/requests/{world.request.id}/dispatch/", {"volunteer_ids": [v.id for v in chosen]}, format="json"
    )

    if refused:
        ids = ", ".join(str(_volunteer(world, name).id) for name in refused)
        _assert_refused(
            response,
            400,
            {"detail": f"以下志愿者不存在或不在您的服务范围内：{ids}", "code": "unknown_volunteer"},
            before,
        )
        return
    assert response.status_code == 201, response.content
    assert sorted(o["volunteer"]["id"] for o in response.json()) == sorted(v.id for v in chosen)
    assert ServiceRequest.objects.get(id=world.request.id).status == "offered"


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_requester_and_staff_of_the_area_may_cancel_a_request(world, api, actor):
    advance(world, "offered")
    before = db_state()
    response = _client(api, world, actor).post(
        f"/api/v1/requests/{world.request.id}/cancel/", {"reason": "已自行解决"}, format="json"
    )

    refusal = _refusal(actor, allowed={"resident", *MANAGERS}, sees=set(), forbidden_body={})
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["status_reason"] == "已自行解决"
    assert sorted(Offer.objects.filter(request=world.request).values_list("status", flat=True)) == [
        "withdrawn",
        "withdrawn",
    ]


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_requester_and_staff_of_the_area_may_rate_a_request(world, api, actor):
    advance(world, "completed")
    before = db_state()
    response = _client(api, world, actor).post(
        f"/api/v1/requests/{world.request.id}/rate/", {"score": 4, "tags": ["on_time"]}, format="json"
    )

    refusal = _refusal(actor, allowed={"resident", *MANAGERS}, sees=set(), forbidden_body={})
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 201
    assert response.json()["score"] == 4
    assert response.json()["on_behalf"] is (actor != "resident")
    rating = Rating.objects.get(request=world.request)
    assert (rating.score, rating.tags, rating.rated_by) == (4, ["on_time"], actor_user(world.cast, actor))
    assert ServiceRequest.objects.get(id=world.request.id).status == "closed"


def test_a_staff_member_may_submit_and_follow_their_own_request_outside_their_area(world, api, org):
    """Staff are residents too: staff B ordering a service at home in township A sees, cancels
    and rates it as its requester, but may not review it (township A's office does)."""
    staff_b = api(world.cast.staff_b)
    response = staff_b.post(
        "/api/v1/requests/", request_payload(category=org["category"], village=org["village_a1"]), format="json"
    )
    assert response.status_code == 201, response.content
    own_id = response.json()["id"]

    listed = [row["id"] for row in staff_b.get("/api/v1/requests/").json()["results"]]
    assert listed == [own_id, world.request_env.id, world.request_b.id]
    assert staff_b.get(f"/api/v1/requests/{own_id}/").status_code == 200

    before = db_state()
    refused = staff_b.post(f"/api/v1/requests/{own_id}/review/", {"decision": "accept"}, format="json")
    _assert_refused(refused, 403, FORBIDDEN_MANAGE, before)

    response = staff_b.post(f"/api/v1/requests/{own_id}/cancel/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


# ---------------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def offers_everywhere(world):
    """Offers on both townships: ``request`` to the two volunteers of A, ``request_b`` to B's, and
    ``request_env`` (the other field) to B's volunteer of that field."""
    advance(world, "offered")
    request_review(request=world.request_b, actor=world.cast.staff_b, accept=True)
    (offer_b,) = dispatch_directed(request=world.request_b, actor=world.cast.staff_b, volunteers=[world.volunteer_b])
    request_review(request=world.request_env, actor=world.cast.staff_b, accept=True)
    (offer_env,) = dispatch_directed(
        request=world.request_env, actor=world.cast.staff_b, volunteers=[world.volunteer_env]
    )
    return {"offer": world.offer, "other_offer": world.other_offer, "offer_b": offer_b, "offer_env": offer_env}


OFFERS_SEEN = {
    "resident": [],
    "other_resident": [],
    "volunteer": ["offer"],
    "other_volunteer": ["other_offer"],
    "staff_a": ["other_offer", "offer"],
    "station_staff_a1": ["other_offer", "offer"],
    "staff_b": ["offer_env", "offer_b"],
    "sub_centre_staff": ["offer_b", "other_offer", "offer"],
    "centre_office_staff": ["offer_env", "offer_b", "other_offer", "offer"],
    "dispatcher": ["offer_env", "offer_b", "other_offer", "offer"],
    "admin": ["offer_env", "offer_b", "other_offer", "offer"],
}


@pytest.mark.parametrize("actor", ACTORS)
def test_offers_list_shows_a_volunteer_their_own_and_staff_those_of_their_area(world, api, offers_everywhere, actor):
    response = _client(api, world, actor).get("/api/v1/offers/")

    if actor == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert error_body(response) == NOT_AUTHENTICATED
        return
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [offers_everywhere[name].id for name in OFFERS_SEEN[actor]]
    for row in body["results"]:
        assert set(row["request"]) == OFFER_REQUEST_KEYS  # nobody has accepted: no contact data anywhere
    text = response.content.decode()
    assert CONTACT_PHONE not in text and ADDRESS not in text and "王秀兰" not in text


OFFER_VIEWERS = {"volunteer", *MANAGERS}


@pytest.mark.parametrize("actor", ACTORS)
def test_an_offer_is_shown_only_to_its_volunteer_and_the_staff_of_its_area(world, api, actor):
    advance(world, "offered")
    before = db_state()
    response = _client(api, world, actor).get(f"/api/v1/offers/{world.offer.id}/")

    refusal = _refusal(actor, allowed=OFFER_VIEWERS, sees=set(), forbidden_body={})
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.offer.id
    assert body["volunteer"] == {
        "id": world.cast.volunteer.id,
        "volunteer_number": world.cast.volunteer.volunteer_number,
        "name": "张*明",
    }
    assert set(body["request"]) == OFFER_REQUEST_KEYS
    assert body["request"]["contact_name"] == "王*兰"


@pytest.mark.parametrize("target", ["offer", "other_offer", "offer_b", "offer_env"])
@pytest.mark.parametrize("actor", ACTORS)
def test_each_offers_detail_is_shown_exactly_to_those_who_list_it(world, api, offers_everywhere, actor, target):
    offer = offers_everywhere[target]
    before = db_state()
    response = _client(api, world, actor).get(f"/api/v1/offers/{offer.id}/")

    if actor == "anonymous" or target not in OFFERS_SEEN[actor]:
        expected = (401, NOT_AUTHENTICATED) if actor == "anonymous" else (404, NOT_FOUND)
        _assert_refused(response, *expected, before)
        return
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["volunteer"]["id"]) == (offer.id, offer.volunteer_id)
    assert response.json()["request"]["id"] == offer.request_id


OFFER_ACTIONS = {
    # action: (stage the request is in, body, offer status after success)
    "accept": ("offered", None, "accepted"),
    "decline": ("offered", {"reason": "今天不在家"}, "declined"),
    "arrive": ("accepted", None, "in_service"),
    "complete": ("in_service", {"report": "已更换阀芯"}, "completed"),
    "release": ("accepted", {"reason": "家中有急事"}, "released"),
}


@pytest.mark.parametrize("action", list(OFFER_ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_invited_volunteer_may_answer_and_carry_out_an_offer(world, api, actor, action):
    stage, body, after = OFFER_ACTIONS[action]
    advance(world, stage)
    before = db_state()
    response = _client(api, world, actor).post(f"/api/v1/offers/{world.offer.id}/{action}/", body, format="json")

    refusal = _refusal(
        actor,
        allowed={"volunteer"},
        sees=MANAGERS,
        forbidden_body=FORBIDDEN_NOT_INVITEE,
    )
    if refusal:
        _assert_refused(response, *refusal, before)
        return
    assert response.status_code == 200, response.content
    assert response.json()["status"] == after
    assert Offer.objects.get(id=world.offer.id).status == after
    holds_place = after in ("accepted", "in_service")
    assert (set(response.json()["request"]) >= CONTACT_KEYS) is holds_place


# ---------------------------------------------------------------------------------------------
# A volunteer sees the resident's phone and address only while holding a place on an active request
# ---------------------------------------------------------------------------------------------


def _volunteer_views(api, world: World, volunteer) -> list:
    """Every GET answer the volunteer can obtain that might mention the request."""
    client = api(volunteer)
    offer = world.offer if volunteer == world.cast.volunteer else world.other_offer
    assert offer is not None
    return [
        client.get(f"/api/v1/offers/{offer.id}/"),
        client.get("/api/v1/offers/"),
        client.get(f"/api/v1/requests/{world.request.id}/"),
        client.get("/api/v1/requests/"),
        client.get("/api/v1/notifications/"),
        client.get("/api/v1/me/"),
    ]


def _contact_seen(responses: list) -> bool:
    texts = [r.content.decode() for r in responses]
    seen = [CONTACT_PHONE in t and ADDRESS in t for t in texts]
    assert not any(CONTACT_PHONE in t or ADDRESS in t for t, s in zip(texts, seen, strict=True) if not s)
    return any(seen)


@pytest.mark.parametrize(
    ("stage", "volunteer_sees", "other_sees"),
    [
        ("offered", False, False),
        ("accepted", True, False),  # the other volunteer's offer was withdrawn when the place filled
        ("in_service", True, False),
        ("completed", False, False),
        ("closed", False, False),
    ],
)
def test_only_the_accepted_volunteer_sees_contact_data_and_only_while_the_task_is_active(
    world, api, stage, volunteer_sees, other_sees
):
    advance(world, stage)
    volunteer, other = world.cast.volunteer, world.cast.other_volunteer

    mine = _volunteer_views(api, world, volunteer)
    assert [r.status_code for r in mine] == [200, 200, 404, 200, 200, 200]
    assert _contact_seen(mine) is volunteer_sees
    assert (set(mine[0].json()["request"]) >= CONTACT_KEYS) is volunteer_sees
    assert ("contact_phone" in mine[0].json()["request"]) is volunteer_sees
    assert mine[0].json()["request"]["contact_name"] == ("王秀兰" if volunteer_sees else "王*兰")

    theirs = _volunteer_views(api, world, other)
    assert [r.status_code for r in theirs] == [200, 200, 404, 200, 200, 200]
    assert _contact_seen(theirs) is other_sees
    assert set(theirs[0].json()["request"]) == OFFER_REQUEST_KEYS


def test_a_volunteer_sees_contact_data_while_a_second_place_is_still_open(world, api, org):
    two = submit_request(
        requester=world.cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=2
    )
    request_review(request=two, actor=world.cast.staff_a, accept=True)
    mine, theirs = dispatch_directed(
        request=two, actor=world.cast.staff_a, volunteers=[world.cast.volunteer, world.cast.other_volunteer]
    )
    offer_accept(offer=mine, volunteer=world.cast.volunteer)

    assert ServiceRequest.objects.get(id=two.id).status == "offered"
    response = api(world.cast.volunteer).get(f"/api/v1/offers/{mine.id}/")
    assert response.json()["request"]["contact_phone"] == CONTACT_PHONE
    assert response.json()["request"]["address"] == ADDRESS
    response = api(world.cast.other_volunteer).get(f"/api/v1/offers/{theirs.id}/")
    assert set(response.json()["request"]) == OFFER_REQUEST_KEYS


@pytest.mark.parametrize("how", ["resident_cancels", "volunteer_releases"])
def test_contact_data_disappears_when_the_volunteer_no_longer_holds_a_place(world, api, how):
    advance(world, "accepted")
    if how == "resident_cancels":
        request_cancel(request=world.request, actor=world.cast.resident, reason="已自行解决")
        expected = "withdrawn"
    else:
        offer_release(offer=world.offer, volunteer=world.cast.volunteer, reason="家中有急事")
        expected = "released"

    views = _volunteer_views(api, world, world.cast.volunteer)
    assert views[0].json()["status"] == expected
    assert set(views[0].json()["request"]) == OFFER_REQUEST_KEYS
    assert _contact_seen(views) is False


# ---------------------------------------------------------------------------------------------
# Volunteers
# ---------------------------------------------------------------------------------------------

VOLUNTEERS_SEEN = {
    "staff_a": ["volunteer", "other_volunteer"],
    "station_staff_a1": ["volunteer"],
    "staff_b": ["volunteer_b", "volunteer_env"],
    # Those serving "convenience", wherever they live; not 陈志强, who serves only "environment".
    "sub_centre_staff": ["volunteer", "other_volunteer", "volunteer_b"],
    "centre_office_staff": ["volunteer", "other_volunteer", "volunteer_b", "volunteer_env"],
    "dispatcher": ["volunteer", "other_volunteer", "volunteer_b", "volunteer_env"],
    "admin": ["volunteer", "other_volunteer", "volunteer_b", "volunteer_env"],
}


def _volunteer(world: World, name: str):
    return getattr(world, name) if name in ("volunteer_b", "volunteer_env") else getattr(world.cast, name)


@pytest.mark.parametrize("actor", ACTORS)
def test_volunteers_list_is_for_staff_and_shows_exactly_their_area(world, api, actor):
    response = _client(api, world, actor).get("/api/v1/volunteers/")

    if actor not in VOLUNTEERS_SEEN:
        assert response.status_code == (401 if actor == "anonymous" else 403)
        assert error_body(response) == (NOT_AUTHENTICATED if actor == "anonymous" else PERMISSION_DENIED)
        return
    assert response.status_code == 200
    rows = response.json()["results"]
    expected = sorted((_volunteer(world, n) for n in VOLUNTEERS_SEEN[actor]), key=lambda v: v.volunteer_number)
    assert [row["id"] for row in rows] == [v.id for v in expected]
    for row in rows:
        assert set(row) == VOLUNTEER_KEYS  # masked name, never the phone
    assert {row["name"] for row in rows} <= {"张*明", "刘*", "马*头", "陈*强"}
    text = response.content.decode()
    for v in expected:
        assert v.user.phone not in text


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [
        ("anonymous", "volunteer", 401),
        ("resident", "volunteer", 403),
        ("other_resident", "volunteer", 403),
        ("volunteer", "volunteer", 403),
        ("other_volunteer", "volunteer", 403),
        ("staff_a", "volunteer", 200),
        ("staff_a", "volunteer_b", 404),
        ("station_staff_a1", "volunteer", 200),
        ("station_staff_a1", "other_volunteer", 404),
        ("staff_b", "volunteer", 404),
        ("staff_b", "volunteer_b", 200),
        ("staff_b", "volunteer_env", 200),
        ("staff_a", "volunteer_env", 404),
        ("sub_centre_staff", "volunteer", 200),
        ("sub_centre_staff", "other_volunteer", 200),
        ("sub_centre_staff", "volunteer_b", 200),
        ("sub_centre_staff", "volunteer_env", 404),
        ("centre_office_staff", "volunteer_b", 200),
        ("centre_office_staff", "volunteer_env", 200),
        ("dispatcher", "volunteer_b", 200),
        ("admin", "other_volunteer", 200),
    ],
)
def test_a_volunteer_profile_is_shown_only_to_staff_whose_area_holds_it(world, api, actor, target, expected):
    volunteer = _volunteer(world, target)
    response = _client(api, world, actor).get(f"/api/v1/volunteers/{volunteer.id}/")

    assert response.status_code == expected
    if expected == 200:
        assert set(response.json()) == VOLUNTEER_KEYS
        assert response.json()["id"] == volunteer.id
    else:
        assert (
            error_body(response)
            == {
                404: NOT_FOUND,
                401: NOT_AUTHENTICATED,
                403: PERMISSION_DENIED,
            }[expected]
        )
    assert volunteer.user.phone not in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_notifications_list_shows_only_the_users_own(world, api, actor):
    advance(world, "accepted")
    response = _client(api, world, actor).get("/api/v1/notifications/")

    if actor == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert error_body(response) == NOT_AUTHENTICATED
        return
    assert response.status_code == 200
    user = actor_user(world.cast, actor)
    own = list(Notification.objects.filter(recipient=user).values_list("id", flat=True))
    assert [row["id"] for row in response.json()["results"]] == own
    expected_kinds = {
        "resident": ["accepted", "queued", "received", "received"],
        "other_resident": ["received", "received"],
        "volunteer": ["offered"],
        "other_volunteer": ["offer_closed", "offered"],
        "staff_a": ["accepted", "new_request", "new_request"],
        "station_staff_a1": ["accepted", "new_request"],
        "staff_b": ["new_request", "new_request"],
        # Told of the three requests of its field, and that the one in progress was accepted.
        "sub_centre_staff": ["accepted", "new_request", "new_request", "new_request"],
        "centre_office_staff": [],
        "dispatcher": [],
        "admin": [],
    }[actor]
    assert sorted(row["kind"] for row in response.json()["results"]) == expected_kinds


@pytest.mark.parametrize("actor", ACTORS)
def test_a_notification_is_shown_and_marked_read_only_for_its_recipient(world, api, actor):
    notification = Notification.objects.filter(recipient=world.cast.resident).first()
    assert notification is not None
    client = _client(api, world, actor)
    before = db_state()

    shown = client.get(f"/api/v1/notifications/{notification.id}/")
    read = client.post(f"/api/v1/notifications/{notification.id}/read/")

    if actor != "resident":
        expected = (401, NOT_AUTHENTICATED) if actor == "anonymous" else (404, NOT_FOUND)
        _assert_refused(shown, *expected, before)
        _assert_refused(read, *expected, before)
        return
    assert shown.status_code == 200
    assert shown.json()["id"] == notification.id and shown.json()["read_at"] is None
    assert read.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert read.json()["read_at"] is not None


@pytest.mark.parametrize("actor", ACTORS)
def test_read_all_marks_only_the_users_own_notifications(world, api, actor):
    advance(world, "offered")
    user = actor_user(world.cast, actor)
    others_before = sorted(Notification.objects.exclude(recipient=user).values_list("id", "read_at"))
    own_unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count() if user else 0
    before = db_state()

    response = _client(api, world, actor).post("/api/v1/notifications/read-all/")

    if actor == "anonymous":
        _assert_refused(response, 401, NOT_AUTHENTICATED, before)
        return
    assert response.status_code == 200
    assert response.json() == {"marked": own_unread}
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert sorted(Notification.objects.exclude(recipient=user).values_list("id", "read_at")) == others_before


# ---------------------------------------------------------------------------------------------
# Me, token, reference data, schema
# ---------------------------------------------------------------------------------------------

ROLES = {
    "resident": ["resident"],
    "other_resident": ["resident"],
    "volunteer": ["resident", "volunteer"],
    "other_volunteer": ["resident", "volunteer"],
    "staff_a": ["resident", "staff"],
    "station_staff_a1": ["resident", "staff"],
    "staff_b": ["resident", "staff"],
    "sub_centre_staff": ["resident", "staff"],
    "centre_office_staff": ["resident", "staff"],
    "dispatcher": ["resident", "staff", "dispatcher"],
    "admin": ["resident", "admin"],
}


@pytest.mark.parametrize("actor", ACTORS)
def test_me_describes_the_caller_with_their_own_phone_in_full(world, api, actor):
    response = _client(api, world, actor).get("/api/v1/me/")

    if actor == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert error_body(response) == NOT_AUTHENTICATED
        return
    assert response.status_code == 200
    user = actor_user(world.cast, actor)
    assert user is not None
    body = response.json()
    assert body["id"] == user.id
    assert body["roles"] == ROLES[actor]
    assert body["phone"] == user.phone


@pytest.mark.parametrize("actor", ACTORS)
def test_token_is_issued_only_for_the_callers_own_phone_and_password(world, api, actor):
    """Log-in ignores who is already signed in: each member of the cast gets their own token with
    their own password, never with a wrong one (an anonymous caller logs in as the resident)."""
    cache.clear()  # the login throttle counts in the cache
    user = actor_user(world.cast, actor) or world.cast.resident
    client = _client(api, world, actor)
    before = db_state()

    wrong = client.post("/api/v1/auth/token/", {"phone": user.phone, "password": "wrong-password"}, format="json")
    assert wrong.status_code == 400
    assert error_body(wrong)["errors"] == {"phone": ["手机号或密码不正确。"]}
    assert db_state() == before

    response = client.post("/api/v1/auth/token/", {"phone": user.phone, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert Token.objects.get(key=response.json()["token"]).user == user
    assert Token.objects.count() == 1


@pytest.mark.parametrize("actor", ACTORS)
def test_categories_are_public_reference_data(world, api, org, actor):
    response = _client(api, world, actor).get("/api/v1/categories/")
    assert response.status_code == 200
    assert [(c["id"], c["name"]) for c in response.json()] == [
        (org["category"].id, "便民服务"),
        (org["other_category"].id, "环境治理"),
    ]


@pytest.mark.parametrize("actor", ACTORS)
def test_places_are_public_reference_data(world, api, org, actor):
    response = _client(api, world, actor).get("/api/v1/places/")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == list(
        Place.objects.order_by("kind", "code", "name").values_list("id", flat=True)
    )
    assert len(response.json()) == 6


@pytest.mark.parametrize("actor", ACTORS)
def test_api_schema_is_public(world, api, actor):
    response = _client(api, world, actor).get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/v1/requests/{id}/dispatch/" in response.content
    assert CONTACT_PHONE.encode() not in response.content


def test_staff_member_who_also_volunteers_sees_and_accepts_offers_outside_their_area(cast, org, api):
    from apps.dispatch.services import dispatch_directed
    from apps.service_requests.services import request_review
    from tests.service_requests.factories import submit_request
    from tests.volunteers.factories import make_volunteer

    staff_volunteer = make_volunteer(township=org["township_b"], categories=[org["category"]], user=cast.staff_a)
    request = submit_request(requester=cast.other_resident, category=org["category"], village=org["village_b1"])
    request_review(request=request, actor=cast.staff_b, accept=True)
    (offer,) = dispatch_directed(request=request, actor=cast.dispatcher, volunteers=[staff_volunteer])

    client = api(cast.staff_a)
    listed = [o["id"] for o in client.get("/api/v1/offers/").json()["results"]]
    assert listed == [offer.id]
    response = client.post(f"/api/v1/offers/{offer.id}/accept/")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    # Township A staff still cannot read township B's request itself.
    assert client.get(f"/api/v1/requests/{request.id}/").status_code == 404
