"""The city's "8+N" teams under the centre, as the source article names them.

The article (``seed/000_…txt``) says the centre's volunteer corps (新时代文明实践志愿服务总队) was
organised "按照'8+N'模式组建理论宣讲、文化服务、助学支教等8支常备队和N支特色队伍": it names three
of the eight standing teams. The other five are named after the rest of what the article says the
network does — its sub-centres (科技科普, 健康推进, 教育体育) and its service fields (卫生保健,
环境治理, 助农增收). The specialty teams are the article's own brands and actions: the "农保姆"
farm-help action, the "红色代办员" sent to enterprises, "跟着河长去巡河", and the care the stations
give elders (日间照料), plus the fields 心理关爱 and 法律服务 of the category list. The 14 teams of
stationed units and the 11 civic groups are not named in the article; units add their own.
"""

from dataclasses import dataclass

from django.db import transaction

from apps.organisation.models import OrgNode, ServiceCategory

from .models import Team, TeamKind


@dataclass(frozen=True)
class SeedTeam:
    name: str
    kind: str
    categories: tuple[str, ...]
    description: str


STANDING_TEAMS = (
    SeedTeam("理论宣讲志愿服务队", TeamKind.STANDING, ("theory",), "宣讲党的创新理论和惠民政策"),
    SeedTeam("文化服务志愿服务队", TeamKind.STANDING, ("culture-sports",), "文艺演出、非遗展示、群众文化活动"),
    SeedTeam("助学支教志愿服务队", TeamKind.STANDING, ("education",), "课业辅导、假期托管、关爱留守儿童"),
    SeedTeam("科技科普志愿服务队", TeamKind.STANDING, ("science",), "科普讲座、智能手机使用教学"),
    SeedTeam("卫生健康志愿服务队", TeamKind.STANDING, ("health",), "义诊、健康讲座、疫情群防群治"),
    SeedTeam("体育健身志愿服务队", TeamKind.STANDING, ("culture-sports",), "全民健身指导、广场舞、线上体育"),
    SeedTeam("生态环保志愿服务队", TeamKind.STANDING, ("environment",), "“三清六净”人居环境整治、垃圾分类"),
    SeedTeam("助农增收志愿服务队", TeamKind.STANDING, ("farm-income",), "农技指导、农产品销售帮扶"),
)

SPECIALTY_TEAMS = (
    SeedTeam("“农保姆”助农服务队", TeamKind.SPECIALTY, ("farm-income",), "“农保姆”助农行动，科学指导农业生产"),
    SeedTeam("“红色代办员”服务队", TeamKind.SPECIALTY, ("convenience",), "驻企“一对一”指导复工复产、代办事项"),
    SeedTeam("“跟着河长去巡河”志愿服务队", TeamKind.SPECIALTY, ("environment",), "巡河护河，宣传环保理念"),
    SeedTeam("助老助残志愿服务队", TeamKind.SPECIALTY, ("elderly-disabled",), "日间照料、探访陪伴、生活照料"),
    SeedTeam("心理关爱志愿服务队", TeamKind.SPECIALTY, ("counselling",), "心理疏导、关爱留守儿童和空巢老人"),
    SeedTeam("法律服务志愿服务队", TeamKind.SPECIALTY, ("legal",), "法律咨询、矛盾调解"),
)

SEED_TEAMS = STANDING_TEAMS + SPECIALTY_TEAMS


@dataclass(frozen=True)
class TeamsLoaded:
    created: int
    existing: int


def load_seed_teams() -> TeamsLoaded:
    """Create the standing and specialty teams under the centre, without members. Idempotent: a
    team found by its node and name is left as an operator may have edited it (description,
    categories, active), so a reload never undoes their work. Needs ``load_places`` first."""
    centre = OrgNode.objects.filter(kind=OrgNode.Kind.CENTRE).order_by("path").first()
    if centre is None:
        raise LookupError("no centre: run load_places first")
    categories = {c.code: c for c in ServiceCategory.objects.all()}
    created = 0
    with transaction.atomic():
        for seed in SEED_TEAMS:
            team, is_new = Team.objects.get_or_create(
                node=centre,
                name=seed.name,
                defaults={"kind": seed.kind, "description": seed.description},
            )
            if is_new:
                created += 1
                team.categories.set([categories[code] for code in seed.categories if code in categories])
    return TeamsLoaded(created=created, existing=len(SEED_TEAMS) - created)
