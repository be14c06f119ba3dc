"""The roster pages: who may open each, what a bad upload or export request gets, and what the
workbooks they hand out contain."""

from io import BytesIO
from zipfile import ZipFile

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from apps.jobs.models import Job
from apps.roster.models import ImportJob, JobStatus
from apps.roster.services import import_job_create, roster_import_run
from apps.volunteers.identity import id_digest
from apps.volunteers.models import VolunteerProfile
from tests.roster.factories import HEADERS, person, workbook

CAST = [
    "resident",
    "volunteer",
    "staff_a",
    "station_staff_a1",
    "staff_b",
    "dispatcher",
    "admin",
    "sub_centre_staff",
    "centre_office_staff",
]


def client_for(cast, who: str | None) -> Client:
    client = Client()
    if who is not None:
        user = getattr(cast, who)
        client.force_login(getattr(user, "user", user))
    return client


@pytest.fixture
def job(cast, org, django_capture_on_commit_callbacks) -> ImportJob:
    """An import of station A1, finished, with one refused row."""
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(
            uploader=cast.station_staff_a1,
            file_name="太平庄村.xlsx",
            data=workbook([person(1), person(2, phone="12345")]),
        )
    roster_import_run(job_id=job.id)
    job.refresh_from_db()
    return job


def xlsx_rows(response) -> list[list]:
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


# ---- who may open what ------------------------------------------------------------------------

STAFF_PAGES = {
    "resident": 404,
    "volunteer": 404,
    "staff_a": 200,
    "station_staff_a1": 200,
    "staff_b": 200,
    "dispatcher": 200,
    "admin": 200,
    "sub_centre_staff": 200,
    "centre_office_staff": 200,
}


@pytest.mark.parametrize("path", ["/s/roster/", "/s/roster/template.xlsx", "/s/roster/export/"])
@pytest.mark.parametrize(("who", "status"), STAFF_PAGES.items())
def test_the_staff_pages_are_for_staff_of_a_node_only(cast, org, path, who, status):
    assert client_for(cast, who).get(path).status_code == status


@pytest.mark.parametrize("path", ["/s/roster/", "/s/roster/template.xlsx", "/s/roster/export/", "/s/roster/1/"])
def test_anonymous_visitors_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


# The job of station A1: its own staff, the township office above it, the centre (root of the
# tree) and the administrator see it; another township, the sub-centre and the centre's office
# (siblings, not ancestors), residents and volunteers get 404.
JOB_ACCESS = {
    "resident": 404,
    "volunteer": 404,
    "staff_a": 200,
    "station_staff_a1": 200,
    "staff_b": 404,
    "dispatcher": 200,
    "admin": 200,
    "sub_centre_staff": 404,
    "centre_office_staff": 404,
}


@pytest.mark.parametrize("suffix", ["", "progress/", "errors.xlsx"])
@pytest.mark.parametrize(("who", "status"), JOB_ACCESS.items())
def test_an_import_is_seen_by_its_unit_and_the_units_above_it(cast, job, suffix, who, status):
    response = client_for(cast, who).get(f"/s/roster/{job.id}/{suffix}")
    assert response.status_code == status


@pytest.mark.parametrize(("who", "listed"), [(who, status == 200) for who, status in JOB_ACCESS.items()][2:])
def test_the_list_of_past_imports_shows_the_units_own(cast, job, who, listed):
    response = client_for(cast, who).get("/s/roster/")
    assert response.status_code == 200
    assert ("太平庄村.xlsx" in response.content.decode()) is listed


