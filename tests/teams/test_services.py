import pytest

from apps.core.errors import Conflict, DomainError, Forbidden, NotFound
from apps.notifications.messages import render
from apps.notifications.models import Kind, Notification
from apps.teams.models import MemberRole, MembershipStatus, Team, TeamKind, TeamMembership, TeamMembershipEvent
from apps.teams.selectors import is_team_leader, teams_led_by, teams_visible_to
from apps.teams.services import (
    invite_accept,
    invite_decline,
    membership_apply,
    membership_appoint,
    membership_approve,
    membership_invite,
    membership_leave,
    membership_reject,
    membership_remove,
    membership_set_role,
    team_create,
)
from tests.teams.factories import build_team_world
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.django_db


def events(membership: TeamMembership) -> list[tuple[str, str, str, str, int | None, str]]:
    return list(
        TeamMembershipEvent.objects.filter(membership=membership)
        .order_by("id")
        .values_list("from_status", "to_status", "from_role", "to_role", "actor_id", "reason")
    )


def bodies(user_id: int) -> list[str]:
    return [
        render(n.kind, n.params, n.request_id)[1]
        for n in Notification.objects.filter(recipient_id=user_id).order_by("id")
    ]


@pytest.fixture
def world(cast, org):
    return build_team_world(cast, org)


def test_team_create_keeps_the_node_places_and_refuses_a_duplicate_name(cast, org):
    team = team_create(actor=cast.staff_a, node=org["station_a2"], name=" 东庄头村志愿服务队 ", kind=TeamKind.CIVIC)
    assert (team.name, team.township_id, team.village_id, team.node_id) == (
        "东庄头村志愿服务队",
        org["township_a"].id,
        org["village_a2"].id,
        org["station_a2"].id,
    )
    with pytest.raises(Conflict) as exc:
        team_create(actor=cast.staff_a, node=org["station_a2"], name="东庄头村志愿服务队", kind=TeamKind.CIVIC)
    assert (exc.value.code, str(exc.value.message)) == ("duplicate_name", "该阵地已有同名服务队。")
    assert Team.objects.count() == 1


def test_team_create_is_for_staff_of_the_nodes_area(cast, org):
    with pytest.raises(NotFound):
        team_create(actor=cast.staff_b, node=org["station_a1"], name="甲", kind=TeamKind.SPECIALTY)
    with pytest.raises(NotFound):
        team_create(actor=cast.station_staff_a1, node=org["office_a"], name="乙", kind=TeamKind.SPECIALTY)
    with pytest.raises(NotFound):
        team_create(actor=cast.volunteer.user, node=org["station_a1"], name="丙", kind=TeamKind.SPECIALTY)
    with pytest.raises(DomainError) as exc:
        team_create(actor=cast.dispatcher, node=org["centre_office"], name="丁", kind=TeamKind.SPECIALTY)
    assert exc.value.code == "invalid_node"
    with pytest.raises(DomainError) as exc:
        team_create(actor=cast.dispatcher, node=org["centre"], name="  ", kind=TeamKind.SPECIALTY)
    assert exc.value.code == "name_required"
    assert Team.objects.count() == 0
    # The sub-centre creates at its own node; its team serves its fields, so it sees it.
    team = team_create(actor=cast.sub_centre_staff, node=org["sub_centre"], name="健康队", kind=TeamKind.SPECIALTY)
    assert list(team.categories.values_list("code", flat=True)) == ["convenience"]
    assert list(teams_visible_to(user=cast.sub_centre_staff)) == [team]


