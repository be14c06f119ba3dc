"""Permission matrix of every server-rendered page and form action over the whole cast.

Each case pins the exact status code and, where it redirects, the exact target; checks that
the HTML carries nothing the viewer may not see; and that a refused POST changes nothing."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages

from apps.accounts.models import User
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import Offer, OfferStatus
from apps.notifications.models import Notification
from apps.organisation.models import Place
from apps.ratings.models import Rating
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import (
    ACTORS,
    ADDRESS,
    CONTACT_PHONE,
    ENV_ADDRESS,
    ENV_PHONE,
    ENV_TITLE,
    THEIR_ADDRESS,
    THEIR_PHONE,
    THEIR_TITLE,
    TITLE,
    World,
    advance,
    build_world,
)

ROLES = ACTORS
LOGGED_IN = frozenset(ROLES) - {"anonymous"}
RESIDENTS = frozenset({"resident", "other_resident"})
VOLUNTEERS = frozenset({"volunteer", "other_volunteer"})
# Staff whose area holds the resident's request (太平庄村, township A, "convenience"): its station,
# its township's office, the sub-centre of its field, the centre's office, the centre, the admin.
STAFF_OF_MINE = frozenset(
    {"staff_a", "station_staff_a1", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}
)
ALL_STAFF = STAFF_OF_MINE | {"staff_b"}

# The resident's request (太平庄村, township A) and the other resident's two (码头村, township B):
# one in the same field "convenience", one in "environment", which no sub-centre looks after.
MY_TITLE, MY_ADDRESS, MY_PHONE = TITLE, ADDRESS, CONTACT_PHONE
MINE = (MY_TITLE, MY_ADDRESS, MY_PHONE)
MY_CONTACT = (MY_ADDRESS, MY_PHONE)
THEIRS = (THEIR_TITLE, THEIR_ADDRESS, THEIR_PHONE)
THEIR_OTHER_FIELD = (ENV_TITLE, ENV_ADDRESS, ENV_PHONE)

# What each role must never find in any page while the resident's request is offered to both
# volunteers (neither has accepted yet).
NEVER_SEES: dict[str, tuple[str, ...]] = {
    "anonymous": MINE + THEIRS + THEIR_OTHER_FIELD,
    "resident": THEIRS + THEIR_OTHER_FIELD,
    "other_resident": MINE,
    "volunteer": MY_CONTACT + THEIRS + THEIR_OTHER_FIELD,
    "other_volunteer": MY_CONTACT + THEIRS + THEIR_OTHER_FIELD,
    "staff_a": THEIRS + THEIR_OTHER_FIELD,
    "station_staff_a1": THEIRS + THEIR_OTHER_FIELD,
    "staff_b": MINE,
    "sub_centre_staff": THEIR_OTHER_FIELD,
    "centre_office_staff": (),
    "dispatcher": (),
    "admin": (),
}


def login_redirect(path: str) -> str:
    return "/login/?next=" + quote(path, safe="/")


def user_of(cast, role: str) -> User | None:
    if role == "anonymous":
        return None
    who = getattr(cast, role)
    return who.user if hasattr(who, "user") else who


def client_as(client, cast, role: str):
    user = user_of(cast, role)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org, other_field=True)


def fresh_request(w: World) -> ServiceRequest:
    return ServiceRequest.objects.get(id=w.request.id)


def fresh_offer(w: World) -> Offer:
    return Offer.objects.get(id=offer_id(w))


def offer_id(w: World) -> int:
    """The id of the volunteer's offer on ``request``, once dispatched."""
    assert w.offer is not None
    return w.offer.id


def request_env_id(w: World) -> int:
    """The id of ``request_env``, which the world of these tests always has."""
    assert w.request_env is not None
    return w.request_env.id


def db_state() -> dict[str, object]:
    """Everything a page action could change."""
    return {
        "users": list(User.objects.order_by("id").values_list("id", "is_active")),
        "requests": list(
            ServiceRequest.objects.order_by("id").values_list(
                "id", "status", "status_reason", "volunteers_accepted", "status_changed_at"
            )
        ),
        "events": list(RequestEvent.objects.order_by("id").values_list("id", "to_status")),
        "offers": list(
            Offer.objects.order_by("id").values_list(
                "id", "status", "responded_at", "checked_in_at", "checked_out_at", "hours", "report", "response_note"
            )
        ),
        "ratings": list(Rating.objects.order_by("id").values_list("id", "request_id", "score")),
        "notifications": list(Notification.objects.order_by("id").values_list("id", "read_at")),
    }


