"""The done-line of the roster import, through the real path: the upload page, the task
published to the Redis broker after the commit, a Celery worker subprocess running it on the
test database (PostgreSQL in CI), and the progress page and error workbook read back.

A 1,000-row workbook with 30 planted errors of 15 kinds imports 970 and reports exactly those
30 with their row numbers and reasons; importing it again adds no one."""

from datetime import date
from io import BytesIO
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from apps.accounts.models import User
from apps.notifications.models import Kind, Notification
from apps.roster.models import ImportJob, JobStatus
from apps.volunteers.models import VolunteerEvent, VolunteerProfile
from tests.dispatch.test_expiry_worker import celery_worker, worker  # noqa: F401 — real worker; used by name (F811 below)
from tests.roster.factories import id_number, person, workbook

pytestmark = pytest.mark.redis

ROWS = 1000
POLITICAL_STATUS = "政治面貌请填写：中共党员、中共预备党员、共青团员、民主党派成员或群众。"
HEADERS = {
    "name": "姓名",
    "phone": "手机号",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "township": "乡镇/街道",
    "village": "村/社区",
    "categories": "服务类别",
    "political_status": "政治面貌",
}


def planted_roster(cast) -> tuple[list[dict], dict[int, tuple[str, str]]]:
    """1,000 rows for the office of 桃园街道, and the 30 bad ones: Excel row → (column, reason)."""
    rows = [person(n, village="太平庄村" if n % 2 else "东庄头村") for n in range(1, ROWS + 1)]
    # Some good rows written the way people write them.
    rows[10].update(phone="+86 158-0000-0011", id_type="居民身份证", categories="便民服务、环境治理")
    rows[11].update(village="东庄头")
    rows[12].update(phone=int(rows[12]["phone"]))
    minor = id_number(born=timezone.localdate().replace(year=timezone.localdate().year - 15), sequence=7)
    kinds: list[tuple[str, str, Any]] = [
        ("name", "必填，不能为空。", {"name": ""}),
        ("phone", "请输入11位手机号码。", {"phone": "1580000"}),
        ("id_number", "证件号码校验位不正确，请核对是否输错。", "checksum"),
        ("id_number", "证件号码应为18位，最后一位可以是数字或X。", "short"),
        ("id_number", "证件号码中的出生日期不正确，请核对。", {"id_number": "130681198002300015"}),
        ("id_number", "未成年人请由监护人陪同到实践站登记", {"id_number": minor}),
        ("township", "没有名为「高碑店市」的乡镇/街道。", {"township": "高碑店市"}),
        ("village", "桃园街道没有名为「西庄村」的村/社区。", {"village": "西庄村"}),
        ("categories", "没有名为「广场舞」的服务类别。", {"categories": "便民服务、广场舞"}),
        ("id_number", "与第2行的证件号码重复。", {"id_number": rows[0]["id_number"]}),
        ("phone", "与第3行的手机号重复。", {"phone": rows[1]["phone"]}),
        ("village", "该地点不在本单位的管理范围内。", {"township": "码头镇", "village": "码头村"}),
        ("id_type", "证件类型应为居民身份证、港澳台居民居住证或护照。", {"id_type": "军官证"}),
        ("political_status", POLITICAL_STATUS, {"political_status": "无党派人士"}),
        ("phone", "该手机号已属于另一名证件号码不同的志愿者，请核对。", "phone_taken"),
    ]  # fmt: skip
    planted: dict[int, tuple[str, str]] = {}
    for k, (column, reason, change) in enumerate(kinds * 2):
        index = 40 + k * 31  # spread over the file (and over batches of the bench's size too)
        row = rows[index]
        if change == "checksum":
            good = row["id_number"]
            row["id_number"] = good[:17] + ("1" if good[17] != "1" else "2")
        elif change == "phone_taken":  # a different volunteer each time, or it is an in-file duplicate
            row["phone"] = (cast.volunteer if k < len(kinds) else cast.other_volunteer).user.phone
        elif change == "short":
            row["id_number"] = row["id_number"][:17]
        else:
            row.update(change)
        planted[index + 2] = (column, reason)
    return rows, planted


def wait_until_finished(worker, job_id: int) -> ImportJob:  # noqa: F811 — the fixture's value
    worker.wait_until(
        lambda: ImportJob.objects.get(id=job_id).status in (JobStatus.DONE, JobStatus.FAILED),
        "the import to finish",
        timeout=120,
    )
    return ImportJob.objects.get(id=job_id)


def upload(client: Client, content: bytes) -> int:
    file = BytesIO(content)
    file.name = "桃园街道名册.xlsx"
    response = client.post("/s/roster/", {"file": file})
    assert response.status_code == 302, response.content.decode()
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_thousand_rows_with_thirty_planted_errors_import_970_and_report_the_30(
    require_postgres,
    require_redis,
    transactional_db,
    worker,  # noqa: F811
    cast,
    org,
):
    rows, planted = planted_roster(cast)
    assert len(planted) == 30
    content = workbook(rows)
    client = Client()
    client.force_login(cast.staff_a)
    volunteers_before = VolunteerProfile.objects.count()
    users_before = User.objects.count()

    job = wait_until_finished(worker, upload(client, content))

    assert (job.status, job.total, job.done, job.imported, job.skipped_duplicates, job.errors) == (
        JobStatus.DONE, 1000, 1000, 970, 0, 30,
    )  # fmt: skip
    assert VolunteerProfile.objects.count() == volunteers_before + 970
    assert User.objects.count() == users_before + 970
    assert VolunteerEvent.objects.filter(kind=VolunteerEvent.Kind.IMPORTED).count() == 970
    numbers = list(
        VolunteerProfile.objects.filter(verified_by_node=org["office_a"]).values_list("id", "volunteer_number")
    )
    assert len(numbers) == 970
    assert all(number == f"ZZV{pk:07d}" for pk, number in numbers)

    response = client.get(f"/s/roster/{job.id}/errors.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    listed = [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert listed == [(row, HEADERS[column], reason) for row, (column, reason) in sorted(planted.items())]

    progress = client.get(f"/s/roster/{job.id}/progress/").content.decode()
    assert "1000 / 1000 行" in progress
    assert "hx-trigger" not in progress
    [notification] = Notification.objects.filter(recipient=cast.staff_a, kind=Kind.ROSTER_IMPORTED)
    assert notification.params == {"file": "桃园街道名册.xlsx", "imported": 970, "errors": 30, "job_id": job.id}

    # The same file again: everyone is already registered, nothing is added.
    again = wait_until_finished(worker, upload(client, content))
    assert (again.status, again.imported, again.skipped_duplicates, again.errors) == (JobStatus.DONE, 0, 970, 30)
    assert VolunteerProfile.objects.count() == volunteers_before + 970
    assert User.objects.count() == users_before + 970
    assert ImportJob.objects.get(id=job.id).content is None


def test_the_person_born_today_eighteen_years_ago_is_an_adult(require_redis, transactional_db, worker, cast, org):  # noqa: F811
    today = timezone.localdate()
    born = date(today.year - 18, today.month, today.day if (today.month, today.day) != (2, 29) else 28)
    client = Client()
    client.force_login(cast.staff_a)
    job = wait_until_finished(worker, upload(client, workbook([person(1, id_number=id_number(born=born, sequence=5))])))
    assert (job.imported, job.errors) == (1, 0)
