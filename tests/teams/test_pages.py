"""The team pages over the cast: exact statuses, nothing changed by a refusal, nothing leaked."""

import pytest
from django.test import Client

from apps.teams.models import MembershipStatus, Team, TeamMembership
from tests.teams.factories import TeamWorld, build_team_world
from tests.teams.test_api import CAST, CLEAR_NAMES, CLEAR_PHONES, membership_of, state, who

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, org) -> TeamWorld:
    return build_team_world(cast, org)


def client_for(world: TeamWorld, actor: str) -> Client:
    client = Client()
    person = who(world, actor)
    if person is not None:
        client.force_login(getattr(person, "user", person))
    return client


def assert_no_clear_data(content: str) -> None:
    for secret in CLEAR_PHONES + CLEAR_NAMES:
        assert secret not in content, secret


TEAM_PAGE = {
    "anonymous": 302,
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
def test_team_page(world, actor):
    response = client_for(world, actor).get(f"/teams/{world.team.id}/")
    assert response.status_code == TEAM_PAGE[actor]
    if response.status_code == 302:
        assert response["Location"] == f"/login/?next=/teams/{world.team.id}/"
    if response.status_code != 200:
        return
    content = response.content.decode()
    assert "太平庄村志愿服务队" in content
    assert "队长 陈*长" in content  # the leader, masked, for everyone who sees the team
    # Members (masked) and the decisions only for the team's managers; the applicant sees
    # only their own membership, a plain member no one else.
    assert ("杨*华" in content) is (actor in MANAGES)
    assert (f"membership-{world.application.id}" in content) is (actor in MANAGES)
    assert ("138****0002" in content) is (actor in MANAGES)
    assert_no_clear_data(content)


def test_my_teams_page(world, org):
    content = client_for(world, "applicant").get("/teams/").content.decode()
    assert "太平庄村志愿服务队" in content and "申请中" in content and "撤回申请" in content
    other = client_for(world, "other_volunteer").get("/teams/").content.decode()
    assert "太平庄村志愿服务队" not in other and "暂时没有可以申请的服务队。" in other
    resident = Client()
    resident.force_login(world.cast.resident)
    assert "注册成为志愿者并通过审核后" in resident.get("/teams/").content.decode()
    staff = client_for(world, "station_staff").get("/teams/")
    assert (staff.status_code, staff["Location"]) == (302, "/s/teams/")
    leader = client_for(world, "leader").get("/teams/").content.decode()
    assert "我负责的服务队" in leader


@pytest.mark.parametrize("actor", CAST)
def test_approve_from_the_page(world, actor):
    before = state()
    response = client_for(world, actor).post(f"/teams/memberships/{world.application.id}/approve/")
    world.application.refresh_from_db()
    if actor == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif actor in MANAGES:
        assert (response.status_code, response["Location"]) == (302, f"/teams/{world.team.id}/")
        assert world.application.status == MembershipStatus.ACTIVE
        return
    elif actor == "applicant":
        # Their own application: they see it, may not decide on it (the message says it is not theirs).
        assert response.status_code == 302
    else:
        assert response.status_code == 404
    assert state() == before


def test_reject_without_reason_changes_nothing(world):
    client = client_for(world, "leader")
    before = state()
    response = client.post(f"/teams/memberships/{world.application.id}/reject/", {"reason": "  "}, follow=True)
    assert response.status_code == 200
    assert "请填写原因。" in response.content.decode()
    assert state() == before


def test_invite_unknown_number_from_the_page(world):
    before = state()
    response = client_for(world, "leader").post(
        f"/teams/{world.team.id}/invite/", {"volunteer_number": "ZZV0000000"}, follow=True
    )
    assert "未找到编号为 ZZV0000000 的已注册志愿者。" in response.content.decode()
    assert state() == before
    response = client_for(world, "other_leader").post(
        f"/teams/{world.team.id}/invite/", {"volunteer_number": world.cast.other_volunteer.volunteer_number}
    )
    assert response.status_code == 404
    assert state() == before


def test_apply_accept_and_leave_from_the_pages(world, cast, org):
    from tests.volunteers.factories import make_volunteer

    newcomer = make_volunteer(township=org["township_a"], village=org["village_a1"], phone="13744440000")
    client = Client()
    client.force_login(newcomer.user)
    response = client.post(f"/teams/{world.team.id}/apply/", follow=True)
    assert "已提交入队申请，请等待队长审核。" in response.content.decode()
    again = client.post(f"/teams/{world.team.id}/apply/", follow=True)
    assert "已申请加入本队，请等待审核。" in again.content.decode()
    assert TeamMembership.objects.filter(volunteer=newcomer).count() == 1
    leader = client_for(world, "leader")
    leader.post(f"/teams/{world.team.id}/invite/", {"volunteer_number": cast.other_volunteer.volunteer_number})
    invitation = TeamMembership.objects.get(volunteer=cast.other_volunteer)
    other = client_for(world, "other_volunteer")
    assert "待答复的邀请" in other.get("/teams/").content.decode()
    other.post(f"/teams/memberships/{invitation.id}/accept/")
    other.post(f"/teams/memberships/{invitation.id}/leave/")
    assert TeamMembership.objects.get(id=invitation.id).status == MembershipStatus.LEFT


def test_remove_and_appoint_from_the_team_page(world):
    target = membership_of(world, world.member)
    leader = client_for(world, "leader")
    response = leader.post(f"/teams/memberships/{target.id}/role/", {"role": "leader"}, follow=True)
    assert "队长和管理员由工作人员任命。" in response.content.decode()
    staff = client_for(world, "station_staff")
    staff.post(f"/teams/memberships/{target.id}/role/", {"role": "admin"})
    assert TeamMembership.objects.get(id=target.id).role == "admin"
    staff.post(f"/teams/memberships/{target.id}/remove/", {"reason": "调离"})
    assert TeamMembership.objects.values_list("status", "decision_reason").get(id=target.id) == ("removed", "调离")


STAFF_PAGE = {
    "anonymous": 302,
    "applicant": 404,
    "other_volunteer": 404,
    "member": 404,
    "leader": 404,
    "other_leader": 404,
    "station_staff": 200,
    "other_area_staff": 200,
    "dispatcher": 200,
    "admin": 200,
}


@pytest.mark.parametrize("actor", CAST)
def test_staff_teams_page(world, actor):
    response = client_for(world, actor).get("/s/teams/")
    assert response.status_code == STAFF_PAGE[actor]
    if response.status_code == 200:
        content = response.content.decode()
        assert ("太平庄村志愿服务队" in content) is (actor != "other_area_staff")
        assert ("码头村志愿服务队" in content) is (actor in ("other_area_staff", "dispatcher", "admin"))


def test_staff_create_and_appoint(world, org, cast):
    client = client_for(world, "station_staff")
    response = client.post(
        "/s/teams/",
        {"action": "create", "node": org["station_a1"].id, "name": "太平庄村助老队", "kind": "specialty"},
    )
    assert (response.status_code, response["Location"]) == (302, "/s/teams/")
    team = Team.objects.get(name="太平庄村助老队")
    assert (team.node_id, team.created_by_id) == (org["station_a1"].id, cast.station_staff_a1.id)
    before = state()
    # A node outside the station: not a choice of the form.
    response = client.post(
        "/s/teams/", {"action": "create", "node": org["station_b1"].id, "name": "越权队", "kind": "specialty"}
    )
    assert response.status_code == 200
    assert "编号" in response.content.decode() or "选择" in response.content.decode()
    assert state() == before
    response = client.post(
        "/s/teams/",
        {
            "action": "appoint",
            "team": world.team.id,
            "volunteer_number": world.member.volunteer_number,
            "role": "admin",
        },
    )
    assert response.status_code == 302
    assert membership_of(world, world.member).role == "admin"
    response = client.post(
        "/s/teams/",
        {
            "action": "appoint",
            "team": world.team.id,
            "volunteer_number": cast.other_volunteer.volunteer_number,
            "role": "leader",
        },
        follow=True,
    )
    assert "该志愿者还不是本队队员，请先邀请其入队。" in response.content.decode()