def assert_nothing_leaked(html: str, role: str) -> None:
    leaked = [secret for secret in NEVER_SEES[role] if secret in html]
    assert leaked == [], f"{role} was shown {leaked}"


# ---------------------------------------------------------------- GET of every page

HOME_FOR = {
    **dict.fromkeys(RESIDENTS, "/r/requests/"),
    **dict.fromkeys(VOLUNTEERS, "/v/offers/"),
    **dict.fromkeys(ALL_STAFF, "/s/queue/"),
}


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[World], str]
    allowed: frozenset[str]
    # Where an allowed role is redirected (None: the page itself, 200).
    redirect_for: dict[str, str] | None = None
    public: bool = False


PAGES = [
    Page("home", lambda w: "/", LOGGED_IN, redirect_for=HOME_FOR),
    Page("login", lambda w: "/login/", frozenset(ROLES), public=True),
    Page("my_requests", lambda w: "/r/requests/", LOGGED_IN),
    Page("request_new", lambda w: "/r/requests/new/", LOGGED_IN),
    Page("request_detail", lambda w: f"/r/requests/{w.request.id}/", frozenset({"resident"})),
    Page("request_detail_unknown", lambda w: "/r/requests/987654/", frozenset()),
    Page("volunteer_offers", lambda w: "/v/offers/", VOLUNTEERS),
    Page("volunteer_tasks", lambda w: "/v/tasks/", VOLUNTEERS),
    Page("staff_queue_todo", lambda w: "/s/queue/", ALL_STAFF),
    Page("staff_queue_active", lambda w: "/s/queue/?tab=active", ALL_STAFF),
    Page("staff_queue_done", lambda w: "/s/queue/?tab=done&page=2", ALL_STAFF),
    Page("staff_request_new", lambda w: "/s/requests/new/", ALL_STAFF),
    Page("staff_request_detail", lambda w: f"/s/requests/{w.request.id}/", STAFF_OF_MINE),
    Page(
        "staff_request_detail_widened",
        lambda w: f"/s/requests/{w.request.id}/?category=&township=&village=x",
        STAFF_OF_MINE,
    ),
    Page(
        "staff_request_detail_township_b",
        lambda w: f"/s/requests/{w.request_b.id}/",
        frozenset({"staff_b", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}),
    ),
    Page(
        "staff_request_detail_other_field",
        lambda w: f"/s/requests/{request_env_id(w)}/",
        frozenset({"staff_b", "centre_office_staff", "dispatcher", "admin"}),
    ),
    Page("request_detail_theirs", lambda w: f"/r/requests/{w.request_b.id}/", frozenset({"other_resident"})),
    Page("notifications_inbox", lambda w: "/notifications/", LOGGED_IN),
    Page("notifications_badge", lambda w: "/notifications/badge/", LOGGED_IN),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_get_is_scoped_and_leaks_nothing(client, world, page: Page, role: str) -> None:
    advance(world, "offered")
    url = page.url(world)
    response = client_as(client, world.cast, role).get(url)
    if role == "anonymous" and not page.public:
        assert response.status_code == 302
        assert response["Location"] == login_redirect(url)
    elif role not in page.allowed:
        assert response.status_code == 404
    elif page.redirect_for is not None:
        assert response.status_code == 302
        assert response["Location"] == page.redirect_for[role]
    else:
        assert response.status_code == 200
    assert_nothing_leaked(response.content.decode(), role)


def test_resident_sees_own_request_in_full(client, world) -> None:
    advance(world, "offered")
    html = client_as(client, world.cast, "resident").get(f"/r/requests/{world.request.id}/").content.decode()
    for text in (*MINE, "已派单", "已提交", "待派单"):
        assert text in html


def candidate(volunteer) -> str:
    return f'name="volunteer_ids" value="{volunteer.id}"'


def test_staff_in_scope_see_the_resident_contact_and_candidate_volunteers(client, world) -> None:
    advance(world, "queued")
    cast = world.cast
    html = client_as(client, cast, "staff_a").get(f"/s/requests/{world.request.id}/").content.decode()
    assert MY_ADDRESS in html and MY_PHONE in html
    # Candidates are listed by number and masked name only.
    assert candidate(cast.volunteer) in html and candidate(cast.other_volunteer) in html
    assert "张*明" in html and "张小明" not in html
    assert cast.volunteer.user.phone not in html


def test_village_station_only_offers_its_own_villages_volunteers(client, world) -> None:
    advance(world, "queued")
    cast = world.cast
    html = client_as(client, cast, "station_staff_a1").get(f"/s/requests/{world.request.id}/").content.decode()
    assert candidate(cast.volunteer) in html
    assert candidate(cast.other_volunteer) not in html


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("staff_a", False),
        ("station_staff_a1", False),
        ("sub_centre_staff", True),  # a volunteer of its field, in the other township
        ("centre_office_staff", True),
        ("dispatcher", True),
    ],
)
def test_widening_the_candidate_filter_never_leaves_the_staff_area(client, world, role: str, shown: bool) -> None:
    advance(world, "queued")
    org = world.org
    # 码头村 lies 3 km from 太平庄村, within the volunteer's 5 km service radius: in reach of the
    # request, so only the staff member's area keeps the volunteer off the list.
    Place.objects.filter(id=org["village_a1"].id).update(latitude="39.480000", longitude="115.970000")
    Place.objects.filter(id=org["village_b1"].id).update(latitude="39.480000", longitude="116.005000")
    volunteer_b = make_volunteer(
        township=org["township_b"], village=org["village_b1"], categories=[org["category"]], name="马军"
    )
    url = f"/s/requests/{world.request.id}/?township={org['township_b'].id}"
    html = client_as(client, world.cast, role).get(url).content.decode()
    assert (candidate(volunteer_b) in html) is shown
    assert (volunteer_b.volunteer_number in html) is shown


