"""Teams on top of the cast: the team the tests act on belongs to village station A1 (the
applicant's village), the other team to station B1 (township B)."""

from dataclasses import dataclass

from apps.accounts.models import User
from apps.teams.models import MemberRole, MembershipStatus, Team, TeamKind, TeamMembership
from apps.teams.services import membership_apply, membership_approve, membership_set_role, team_create
from apps.volunteers.models import VolunteerProfile
from tests.conftest import Cast
from tests.volunteers.factories import make_volunteer


def make_member(
    *, team: Team, volunteer: VolunteerProfile, staff: User, role: str = MemberRole.MEMBER
) -> TeamMembership:
    """An active member of ``team`` as the real roles make one: the volunteer applies, staff approve
    (and appoint, for a leader or admin)."""
    membership = membership_apply(team=team, volunteer=volunteer)
    membership_approve(membership=membership, actor=staff)
    if role != MemberRole.MEMBER:
        membership_set_role(membership=membership, actor=staff, role=role)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    return membership


@dataclass
class TeamWorld:
    cast: Cast
    org: dict
    team: Team  # 太平庄村志愿服务队 at station A1
    other_team: Team  # 码头村志愿服务队 at station B1
    leader: VolunteerProfile  # leads ``team``
    member: VolunteerProfile  # a plain active member of ``team``
    other_leader: VolunteerProfile  # leads ``other_team``
    application: TeamMembership  # the volunteer's (applicant's) pending application to ``team``


def build_team_world(cast: Cast, org: dict, *, apply: bool = True) -> TeamWorld:
    team = team_create(
        actor=cast.station_staff_a1, node=org["station_a1"], name="太平庄村志愿服务队", kind=TeamKind.SPECIALTY
    )
    other_team = team_create(
        actor=cast.staff_b, node=org["station_b1"], name="码头村志愿服务队", kind=TeamKind.SPECIALTY
    )
    leader = make_volunteer(township=org["township_a"], village=org["village_a1"], name="陈队长", phone="13811110001")
    member = make_volunteer(township=org["township_a"], village=org["village_a1"], name="杨丽华", phone="13811110002")
    other_leader = make_volunteer(
        township=org["township_b"], village=org["village_b1"], name="马队长", phone="13811110003"
    )
    make_member(team=team, volunteer=leader, staff=cast.station_staff_a1, role=MemberRole.LEADER)
    make_member(team=team, volunteer=member, staff=cast.station_staff_a1)
    make_member(team=other_team, volunteer=other_leader, staff=cast.staff_b, role=MemberRole.LEADER)
    application = membership_apply(team=team, volunteer=cast.volunteer) if apply else None
    return TeamWorld(
        cast=cast,
        org=org,
        team=team,
        other_team=other_team,
        leader=leader,
        member=member,
        other_leader=other_leader,
        application=application,  # type: ignore[arg-type]
    )
