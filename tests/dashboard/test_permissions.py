"""Permission matrix of every dashboard page and endpoint over the whole cast, and bad input:
each refused with its exact status and message, changing nothing, never a 500."""

from datetime import date

import pytest
from django.urls import reverse

from apps.dashboard.models import MonthlyReport
from apps.dashboard.reports import report_generate
from tests.workflow.scenario import ACTORS, actor_user

from .fixture import build_month

pytestmark = pytest.mark.django_db

STAFF = {"station_staff_a1", "staff_a", "staff_b", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"}
# Reports are for whole-city staff and township offices; stations and sub-centres use the KPI page.
REPORT_READERS = {"staff_a", "staff_b", "centre_office_staff", "dispatcher", "admin"}
WHOLE_CITY = {"centre_office_staff", "dispatcher", "admin"}
PAGES = ["dashboard:board", "dashboard:board_live", "dashboard:kpi", "dashboard:kpi_export", "dashboard:scorecards"]
API = [
    "/api/v1/dashboard/board/",
    "/api/v1/dashboard/kpi/",
    "/api/v1/dashboard/scorecards/",
    "/api/v1/dashboard/reports/",
]


@pytest.fixture
def city_report(cast, org) -> MonthlyReport:
    build_month(cast, org)
    report = MonthlyReport.objects.create(month=date(2026, 11, 1), requested_by=cast.dispatcher)
    report_generate(report_id=report.id)
    return report


@pytest.fixture
def township_a_report(org) -> MonthlyReport:
    report = MonthlyReport.objects.create(month=date(2026, 11, 1), township=org["township_a"])
    report_generate(report_id=report.id)
    return report


@pytest.mark.parametrize("actor", ACTORS)
def test_pages(actor, cast, client, city_report, township_a_report) -> None:
    user = actor_user(cast, actor)
    if user is not None:
        client.force_login(user)
    urls = [reverse(name) for name in PAGES] + [reverse("dashboard:reports")]
    urls += [
        reverse(name, args=[report.id])
        for report in (city_report, township_a_report)
        for name in ("dashboard:report_status", "dashboard:report_download")
    ]
    for url in urls:
        response = client.get(url)
        if user is None:
            assert (response.status_code, response["Location"]) == (302, f"/login/?next={url}"), url
            continue
        if "/s/reports/" in url:
            if url.endswith("/s/reports/"):
                expected = 200 if actor in REPORT_READERS else 404
            else:
                report_id = int(url.split("/")[3])
                own = actor in WHOLE_CITY or (report_id == township_a_report.id and actor == "staff_a")
                expected = 200 if own else 404
        else:
            expected = 200 if actor in STAFF else 404
        assert response.status_code == expected, (actor, url, response.status_code)


@pytest.mark.parametrize("actor", ACTORS)
def test_api(actor, cast, api, city_report, township_a_report) -> None:
    user = actor_user(cast, actor)
    client = api(user)
    for url in API + [f"/api/v1/dashboard/reports/{r.id}/" for r in (city_report, township_a_report)]:
        response = client.get(url)
        if user is None:
            assert response.status_code == 401, url
        elif actor not in STAFF:
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), url
        elif "/reports/" in url and actor not in REPORT_READERS:
            assert response.status_code == 403, (actor, url)
        elif "/reports/" in url and url != "/api/v1/dashboard/reports/":
            own = actor in WHOLE_CITY or (url.endswith(f"/{township_a_report.id}/") and actor == "staff_a")
            assert response.status_code == (200 if own else 404), (actor, url)
        else:
            assert response.status_code == 200, (actor, url, response.content[:200])
    before = MonthlyReport.objects.count()
    post = client.post("/api/v1/dashboard/reports/", {"month": "2026-10"}, format="json")
    if user is None:
        assert post.status_code == 401
    elif actor in WHOLE_CITY:
        assert post.status_code == 202
        assert MonthlyReport.objects.count() == before + 1
        return
    elif actor in REPORT_READERS:
        assert post.status_code == 400  # a township office must name its township
    else:
        assert post.status_code == 403
    assert MonthlyReport.objects.count() == before