def test_staff_b_queue_lists_only_township_b(client, world) -> None:
    html = client_as(client, world.cast, "staff_b").get("/s/queue/").content.decode()
    assert THEIR_TITLE in html and MY_TITLE not in html
    html = client_as(client, world.cast, "dispatcher").get("/s/queue/").content.decode()
    assert THEIR_TITLE in html and MY_TITLE in html


def staff_links(html: str, world: World) -> set[str]:
    """Which of the world's requests a staff page links to."""
    names = ("request", "resident_a2", "request_b", "request_env")
    return {name for name in names if f'href="/s/requests/{getattr(world, name).id}/"' in html}


# The four requests are submitted: each staff member's "todo" tab lists those of their area.
QUEUE_LISTS = {
    "staff_a": {"request", "resident_a2"},
    "station_staff_a1": {"request"},
    "staff_b": {"request_b", "request_env"},
    "sub_centre_staff": {"request", "resident_a2", "request_b"},  # its field, in both townships
    "centre_office_staff": {"request", "resident_a2", "request_b", "request_env"},
    "dispatcher": {"request", "resident_a2", "request_b", "request_env"},
    "admin": {"request", "resident_a2", "request_b", "request_env"},
}


@pytest.mark.parametrize("role", list(QUEUE_LISTS))
def test_staff_queue_lists_exactly_the_requests_of_the_staff_area(client, world, role: str) -> None:
    response = client_as(client, world.cast, role).get("/s/queue/")
    assert response.status_code == 200
    assert staff_links(response.content.decode(), world) == QUEUE_LISTS[role]


@pytest.mark.parametrize(
    ("role", "shown"),
    [("sub_centre_staff", False), ("centre_office_staff", False), ("dispatcher", False)],
)
def test_the_sub_centre_is_never_offered_volunteers_of_another_field(client, world, role: str, shown: bool) -> None:
    """Filtered to township B, where 陈志强 serves only the other field: the candidates are ranked
    for the request's own field, so he is offered to nobody, the sub-centre least of all."""
    advance(world, "queued")
    org = world.org
    url = f"/s/requests/{world.request.id}/?township={org['township_b'].id}&category={org['other_category'].id}"
    response = client_as(client, world.cast, role).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert (candidate(world.volunteer_env) in html) is shown
    assert (world.volunteer_env.volunteer_number in html) is shown
    assert candidate(world.volunteer_b) not in html  # serves "convenience" only


