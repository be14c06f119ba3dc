"""Team dispatch: staff offer a request to a team, the queue tells its leader, the leader assigns
members (ranked with their reasons), who still accept or decline (Art. 25); a member who declines
is reported to the leader, who assigns another; a leader may hand the request back to staff.
Only the team's leaders and admins see and act; the services, the API and the pages, with their
permission matrices and bad input."""

from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.errors import DomainError, NotFound
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import offer_accept, offer_decline, offer_release, offers_expire
from apps.matching.models import MatchState, NeedsPerson
from apps.matching.services import dispatch_mode_set, matching_advance
from apps.matching.team_dispatch import (
    members_chosen,
    team_assign,
    team_decline,
    team_task_candidates,
    team_task_for,
    team_tasks_for,
)
from apps.notifications.messages import render
from apps.notifications.models import Kind, Notification
from apps.organisation.models import DispatchMode
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review, staff_ids_for
from apps.teams.models import MemberRole, Team, TeamKind
from apps.teams.services import team_create
from apps.volunteers.models import VolunteerProfile
from tests.conftest import Cast
from tests.service_requests.factories import submit_request
from tests.teams.factories import make_member
from tests.volunteers.factories import make_volunteer

TITLE = "帮忙修理漏水的水龙头"
TEAM = "太平庄村志愿服务队"


@dataclass
class Teams:
    team: Team  # at station A1, offered the requests
    other_team: Team  # at station B1
    leader: VolunteerProfile
    members: list[VolunteerProfile]  # three plain members of ``team``
    other_leader: VolunteerProfile  # leads ``other_team``


@pytest.fixture
def teams(cast, org) -> Teams:
    return build_teams(cast, org)


def build_teams(cast: Cast, org: dict) -> Teams:
    """Two teams: ``team`` at station A1 with a leader and three members, all serving the
    tests' field; ``other_team`` at station B1 with its own leader."""
    team = team_create(actor=cast.station_staff_a1, node=org["station_a1"], name=TEAM, kind=TeamKind.SPECIALTY)
    other_team = team_create(
        actor=cast.staff_b, node=org["station_b1"], name="码头村志愿服务队", kind=TeamKind.SPECIALTY
    )

    def volunteer(name: str, phone: str, township: str = "township_a", village: str = "village_a1"):
        return make_volunteer(
            township=org[township], village=org[village], categories=[org["category"]], name=name, phone=phone
        )

    leader = volunteer("陈队长", "13811110001")
    members = [
        volunteer("杨丽华", "13811110002"),
        volunteer("周志强", "13811110003"),
        volunteer("吴晓东", "13811110004"),
    ]
    other_leader = volunteer("马队长", "13811110005", "township_b", "village_b1")
    make_member(team=team, volunteer=leader, staff=cast.station_staff_a1, role=MemberRole.LEADER)
    for member in members:
        make_member(team=team, volunteer=member, staff=cast.station_staff_a1)
    make_member(team=other_team, volunteer=other_leader, staff=cast.staff_b, role=MemberRole.LEADER)
    return Teams(team=team, other_team=other_team, leader=leader, members=members, other_leader=other_leader)


def team_request(cast: Cast, org: dict, teams: Teams, *, needed: int = 2) -> ServiceRequest:
    """A queued request staff offered to ``teams.team``, announced by the queue's step."""
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=needed
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.TEAM, team=teams.team)
    matching_advance(request_id=request.id)
    request.refresh_from_db()
    return request


def leader_view(teams: Teams, request: ServiceRequest):
    return team_task_candidates(
        request=team_task_for(user=teams.leader.user, request_id=request.id), leader=teams.leader.user
    )


def body(notification: Notification) -> str:
    with translation.override("zh-hans"):
        return render(notification.kind, notification.params, notification.request_id)[1]


def label(volunteer: VolunteerProfile) -> str:
    return f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"