def test_apply_and_approve_write_events_and_tell_each_side(world):
    cast, team, app = world.cast, world.team, world.application
    assert app.status == MembershipStatus.PENDING
    assert bodies(world.leader.user_id)[-1] == "张*明申请加入「太平庄村志愿服务队」。"
    membership_approve(membership=app, actor=world.leader.user)
    app.refresh_from_db()
    assert (app.status, app.decided_by_id, app.joined_at is not None) == (
        MembershipStatus.ACTIVE,
        world.leader.user_id,
        True,
    )
    assert events(app) == [
        ("", "pending", "", "", cast.volunteer.user_id, ""),
        ("pending", "active", "", "", world.leader.user_id, ""),
    ]
    assert bodies(cast.volunteer.user_id) == ["您已加入「太平庄村志愿服务队」。"]
    assert list(team.memberships.filter(status="active").order_by("id").values_list("volunteer_id", flat=True)) == [
        world.leader.id,
        world.member.id,
        cast.volunteer.id,
    ]


def test_applications_without_leaders_go_to_the_nodes_staff(cast, org):
    team = team_create(actor=cast.staff_a, node=org["office_a"], name="桃园街道志愿服务队", kind=TeamKind.STANDING)
    membership_apply(team=team, volunteer=cast.volunteer)
    assert bodies(cast.staff_a.id) == ["张*明申请加入「桃园街道志愿服务队」。"]
    assert bodies(cast.station_staff_a1.id) == []


def test_reject_needs_a_reason_the_volunteer_reads(world):
    app = world.application
    with pytest.raises(DomainError) as exc:
        membership_reject(membership=app, actor=world.leader.user, reason="  ")
    assert (exc.value.code, str(exc.value.message)) == ("reason_required", "请填写原因。")
    membership_reject(membership=app, actor=world.leader.user, reason="本队暂不招新")
    app.refresh_from_db()
    assert (app.status, app.decision_reason) == (MembershipStatus.REJECTED, "本队暂不招新")
    assert events(app)[-1] == ("pending", "rejected", "", "", world.leader.user_id, "本队暂不招新")
    assert bodies(world.cast.volunteer.user_id) == ["您加入「太平庄村志愿服务队」的申请未通过：本队暂不招新"]
    # Ended: the volunteer may apply again.
    again = membership_apply(team=world.team, volunteer=world.cast.volunteer)
    assert again.status == MembershipStatus.PENDING and again.id != app.id


def test_duplicate_apply_is_a_conflict_and_creates_nothing(world):
    with pytest.raises(Conflict) as exc:
        membership_apply(team=world.team, volunteer=world.cast.volunteer)
    assert (exc.value.code, str(exc.value.message)) == ("already_applied", "已申请加入本队，请等待审核。")
    with pytest.raises(Conflict) as exc:
        membership_apply(team=world.team, volunteer=world.member)
    assert exc.value.code == "already_member"
    assert TeamMembership.objects.filter(team=world.team).count() == 3


def test_only_approved_volunteers_apply(world, org):
    pending = make_volunteer(township=org["township_a"], village=org["village_a1"], verified=False)
    with pytest.raises(DomainError) as exc:
        membership_apply(team=world.team, volunteer=pending)
    assert (exc.value.code, str(exc.value.message)) == ("not_registered", "只有通过实名审核的志愿者才能加入服务队。")
    assert not TeamMembership.objects.filter(volunteer=pending).exists()


def test_a_volunteer_applies_only_to_teams_of_their_area_or_city_wide(world, cast, org):
    with pytest.raises(NotFound):
        membership_apply(team=world.other_team, volunteer=cast.volunteer)
    with pytest.raises(NotFound):
        membership_apply(team=world.team, volunteer=cast.other_volunteer)  # village A2
    city = team_create(actor=cast.dispatcher, node=org["centre"], name="理论宣讲志愿服务队", kind=TeamKind.STANDING)
    assert membership_apply(team=city, volunteer=cast.other_volunteer).status == MembershipStatus.PENDING


def test_approve_is_for_the_teams_managers_only(world, cast):
    app = world.application
    for outsider in (world.member.user, world.other_leader.user, cast.staff_b, cast.other_volunteer.user):
        with pytest.raises(NotFound):
            membership_approve(membership=app, actor=outsider)
    app.refresh_from_db()
    assert app.status == MembershipStatus.PENDING
    membership_approve(membership=app, actor=cast.staff_a)  # the township office covers its stations
    with pytest.raises(Conflict) as exc:
        membership_approve(membership=TeamMembership.objects.get(id=app.id), actor=cast.staff_a)
    assert exc.value.code == "illegal_transition"


