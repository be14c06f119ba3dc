"""Broadcast (抢单): the queue opens a request once and tells the best-ranked volunteers; every
eligible volunteer sees it in their open tasks and may take a place, first come first served;
anyone else neither sees it nor can take it. The services, the API and the pages, with their
permission matrices and bad input. Also the helpers the other broadcast tests share."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.errors import Conflict, NotFound
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import dispatch_directed, offer_release, request_cancel
from apps.matching.broadcast import open_task_take, open_tasks_for
from apps.matching.models import MatchState
from apps.matching.services import matching_advance
from apps.notifications.messages import render
from apps.notifications.models import Kind, Notification
from apps.organisation.models import DispatchMode, Place, ServiceCategory
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review, staff_ids_for
from apps.volunteers.models import VolunteerProfile
from apps.volunteers.services import volunteer_pause
from tests.conftest import Cast
from tests.service_requests.factories import submit_request
from tests.volunteers.factories import make_volunteer

TITLE = "帮忙修理漏水的水龙头"

# --- Shared by the broadcast tests --------------------------------------------------------------


def make_broadcast(category: ServiceCategory) -> None:
    category.default_dispatch_mode = DispatchMode.BROADCAST
    category.save(update_fields=["default_dispatch_mode"])


def open_broadcast(cast: Cast, org: dict, *, needed: int = 1, village: Place | None = None) -> ServiceRequest:
    """A broadcast request staff accepted into the queue, opened by the queue's step (run as the
    worker runs it)."""
    make_broadcast(org["category"])
    request = submit_request(
        requester=cast.resident,
        category=org["category"],
        village=village or org["village_a1"],
        volunteers_needed=needed,
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    matching_advance(request_id=request.id)
    request.refresh_from_db()
    assert request.dispatch_mode == DispatchMode.BROADCAST
    assert MatchState.objects.get(request=request).broadcast_at is not None
    return request


def story(request: ServiceRequest) -> list[tuple[str, str, str, int | None]]:
    """(from, to, reason code, actor id) of each event of ``request``, in order."""
    return [
        (e.from_status, e.to_status, e.reason_code, e.actor_id)
        for e in RequestEvent.objects.filter(request=request).order_by("created_at", "id")
    ]


def outsiders(org: dict) -> dict[str, VolunteerProfile]:
    """Volunteers who must not see a request of village A1 in "convenience": one in township B,
    one who serves another field, one who paused, one not yet verified."""
    paused = make_volunteer(
        township=org["township_a"], village=org["village_a1"], categories=[org["category"]], name="赵暂停"
    )
    volunteer_pause(profile=paused, actor=paused.user)
    return {
        "other_township": make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[org["category"]], name="钱远方"
        ),
        "other_category": make_volunteer(
            township=org["township_a"], village=org["village_a1"], categories=[org["other_category"]], name="孙环保"
        ),
        "paused": paused,
        "unverified": make_volunteer(
            township=org["township_a"],
            village=org["village_a1"],
            categories=[org["category"]],
            verified=False,
            name="李待审",
        ),
    }


def counts(request: ServiceRequest) -> tuple[int, int, int, int]:
    request.refresh_from_db()
    return (
        Offer.objects.filter(request=request).count(),
        RequestEvent.objects.filter(request=request).count(),
        Notification.objects.filter(request_id=request.id).count(),
        request.volunteers_accepted,
    )


# --- Opening -----------------------------------------------------------------------------------


def test_opening_marks_it_once_writes_the_event_and_tells_the_eligible(db, cast, org):
    request = open_broadcast(cast, org, needed=2)

    assert request.status == Status.QUEUED
    assert story(request) == [
        ("", "submitted", "", cast.resident.id),
        ("submitted", "queued", "", cast.staff_a.id),
        ("queued", "queued", "broadcast_opened", None),
    ]
    told = Notification.objects.filter(request_id=request.id, kind=Kind.OPEN_TASK)
    assert sorted(told.values_list("recipient_id", "link")) == sorted(
        [(cast.volunteer.user_id, "/v/open-tasks/"), (cast.other_volunteer.user_id, "/v/open-tasks/")]
    )
    with translation.override("zh-hans"):
        assert render(Kind.OPEN_TASK, told[0].params, request.id) == (
            "新的抢单任务",
            f"附近有一项服务需求#{request.id}「{TITLE}」等待志愿者承接，先到先得。",
        )
    opened_at = MatchState.objects.get(request=request).broadcast_at

    before = counts(request)
    matching_advance(request_id=request.id)
    assert counts(request) == before
    assert MatchState.objects.get(request=request).broadcast_at == opened_at


def test_opening_tells_the_fifty_best_ranked_and_everyone_eligible_sees_it(db, cast, org):
    crowd = [
        make_volunteer(
            township=org["township_a"],
            village=org["village_a1"],
            categories=[org["category"]],
            phone=f"1360000{i:04d}",
        )
        for i in range(53)
    ]
    request = open_broadcast(cast, org)

    assert Notification.objects.filter(request_id=request.id, kind=Kind.OPEN_TASK).count() == 50
    # 55 eligible (the crowd and the cast's two volunteers): the five not told still see it.
    for volunteer in [*crowd, cast.volunteer, cast.other_volunteer]:
        assert [r.id for r in open_tasks_for(volunteer=volunteer)] == [request.id]


# --- Who sees it, who may take it -------------------------------------------------------------


def test_only_eligible_volunteers_see_it_and_the_others_cannot_take_it(db, cast, org):
    others = outsiders(org)
    request = open_broadcast(cast, org)

    assert [r.id for r in open_tasks_for(volunteer=cast.volunteer)] == [request.id]
    assert [r.id for r in open_tasks_for(volunteer=cast.other_volunteer)] == [request.id]
    before = counts(request)
    for name, volunteer in others.items():
        volunteer.refresh_from_db()
        assert open_tasks_for(volunteer=volunteer) == [], name
        with pytest.raises(NotFound):
            open_task_take(request=request, volunteer=volunteer)
    assert counts(request) == before


def test_a_request_not_opened_to_everyone_is_nobody_s_open_task(db, cast, org):
    directed = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=directed, actor=cast.staff_a, accept=True)
    make_broadcast(org["category"])
    not_yet_reviewed = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    assert open_tasks_for(volunteer=cast.volunteer) == []
    for request in (directed, not_yet_reviewed):
        with pytest.raises(NotFound):
            open_task_take(request=request, volunteer=cast.volunteer)
        assert Offer.objects.filter(request=request).count() == 0


# --- Taking ------------------------------------------------------------------------------------


def test_taking_a_place_accepts_at_once_and_a_retry_changes_nothing(db, cast, org):
    request = open_broadcast(cast, org, needed=2)

    offer, taken = open_task_take(request=request, volunteer=cast.volunteer)

    assert taken is True
    offer.refresh_from_db()
    assert (offer.status, offer.via, offer.offered_by_id, offer.volunteer_id) == (
        OfferStatus.ACCEPTED,
        DispatchMode.BROADCAST,
        cast.volunteer.user_id,
        cast.volunteer.id,
    )
    request.refresh_from_db()
    assert (request.status, request.volunteers_accepted) == (Status.OFFERED, 1)
    assert story(request)[3:] == [("queued", "offered", "taken_from_open_tasks", cast.volunteer.user_id)]
    assert list(offer.events.values_list("from_status", "to_status", "actor_id")) == [
        ("", "offered", cast.volunteer.user_id),
        ("offered", "accepted", cast.volunteer.user_id),
    ]
    # The resident hears of it; the volunteer gets a receipt; nobody is invited to answer.
    assert set(
        Notification.objects.filter(request_id=request.id, kind=Kind.ACCEPTED).values_list("recipient_id", flat=True)
    ) == {cast.resident.id, cast.volunteer.user_id, *staff_ids_for(request)}
    assert Notification.objects.filter(request_id=request.id, kind=Kind.OFFERED).count() == 0
    # Taken: no longer in the volunteer's open tasks; still in the other volunteer's.
    assert open_tasks_for(volunteer=cast.volunteer) == []
    assert [r.id for r in open_tasks_for(volunteer=cast.other_volunteer)] == [request.id]

    before = counts(request)
    again, taken_again = open_task_take(request=request, volunteer=cast.volunteer)
    assert (again.id, taken_again) == (offer.id, False)
    assert counts(request) == before


def test_the_last_place_closes_it_and_a_late_taker_is_told_it_is_gone(db, cast, org):
    request = open_broadcast(cast, org, needed=1)
    open_task_take(request=request, volunteer=cast.volunteer)
    request.refresh_from_db()
    assert (request.status, request.volunteers_accepted) == (Status.ACCEPTED, 1)
    assert story(request)[-1] == ("offered", "accepted", "fully_staffed", cast.volunteer.user_id)

    before = counts(request)
    with translation.override("zh-hans"), pytest.raises(Conflict) as refused:
        open_task_take(request=request, volunteer=cast.other_volunteer)
    assert (refused.value.code, str(refused.value.message)) == ("offer_taken", "手慢了，这个任务的名额已经被抢完了。")
    assert counts(request) == before
    assert open_tasks_for(volunteer=cast.other_volunteer) == []


def test_a_released_place_opens_again_to_the_others_but_not_to_who_released_it(db, cast, org):
    request = open_broadcast(cast, org, needed=1)
    offer, _taken = open_task_take(request=request, volunteer=cast.volunteer)
    assert open_tasks_for(volunteer=cast.other_volunteer) == []

    offer_release(offer=offer, volunteer=cast.volunteer, reason="家里有急事")
    matching_advance(request_id=request.id)  # the step the release wrote: nothing more to announce

    request.refresh_from_db()
    assert (request.status, request.volunteers_accepted) == (Status.QUEUED, 0)
    assert Notification.objects.filter(request_id=request.id, kind=Kind.OPEN_TASK).count() == 2
    assert [r.id for r in open_tasks_for(volunteer=cast.other_volunteer)] == [request.id]
    assert open_tasks_for(volunteer=cast.volunteer) == []
    with pytest.raises(NotFound):
        open_task_take(request=request, volunteer=cast.volunteer)
    again, taken = open_task_take(request=request, volunteer=cast.other_volunteer)
    assert (again.status, taken) == (OfferStatus.ACCEPTED, True)


def test_a_cancelled_request_is_refused_as_cancelled(db, cast, org):
    request = open_broadcast(cast, org)
    request_cancel(request=request, actor=cast.resident, reason="")

    with pytest.raises(Conflict) as refused:
        open_task_take(request=request, volunteer=cast.volunteer)
    assert refused.value.code == "request_cancelled"
    assert open_tasks_for(volunteer=cast.volunteer) == []


def test_a_volunteer_with_an_unanswered_offer_on_it_takes_by_accepting_that_offer(db, cast, org):
    request = open_broadcast(cast, org, needed=2)
    [pending] = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])

    offer, taken = open_task_take(request=request, volunteer=cast.volunteer)

    assert (offer.id, taken) == (pending.id, True)
    assert Offer.objects.get(id=pending.id).status == OfferStatus.ACCEPTED
    assert Offer.objects.filter(request=request).count() == 1


# --- API ---------------------------------------------------------------------------------------

ROLES = [
    "anonymous",
    "resident",
    "volunteer",
    "other_volunteer",
    "staff_a",
    "station_staff_a1",
    "staff_b",
    "dispatcher",
    "sub_centre_staff",
    "admin",
]
VOLUNTEERS = {"volunteer", "other_volunteer"}


def actor(cast: Cast, role: str):
    return None if role == "anonymous" else getattr(cast, role)


def _user(cast: Cast, role: str):
    who = actor(cast, role)
    return who.user if isinstance(who, VolunteerProfile) else who


@pytest.mark.parametrize("role", ROLES)
def test_api_open_tasks_list_permission_matrix(db, cast, org, api, role):
    request = open_broadcast(cast, org)
    response = api(actor(cast, role)).get("/api/v1/open-tasks/")

    if role == "anonymous":
        assert response.status_code == 401
    elif role in VOLUNTEERS:
        assert response.status_code == 200
        [row] = response.json()
        assert row == {
            "id": request.id,
            "title": TITLE,
            "description": "厨房水龙头一直滴水，老两口拧不动。",
            "category": {"id": org["category"].id, "name": "便民服务"},
            "township": {"id": org["township_a"].id, "name": "桃园街道"},
            "village": {"id": org["village_a1"].id, "name": "太平庄村"},
            "urgency": "normal",
            "urgency_display": "一般",
            "window_start": None,
            "window_end": None,
            "volunteers_needed": 1,
            "volunteers_accepted": 0,
            "places_left": 1,
        }
        assert "太平庄村东街12号" not in response.content.decode() and "13912345678" not in response.content.decode()
    else:
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_api_open_tasks_list_is_empty_for_the_ineligible(db, cast, org, api):
    others = outsiders(org)
    open_broadcast(cast, org)
    for name, volunteer in others.items():
        response = api(volunteer).get("/api/v1/open-tasks/")
        assert (response.status_code, response.json()) == (200, []), name


@pytest.mark.parametrize("role", ROLES)
def test_api_take_permission_matrix(db, cast, org, api, role):
    request = open_broadcast(cast, org)
    before = counts(request)
    response = api(actor(cast, role)).post(f"/api/v1/open-tasks/{request.id}/take/")

    if role in VOLUNTEERS:
        assert response.status_code == 201
        body = response.json()
        offer = Offer.objects.get(request=request)
        assert (body["id"], body["status"], body["volunteer"]["id"]) == (offer.id, "accepted", actor(cast, role).id)
        # Holding a place: where to go and whom to call.
        assert (body["request"]["address"], body["request"]["contact_phone"]) == ("太平庄村东街12号", "13912345678")
        return
    expected = {"anonymous": 401}.get(role, 403)
    assert response.status_code == expected
    assert counts(request) == before


def test_api_take_refusals_and_retries(db, cast, org, api):
    others = outsiders(org)
    request = open_broadcast(cast, org)
    client = api(cast.volunteer)

    first = client.post(f"/api/v1/open-tasks/{request.id}/take/")
    assert first.status_code == 201
    again = client.post(f"/api/v1/open-tasks/{request.id}/take/")
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])

    late = api(cast.other_volunteer).post(f"/api/v1/open-tasks/{request.id}/take/")
    assert (late.status_code, late.json()) == (
        409,
        {"detail": "手慢了，这个任务的名额已经被抢完了。", "code": "offer_taken"},
    )
    for name, volunteer in others.items():
        refused = api(volunteer).post(f"/api/v1/open-tasks/{request.id}/take/")
        assert (refused.status_code, refused.json()["code"]) == (404, "not_found"), name
    assert Offer.objects.filter(request=request).count() == 1


@pytest.mark.parametrize(
    "path, method, expected",
    [
        ("/api/v1/open-tasks/999999/take/", "post", 404),  # no such request
        ("/api/v1/open-tasks/99999999999999999999/take/", "post", 404),  # past any id
        ("/api/v1/open-tasks/abc/take/", "post", 404),
        ("/api/v1/open-tasks/{id}/take/", "get", 405),
        ("/api/v1/open-tasks/", "post", 405),
    ],
)
def test_api_take_bad_input_is_refused_cleanly(db, cast, org, api, path, method, expected):
    request = open_broadcast(cast, org)
    before = counts(request)
    response = getattr(api(cast.volunteer), method)(path.format(id=request.id))
    assert response.status_code == expected
    assert "detail" in response.json()
    assert counts(request) == before


def test_api_take_with_an_idempotency_key_replays_the_first_answer(db, cast, org, api):
    request = open_broadcast(cast, org)
    client = api(cast.volunteer)
    url = f"/api/v1/open-tasks/{request.id}/take/"

    first = client.post(url, HTTP_IDEMPOTENCY_KEY="take-1")
    replay = client.post(url, HTTP_IDEMPOTENCY_KEY="take-1")
    assert (first.status_code, replay.status_code, replay["Idempotent-Replayed"]) == (201, 201, "true")
    assert replay.json() == first.json()
    bad = client.post(url, HTTP_IDEMPOTENCY_KEY="")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_idempotency_key")
    assert Offer.objects.filter(request=request).count() == 1


# --- Pages -------------------------------------------------------------------------------------


def page_client(cast: Cast, role: str) -> Client:
    client = Client()
    user = _user(cast, role)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_open_tasks_page_permission_matrix(db, cast, org, role):
    open_broadcast(cast, org)
    response = page_client(cast, role).get("/v/open-tasks/")

    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, "/login/?next=/v/open-tasks/")
    elif role in VOLUNTEERS:
        assert response.status_code == 200
        html = response.content.decode()
        assert TITLE in html and "需要1人 · 已有0人接单 · 还差1人" in html and "确认抢单" in html
        assert "太平庄村东街12号" not in html and "13912345678" not in html
    else:
        assert response.status_code == 404


def test_open_tasks_page_shows_nothing_to_the_ineligible(db, cast, org):
    others = outsiders(org)
    open_broadcast(cast, org)
    for name, volunteer in others.items():
        response = page_client_for(volunteer).get("/v/open-tasks/")
        assert response.status_code == 200, name
        assert TITLE not in response.content.decode(), name
        assert "暂时没有可以抢的任务。" in response.content.decode(), name
        hint = "您的志愿者注册通过审核、且未暂停服务时，才能抢单。" in response.content.decode()
        assert hint == (name in ("paused", "unverified")), name


def page_client_for(volunteer: VolunteerProfile) -> Client:
    client = Client()
    client.force_login(volunteer.user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_take_page_action_permission_matrix(db, cast, org, role):
    request = open_broadcast(cast, org)
    before = counts(request)
    path = f"/v/open-tasks/{request.id}/take/"
    response = page_client(cast, role).post(path)

    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, "/login/?next=" + path)
    elif role in VOLUNTEERS:
        assert (response.status_code, response["Location"]) == (302, "/v/tasks/")
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["抢单成功！请按时前往服务。"]
        assert Offer.objects.get(request=request).status == OfferStatus.ACCEPTED
        return
    else:
        assert response.status_code == 404
    assert counts(request) == before


def test_take_page_action_refusals(db, cast, org):
    others = outsiders(org)
    request = open_broadcast(cast, org)
    page_client_for(cast.volunteer).post(f"/v/open-tasks/{request.id}/take/")
    before = counts(request)

    late = page_client_for(cast.other_volunteer).post(f"/v/open-tasks/{request.id}/take/")
    assert (late.status_code, late["Location"]) == (302, "/v/open-tasks/")
    assert [str(m) for m in get_messages(late.wsgi_request)] == ["手慢了，这个任务的名额已经被抢完了。"]
    for name, volunteer in others.items():
        assert page_client_for(volunteer).post(f"/v/open-tasks/{request.id}/take/").status_code == 404, name
    client = page_client_for(cast.other_volunteer)
    assert client.get(f"/v/open-tasks/{request.id}/take/").status_code == 405
    assert client.post("/v/open-tasks/99999999999999999999/take/").status_code == 404
    assert client.post("/v/open-tasks/999999/take/").status_code == 404
    assert client.post("/v/open-tasks/").status_code == 405
    assert counts(request) == before


# --- Query counts ------------------------------------------------------------------------------


def test_api_open_tasks_list_query_count(db, cast, org, django_assert_num_queries):
    for _ in range(3):
        open_broadcast(cast, org)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=cast.volunteer.user).key)
    # 1 the token and its user; 2 the volunteer's profile; 3 the open broadcast requests (at most
    # 100); then 1 eligibility check per open request (3 here): the hard filters in one query each.
    with django_assert_num_queries(6):
        response = client.get("/api/v1/open-tasks/")
    assert len(response.json()) == 3