def counts(request: ServiceRequest) -> tuple[int, int, int, str]:
    return (
        Offer.objects.filter(request=request).count(),
        RequestEvent.objects.filter(request=request).count(),
        Notification.objects.filter(request_id=request.id).count(),
        MatchState.objects.get(request=request).needs_person,
    )


# --- The whole story ---------------------------------------------------------------------------


def test_leader_assigns_two_one_declines_the_leader_is_told_and_assigns_another(db, cast, org, teams):
    first, second, third = teams.members
    request = team_request(cast, org, teams, needed=2)

    # The queue told the leader (and no one else) that the team has a request.
    [offered] = Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_OFFERED)
    assert (offered.recipient_id, offered.link) == (teams.leader.user_id, "/v/team-tasks/")
    assert body(offered) == f"工单#{request.id}「{TITLE}」已派给「{TEAM}」，请队长安排队员。"
    last = RequestEvent.objects.filter(request=request).latest("id")
    assert (last.from_status, last.to_status, last.reason_code, last.reason_params, last.actor_id) == (
        "queued",
        "queued",
        "team_offered",
        {"team": TEAM},
        cast.staff_a.id,
    )
    assert [r.id for r in team_tasks_for(user=teams.leader.user)] == [request.id]
    task = team_task_candidates(
        request=team_task_for(user=teams.leader.user, request_id=request.id), leader=teams.leader.user
    )
    assert {c.volunteer.id for c in task.candidates} == {teams.leader.id, first.id, second.id, third.id}
    assert all(c.reasons for c in task.candidates)
    assert task.places_open == 2

    # The leader assigns two members: ordinary offers, via the team, each member told.
    offers = team_assign(request=request, leader=teams.leader.user, members=[first, second])
    assert {(o.volunteer_id, o.via, o.offered_by_id, o.status) for o in offers} == {
        (first.id, DispatchMode.TEAM, teams.leader.user_id, OfferStatus.OFFERED),
        (second.id, DispatchMode.TEAM, teams.leader.user_id, OfferStatus.OFFERED),
    }
    assigned = Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_ASSIGNED).order_by("recipient_id")
    assert [n.recipient_id for n in assigned] == sorted([first.user_id, second.user_id])
    expires = assigned[0].params["expires"]
    assert body(assigned[0]) == f"「{TEAM}」队长为您安排了任务#{request.id}「{TITLE}」，请在{expires}前答复。"
    request.refresh_from_db()
    assert request.status == Status.OFFERED
    last = RequestEvent.objects.filter(request=request).latest("id")
    assert (last.reason_code, last.reason_params, last.actor_id) == ("team_assigned", {"n": 2}, teams.leader.user_id)

    # One accepts, one declines; the decline writes the queue's step, which tells the leader.
    by_volunteer = {o.volunteer_id: o for o in offers}
    offer_accept(offer=by_volunteer[first.id], volunteer=first)
    offer_decline(offer=by_volunteer[second.id], volunteer=second, reason="这周在外地")
    assert Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED).count() == 0
    matching_advance(request_id=request.id)
    [declined] = Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED)
    assert (declined.recipient_id, declined.link) == (teams.leader.user_id, "/v/team-tasks/")
    assert body(declined) == f"队员{label(second)}无法承接#{request.id}「{TITLE}」，请另行安排。"
    # Told once, however often the step runs.
    matching_advance(request_id=request.id)
    assert Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED).count() == 1

    # Still the team's: the leader sees one place open, and the one who declined is not offered again.
    request.refresh_from_db()
    task = team_task_candidates(
        request=team_task_for(user=teams.leader.user, request_id=request.id), leader=teams.leader.user
    )
    assert task.places_open == 1
    assert {c.volunteer.id for c in task.candidates} == {teams.leader.id, third.id}
    with pytest.raises(DomainError) as refused:
        team_assign(request=request, leader=teams.leader.user, members=[second])
    assert refused.value.code == "not_eligible"

    [again] = team_assign(request=request, leader=teams.leader.user, members=[third])
    offer_accept(offer=again, volunteer=third)
    request.refresh_from_db()
    assert (request.status, request.volunteers_accepted) == (Status.ACCEPTED, 2)
    assert sorted(
        Offer.objects.filter(request=request, status=OfferStatus.ACCEPTED).values_list("volunteer_id", flat=True)
    ) == sorted([first.id, third.id])
    assert Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED).count() == 1