def test_invite_by_number_then_accept_or_decline(world, cast, org):
    other = make_volunteer(township=org["township_b"], village=org["village_b1"], name="周明", phone="13811110009")
    invitation = membership_invite(
        team=world.team, actor=world.leader.user, volunteer_number=f" {str(other.volunteer_number).lower()} "
    )
    assert (invitation.status, invitation.invited_by_id) == (MembershipStatus.INVITED, world.leader.user_id)
    assert bodies(other.user_id) == ["「太平庄村志愿服务队」邀请您加入。"]
    with pytest.raises(Forbidden):
        invite_accept(membership=invitation, volunteer=cast.volunteer)
    invite_accept(membership=invitation, volunteer=other)
    invitation.refresh_from_db()
    assert invitation.status == MembershipStatus.ACTIVE
    assert bodies(world.leader.user_id)[-1] == "周*接受了「太平庄村志愿服务队」的邀请。"
    again = membership_invite(
        team=world.team, actor=cast.station_staff_a1, volunteer_number=cast.other_volunteer.volunteer_number
    )
    invite_decline(membership=again, volunteer=cast.other_volunteer)
    again.refresh_from_db()
    assert again.status == MembershipStatus.DECLINED
    assert bodies(cast.station_staff_a1.id)[-1] == "刘*婉拒了「太平庄村志愿服务队」的邀请。"


def test_invite_refuses_unknown_numbers_members_and_outsiders(world, cast, org):
    before = TeamMembership.objects.count()
    with pytest.raises(DomainError) as exc:
        membership_invite(team=world.team, actor=world.leader.user, volunteer_number="ZZV9999999")
    assert (exc.value.code, str(exc.value.message)) == ("unknown_volunteer", "未找到编号为 ZZV9999999 的已注册志愿者。")
    pending = make_volunteer(township=org["township_a"], village=org["village_a1"], verified=False)
    with pytest.raises(DomainError) as exc:
        membership_invite(team=world.team, actor=world.leader.user, volunteer_number=str(pending.id))
    assert exc.value.code == "unknown_volunteer"
    with pytest.raises(DomainError) as exc:
        membership_invite(team=world.team, actor=world.leader.user, volunteer_number=" ")
    assert exc.value.code == "number_required"
    with pytest.raises(Conflict) as exc:
        membership_invite(team=world.team, actor=world.leader.user, volunteer_number=cast.volunteer.volunteer_number)
    assert exc.value.code == "already_applied"
    with pytest.raises(NotFound):
        membership_invite(
            team=world.team, actor=world.member.user, volunteer_number=cast.other_volunteer.volunteer_number
        )
    with pytest.raises(NotFound):
        membership_invite(
            team=world.team, actor=world.other_leader.user, volunteer_number=cast.other_volunteer.volunteer_number
        )
    assert TeamMembership.objects.count() == before


def test_remove_needs_a_reason_and_staff_for_leaders(world, cast):
    member = TeamMembership.objects.get(team=world.team, volunteer=world.member)
    leader = TeamMembership.objects.get(team=world.team, volunteer=world.leader)
    with pytest.raises(DomainError) as exc:
        membership_remove(membership=member, actor=world.leader.user, reason="")
    assert exc.value.code == "reason_required"
    with pytest.raises(Forbidden) as exc:
        membership_remove(membership=leader, actor=world.leader.user, reason="自己")
    assert exc.value.code == "cannot_remove_self"
    membership_set_role(membership=member, actor=cast.station_staff_a1, role=MemberRole.ADMIN)
    with pytest.raises(Forbidden) as exc:
        membership_remove(membership=member, actor=world.leader.user, reason="长期不参加活动")
    assert exc.value.code == "staff_only"
    membership_set_role(membership=member, actor=cast.station_staff_a1, role=MemberRole.MEMBER)
    membership_remove(membership=member, actor=world.leader.user, reason="长期不参加活动")
    member.refresh_from_db()
    assert (member.status, member.decision_reason, member.decided_by_id) == (
        MembershipStatus.REMOVED,
        "长期不参加活动",
        world.leader.user_id,
    )
    assert bodies(world.member.user_id)[-1] == "您已被移出「太平庄村志愿服务队」：长期不参加活动"
    membership_remove(membership=leader, actor=cast.station_staff_a1, reason="换届")
    assert TeamMembership.objects.get(id=leader.id).status == MembershipStatus.REMOVED


