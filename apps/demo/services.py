"""Demo accounts and a little demo data, so every role can be tried at once. Idempotent."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone, translation
from openpyxl import Workbook

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.demo.history import seed_history
from apps.dispatch.services import dispatch_directed, offer_accept, offer_depart
from apps.organisation.models import OrgNode, Place, ServiceCategory
from apps.roster.columns import COLUMNS
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from apps.teams.models import MemberRole, Team, TeamKind
from apps.teams.services import (
    membership_apply,
    membership_approve,
    membership_invite,
    membership_set_role,
    team_create,
)
from apps.volunteers.identity import check_character
from apps.volunteers.models import ALL_WEEK, IdType, VolunteerProfile
from apps.volunteers.services import ApplicationInput, application_reject, application_submit, volunteer_register

DEMO_PASSWORD = "zhuozhou2026"  # noqa: S105 — printed to the developer on purpose
# Made-up 服务热线 (well-formed, not anyone's line): the centre's, and 桃园街道's office's, so that
# the demo shows both a station answering on its office's line (太平庄村) and on the centre's (码头镇).
DEMO_CENTRE_HOTLINE = "0312-3862345"
DEMO_TAOYUAN_HOTLINE = "0312-3861234"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    phone: str
    name: str
    where: str


def _user(phone: str, name: str, **extra: object) -> User:
    user = User.objects.filter(phone_digest=phone_digest(phone)).first()
    if user is None:
        user = User.objects.create_user(phone=phone, password=DEMO_PASSWORD, name=name, **extra)
    return user


def seed_demo() -> list[DemoAccount]:
    with transaction.atomic():
        centre = OrgNode.objects.get_root_nodes().get()
        taoyuan = Place.objects.get(name="桃园街道")
        matou = Place.objects.get(name="码头镇")
        taiping = Place.objects.get(parent=taoyuan, name="太平庄村")
        dongzhuang = Place.objects.get(parent=taoyuan, name="东庄头村")
        taoyuan_office = OrgNode.objects.get(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=taoyuan)
        matou_office = OrgNode.objects.get(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=matou)
        taiping_station = OrgNode.objects.get(kind=OrgNode.Kind.VILLAGE_STATION, place=taiping)
        centre_office = OrgNode.objects.get(kind=OrgNode.Kind.CENTRE_OFFICE)
        health_sub_centre = OrgNode.objects.get(kind=OrgNode.Kind.SUB_CENTRE, name="健康推进分中心")
        # Only where no one has set a hotline yet: the demo never overwrites an operator's number.
        OrgNode.objects.filter(id=centre.id, hotline="").update(hotline=DEMO_CENTRE_HOTLINE)
        OrgNode.objects.filter(id=taoyuan_office.id, hotline="").update(hotline=DEMO_TAOYUAN_HOTLINE)

        accounts = [
            DemoAccount("管理员 admin", "13300000001", "管理员", "Django admin /admin/"),
            DemoAccount("中心调度员 centre dispatcher", "13500000001", "赵调度", centre.name),
            DemoAccount("中心办公室 centre office", "13500000002", "吴主任", centre_office.name),
            DemoAccount("分中心 sub-centre (卫生保健, 心理关爱)", "13500000003", "郑主任", health_sub_centre.name),
            DemoAccount("所管理员 township staff", "13600000001", "钱所长", taoyuan_office.name),
            DemoAccount("站管理员 village staff", "13600000003", "孙站长", taiping_station.name),
            DemoAccount("所管理员 other township", "13600000002", "李所长", matou_office.name),
            DemoAccount("群众 resident", "13900000001", "王秀兰", "桃园街道 太平庄村"),
            DemoAccount("群众 other resident", "13900000002", "周建国", "码头镇"),
        ]
        _user("13300000001", "管理员", is_staff=True, is_superuser=True)
        _user("13500000001", "赵调度", staff_node=centre)
        _user("13500000002", "吴主任", staff_node=centre_office)
        _user("13500000003", "郑主任", staff_node=health_sub_centre)
        _user("13600000001", "钱所长", staff_node=taoyuan_office)
        _user("13600000003", "孙站长", staff_node=taiping_station)
        _user("13600000002", "李所长", staff_node=matou_office)
        resident = _user("13900000001", "王秀兰")
        other_resident = _user("13900000002", "周建国")

        convenience = ServiceCategory.objects.get(code="convenience")
        elderly = ServiceCategory.objects.get(code="elderly-disabled")
        environment = ServiceCategory.objects.get(code="environment")
        health = ServiceCategory.objects.get(code="health")
        volunteers = [
            ("13700000001", "张小明", taiping, [convenience, elderly]),
            ("13700000002", "刘芳", taiping, [convenience, environment]),
            ("13700000003", "陈志强", dongzhuang, [convenience, elderly]),
            ("13700000004", "杨丽", dongzhuang, [elderly, environment]),
            ("13700000005", "黄伟", None, [convenience, health]),
        ]
        for phone, name, village, categories in volunteers:
            user = _user(phone, name)
            if not VolunteerProfile.objects.filter(user=user).exists():
                volunteer_register(
                    user=user, home_township=taoyuan, home_village=village, categories=categories, verified=True
                )
            accounts.append(
                DemoAccount("志愿者 volunteer", phone, name, f"桃园街道 {village.name if village else ''}".strip())
            )

        if not ServiceRequest.objects.filter(requester=resident).exists():
            request_submit(
                data=RequestInput(
                    category=convenience,
                    title="帮忙修理漏水的水龙头",
                    description="厨房水龙头一直滴水，家里只有老两口，拧不动。",
                    village=taiping,
                    address="太平庄村东街12号",
                    contact_name="王秀兰",
                    contact_phone="13900000001",
                    urgency="normal",
                ),
                requester=resident,
                entered_by=resident,
            )
        # In 码头镇 and in a field the 健康推进分中心 looks after: its staff see it city-wide.
        if not ServiceRequest.objects.filter(requester=other_resident).exists():
            request_submit(
                data=RequestInput(
                    category=health,
                    title="想请医生上门量血压",
                    description="老伴腿脚不便，想请志愿医生上门量量血压、看看用药。",
                    village=Place.objects.filter(parent=matou).order_by("name").first() or taiping,
                    address="村委会东侧第三户",
                    contact_name="周建国",
                    contact_phone="13900000002",
                    urgency="normal",
                ),
                requester=other_resident,
                entered_by=other_resident,
            )
        _seed_demo_teams(taiping_station=taiping_station, taoyuan_office=taoyuan_office)
        # Six weeks of past work in 桃园街道, for the board, the KPIs, the scorecards and the reports.
        seed_history(
            resident=_user("13900000003", "赵大爷"),
            staff=User.objects.get(phone_digest=phone_digest("13600000001")),
            township=taoyuan,
            villages=[taiping, dongzhuang],
        )
        _seed_demo_work_in_hand(
            resident=_user("13900000003", "赵大爷"),
            staff=User.objects.get(phone_digest=phone_digest("13600000001")),
            taiping=taiping,
            dongzhuang=dongzhuang,
            elderly=elderly,
            convenience=convenience,
        )
        accounts.append(
            DemoAccount(
                "群众 resident with history",
                "13900000003",
                "赵大爷",
                "桃园街道（过去六周的服务记录，一单待接，一单已接）",
            )
        )
        accounts += _seed_demo_applications(taiping=taiping, dongzhuang=dongzhuang, convenience=convenience)
    return accounts


# Work in hand today, so that a volunteer who signs in finds something to do: 张小明 has an
# invitation open for a day (a window tomorrow morning), and 陈志强 has set off to another
# request, which 赵大爷 sees with its 联系服务人员 card.
DEMO_OFFER_TITLE = "帮忙去药店买降压药送到家"
DEMO_TASK_TITLE = "帮忙把冬储白菜搬进屋"


def _seed_demo_work_in_hand(
    *,
    resident: User,
    staff: User,
    taiping: Place,
    dongzhuang: Place,
    elderly: ServiceCategory,
    convenience: ServiceCategory,
) -> None:
    if ServiceRequest.objects.filter(requester=resident, title__in=[DEMO_OFFER_TITLE, DEMO_TASK_TITLE]).exists():
        return
    tomorrow = timezone.localtime() + timedelta(days=1)
    start = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    work = [
        (DEMO_OFFER_TITLE, elderly, taiping, "太平庄村西街3号", "13700000001", (start, start + timedelta(hours=2))),
        (DEMO_TASK_TITLE, convenience, dongzhuang, "东庄头村南街8号", "13700000003", (None, None)),
    ]
    for title, category, village, address, volunteer_phone, (window_start, window_end) in work:
        request = request_submit(
            data=RequestInput(
                category=category,
                title=title,
                description="示例数据：今天待办的服务。",
                village=village,
                address=address,
                contact_name=resident.name,
                contact_phone="13900000003",
                urgency="normal",
                window_start=window_start,
                window_end=window_end,
            ),
            requester=resident,
            entered_by=resident,
        )
        request_review(request=request, actor=staff, accept=True)
        volunteer = VolunteerProfile.objects.get(user__phone_digest=phone_digest(volunteer_phone))
        (offer,) = dispatch_directed(
            request=ServiceRequest.objects.get(id=request.id),
            actor=staff,
            volunteers=[volunteer],
            expires_in_minutes=24 * 60,
        )
        if title == DEMO_TASK_TITLE:
            offer = offer_accept(offer=offer, volunteer=volunteer)
            offer_depart(offer=offer, volunteer=volunteer, eta_minutes=20)


def _id_number(first17: str) -> str:
    return first17 + check_character(first17)


def _seed_demo_applications(*, taiping: Place, dongzhuang: Place, convenience: ServiceCategory) -> list[DemoAccount]:
    """Two sign-ups for 桃园街道's staff to review: one waiting (太平庄村, the station sees it too),
    one sent back with a reason (the applicant can fix it and resubmit). Made once."""
    office_staff = User.objects.get(phone_digest=phone_digest("13600000001"))  # 桃园街道: both villages
    people = [
        ("13800000001", "孙丽娟", taiping, _id_number("13068119850612002"), None),
        (
            "13800000002",
            "马建军",
            dongzhuang,
            _id_number("13068119720304003"),
            "证件号码与姓名不一致，请核对后重新提交",
        ),
    ]
    accounts = []
    for phone, name, village, id_number, rejection in people:
        user = _user(phone, name, home_township=village.parent, home_village=village)
        if not VolunteerProfile.objects.filter(user=user).exists():
            profile = application_submit(
                user=user,
                data=ApplicationInput(
                    name=name,
                    id_type=IdType.RESIDENT_ID,
                    id_number=id_number,
                    village=village,
                    categories=[convenience],
                    availability=ALL_WEEK,
                    privacy_consent=True,
                ),
            )
            if rejection:
                application_reject(profile=profile, actor=office_staff, reason=rejection)
        where = f"{village.parent.name if village.parent else ''} {village.name}"
        role = "志愿者申请 sent back" if rejection else "志愿者申请 pending"
        accounts.append(DemoAccount(role, phone, name, where))
    return accounts


def write_sample_roster(path: Path) -> Path:
    """A roster of twelve made-up volunteers of 桃园街道 in the import template's columns, two of its
    rows wrong on purpose (a mistyped check digit, an unknown village), for trying 名册导入."""
    book = Workbook()
    sheet = book.active
    sheet.title = "名册"
    with translation.override("zh-hans"):
        sheet.append([str(column.label) for column in COLUMNS])
    keys = [column.key for column in COLUMNS]
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫", ["建华", "秀英", "志国", "丽萍", "海军", "春梅"]
    for n in range(12):
        first17 = f"130681{1960 + 3 * n:04d}{1 + n % 12:02d}{10 + n:02d}{100 + n:03d}"
        row = {
            "name": surnames[n] + given[n % len(given)],
            "phone": f"1570000{n:04d}",
            "id_number": _id_number(first17),
            "township": "桃园街道",
            "village": "太平庄村" if n % 2 else "东庄头村",
            "categories": "便民服务、助老助残",
        }
        if n == 4:
            row["id_number"] = first17 + ("0" if _id_number(first17)[-1] != "0" else "1")
        if n == 9:
            row["village"] = "不存在村"
        sheet.append([row.get(key, "") for key in keys])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _seed_demo_teams(*, taiping_station: OrgNode, taoyuan_office: OrgNode) -> None:
    """Two local teams with the demo volunteers: 张小明 leads the station's team (刘芳 a member),
    黄伟 is in the township's team, 陈志强 has applied to it and 杨丽 is invited. Made once: a
    team that exists already is left as the demo left it."""
    station_staff = User.objects.get(phone_digest=phone_digest("13600000003"))
    office_staff = User.objects.get(phone_digest=phone_digest("13600000001"))

    def volunteer(phone: str) -> VolunteerProfile:
        return VolunteerProfile.objects.select_related("user").get(user__phone_digest=phone_digest(phone))

    def join(team: Team, phone: str, staff: User, role: str = MemberRole.MEMBER) -> None:
        membership = membership_apply(team=team, volunteer=volunteer(phone))
        membership_approve(membership=membership, actor=staff)
        if role != MemberRole.MEMBER:
            membership_set_role(membership=membership, actor=staff, role=role)

    if not Team.objects.filter(node=taiping_station, name="太平庄村志愿服务队").exists():
        team = team_create(
            actor=station_staff,
            node=taiping_station,
            name="太平庄村志愿服务队",
            kind=TeamKind.SPECIALTY,
            categories=list(ServiceCategory.objects.filter(code__in=["convenience", "elderly-disabled"])),
            description="村里的老人日间照料、代购代办、小修小补。",
        )
        join(team, "13700000001", station_staff, MemberRole.LEADER)
        join(team, "13700000002", station_staff)
    if not Team.objects.filter(node=taoyuan_office, name="桃园街道志愿服务队").exists():
        team = team_create(
            actor=office_staff,
            node=taoyuan_office,
            name="桃园街道志愿服务队",
            kind=TeamKind.STANDING,
            categories=list(ServiceCategory.objects.filter(code__in=["convenience", "environment"])),
            description="街道的便民服务和环境整治。",
        )
        join(team, "13700000005", office_staff)
        membership_apply(team=team, volunteer=volunteer("13700000003"))
        membership_invite(
            team=team, actor=office_staff, volunteer_number=str(volunteer("13700000004").volunteer_number)
        )
