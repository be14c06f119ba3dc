"""The staff API of the matching queue: ranked candidates, the queue at work on a request, and
switching its dispatch mode — who may call each (exact status codes, nothing leaked, nothing
changed), what a bad query or body gets (a translated 400/409, never a 500), and the queries
the candidates list runs."""

from typing import Any

import pytest

from apps.accounts.models import User
from apps.matching.models import MatchState
from apps.organisation.models import DispatchMode
from apps.service_requests.models import RequestEvent, ServiceRequest
from apps.volunteers.models import VolunteerProfile
from tests.matching.staff_world import MANAGERS, ROLES, build_world, state
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import INVALID, NOT_AUTHENTICATED, NOT_FOUND, TITLE, error_body, submit


@pytest.fixture
def world(cast, org) -> dict[str, Any]:
    return build_world(cast, org)


def user_for(cast, world, role: str) -> User | VolunteerProfile | None:
    if role == "anonymous":
        return None
    if role in world:
        return world[role]
    return getattr(cast, role)


def refused(role: str) -> tuple[int, dict[str, str]]:
    return (401, NOT_AUTHENTICATED) if role == "anonymous" else (404, NOT_FOUND)


def numbers(body: dict[str, Any]) -> list[str]:
    return [row["volunteer_number"] for row in body["results"]]


CANDIDATE_KEYS = {"volunteer_id", "volunteer_number", "masked_name", "score", "components", "reasons", "distance_km"}


# ---------------------------------------------------------------- permission matrix


@pytest.mark.parametrize("role", ROLES)
def test_candidates_are_for_the_staff_of_the_request_only(api, cast, world, role) -> None:
    url = f"/api/v1/requests/{world['request'].id}/candidates/"
    before = state()
    response = api(user_for(cast, world, role)).get(url)
    assert state() == before
    if role not in MANAGERS:
        assert (response.status_code, error_body(response)) == refused(role)
        assert TITLE not in response.content.decode()
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert all(set(row) == CANDIDATE_KEYS for row in body["results"])
    # Only volunteers of the caller's area: the station sees its own village's volunteer.
    expected = {
        "station_staff_a1": [cast.volunteer.volunteer_number],
        "staff_a": [cast.volunteer.volunteer_number, cast.other_volunteer.volunteer_number],
        "sub_centre_staff": [cast.volunteer.volunteer_number, cast.other_volunteer.volunteer_number],
        "dispatcher": [cast.volunteer.volunteer_number, cast.other_volunteer.volunteer_number],
    }[role]
    assert numbers(body) == expected
    first = body["results"][0]
    assert first["volunteer_id"] == cast.volunteer.id
    assert first["masked_name"] == cast.volunteer.user.masked_name == "张*明"
    assert cast.volunteer.user.name not in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_match_summary_is_for_the_staff_of_the_request_only(api, cast, world, role) -> None:
    response = api(user_for(cast, world, role)).get(f"/api/v1/requests/{world['request'].id}/matching/")
    if role not in MANAGERS:
        assert (response.status_code, error_body(response)) == refused(role)
        return
    assert response.status_code == 200
    assert response.json() == {
        "mode": "directed",
        "mode_display": "定向派单",
        "waves": [],
        "next_wave_at": None,
        "needs_person": "",
        "needs_person_display": "",
        "escalated_to": "",
        "widened": False,
        "team": "",
    }


@pytest.mark.parametrize("role", ROLES)
def test_only_the_staff_of_the_request_switch_its_mode(api, cast, world, role) -> None:
    request = world["request"]
    before = state()
    response = api(user_for(cast, world, role)).post(
        f"/api/v1/requests/{request.id}/dispatch-mode/", {"mode": "auto"}, format="json"
    )
    if role not in MANAGERS:
        assert (response.status_code, error_body(response)) == refused(role)
        assert state() == before
        return
    assert response.status_code == 200, response.content
    assert (response.json()["mode"], response.json()["mode_display"]) == ("auto", "自动派单")
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.AUTO
    event = RequestEvent.objects.filter(request=request).latest("id")
    assert (event.actor, event.reason_code) == (user_for(cast, world, role), "mode_changed")


def test_staff_switch_to_a_team_of_their_area(api, cast, world) -> None:
    request = world["request"]
    response = api(cast.staff_a).post(
        f"/api/v1/requests/{request.id}/dispatch-mode/", {"mode": "team", "team": world["team_a"].id}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["mode"], response.json()["team"]) == ("team", "桃园志愿服务队")
    assert MatchState.objects.get(request=request).team == world["team_a"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=-1", "limit", "请确保该值大于或者等于 1。"),
        ("limit=0", "limit", "请确保该值大于或者等于 1。"),
        ("limit=101", "limit", "请确保该值小于或者等于 100。"),
        ("offset=abc", "offset", "请填写合法的整数值。"),
        ("offset=-5", "offset", "请确保该值大于或者等于 0。"),
        ("offset=10001", "offset", "请确保该值小于或者等于 10000。"),
        ("search=" + "张" * 10_000, "search", "请确保这个字段不能超过 50 个字符。"),
        ("township=abc", "township", "请填写合法的整数值。"),
        ("village=" + "9" * 40, "village", "请确保该值小于或者等于 9223372036854775807。"),
    ],
    ids=[
        "negative-limit",
        "zero-limit",
        "large-limit",
        "text-offset",
        "negative-offset",
        "deep-offset",
        "long-search",
        "text-township",
        "huge-village",
    ],
)
def test_a_bad_candidates_query_is_a_400_saying_which_field(api, cast, world, query, field, message) -> None:
    before = state()
    response = api(cast.staff_a).get(f"/api/v1/requests/{world['request'].id}/candidates/?{query}")
    assert response.status_code == 400
    assert error_body(response) == {"detail": INVALID, "code": "invalid", "errors": {field: [message]}}
    assert state() == before