@pytest.mark.parametrize(
    "url",
    [
        "/r/requests/{id}/cancel/",
        "/v/offers/{offer}/accept/",
        "/s/requests/{id}/review/",
        "/s/requests/{id}/dispatch/",
        "/s/requests/{id}/cancel/",
        "/s/requests/{id}/rate/",
        "/notifications/read-all/",
        "/elder-mode/",
    ],
)
def test_get_on_a_form_action_is_refused_without_change(client, world, url: str) -> None:
    advance(world, "offered")
    url = url.format(id=world.request.id, offer=world.offer.id)
    before = db_state()
    owner = "volunteer" if "/v/" in url else "resident" if "/r/" in url else "staff_a"
    assert client_as(client, world.cast, owner).get(url).status_code == 405
    assert db_state() == before


# ---------------------------------------------------------------- volunteer contact data over a task's life


def _volunteer_pages(client, cast, role: str) -> str:
    c = client_as(client, cast, role)
    pages = [c.get("/v/offers/"), c.get("/v/tasks/"), c.get("/notifications/")]
    assert [p.status_code for p in pages] == [200, 200, 200]
    return "".join(p.content.decode() for p in pages)


@pytest.mark.parametrize(
    ("state", "volunteer_sees_contact"),
    [("offered", False), ("accepted", True), ("in_service", True), ("completed", False)],
)
def test_only_the_accepted_volunteer_sees_contact_while_the_task_is_active(
    client, world, state: str, volunteer_sees_contact: bool
) -> None:
    advance(world, state)
    html = _volunteer_pages(client, world.cast, "volunteer")
    assert MY_TITLE in html
    for secret in MY_CONTACT:
        assert (secret in html) is volunteer_sees_contact, (state, secret)
    # The other volunteer was offered it too; once the place was taken their offer was withdrawn.
    html = _volunteer_pages(client, world.cast, "other_volunteer")
    assert all(secret not in html for secret in MY_CONTACT)
    assert (f"offer-{world.other_offer.id}" in html) is (state == "offered")


def test_volunteer_loses_contact_when_the_request_is_cancelled(client, world) -> None:
    advance(world, "accepted")
    dispatch_services.request_cancel(request=fresh_request(world), actor=world.cast.resident, reason="不需要了")
    html = _volunteer_pages(client, world.cast, "volunteer")
    assert all(secret not in html for secret in MY_CONTACT)


# ---------------------------------------------------------------- POST of every form action


@dataclass(frozen=True)
class Action:
    name: str
    state: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]]
    allowed: frozenset[str]
    # For an allowed role: where it lands, the message it sees, and what it changed.
    redirect: Callable[[World], str]
    success: str
    changed: Callable[[World], None]


