import pytest
from django.core.management import call_command

from apps.demo.services import seed_demo
from apps.teams.models import Team, TeamMembership

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        sorted(Team.objects.values_list("id", "name", "node__name")),
        sorted(TeamMembership.objects.values_list("team__name", "volunteer__user__name", "status", "role")),
    )


def test_demo_teams_are_made_once_with_the_demo_volunteers():
    call_command("load_places", verbosity=0)
    call_command("load_teams", verbosity=0)
    seed_demo()
    first = snapshot()
    seed_demo()
    call_command("load_teams", verbosity=0)
    assert snapshot() == first
    assert Team.objects.count() == 16
    assert first[1] == sorted(
        [
            ("太平庄村志愿服务队", "张小明", "active", "leader"),
            ("太平庄村志愿服务队", "刘芳", "active", "member"),
            ("桃园街道志愿服务队", "黄伟", "active", "member"),
            ("桃园街道志愿服务队", "陈志强", "pending", "member"),
            ("桃园街道志愿服务队", "杨丽", "invited", "member"),
        ]
    )