def test_reports_list_only_what_the_reader_may_see(cast, api, city_report, township_a_report) -> None:
    ids = lambda user: [r["id"] for r in api(user).get("/api/v1/dashboard/reports/").json()["results"]]  # noqa: E731
    assert sorted(ids(cast.dispatcher)) == sorted([city_report.id, township_a_report.id])
    assert ids(cast.staff_a) == [township_a_report.id]
    assert ids(cast.staff_b) == []


BAD_KPI = [
    ({"start": "2026-13-01"}, "start", "输入一个有效的日期。"),
    ({"start": "2026-11-30", "end": "2026-11-01"}, "end", "结束日期不能早于开始日期。"),
    ({"start": "2020-01-01", "end": "2026-11-30"}, "start", "统计时段最长1098天。"),
    ({"township": "abc"}, "township", "不存在或不在您的管辖范围内。"),
    ({"township": "99999999999999999999"}, "township", "不存在或不在您的管辖范围内。"),
    ({"category": "-1"}, "category", "不存在或不在您的管辖范围内。"),
    ({"start": "1999-12-31"}, "start", "日期须在2000年至2100年之间。"),
    ({"end": "9999-12-31"}, "end", "日期须在2000年至2100年之间。"),
    ({"grain": "hour"}, "grain", "选择一个有效的选项。 hour 不在可用的选项中。"),
]


@pytest.mark.parametrize(("params", "field", "message"), BAD_KPI)
def test_bad_kpi_queries(params, field, message, cast, api, client) -> None:
    response = api(cast.dispatcher).get("/api/v1/dashboard/kpi/", params)
    assert (response.status_code, list(response.json()["errors"])) == (400, [field])
    client.force_login(cast.dispatcher)
    page = client.get(reverse("dashboard:kpi"), params)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert client.get(reverse("dashboard:kpi_export"), params).status_code == 400


def test_a_village_outside_the_township_and_a_place_outside_the_area(cast, org, api) -> None:
    body = (
        api(cast.dispatcher)
        .get("/api/v1/dashboard/kpi/", {"township": org["township_a"].id, "village": org["village_b1"].id})
        .json()
    )
    assert "该村/社区不属于所选乡镇/街道。" in str(body)
    outside = api(cast.staff_a).get("/api/v1/dashboard/board/", {"township": org["township_b"].id})
    assert outside.status_code == 400
    assert "不存在或不在您的管辖范围内。" in str(outside.json())
    assert api(cast.staff_a).get("/api/v1/dashboard/board/", {"urgency": "panic"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"level": "planet"},
        {"period": "decade"},
        {"month": "2026-13"},
        {"month": "11/2026"},
        {"year": "1800"},
        {"year": "x"},
    ],
)
def test_bad_scorecard_queries(params, cast, api, client) -> None:
    assert api(cast.dispatcher).get("/api/v1/dashboard/scorecards/", params).status_code == 400
    client.force_login(cast.dispatcher)
    assert client.get(reverse("dashboard:scorecards"), params).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"month": "abc"}, "请按“年-月”填写月份，例如 2026-11。"),
        ({"month": ""}, "该字段是必填项。"),
        ({"month": "2099-01"}, "不能生成未来月份的报表。"),
        ({"month": "2026-11", "township": "99999999999999999999"}, "不存在或不在您的管辖范围内。"),
        ([1, 2], "该字段是必填项。"),
    ],
)
def test_bad_report_requests(body, message, cast, api) -> None:
    response = api(cast.dispatcher).post("/api/v1/dashboard/reports/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert MonthlyReport.objects.count() == 0


def test_unknown_chart_and_report(cast, client) -> None:
    client.force_login(cast.dispatcher)
    assert client.get(reverse("dashboard:kpi_export"), {"section": "nope"}).status_code == 400
    assert client.get("/s/reports/99999999999999999999/").status_code == 404
    assert client.get("/api/v1/dashboard/reports/99999999999999999999/").status_code in (404,)
