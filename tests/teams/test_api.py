"""The team API over the cast: exact statuses, nothing changed by a refusal, nothing leaked."""

import json

import pytest

from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.teams.models import MembershipStatus, Team, TeamMembership, TeamMembershipEvent
from apps.teams.services import membership_invite
from tests.teams.factories import TeamWorld, build_team_world
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import NOT_AUTHENTICATED, NOT_FOUND, error_body

pytestmark = pytest.mark.django_db

CAST = [
    "anonymous",
    "applicant",
    "other_volunteer",
    "member",
    "leader",
    "other_leader",
    "station_staff",
    "other_area_staff",
    "dispatcher",
    "admin",
]
# Real names and clear phones of the people of team A: no answer may carry them.
CLEAR_NAMES = ["张小明", "陈队长", "杨丽华", "刘芳", "马队长"]
CLEAR_PHONES = ["13811110001", "13811110002", "13811110003"]


@pytest.fixture
def world(cast, org) -> TeamWorld:
    return build_team_world(cast, org)


def who(world: TeamWorld, actor: str):
    cast = world.cast
    return {
        "anonymous": None,
        "applicant": cast.volunteer,
        "other_volunteer": cast.other_volunteer,
        "member": world.member,
        "leader": world.leader,
        "other_leader": world.other_leader,
        "station_staff": cast.station_staff_a1,
        "other_area_staff": cast.staff_b,
        "dispatcher": cast.dispatcher,
        "admin": cast.admin,
    }[actor]


def state() -> dict:
    return {
        "teams": sorted(Team.objects.values_list("id", "name", "is_active")),
        "memberships": sorted(TeamMembership.objects.values_list("id", "status", "role", "decision_reason")),
        "events": TeamMembershipEvent.objects.count(),
        "notifications": sorted(Notification.objects.values_list("id", "recipient_id", "kind")),
    }


def assert_no_leak(response) -> None:
    text = json.dumps(response.json(), ensure_ascii=False)
    for secret in CLEAR_NAMES + CLEAR_PHONES:
        assert secret not in text, secret
    assert "id_number" not in text


def membership_of(world: TeamWorld, volunteer) -> TeamMembership:
    return TeamMembership.objects.get(team=world.team, volunteer=volunteer, status__in=["pending", "active", "invited"])


TEAM_DETAIL = {
    "anonymous": 401,
    "applicant": 200,
    "other_volunteer": 404,
    "member": 200,
    "leader": 200,
    "other_leader": 404,
    "station_staff": 200,
    "other_area_staff": 404,
    "dispatcher": 200,
    "admin": 200,
}
MANAGES = {"leader", "station_staff", "dispatcher", "admin"}


@pytest.mark.parametrize("actor", CAST)
def test_team_detail(api, world, actor):
    response = api(who(world, actor)).get(f"/api/v1/teams/{world.team.id}/")
    assert response.status_code == TEAM_DETAIL[actor]
    if actor == "anonymous":
        assert error_body(response) == NOT_AUTHENTICATED
    elif response.status_code == 404:
        assert error_body(response) == NOT_FOUND
    else:
        body = response.json()
        assert body["name"] == "太平庄村志愿服务队"
        assert body["leaders"] == [{"name": "陈*长", "role": "leader"}]
        assert body["can_manage"] is (actor in MANAGES)
        mine = {"applicant": "pending", "member": "active", "leader": "active"}.get(actor)
        assert (body["my_membership"] or {}).get("status") == mine
        assert_no_leak(response)


def test_team_list_is_scoped(api, world):
    names = {
        actor: sorted(t["name"] for t in api(who(world, actor)).get("/api/v1/teams/").json()["results"])
        for actor in CAST[1:]
    }
    assert names == {
        "applicant": ["太平庄村志愿服务队"],
        "other_volunteer": [],
        "member": ["太平庄村志愿服务队"],
        "leader": ["太平庄村志愿服务队"],
        "other_leader": ["码头村志愿服务队"],
        "station_staff": ["太平庄村志愿服务队"],
        "other_area_staff": ["码头村志愿服务队"],
        "dispatcher": ["太平庄村志愿服务队", "码头村志愿服务队"],
        "admin": ["太平庄村志愿服务队", "码头村志愿服务队"],
    }