def test_an_unknown_job_is_404(cast, job):
    assert client_for(cast, "admin").get(f"/s/roster/{job.id + 1}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_read_only_pages_refuse_other_methods(cast, job, method):
    response = getattr(client_for(cast, "station_staff_a1"), method)(f"/s/roster/{job.id}/progress/")
    assert response.status_code == 405


# ---- the upload -------------------------------------------------------------------------------


def post_file(client: Client, content: bytes, name: str = "名册.xlsx"):
    upload = BytesIO(content)
    upload.name = name
    return client.post("/s/roster/", {"file": upload})


def test_an_upload_creates_a_queued_job_and_opens_its_progress_page(cast, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_file(client_for(cast, "staff_a"), workbook([person(1)]))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/s/roster/{job.id}/"
    assert (job.status, job.uploaded_by, job.node, job.file_name) == (
        JobStatus.QUEUED, cast.staff_a, org["office_a"], "名册.xlsx",
    )  # fmt: skip
    assert callbacks == []  # the import's job row is written with it, for the job relay
    assert Job.objects.filter(task="roster.run_import", subject_id=job.id, state="pending").count() == 1
    page = client_for(cast, "staff_a").get(f"/s/roster/{job.id}/").content.decode()
    # Still queued: the block asks for itself again every second.
    assert f'hx-get="/s/roster/{job.id}/progress/" hx-trigger="every 1s"' in page


@pytest.mark.parametrize("who", ["resident", "volunteer"])
def test_residents_and_volunteers_cannot_upload(cast, org, who):
    response = post_file(client_for(cast, who), workbook([person(1)]))
    assert response.status_code == 404
    assert ImportJob.objects.count() == 0


def test_anonymous_upload_is_sent_to_log_in(db):
    response = post_file(Client(), workbook([]))
    assert response.status_code == 302
    assert ImportJob.objects.count() == 0


def _not_a_workbook_zip() -> bytes:
    buffer = BytesIO()
    with ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _damaged_workbook() -> bytes:
    buffer = BytesIO()
    with ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<<< not xml")
    return buffer.getvalue()


NOT_XLSX = "请上传Excel的.xlsx文件（.xls或.csv请先在Excel中另存为.xlsx）。"
DAMAGED = "无法读取这个Excel文件，它可能已损坏。请在Excel中打开后重新保存再上传。"
WRONG_HEADERS = "第1行的列名不对，缺少：姓名、手机号、证件号码、乡镇/街道、服务类别。请使用下载的模板。"
NO_ROWS = "名册中没有数据行。"
BAD_UPLOADS = {
    "text named .xlsx": (b"name,phone\n", "名册.xlsx", NOT_XLSX),
    "csv": ("姓名,手机号\n张三,13800000000\n".encode(), "名册.csv", NOT_XLSX),
    "old .xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "名册.xls", NOT_XLSX),
    "a zip that is not a workbook": (_not_a_workbook_zip(), "名册.xlsx", NOT_XLSX),
    "a damaged workbook": (_damaged_workbook(), "名册.xlsx", DAMAGED),
    "empty file": (b"", "名册.xlsx", "上传的文件是空的。"),
    "wrong headers": (workbook([person(1)], headers=["名字", "电话", "证件"]), "名册.xlsx", WRONG_HEADERS),
    "a header twice": (
        workbook([person(1)], headers=[*HEADERS[:10], "姓名"]),
        "名册.xlsx",
        "第1行有重复的列名：姓名。",
    ),
    "headers only": (workbook([]), "名册.xlsx", NO_ROWS),
    "only the example row": (workbook([person(1, name="（示例）张三")]), "名册.xlsx", NO_ROWS),
    "too large": (b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024), "名册.xlsx", "文件太大：不能超过20 MB。"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_gets_a_clear_error_and_creates_nothing(cast, org, case):
    content, name, message = BAD_UPLOADS[case]
    response = post_file(client_for(cast, "staff_a"), content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_an_upload_without_a_file_gets_a_clear_error(cast, org):
    response = client_for(cast, "staff_a").post("/s/roster/", {})
    assert response.status_code == 400
    assert "请选择要上传的名册文件。" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_headers_from_the_english_template_are_accepted(cast, org, django_capture_on_commit_callbacks):
    from django.utils import translation

    from apps.roster.columns import COLUMNS

    with translation.override("en"):
        english = [str(column.label) for column in COLUMNS]
    with django_capture_on_commit_callbacks(execute=False):
        response = post_file(client_for(cast, "staff_a"), workbook([person(1)], headers=english))
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


# ---- progress and the error workbook ----------------------------------------------------------


def test_the_progress_block_stops_polling_and_links_the_errors_when_done(cast, job):
    response = client_for(cast, "station_staff_a1").get(f"/s/roster/{job.id}/progress/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "hx-trigger" not in html
    assert 'data-status="done"' in html
    assert "2 / 2 行" in html
    assert '<dd data-field="imported">1</dd>' in html
    assert '<dd data-field="errors">1</dd>' in html
    assert f'href="/s/roster/{job.id}/errors.xlsx"' in html


def test_the_progress_block_of_a_running_job_shows_the_rows_so_far(cast, job):
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, total=5000, done=2000, imported=1990, errors=10
    )
    html = client_for(cast, "staff_a").get(f"/s/roster/{job.id}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "2000 / 5000 行" in html
    assert '<progress max="100" value="40"' in html
    assert '<dd data-field="errors">10</dd>' in html


def test_a_failed_job_says_why(cast, job):
    ImportJob.objects.filter(id=job.id).update(
        status=JobStatus.FAILED, failure_code="too_many_rows", failure_params={"max": 100000, "rows": 100001}
    )
    html = client_for(cast, "staff_a").get(f"/s/roster/{job.id}/").content.decode()
    assert "一次最多导入100000行，这个文件有100001行，请分成几个文件。" in html


def test_the_error_workbook_lists_row_column_and_reason(cast, job):
    rows = xlsx_rows(client_for(cast, "station_staff_a1").get(f"/s/roster/{job.id}/errors.xlsx"))
    assert rows == [["行号", "列", "原因"], [3, "手机号", "请输入11位手机号码。"]]


# ---- the template -----------------------------------------------------------------------------


def test_the_template_has_the_headers_an_example_that_imports_as_nothing_and_a_guide(
    cast, org, django_capture_on_commit_callbacks
):
    response = client_for(cast, "staff_a").get("/s/roster/template.xlsx")
    assert response.status_code == 200
    content = response.content
    book = load_workbook(BytesIO(content))
    sheet, guide = book.worksheets
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A2"].value == "（示例）张三"
    assert sheet.column_dimensions["D"].number_format == "@"  # the ID column is text
    assert [v.sqref for v in sheet.data_validations.dataValidation] != []
    guide_text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert f"首次登录请用手机验证码设置密码：http://testserver{reverse('accounts:password_reset')}" in guide_text
    assert "便民服务、环境治理" in guide_text
    # The blank template, uploaded as it is, has no data row.
    response = post_file(client_for(cast, "staff_a"), content)
    assert response.status_code == 400
    assert "名册中没有数据行。" in response.content.decode()


# ---- export -----------------------------------------------------------------------------------


@pytest.fixture
def registered(cast, org):
    """The cast's two volunteers (太平庄村 and 东庄头村) with real-looking IDs."""
    for profile, n in ((cast.volunteer, 1), (cast.other_volunteer, 2)):
        number = person(n)["id_number"]
        VolunteerProfile.objects.filter(id=profile.id).update(
            id_type="resident_id", id_number=number, id_digest=id_digest("resident_id", number)
        )
    return cast


def test_a_station_exports_its_village_with_masked_phones_and_ids(registered, org):
    cast = registered
    response = client_for(cast, "station_staff_a1").get("/s/roster/export/")
    assert response.status_code == 200
    rows = xlsx_rows(response)
    number = person(1)["id_number"]
    phone = cast.volunteer.user.phone
    assert rows[0][:6] == ["志愿者编号", "姓名", "性别", "手机号", "证件类型", "证件号码"]
    assert rows[1:] == [
        [
            cast.volunteer.volunteer_number, "张小明", None, f"{phone[:3]}****{phone[-4:]}", "居民身份证",
            f"{number[:6]}********{number[-4:]}", "桃园街道", "太平庄村", "便民服务", None, None, None, None, "是",
        ]
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "query", "names"),
    [
        ("staff_a", "", ["张小明", "刘芳"]),
        ("staff_a", "?village={a2}", ["刘芳"]),
        ("staff_a", "?township={ta}&village={a1}", ["张小明"]),
        ("station_staff_a1", "?township={ta}", ["张小明"]),
        ("dispatcher", "?township={ta}", ["张小明", "刘芳"]),
        ("dispatcher", "?township={tb}", []),
        ("admin", "", ["张小明", "刘芳"]),
        ("sub_centre_staff", "", ["张小明", "刘芳"]),
        ("staff_b", "", []),
    ],
)
def test_an_export_holds_the_registered_volunteers_of_the_asked_part_of_the_area(registered, org, who, query, names):
    query = query.format(
        ta=org["township_a"].id, tb=org["township_b"].id, a1=org["village_a1"].id, a2=org["village_a2"].id
    )
    response = client_for(registered, who).get(f"/s/roster/export/{query}")
    assert response.status_code == 200
    assert [row[1] for row in xlsx_rows(response)[1:]] == names


def test_pending_applications_are_not_in_the_export(registered, org):
    VolunteerProfile.objects.filter(id=registered.other_volunteer.id).update(status="pending")
    rows = xlsx_rows(client_for(registered, "staff_a").get("/s/roster/export/"))
    assert [row[1] for row in rows[1:]] == ["张小明"]


@pytest.mark.parametrize(
    ("who", "query"),
    [
        ("staff_b", "?township={ta}"),
        ("staff_b", "?village={a1}"),
        ("station_staff_a1", "?village={a2}"),
        ("station_staff_a1", "?township={tb}"),
        ("staff_a", "?township={tb}"),
    ],
)
def test_asking_for_a_place_outside_the_area_is_404(registered, org, who, query):
    query = query.format(
        ta=org["township_a"].id, tb=org["township_b"].id, a1=org["village_a1"].id, a2=org["village_a2"].id
    )
    assert client_for(registered, who).get(f"/s/roster/export/{query}").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?township=abc", "没有这个乡镇/街道。"),
        ("?township=999999", "没有这个乡镇/街道。"),
        ("?township={a1}", "没有这个乡镇/街道。"),  # a village is not a township
        ("?village=abc", "没有这个村/社区。"),
        ("?township={tb}&village={a1}", "所选村/社区不属于所选乡镇/街道。"),
    ],
)
def test_a_malformed_export_request_gets_a_clear_error(registered, org, query, message):
    query = query.format(tb=org["township_b"].id, a1=org["village_a1"].id)
    response = client_for(registered, "dispatcher").get(f"/s/roster/export/{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