def test_a_lapsed_or_released_assignment_is_reported_too(db, cast, org, teams):
    first, second, _third = teams.members
    request = team_request(cast, org, teams, needed=2)
    one, two = team_assign(request=request, leader=teams.leader.user, members=[first, second])
    offer_accept(offer=one, volunteer=first)
    Offer.objects.filter(id=two.id).update(expires_at=two.created_at)
    offers_expire()
    offer_release(offer=one, volunteer=first, reason="家里有急事")
    matching_advance(request_id=request.id)

    told = Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED).order_by("id")
    assert sorted(body(n) for n in told) == sorted(
        f"队员{label(v)}无法承接#{request.id}「{TITLE}」，请另行安排。" for v in (first, second)
    )


# --- Who may assign, and whom ------------------------------------------------------------------


def test_only_the_team_s_leaders_see_and_assign(db, cast, org, teams):
    request = team_request(cast, org, teams)
    before = counts(request)
    for user in (teams.members[0].user, teams.other_leader.user, cast.volunteer.user, cast.staff_a):
        assert list(team_tasks_for(user=user)) == []
        with pytest.raises(NotFound):
            team_task_for(user=user, request_id=request.id)
        with pytest.raises(NotFound):
            team_assign(request=request, leader=user, members=[teams.members[1]])
        with pytest.raises(NotFound):
            team_decline(request=request, leader=user, reason="不行")
    assert counts(request) == before


def test_assigning_someone_outside_the_team_is_refused(db, cast, org, teams):
    request = team_request(cast, org, teams)
    before = counts(request)

    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        team_assign(request=request, leader=teams.leader.user, members=[teams.members[0], cast.volunteer])
    assert refused.value.code == "not_member"
    assert str(refused.value.message) == f"以下志愿者不是「{TEAM}」的在队队员：{cast.volunteer.volunteer_number}"
    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        members_chosen(request=request, leader=teams.leader.user, member_ids=[teams.members[0].id, cast.volunteer.id])
    assert (refused.value.code, str(refused.value.message)) == (
        "not_member",
        f"以下志愿者不是「{TEAM}」的在队队员：{cast.volunteer.id}",
    )
    with pytest.raises(DomainError) as refused:
        team_assign(request=request, leader=teams.leader.user, members=[*teams.members[:1], teams.other_leader])
    assert refused.value.code == "not_member"
    assert counts(request) == before


def test_no_more_members_than_places_and_at_least_one(db, cast, org, teams):
    request = team_request(cast, org, teams, needed=2)
    before = counts(request)
    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        team_assign(request=request, leader=teams.leader.user, members=teams.members)
    assert (refused.value.code, str(refused.value.message)) == ("too_many", "这项服务目前还可安排2人，请减少人数。")
    with pytest.raises(DomainError) as refused:
        team_assign(request=request, leader=teams.leader.user, members=[])
    assert refused.value.code == "no_volunteers"
    assert counts(request) == before