MEMBERS = {
    "anonymous": 401,
    "applicant": 404,
    "other_volunteer": 404,
    "member": 404,
    "leader": 200,
    "other_leader": 404,
    "station_staff": 200,
    "other_area_staff": 404,
    "dispatcher": 200,
    "admin": 200,
}


@pytest.mark.parametrize("actor", CAST)
def test_members_only_for_the_teams_managers(api, world, actor):
    response = api(who(world, actor)).get(f"/api/v1/teams/{world.team.id}/members/")
    assert response.status_code == MEMBERS[actor]
    if response.status_code != 200:
        error_body(response)
        return
    rows = [(m["name"], m["volunteer_number"], m["phone"], m["role"], m["status"]) for m in response.json()["results"]]
    assert rows == [
        ("陈*长", world.leader.volunteer_number, "138****0001", "leader", "active"),
        ("杨*华", world.member.volunteer_number, "138****0002", "member", "active"),
        ("张*明", world.cast.volunteer.volunteer_number, world.cast.volunteer.user.masked_phone, "member", "pending"),
    ]
    assert_no_leak(response)


def test_member_list_query_count_does_not_grow_with_members(api, world, org, django_assert_num_queries):
    client = api(User.objects.get(id=world.leader.user_id))  # as a request has it: nothing cached
    for n in range(5):
        v = make_volunteer(township=org["township_a"], village=org["village_a1"], phone=f"1372222000{n}")
        membership_invite(team=world.team, actor=world.cast.station_staff_a1, volunteer_number=str(v.volunteer_number))
    # 1 the leader's volunteer profile (teams they may join), 2 the team, 3 whether they lead it,
    # 4 the count of memberships, 5 the page with each volunteer and user.
    with django_assert_num_queries(5):
        response = client.get(f"/api/v1/teams/{world.team.id}/members/")
    assert response.json()["count"] == 8


APPLY = {
    "anonymous": (401, "not_authenticated"),
    "applicant": (409, "already_applied"),
    "other_volunteer": (404, "not_found"),
    "member": (409, "already_member"),
    "leader": (409, "already_member"),
    "other_leader": (404, "not_found"),
    "station_staff": (400, "not_registered"),
    "other_area_staff": (404, "not_found"),
    "dispatcher": (400, "not_registered"),
    "admin": (400, "not_registered"),
}


@pytest.mark.parametrize("actor", CAST)
def test_apply_refusals_change_nothing(api, world, actor):
    before = state()
    response = api(who(world, actor)).post(f"/api/v1/teams/{world.team.id}/apply/")
    assert (response.status_code, error_body(response)["code"]) == APPLY[actor]
    assert state() == before


def test_apply_creates_a_pending_membership(api, world, org):
    newcomer = make_volunteer(township=org["township_a"], village=org["village_a1"], name="黄新来", phone="13733330000")
    response = api(newcomer).post(f"/api/v1/teams/{world.team.id}/apply/")
    assert response.status_code == 201
    body = response.json()
    assert (body["team"], body["name"], body["status"], body["role"]) == (
        {"id": world.team.id, "name": "太平庄村志愿服务队"},
        "黄*来",
        "pending",
        "member",
    )
    told = Notification.objects.filter(recipient=world.leader.user, kind="team_join_requested").order_by("id")
    # The member's and the applicant's applications, then the newcomer's.
    assert [n.params for n in told] == [
        {"volunteer": "杨*华", "team": "太平庄村志愿服务队"},
        {"volunteer": "张*明", "team": "太平庄村志愿服务队"},
        {"volunteer": "黄*来", "team": "太平庄村志愿服务队"},
    ]


def test_a_volunteer_under_review_cannot_apply(api, world, org):
    pending = make_volunteer(township=org["township_a"], village=org["village_a1"], verified=False)
    before = state()
    response = api(pending).post(f"/api/v1/teams/{world.team.id}/apply/")
    # Not yet a registered volunteer: the team is not theirs to see.
    assert response.status_code == 404
    assert state() == before


INVITE = {
    "anonymous": 401,
    "applicant": 404,
    "other_volunteer": 404,
    "member": 404,
    "leader": 201,
    "other_leader": 404,
    "station_staff": 201,
    "other_area_staff": 404,
    "dispatcher": 201,
    "admin": 201,
}


