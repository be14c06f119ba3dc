import pytest
from django.core.management import CommandError, call_command

from apps.teams.models import Team, TeamKind, TeamMembership
from apps.teams.seed import STANDING_TEAMS

pytestmark = pytest.mark.django_db


def rows():
    return sorted(Team.objects.values_list("id", "name", "kind", "node_id", "township_id", "village_id"))


def test_load_teams_creates_the_8_standing_and_the_specialty_teams_once(org, capsys):
    call_command("load_teams")
    assert capsys.readouterr().out == "teams: 14 created, 0 already there\n"
    first = rows()
    call_command("load_teams")
    assert capsys.readouterr().out == "teams: 0 created, 14 already there\n"
    assert rows() == first
    assert Team.objects.filter(kind=TeamKind.STANDING).count() == 8
    assert Team.objects.filter(kind=TeamKind.SPECIALTY).count() == 6
    assert {t.node_id for t in Team.objects.all()} == {org["centre"].id}
    assert sorted(Team.objects.filter(kind=TeamKind.STANDING).values_list("name", flat=True)) == sorted(
        s.name for s in STANDING_TEAMS
    )
    # The seed's own three names are among them.
    assert {"理论宣讲志愿服务队", "文化服务志愿服务队", "助学支教志愿服务队"} <= {s.name for s in STANDING_TEAMS}
    assert TeamMembership.objects.count() == 0
    # City-wide teams: no place of their own.
    assert Team.objects.filter(township__isnull=True, village__isnull=True).count() == 14
    # Categories the test tree has are linked (the others are not there to link).
    assert list(Team.objects.get(name="生态环保志愿服务队").categories.values_list("code", flat=True)) == [
        "environment"
    ]
    assert list(Team.objects.get(name="“红色代办员”服务队").categories.values_list("code", flat=True)) == [
        "convenience"
    ]


def test_a_reload_keeps_what_an_operator_changed(org):
    call_command("load_teams")
    Team.objects.filter(name="理论宣讲志愿服务队").update(description="改过的简介", is_active=False)
    call_command("load_teams")
    assert Team.objects.filter(name="理论宣讲志愿服务队").values_list("description", "is_active").get() == (
        "改过的简介",
        False,
    )


def test_load_teams_needs_the_network(db):
    with pytest.raises(CommandError, match="no centre: run load_places first"):
        call_command("load_teams")
    assert Team.objects.count() == 0