def test_candidates_of_a_request_id_beyond_any_row_are_a_404(api, cast, world) -> None:
    response = api(cast.dispatcher).get(f"/api/v1/requests/{'9' * 30}/candidates/")
    assert (response.status_code, error_body(response)) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"mode": "nonsense"},
            400,
            {"detail": INVALID, "code": "invalid", "errors": {"mode": ["“nonsense” 不是合法选项。"]}},
        ),
        ({}, 400, {"detail": INVALID, "code": "invalid", "errors": {"mode": ["该字段是必填项。"]}}),
        (
            {"mode": "team"},
            400,
            {"detail": INVALID, "code": "invalid", "errors": {"team": ["服务队派单须选择服务队。"]}},
        ),
        (
            {"mode": "team", "team": "abc"},
            400,
            {"detail": INVALID, "code": "invalid", "errors": {"team": ["请填写合法的整数值。"]}},
        ),
        (
            {"mode": "team", "team": "team_b"},
            400,
            {"detail": "该服务队不存在、已停用或不在您的服务范围内。", "code": "team_unavailable"},
        ),
        (
            {"mode": "team", "team": 987654},
            400,
            {"detail": "该服务队不存在、已停用或不在您的服务范围内。", "code": "team_unavailable"},
        ),
        (
            {"mode": "auto", "team": "team_a"},
            400,
            {"detail": "只有服务队派单需要选择服务队。", "code": "team_not_applicable"},
        ),
    ],
    ids=[
        "nonsense-mode",
        "no-mode",
        "team-without-team",
        "text-team",
        "team-of-another-area",
        "unknown-team",
        "team-with-auto",
    ],
)
def test_a_bad_mode_switch_is_refused_and_changes_nothing(api, cast, world, body, status, expected) -> None:
    body = {key: world[value].id if value in ("team_a", "team_b") else value for key, value in body.items()}
    before = state()
    response = api(cast.staff_a).post(f"/api/v1/requests/{world['request'].id}/dispatch-mode/", body, format="json")
    assert (response.status_code, error_body(response)) == (status, expected)
    assert state() == before


def test_the_mode_of_a_request_that_cannot_be_dispatched_stays(api, cast, org, world) -> None:
    submitted = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    before = state()
    response = api(cast.staff_a).post(
        f"/api/v1/requests/{submitted.id}/dispatch-mode/", {"mode": "auto"}, format="json"
    )
    assert (response.status_code, error_body(response)) == (
        409,
        {"detail": "工单当前状态为「已提交」，不能派单。", "code": "not_dispatchable"},
    )
    assert state() == before


# ---------------------------------------------------------------- ranking through the API


def test_candidates_page_by_limit_and_offset_with_links(api, cast, org, world) -> None:
    extra = [
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])
        for _ in range(3)
    ]
    url = f"/api/v1/requests/{world['request'].id}/candidates/"
    client = api(cast.staff_a)
    everyone = numbers(client.get(url, {"limit": 100}).json())
    assert sorted(everyone) == sorted([v.volunteer_number for v in [cast.volunteer, cast.other_volunteer, *extra]])
    first = client.get(url, {"limit": 2}).json()
    assert numbers(first) == everyone[:2]
    assert first["previous"] is None
    assert first["next"] == f"http://testserver{url}?limit=2&offset=2"
    second = client.get(first["next"]).json()
    assert numbers(second) == everyone[2:4]
    assert second["previous"] == f"http://testserver{url}?limit=2"
    last = client.get(second["next"]).json()
    assert (numbers(last), last["next"]) == (everyone[4:], None)


def test_candidates_search_by_number_and_filter_by_village(api, cast, world, org) -> None:
    url = f"/api/v1/requests/{world['request'].id}/candidates/"
    client = api(cast.staff_a)
    number = cast.other_volunteer.volunteer_number
    assert numbers(client.get(url, {"search": number}).json()) == [number]
    assert numbers(client.get(url, {"village": org["village_a2"].id}).json()) == [number]
    assert numbers(client.get(url, {"township": org["township_b"].id}).json()) == []


@pytest.mark.parametrize("rows", [1, 5])
def test_the_candidates_list_runs_a_fixed_number_of_queries(api, cast, org, world, django_assert_num_queries, rows):
    for _ in range(rows):
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])
    client = api(cast.staff_a)
    url = f"/api/v1/requests/{world['request'].id}/candidates/"
    assert client.get(url).status_code == 200
    with django_assert_num_queries(CANDIDATE_QUERIES):
        response = client.get(url)
    assert len(response.json()["results"]) == rows + 2


# (The user and their node come with the token; a township office's area costs no query.)
# 1. the request, among those of the township
# 2. the ranked page of candidates (hard filters, score and reach in one query, see
#    apps.matching.selectors.ranked_volunteers), one more than asked for to know if more follow
# 3. the history of the volunteers on the page, for their reasons (one grouped query)
CANDIDATE_QUERIES = 3