def test_leave_and_withdraw(world, cast):
    membership_leave(membership=world.application, volunteer=cast.volunteer)
    member = TeamMembership.objects.get(team=world.team, volunteer=world.member)
    with pytest.raises(Forbidden):
        membership_leave(membership=member, volunteer=cast.volunteer)
    membership_leave(membership=member, volunteer=world.member)
    assert list(
        TeamMembership.objects.filter(id__in=[world.application.id, member.id])
        .order_by("id")
        .values_list("status", flat=True)
    ) == ["left", "left"]
    assert events(member)[-1] == ("active", "left", "", "", world.member.user_id, "")


def test_appointments_are_staffs_and_make_team_leaders(world, cast):
    member = TeamMembership.objects.get(team=world.team, volunteer=world.member)
    assert not is_team_leader(user=world.member.user)
    with pytest.raises(Forbidden) as exc:
        membership_set_role(membership=member, actor=world.leader.user, role=MemberRole.LEADER)
    assert exc.value.code == "staff_only"
    with pytest.raises(NotFound):
        membership_set_role(membership=member, actor=cast.staff_b, role=MemberRole.LEADER)
    with pytest.raises(Conflict) as conflict:
        membership_appoint(
            team=world.team, actor=cast.staff_a, volunteer_number=cast.volunteer.volunteer_number, role="leader"
        )
    assert conflict.value.code == "not_member"
    membership_appoint(
        team=world.team, actor=cast.staff_a, volunteer_number=world.member.volunteer_number, role="leader"
    )
    assert is_team_leader(user=world.member.user)
    assert list(teams_led_by(user=world.member.user)) == [world.team]
    assert events(member)[-1] == ("active", "active", "member", "leader", cast.staff_a.id, "")
    assert Notification.objects.filter(kind=Kind.TEAM_MEMBER_REMOVED).count() == 0


def test_who_sees_which_team(world, cast, org):
    city = team_create(actor=cast.dispatcher, node=org["centre"], name="理论宣讲志愿服务队", kind=TeamKind.STANDING)
    office_b = team_create(actor=cast.staff_b, node=org["office_b"], name="码头镇志愿服务队", kind=TeamKind.UNIT)

    def seen(user):
        return sorted(t.name for t in teams_visible_to(user=user))

    everything = sorted([world.team.name, world.other_team.name, city.name, office_b.name])
    assert seen(cast.dispatcher) == everything
    assert seen(cast.admin) == everything
    assert seen(cast.centre_office_staff) == everything
    assert seen(cast.staff_a) == ["太平庄村志愿服务队"]
    assert seen(cast.station_staff_a1) == ["太平庄村志愿服务队"]
    assert seen(cast.staff_b) == ["码头村志愿服务队", "码头镇志愿服务队"]
    assert seen(cast.volunteer.user) == ["太平庄村志愿服务队", "理论宣讲志愿服务队"]
    assert seen(cast.other_volunteer.user) == ["理论宣讲志愿服务队"]
    assert seen(world.other_leader.user) == sorted(["码头村志愿服务队", "码头镇志愿服务队", "理论宣讲志愿服务队"])
    assert seen(cast.resident) == []