def test_the_leader_hands_it_back_to_staff_with_a_reason(db, cast, org, teams):
    request = team_request(cast, org, teams)
    with pytest.raises(DomainError) as refused:
        team_decline(request=request, leader=teams.leader.user, reason="  ")
    assert refused.value.code == "reason_required"

    team_decline(request=request, leader=teams.leader.user, reason="本周队员都外出培训")

    assert MatchState.objects.get(request=request).needs_person == NeedsPerson.TEAM_DECLINED
    last = RequestEvent.objects.filter(request=request).latest("id")
    assert (last.from_status, last.to_status, last.reason_code, last.actor_id) == (
        "queued",
        "queued",
        "team_declined",
        teams.leader.user_id,
    )
    told = Notification.objects.filter(request_id=request.id, kind=Kind.NEEDS_PERSON)
    assert sorted(n.recipient_id for n in told) == sorted(staff_ids_for(request))
    assert body(told[0]) == f"工单#{request.id}「{TITLE}」需要人工派单：{TEAM}：本周队员都外出培训"
    assert list(team_tasks_for(user=teams.leader.user)) == []
    before = counts(request)
    matching_advance(request_id=request.id)
    assert counts(request) == before


# --- API ---------------------------------------------------------------------------------------

ROLES = [
    "anonymous",
    "resident",
    "volunteer",
    "member",
    "leader",
    "other_leader",
    "staff_a",
    "station_staff_a1",
    "staff_b",
    "dispatcher",
    "admin",
]


def user_of(cast: Cast, teams: Teams, role: str):
    if role == "anonymous":
        return None
    if role == "leader":
        return teams.leader.user
    if role == "other_leader":
        return teams.other_leader.user
    if role == "member":
        return teams.members[0].user
    who = getattr(cast, role)
    return who.user if isinstance(who, VolunteerProfile) else who


@pytest.mark.parametrize("role", ROLES)
def test_api_team_tasks_permission_matrix(db, cast, org, teams, api, role):
    request = team_request(cast, org, teams)
    response = api(user_of(cast, teams, role)).get("/api/v1/team-tasks/")

    if role == "anonymous":
        assert response.status_code == 401
    elif role == "leader":
        assert response.status_code == 200
        [row] = response.json()
        assert (row["request"]["id"], row["team"], row["places_open"], row["assignments"]) == (
            request.id,
            {"id": teams.team.id, "name": TEAM},
            2,
            [],
        )
        assert {c["volunteer_id"] for c in row["candidates"]} == {teams.leader.id, *[m.id for m in teams.members]}
        assert all(c["reasons"] for c in row["candidates"])
        assert "太平庄村东街12号" not in response.content.decode() and "13912345678" not in response.content.decode()
    elif role == "other_leader":
        assert (response.status_code, response.json()) == (200, [])
    else:
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize("role", ROLES)
def test_api_assign_permission_matrix(db, cast, org, teams, api, role):
    request = team_request(cast, org, teams)
    before = counts(request)
    member = teams.members[1]
    response = api(user_of(cast, teams, role)).post(
        f"/api/v1/team-tasks/{request.id}/assign/", {"member_ids": [member.id]}
    )

    if role == "leader":
        assert response.status_code == 200
        assert [(a["volunteer_id"], a["status"]) for a in response.json()["assignments"]] == [(member.id, "offered")]
        assert response.json()["places_open"] == 1
        return
    expected = {"anonymous": 401, "other_leader": 404}.get(role, 403)
    assert response.status_code == expected
    assert counts(request) == before


@pytest.mark.parametrize("role", ROLES)
def test_api_decline_permission_matrix(db, cast, org, teams, api, role):
    request = team_request(cast, org, teams)
    before = counts(request)
    response = api(user_of(cast, teams, role)).post(
        f"/api/v1/team-tasks/{request.id}/decline/", {"reason": "本周队员都外出培训"}
    )

    if role == "leader":
        assert response.status_code == 204
        assert MatchState.objects.get(request=request).needs_person == NeedsPerson.TEAM_DECLINED
        return
    expected = {"anonymous": 401, "other_leader": 404}.get(role, 403)
    assert response.status_code == expected
    assert counts(request) == before