@pytest.mark.parametrize("actor", CAST)
def test_invite(api, world, actor):
    before = state()
    number = world.cast.other_volunteer.volunteer_number
    response = api(who(world, actor)).post(f"/api/v1/teams/{world.team.id}/invite/", {"volunteer_number": number})
    assert response.status_code == INVITE[actor]
    if response.status_code == 201:
        assert (response.json()["status"], response.json()["volunteer_number"]) == ("invited", number)
        assert TeamMembership.objects.get(volunteer=world.cast.other_volunteer).status == MembershipStatus.INVITED
    else:
        error_body(response)
        assert state() == before


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"volunteer_number": "ZZV9999999"}, 400, "unknown_volunteer", "未找到编号为 ZZV9999999 的已注册志愿者。"),
        ({"volunteer_number": "   "}, 400, "invalid", "提交的内容有误，请检查后重试。"),
        ({}, 400, "invalid", "提交的内容有误，请检查后重试。"),
        ({"volunteer_number": "x" * 21}, 400, "invalid", "提交的内容有误，请检查后重试。"),
    ],
)
def test_invite_bad_input(api, world, body, status, code, message):
    before = state()
    response = api(world.leader).post(f"/api/v1/teams/{world.team.id}/invite/", body)
    assert response.status_code == status
    assert (error_body(response)["code"], response.json()["detail"]) == (code, message)
    assert state() == before


def test_invite_a_member_again_is_a_conflict(api, world):
    before = state()
    response = api(world.leader).post(
        f"/api/v1/teams/{world.team.id}/invite/", {"volunteer_number": world.member.volunteer_number}
    )
    assert (response.status_code, error_body(response)) == (
        409,
        {"detail": "该志愿者已是本队队员。", "code": "already_member"},
    )
    assert state() == before


DECIDE = {
    "anonymous": 401,
    "applicant": 404,
    "other_volunteer": 404,
    "member": 404,
    "leader": 200,
    "other_leader": 404,
    "station_staff": 200,
    "other_area_staff": 404,
    "dispatcher": 200,
    "admin": 200,
}


@pytest.mark.parametrize("actor", CAST)
def test_approve(api, world, actor):
    before = state()
    response = api(who(world, actor)).post(f"/api/v1/team-memberships/{world.application.id}/approve/")
    assert response.status_code == DECIDE[actor]
    world.application.refresh_from_db()
    if response.status_code == 200:
        assert response.json()["status"] == "active"
        assert world.application.status == MembershipStatus.ACTIVE
    else:
        error_body(response)
        assert state() == before


@pytest.mark.parametrize("actor", CAST)
def test_reject(api, world, actor):
    before = state()
    response = api(who(world, actor)).post(
        f"/api/v1/team-memberships/{world.application.id}/reject/", {"reason": "人数已满"}
    )
    assert response.status_code == DECIDE[actor]
    if response.status_code == 200:
        assert (response.json()["status"], response.json()["decision_reason"]) == ("rejected", "人数已满")
    else:
        error_body(response)
        assert state() == before


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " \u200b "}, {"reason": "长" * 201}])
def test_reject_and_remove_need_a_reason(api, world, body):
    before = state()
    for url in (
        f"/api/v1/team-memberships/{world.application.id}/reject/",
        f"/api/v1/team-memberships/{membership_of(world, world.member).id}/remove/",
    ):
        response = api(world.leader).post(url, body)
        assert response.status_code == 400
        assert error_body(response)["code"] == "invalid"
        assert list(response.json()["errors"]) == ["reason"]
    assert state() == before


@pytest.mark.parametrize("actor", CAST)
def test_remove(api, world, actor):
    target = membership_of(world, world.member)
    before = state()
    response = api(who(world, actor)).post(f"/api/v1/team-memberships/{target.id}/remove/", {"reason": "长期未参加"})
    # The member sees their own membership, but removing is for the team's managers: 404.
    assert response.status_code == DECIDE[actor]
    if response.status_code == 200:
        assert response.json()["status"] == "removed"
        n = Notification.objects.filter(recipient=world.member.user, kind="team_member_removed").get()
        assert n.params == {"team": "太平庄村志愿服务队", "reason": "长期未参加"}
    else:
        error_body(response)
        assert state() == before


def test_a_leader_cannot_remove_another_leader_but_staff_can(api, world):
    leader = membership_of(world, world.leader)
    before = state()
    response = api(world.cast.dispatcher).post(f"/api/v1/team-memberships/{leader.id}/remove/", {"reason": "换届"})
    assert response.status_code == 200
    assert state() != before


