"""A team's roster as a workbook: for its leaders and the staff whose area holds it."""

from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from apps.teams.models import MemberRole, MembershipStatus, Team, TeamKind, TeamMembership
from tests.volunteers.factories import make_volunteer


@pytest.fixture
def team(cast, org) -> Team:
    """A team of station A1: the cast's volunteer leads it, the other volunteer is a member; a
    third volunteer leads another team of station B1."""
    team = Team.objects.create(
        name="太平庄村助老队",
        node=org["station_a1"],
        township=org["township_a"],
        village=org["village_a1"],
        kind=TeamKind.SPECIALTY,
    )
    TeamMembership.objects.create(
        team=team, volunteer=cast.volunteer, role=MemberRole.LEADER, status=MembershipStatus.ACTIVE
    )
    TeamMembership.objects.create(team=team, volunteer=cast.other_volunteer, status=MembershipStatus.ACTIVE)
    other = Team.objects.create(
        name="码头村文艺队",
        node=org["station_b1"],
        township=org["township_b"],
        village=org["village_b1"],
        kind=TeamKind.SPECIALTY,
    )
    other_leader = make_volunteer(township=org["township_b"], village=org["village_b1"], name="钱队长")
    TeamMembership.objects.create(
        team=other, volunteer=other_leader, role=MemberRole.LEADER, status=MembershipStatus.ACTIVE
    )
    cast.other_team_leader = other_leader.user
    return team


ACCESS = {
    "volunteer": 200,  # the team's leader
    "other_volunteer": 404,  # a plain member
    "other_team_leader": 404,
    "resident": 404,
    "staff_a": 200,
    "station_staff_a1": 200,
    "staff_b": 404,
    "dispatcher": 200,
    "admin": 200,
}


@pytest.mark.parametrize(("who", "status"), ACCESS.items())
def test_a_teams_roster_is_for_those_who_manage_the_team(cast, team, who, status):
    client = Client()
    user = getattr(cast, who)
    client.force_login(getattr(user, "user", user))
    response = client.get(f"/s/roster/teams/{team.id}/export/")
    assert response.status_code == status
    if status == 200:
        sheet = load_workbook(BytesIO(response.content)).worksheets[0]
        rows = [row for row in sheet.iter_rows(values_only=True)]
        assert rows[0][-1] == "队内角色"
        assert sorted((row[1], row[-1]) for row in rows[1:]) == [("刘芳", "队员"), ("张小明", "队长")]
        phone = cast.volunteer.user.phone
        assert f"{phone[:3]}****{phone[-4:]}" in [row[3] for row in rows[1:]]


def test_an_unknown_team_is_404_and_anonymous_visitors_log_in(cast, team):
    client = Client()
    assert client.get(f"/s/roster/teams/{team.id}/export/").status_code == 302
    client.force_login(cast.admin)
    assert client.get(f"/s/roster/teams/{team.id + 100}/export/").status_code == 404