@pytest.mark.parametrize(
    "path, payload, status, code",
    [
        ("assign", {}, 400, "invalid"),
        ("assign", {"member_ids": []}, 400, "invalid"),
        ("assign", {"member_ids": ["x"]}, 400, "invalid"),
        ("assign", {"member_ids": [1.5]}, 400, "invalid"),
        ("assign", {"member_ids": "3"}, 400, "invalid"),
        ("assign", {"member_ids": [0]}, 400, "invalid"),
        ("assign", {"member_ids": [99999999999999999999]}, 400, "invalid"),
        ("assign", {"member_ids": [999999]}, 400, "not_member"),
        ("assign", {"member_ids": ["MEMBER", "MEMBER"]}, 400, "invalid"),
        ("assign", {"member_ids": ["OUTSIDER"]}, 400, "not_member"),
        ("assign", {"member_ids": ["MEMBER", "MEMBER2", "MEMBER3"]}, 400, "too_many"),
        ("decline", {}, 400, "invalid"),
        ("decline", {"reason": "   "}, 400, "invalid"),
        ("decline", {"reason": "长" * 201}, 400, "invalid"),
    ],
)
def test_api_bad_input_is_refused_and_changes_nothing(db, cast, org, teams, api, path, payload, status, code):
    request = team_request(cast, org, teams, needed=2)
    stand_ins = {
        "MEMBER": teams.members[0].id,
        "MEMBER2": teams.members[1].id,
        "MEMBER3": teams.members[2].id,
        "OUTSIDER": cast.volunteer.id,
    }
    if "member_ids" in payload and isinstance(payload["member_ids"], list):
        payload = {"member_ids": [stand_ins.get(v, v) if isinstance(v, str) else v for v in payload["member_ids"]]}
    before = counts(request)
    response = api(teams.leader.user).post(f"/api/v1/team-tasks/{request.id}/{path}/", payload, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert counts(request) == before


@pytest.mark.parametrize(
    "url, method, status",
    [
        ("/api/v1/team-tasks/999999/assign/", "post", 404),
        ("/api/v1/team-tasks/99999999999999999999/assign/", "post", 404),
        ("/api/v1/team-tasks/99999999999999999999/decline/", "post", 404),
        ("/api/v1/team-tasks/{id}/assign/", "get", 405),
        ("/api/v1/team-tasks/", "post", 405),
    ],
)
def test_api_bad_paths_are_refused(db, cast, org, teams, api, url, method, status):
    request = team_request(cast, org, teams)
    before = counts(request)
    response = getattr(api(teams.leader.user), method)(url.format(id=request.id), {"member_ids": [teams.members[0].id]})
    assert response.status_code == status
    assert "detail" in response.json()
    assert counts(request) == before


# --- Pages -------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_team_tasks_page_permission_matrix(db, cast, org, teams, role):
    team_request(cast, org, teams)
    response = client_for(user_of(cast, teams, role)).get("/v/team-tasks/")

    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, "/login/?next=/v/team-tasks/")
    elif role == "leader":
        html = response.content.decode()
        assert response.status_code == 200
        assert TITLE in html and TEAM in html and "安排队员" in html
        for member in teams.members:
            assert f'value="{member.id}"' in html and member.volunteer_number in html
        assert "太平庄村东街12号" not in html and "13912345678" not in html
    elif role == "other_leader":
        assert response.status_code == 200
        assert TITLE not in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_assign_page_action_permission_matrix(db, cast, org, teams, role):
    request = team_request(cast, org, teams)
    before = counts(request)
    path = f"/v/team-tasks/{request.id}/assign/"
    response = client_for(user_of(cast, teams, role)).post(path, {"members": [str(teams.members[0].id)]})

    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, "/login/?next=" + path)
    elif role == "leader":
        assert (response.status_code, response["Location"]) == (302, "/v/team-tasks/")
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["已安排队员，等待队员确认。"]
        assert Offer.objects.get(request=request).volunteer_id == teams.members[0].id
        return
    else:
        assert response.status_code == 404
    assert counts(request) == before