def _request_is(status: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        assert fresh_request(w).status == status

    return check


def _offer_is(status: str, request_status: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        assert fresh_offer(w).status == status
        assert fresh_request(w).status == request_status

    return check


def _rated(score: int, on_behalf: bool) -> Callable[[World], None]:
    def check(w: World) -> None:
        rating = Rating.objects.get(request_id=w.request.id)
        assert (rating.score, rating.on_behalf, rating.tags) == (score, on_behalf, ["friendly"])
        assert fresh_request(w).status == Status.CLOSED

    return check


def _dispatched(w: World) -> None:
    assert fresh_request(w).status == Status.OFFERED
    assert list(Offer.objects.filter(request=w.request).values_list("volunteer_id", "status")) == [
        (w.cast.volunteer.id, OfferStatus.OFFERED)
    ]


def _offer_url(verb: str) -> Callable[[World], str]:
    return lambda w: f"/v/offers/{offer_id(w)}/{verb}/"


ACTIONS = [
    Action(
        "request_rate",
        "completed",
        lambda w: f"/r/requests/{w.request.id}/rate/",
        lambda w: {"score": "5", "tags": ["friendly"], "comment": "谢谢"},
        frozenset({"resident"}),
        lambda w: f"/r/requests/{w.request.id}/",
        "已评价，感谢您的反馈！",
        _rated(5, on_behalf=False),
    ),
    Action(
        "request_cancel",
        "offered",
        lambda w: f"/r/requests/{w.request.id}/cancel/",
        lambda w: {"reason": "已经修好了"},
        frozenset({"resident"}),
        lambda w: f"/r/requests/{w.request.id}/",
        "需求已取消。",
        _request_is(Status.CANCELLED),
    ),
    Action(
        "offer_accept",
        "offered",
        _offer_url("accept"),
        lambda w: {},
        frozenset({"volunteer"}),
        lambda w: "/v/tasks/",
        "接单成功！请按时前往服务。",
        _offer_is(OfferStatus.ACCEPTED, Status.ACCEPTED),
    ),
    Action(
        "offer_decline",
        "offered",
        _offer_url("decline"),
        lambda w: {"reason": "今天不在家"},
        frozenset({"volunteer"}),
        lambda w: "/v/offers/",
        "已婉拒，感谢您的答复。",
        _offer_is(OfferStatus.DECLINED, Status.OFFERED),
    ),
    Action(
        "offer_arrive",
        "accepted",
        _offer_url("arrive"),
        lambda w: {},
        frozenset({"volunteer"}),
        lambda w: "/v/tasks/",
        "已签到，服务计时开始。",
        _offer_is(OfferStatus.IN_SERVICE, Status.IN_SERVICE),
    ),
    Action(
        "offer_complete",
        "in_service",
        _offer_url("complete"),
        lambda w: {"report": "已更换阀芯"},
        frozenset({"volunteer"}),
        lambda w: "/v/tasks/",
        "服务已完成，辛苦了！",
        _offer_is(OfferStatus.COMPLETED, Status.COMPLETED),
    ),
    Action(
        "offer_release",
        "accepted",
        _offer_url("release"),
        lambda w: {"reason": "临时生病"},
        frozenset({"volunteer"}),
        lambda w: "/v/tasks/",
        "已告知工作人员，工单将重新派单。",
        _offer_is(OfferStatus.RELEASED, Status.QUEUED),
    ),
    Action(
        "staff_review",
        "submitted",
        lambda w: f"/s/requests/{w.request.id}/review/",
        lambda w: {"decision": "accept", "reason": ""},
        STAFF_OF_MINE,
        lambda w: f"/s/requests/{w.request.id}/",
        "已受理，进入待派单。",
        _request_is(Status.QUEUED),
    ),
    Action(
        "staff_reject",
        "submitted",
        lambda w: f"/s/requests/{w.request.id}/review/",
        lambda w: {"decision": "reject", "reason": "不属于志愿服务范围"},
        STAFF_OF_MINE,
        lambda w: f"/s/requests/{w.request.id}/",
        "已不予受理，群众会收到原因。",
        _request_is(Status.REJECTED),
    ),
    Action(
        "staff_dispatch",
        "queued",
        lambda w: f"/s/requests/{w.request.id}/dispatch/",
        lambda w: {"volunteer_ids": [str(w.cast.volunteer.id)]},
        STAFF_OF_MINE,
        lambda w: f"/s/requests/{w.request.id}/",
        "已派单，等待志愿者接单。",
        _dispatched,
    ),
    Action(
        "staff_cancel",
        "offered",
        lambda w: f"/s/requests/{w.request.id}/cancel/",
        lambda w: {"reason": "群众来电取消"},
        STAFF_OF_MINE,
        lambda w: f"/s/requests/{w.request.id}/",
        "工单已取消。",
        _request_is(Status.CANCELLED),
    ),
    Action(
        "staff_rate",
        "completed",
        lambda w: f"/s/requests/{w.request.id}/rate/",
        lambda w: {"score": "4", "tags": ["friendly"], "comment": "回访：满意"},
        STAFF_OF_MINE,
        lambda w: f"/s/requests/{w.request.id}/",
        "已代群众评价。",
        _rated(4, on_behalf=True),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_form_action_is_scoped_and_refusal_changes_nothing(client, world, action: Action, role: str) -> None:
    advance(world, action.state)
    url = action.url(world)
    before = db_state()
    response = client_as(client, world.cast, role).post(url, action.data(world))
    if role not in action.allowed:
        if role == "anonymous":
            assert response.status_code == 302
            assert response["Location"] == login_redirect(url)
        else:
            assert response.status_code == 404
        assert db_state() == before
        return
    assert response.status_code == 302
    assert response["Location"] == action.redirect(world)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [action.success]
    action.changed(world)


SAFE_RETRIES = {"offer_accept", "offer_arrive", "offer_complete"}


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_form_action_in_the_wrong_state_is_refused_with_a_message(client, world, action: Action) -> None:
    """Allowed users repeating an action, or acting too early, get a message and no change."""
    state_after = {
        "submitted": "queued",
        "queued": "offered",
        "offered": "completed",
        "accepted": "completed",
        "in_service": "completed",
        "completed": "offered",
    }[action.state]
    advance(world, state_after)
    role = next(r for r in ("resident", "volunteer", "station_staff_a1") if r in action.allowed)
    url = action.url(world)
    before = db_state()
    response = client_as(client, world.cast, role).post(url, action.data(world))
    assert response.status_code == 302
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    # Accepting, arriving and completing again after the work is done are safe retries: the
    # same success, and still nothing changes.
    expected = "success" if action.name in SAFE_RETRIES else "error"
    assert len(messages) == 1 and messages[0][0] == expected, messages
    assert db_state() == before


# ---------------------------------------------------------------- forms that create


def _request_form(w: World, village_key: str = "village_a1") -> dict[str, str]:
    return {
        "category": str(w.org["category"].id),
        "title": "陪同老人去医院复查",
        "description": "需要一位志愿者陪同前往市医院。",
        "village": str(w.org[village_key].id),
        "address": "太平庄村南街3号",
        "contact_name": "王秀兰",
        "contact_phone": "0312-3456789",
        "urgency": "urgent",
        "volunteers_needed": "1",
        "window_start": "",
        "window_end": "",
    }


@pytest.mark.parametrize("role", ROLES)
def test_request_new_form_submits_for_any_logged_in_user(client, world, role: str) -> None:
    before = db_state()
    response = client_as(client, world.cast, role).post("/r/requests/new/", _request_form(world))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == login_redirect("/r/requests/new/")
        assert db_state() == before
        return
    created = ServiceRequest.objects.get(title="陪同老人去医院复查")
    assert response.status_code == 302
    assert response["Location"] == f"/r/requests/{created.id}/"
    assert (created.requester, created.entered_by, created.channel) == (user_of(world.cast, role),) * 2 + ("web",)
    assert (created.station, created.contact_phone, created.status) == (
        world.org["station_a1"],
        "03123456789",
        Status.SUBMITTED,
    )


def test_request_new_form_with_errors_shows_them_and_creates_nothing(client, world) -> None:
    before = db_state()
    data = {
        **_request_form(world),
        "contact_phone": "12345",
        "window_start": "2030-01-02T10:00",
        "window_end": "2030-01-02T09:00",
    }
    response = client_as(client, world.cast, "resident").post("/r/requests/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入手机号码或带区号的固定电话。" in html and "结束时间须晚于开始时间。" in html
    assert db_state() == before


STAFF_NEW_EXPECTED = {
    # role → (status, request created?)
    "anonymous": (302, False),
    "resident": (404, False),
    "other_resident": (404, False),
    "volunteer": (404, False),
    "other_volunteer": (404, False),
    "staff_a": (302, True),
    "station_staff_a1": (302, True),
    "staff_b": (200, False),  # 太平庄村 is outside 码头镇: the form says so
    "sub_centre_staff": (302, True),  # "convenience" is its field, in any village
    "centre_office_staff": (302, True),
    "dispatcher": (302, True),
    "admin": (302, True),
}


@pytest.mark.parametrize("role", ROLES)
def test_staff_request_new_on_behalf_only_inside_the_staff_area(client, world, role: str) -> None:
    data = {**_request_form(world), "requester_name": "郭大爷", "requester_phone": "13566667777", "channel": "phone"}
    before = db_state()
    response = client_as(client, world.cast, role).post("/s/requests/new/", data)
    status, creates = STAFF_NEW_EXPECTED[role]
    assert response.status_code == status
    if not creates:
        assert db_state() == before
        if role == "anonymous":
            assert response["Location"] == login_redirect("/s/requests/new/")
        if status == 200:
            assert "该村/社区不在您的服务范围内。" in response.content.decode()
        return
    created = ServiceRequest.objects.get(title="陪同老人去医院复查")
    assert response["Location"] == f"/s/requests/{created.id}/"
    assert (created.requester.name, created.requester.phone, created.channel) == ("郭大爷", "13566667777", "phone")
    assert created.entered_by == user_of(world.cast, role)


# 代点单 of an "environment" request in 码头村 (township B): role → status (302: created).
STAFF_NEW_OTHER_FIELD = {
    "staff_a": 200,
    "station_staff_a1": 200,
    "staff_b": 302,
    "sub_centre_staff": 200,  # not its field, though "convenience" in the same village would be
    "centre_office_staff": 302,
    "dispatcher": 302,
    "admin": 302,
}


@pytest.mark.parametrize("role", list(STAFF_NEW_OTHER_FIELD))
def test_staff_request_new_on_behalf_in_another_field_follows_the_area(client, world, role: str) -> None:
    data = {
        **_request_form(world, "village_b1"),
        "category": str(world.org["other_category"].id),
        "requester_name": "郭大爷",
        "requester_phone": "13566667777",
        "channel": "desk",
    }
    before = db_state()
    response = client_as(client, world.cast, role).post("/s/requests/new/", data)
    assert response.status_code == STAFF_NEW_OTHER_FIELD[role]
    if response.status_code == 200:
        refusal = "该服务类别不在您的服务范围内。" if role == "sub_centre_staff" else "该村/社区不在您的服务范围内。"
        assert refusal in response.content.decode()
        assert db_state() == before
        return
    created = ServiceRequest.objects.get(title="陪同老人去医院复查")
    assert response["Location"] == f"/s/requests/{created.id}/"
    assert (created.category, created.village, created.station) == (
        world.org["other_category"],
        world.org["village_b1"],
        world.org["station_b1"],
    )
    assert created.entered_by == user_of(world.cast, role)


@pytest.mark.parametrize(
    ("role", "volunteer_key"),
    [
        ("station_staff_a1", "other_volunteer"),
        ("staff_a", "volunteer_b"),
        ("staff_b", "volunteer_b"),
        ("sub_centre_staff", "volunteer_env"),  # lives in the city, but serves another field
    ],
)
def test_dispatch_to_a_volunteer_outside_the_staff_area_is_refused(
    client, world, role: str, volunteer_key: str
) -> None:
    advance(world, "queued")
    volunteer_b = make_volunteer(township=world.org["township_b"], categories=[world.org["category"]], name="马军")
    chosen = {
        "volunteer_b": volunteer_b,
        "other_volunteer": world.cast.other_volunteer,
        "volunteer_env": world.volunteer_env,
    }[volunteer_key]
    before = db_state()
    response = client_as(client, world.cast, role).post(
        f"/s/requests/{world.request.id}/dispatch/", {"volunteer_ids": [str(chosen.id)]}
    )
    if role == "staff_b":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        # The same refusal, naming the same ids, as the API's.
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            f"以下志愿者不存在或不在您的服务范围内：{chosen.id}"
        ]
    assert db_state() == before


@pytest.mark.parametrize(
    "data",
    [{}, {"volunteer_ids": ["abc"]}, {"volunteer_ids": ["987654"]}],
    ids=["none", "not_a_number", "unknown"],
)
def test_dispatch_with_bad_input_is_refused_with_a_message(client, world, data: dict) -> None:
    advance(world, "queued")
    before = db_state()
    response = client_as(client, world.cast, "staff_a").post(f"/s/requests/{world.request.id}/dispatch/", data)
    assert response.status_code == 302
    assert len(list(get_messages(response.wsgi_request))) == 1
    assert db_state() == before


def test_unknown_offer_verb_is_404(client, world) -> None:
    advance(world, "offered")
    before = db_state()
    response = client_as(client, world.cast, "volunteer").post(f"/v/offers/{world.offer.id}/steal/")
    assert response.status_code == 404
    assert db_state() == before


# ---------------------------------------------------------------- forms every page carries


@pytest.mark.parametrize("role", ROLES)
def test_read_all_marks_only_the_users_own_notifications(client, world, role: str) -> None:
    advance(world, "offered")
    before = db_state()
    user = user_of(world.cast, role)
    others_before = list(Notification.objects.exclude(recipient=user).order_by("id").values_list("id", "read_at"))
    response = client_as(client, world.cast, role).post("/notifications/read-all/")
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == login_redirect("/notifications/read-all/")
        assert db_state() == before
        return
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    user = user_of(world.cast, role)
    # The centre's dispatchers, its office and the admin are not sent per-request messages.
    assert Notification.objects.filter(recipient=user).exists() is (
        role not in {"dispatcher", "centre_office_staff", "admin"}
    )
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert others_before == list(
        Notification.objects.exclude(recipient=user).order_by("id").values_list("id", "read_at")
    )


@pytest.mark.parametrize("role", ROLES)
def test_elder_mode_toggles_a_cookie_and_refuses_foreign_redirects(client, world, role: str) -> None:
    c = client_as(client, world.cast, role)
    before = db_state()
    response = c.post("/elder-mode/", {"next": "/r/requests/"})
    assert (response.status_code, response["Location"]) == (302, "/r/requests/")
    assert response.cookies["elder_mode"].value == "1"
    response = c.post("/elder-mode/", {"next": "https://evil.example/phish"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert response.cookies["elder_mode"].value == "0"
    response = c.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert db_state() == before


@pytest.mark.parametrize("role", sorted(LOGGED_IN))
def test_logout_ends_the_session(client, world, role: str) -> None:
    c = client_as(client, world.cast, role)
    response = c.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert c.get("/r/requests/")["Location"] == login_redirect("/r/requests/")


def test_inbox_links_each_notification_to_the_page_its_reader_uses(client, cast, org):
    from apps.dispatch.services import dispatch_directed, offer_accept
    from apps.service_requests.services import request_review
    from tests.service_requests.factories import submit_request

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    offer_accept(offer=offer, volunteer=cast.volunteer)

    expected = {
        cast.resident: f"/r/requests/{request.id}/",
        cast.staff_a: f"/s/requests/{request.id}/",
        cast.volunteer.user: "/v/offers/",
    }
    for user, link in expected.items():
        client.force_login(user)
        html = client.get("/notifications/").content.decode()
        ids = list(Notification.objects.filter(recipient=user, link=link).values_list("id", flat=True))
        assert ids, user
        # The inbox links each message through opening it, which marks it read and goes to its page.
        assert [f'<a href="/notifications/{id_}/">' in html for id_ in ids] == [True] * len(ids)
        response = client.get(f"/notifications/{ids[0]}/")
        assert (response.status_code, response["Location"]) == (302, link)


def inbox_links(html: str, user: User | None, world: World) -> set[str]:
    """Which of the world's requests an inbox links to: each message links to its opening,
    which goes on to the page stored with it."""
    opened = {
        link
        for id_, link in Notification.objects.filter(recipient=user).values_list("id", "link")
        if f'href="/notifications/{id_}/"' in html
    }
    names = ("request", "resident_a2", "request_b", "request_env")
    return {name for name in names if f"/s/requests/{getattr(world, name).id}/" in opened}


# Whose inbox links to which request once all four are submitted and the resident's is accepted:
# the station, the office and the sub-centre of each request are told; the centre, its office
# and the admin follow their boards instead.
INBOX_LINKS = {
    "staff_a": {"request", "resident_a2"},
    "station_staff_a1": {"request"},
    "staff_b": {"request_b", "request_env"},
    "sub_centre_staff": {"request", "resident_a2", "request_b"},
    "centre_office_staff": set(),
    "dispatcher": set(),
    "admin": set(),
}


@pytest.mark.parametrize("role", list(INBOX_LINKS))
def test_staff_inbox_tells_of_the_requests_of_the_staff_area(client, world, role: str) -> None:
    advance(world, "accepted")
    response = client_as(client, world.cast, role).get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert inbox_links(html, user_of(world.cast, role), world) == INBOX_LINKS[role]
    assert_nothing_leaked(html, role)


def test_volunteer_offer_page_hides_offers_past_their_time_before_the_sweep(client, cast, org):
    from datetime import timedelta

    from django.utils import timezone

    from apps.dispatch.models import Offer
    from apps.dispatch.services import dispatch_directed
    from apps.service_requests.services import request_review
    from tests.service_requests.factories import submit_request

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    client.force_login(cast.volunteer.user)
    assert f'id="offer-{offer.id}"' in client.get("/v/offers/").content.decode()

    Offer.objects.filter(id=offer.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    html = client.get("/v/offers/").content.decode()
    assert f'id="offer-{offer.id}"' not in html
    assert "暂时没有新的服务邀请。" in html


def test_resident_cancel_with_an_over_long_reason_says_why_and_changes_nothing(client, cast, org):
    from apps.service_requests.models import RequestEvent, ServiceRequest
    from tests.service_requests.factories import submit_request

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    client.force_login(cast.resident)
    response = client.post(f"/r/requests/{request.id}/cancel/", {"reason": "长" * 501}, follow=True)
    assert response.status_code == 200
    assert "确保该变量包含不超过 500 字符 (目前字符数 501)。" in response.content.decode()
    assert ServiceRequest.objects.get(id=request.id).status == "submitted"
    assert RequestEvent.objects.filter(request=request).count() == 1