OWN = {
    "anonymous": 401,
    "applicant": 404,
    "other_volunteer": 200,  # the invited volunteer
    "member": 404,
    "leader": 403,
    "other_leader": 404,
    "station_staff": 403,
    "other_area_staff": 404,
    "dispatcher": 403,
    "admin": 403,
}


@pytest.mark.parametrize("verb", ["accept", "decline"])
@pytest.mark.parametrize("actor", CAST)
def test_answer_an_invitation(api, world, actor, verb):
    invitation = membership_invite(
        team=world.team, actor=world.leader.user, volunteer_number=str(world.cast.other_volunteer.volunteer_number)
    )
    before = state()
    response = api(who(world, actor)).post(f"/api/v1/team-memberships/{invitation.id}/{verb}/")
    assert response.status_code == OWN[actor]
    invitation.refresh_from_db()
    if response.status_code == 200:
        assert invitation.status == {"accept": "active", "decline": "declined"}[verb]
    else:
        body = error_body(response)
        if response.status_code == 403:
            assert body == {"detail": "只有志愿者本人可以操作。", "code": "forbidden"}
        assert state() == before


LEAVE = {
    "anonymous": 401,
    "applicant": 404,
    "other_volunteer": 404,
    "member": 200,
    "leader": 403,
    "other_leader": 404,
    "station_staff": 403,
    "other_area_staff": 404,
    "dispatcher": 403,
    "admin": 403,
}


@pytest.mark.parametrize("actor", CAST)
def test_leave(api, world, actor):
    target = membership_of(world, world.member)
    before = state()
    response = api(who(world, actor)).post(f"/api/v1/team-memberships/{target.id}/leave/")
    assert response.status_code == LEAVE[actor]
    if response.status_code == 200:
        assert response.json()["status"] == "left"
    else:
        error_body(response)
        assert state() == before


def test_accepting_twice_is_a_conflict(api, world):
    invitation = membership_invite(
        team=world.team, actor=world.leader.user, volunteer_number=str(world.cast.other_volunteer.volunteer_number)
    )
    client = api(world.cast.other_volunteer)
    assert client.post(f"/api/v1/team-memberships/{invitation.id}/accept/").status_code == 200
    before = state()
    response = client.post(f"/api/v1/team-memberships/{invitation.id}/decline/")
    assert (response.status_code, error_body(response)) == (
        409,
        {"detail": "该入队记录当前状态为「在队」，不能进行此操作。", "code": "illegal_transition"},
    )
    assert state() == before


def test_membership_list_is_scoped(api, world):
    def seen(actor):
        rows = api(who(world, actor)).get("/api/v1/team-memberships/").json()["results"]
        return sorted(r["name"] for r in rows)

    everyone_in_a = sorted(["陈*长", "杨*华", "张*明"])
    assert seen("applicant") == ["张*明"]
    assert seen("member") == ["杨*华"]
    assert seen("leader") == everyone_in_a
    assert seen("other_leader") == ["马*长"]
    assert seen("station_staff") == everyone_in_a
    assert seen("other_area_staff") == ["马*长"]
    assert seen("other_volunteer") == []
    assert seen("dispatcher") == sorted([*everyone_in_a, "马*长"])


def test_team_and_membership_lists_pin_their_queries(api, world, org, cast, django_assert_num_queries):
    for n in range(3):
        v = make_volunteer(township=org["township_a"], village=org["village_a1"], phone=f"1375555000{n}")
        membership_invite(team=world.team, actor=cast.station_staff_a1, volunteer_number=str(v.volunteer_number))
    client = api(User.objects.get(id=world.leader.user_id))
    # 1 the leader's volunteer profile, 2 the count, 3 the page of teams with their nodes,
    # 4 their categories, 5 their leaders with volunteers and users, 6 the reader's own
    # memberships, 7 the teams the reader leads.
    with django_assert_num_queries(7):
        response = client.get("/api/v1/teams/")
    assert [t["name"] for t in response.json()["results"]] == ["太平庄村志愿服务队"]
    client = api(User.objects.get(id=world.leader.user_id))
    # 1 the count, 2 the page with teams, volunteers and users.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/team-memberships/")
    assert response.json()["count"] == 6