@pytest.mark.parametrize("role", ROLES)
def test_decline_page_action_permission_matrix(db, cast, org, teams, role):
    request = team_request(cast, org, teams)
    before = counts(request)
    path = f"/v/team-tasks/{request.id}/decline/"
    response = client_for(user_of(cast, teams, role)).post(path, {"reason": "本周队员都外出培训"})

    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, "/login/?next=" + path)
    elif role == "leader":
        assert (response.status_code, response["Location"]) == (302, "/v/team-tasks/")
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["已告知工作人员，该需求将另行安排。"]
        assert MatchState.objects.get(request=request).needs_person == NeedsPerson.TEAM_DECLINED
        return
    else:
        assert response.status_code == 404
    assert counts(request) == before


@pytest.mark.parametrize(
    "action, data, message",
    [
        ("assign", {}, "请至少选择一名队员。"),
        ("assign", {"members": ["x"]}, "提交的内容有误，请检查后重试。"),
        ("assign", {"members": ["99999999999999999999"]}, "提交的内容有误，请检查后重试。"),
        ("assign", {"members": ["OUTSIDER"]}, "以下志愿者不是「太平庄村志愿服务队」的在队队员：OUTSIDER"),
        ("decline", {}, "请说明服务队无法承接的原因。"),
        ("decline", {"reason": "　 "}, "请说明服务队无法承接的原因。"),
    ],
)
def test_page_bad_input_is_shown_and_changes_nothing(db, cast, org, teams, action, data, message):
    request = team_request(cast, org, teams)
    outsider = str(cast.volunteer.id)
    data = {
        k: [outsider if v == "OUTSIDER" else v for v in vs] if isinstance(vs, list) else vs for k, vs in data.items()
    }
    before = counts(request)
    response = client_for(teams.leader.user).post(f"/v/team-tasks/{request.id}/{action}/", data)
    assert (response.status_code, response["Location"]) == (302, "/v/team-tasks/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message.replace("OUTSIDER", outsider)]
    assert counts(request) == before


def test_page_bad_paths(db, cast, org, teams):
    request = team_request(cast, org, teams)
    client = client_for(teams.leader.user)
    assert client.get(f"/v/team-tasks/{request.id}/assign/").status_code == 405
    assert client.post("/v/team-tasks/99999999999999999999/assign/").status_code == 404
    assert client.post("/v/team-tasks/999999/decline/", {"reason": "x"}).status_code == 404
    assert client.post("/v/team-tasks/").status_code == 405


# --- Query counts ------------------------------------------------------------------------------


def test_api_team_tasks_list_query_count(db, cast, org, teams, django_assert_num_queries):
    for _ in range(2):
        team_request(cast, org, teams)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=teams.leader.user).key)
    # 1 the token and its user; 2 whether they lead a team; 3 the team requests (at most 30); then
    # per request (2 here): 4 the team's offers on it, 5 the leader still manages the team, 6 its
    # active members, 7 their ranking, 8 the history the reasons quote.
    with django_assert_num_queries(3 + 2 * 5):
        response = client.get("/api/v1/team-tasks/")
    assert len(response.json()) == 2


def test_a_team_without_a_leader_hands_the_request_back_at_once(db, cast, org):
    leaderless = team_create(
        actor=cast.station_staff_a1, node=org["station_a1"], name="无队长队", kind=TeamKind.SPECIALTY
    )
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.TEAM, team=leaderless)

    matching_advance(request_id=request.id)

    assert MatchState.objects.get(request=request).needs_person == NeedsPerson.TEAM_DECLINED
    assert [(e.reason_code, e.actor_id) for e in RequestEvent.objects.filter(request=request).order_by("id")][-2:] == [
        ("team_offered", cast.staff_a.id),
        ("team_declined", None),
    ]
    told = Notification.objects.filter(request_id=request.id, kind=Kind.NEEDS_PERSON)
    assert sorted(n.recipient_id for n in told) == sorted(staff_ids_for(request))
    assert body(told[0]) == f"工单#{request.id}「{TITLE}」需要人工派单：服务队无法承接"
    assert Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_OFFERED).count() == 0
