"""The monthly workbook: written by the worker's task with its progress, opened with openpyxl, its
totals those of the KPI endpoint for the same month."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.dashboard.models import MonthlyReport, ReportState
from apps.dashboard.reports import report_generate, report_previous_month
from apps.jobs.models import Job

from .fixture import build_month

pytestmark = pytest.mark.django_db


def _summary(book) -> dict[str, object]:
    return {row[0]: row[1] for row in book["概要"].iter_rows(min_row=2, values_only=True)}


def test_workbook_totals_match_the_kpi_endpoint(cast, org, api) -> None:
    build_month(cast, org)
    response = api(cast.dispatcher).post("/api/v1/dashboard/reports/", {"month": "2026-11"}, format="json")
    assert response.status_code == 202, response.content
    report = MonthlyReport.objects.get(id=response.json()["id"])
    assert (report.state, report.township_id, report.requested_by_id) == (ReportState.PENDING, None, cast.dispatcher.id)
    assert Job.objects.filter(task="dashboard.report", subject_id=report.id).count() == 1

    assert report_generate(report_id=report.id) is True
    report.refresh_from_db()
    assert (report.state, report.progress) == (ReportState.DONE, 100)
    download = api(cast.dispatcher).get(f"/api/v1/dashboard/reports/{report.id}/download/")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == ["概要", "按乡镇", "按类别", "超时工单", "差评与回访", "优秀志愿者", "优秀服务队"]
    summary = _summary(book)
    kpi = api(cast.dispatcher).get("/api/v1/dashboard/kpi/", {"start": "2026-11-01", "end": "2026-11-30"}).json()
    totals = kpi["totals"]
    assert summary["群众点单"] == totals["submitted"] == 5
    assert summary["已完成"] == totals["completed"] == 2
    assert summary["完成率"] == totals["completion_rate"] == 0.5
    assert summary["未受理"] == totals["rejected"] == 1
    assert summary["已取消"] == totals["cancelled"] == 1
    assert summary["志愿服务时长（小时）"] == totals["hours"] == 3.5
    assert summary["参与服务的志愿者"] == totals["active_volunteers"] == 2
    assert summary["平均评分"] == totals["average_score"] == 3.5
    assert summary["审核用时中位数（分钟）"] == kpi["durations"]["review"]["median"] / 60 == 10.0
    assert summary["完成用时P90（分钟）"] == kpi["durations"]["complete"]["p90"] / 60 == 180.0
    by_township = list(book["按乡镇"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in by_township] == [
        (r["township"]["name"], r["submitted"], r["completed"]) for r in kpi["by_township"]
    ]
    low = list(book["差评与回访"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3]) for r in low] == [(2, "评分较低", "待回访")]
    volunteers = list(book["优秀志愿者"].iter_rows(min_row=2, values_only=True))
    # Prior: m = 3.5 (the city's two ratings), C = 5: (5 × 3.5 + 5) / 6 = 3.75, (5 × 3.5 + 2) / 6 = 3.25.
    assert [(r[0], r[1], r[3], r[6], r[7]) for r in volunteers] == [(1, "张*明", 1, 3.75, 0), (2, "刘*", 1, 3.25, 1)]

    page = api(cast.dispatcher).get(f"/api/v1/dashboard/reports/{report.id}/")
    assert page.json()["state"] == "done"


def test_a_township_office_reports_on_its_township_only(cast, org, client) -> None:
    build_month(cast, org)
    client.force_login(cast.staff_a)
    refused = client.post(reverse("dashboard:reports"), {"month": "2026-11", "township": org["township_b"].id})
    assert refused.status_code == 400
    assert MonthlyReport.objects.count() == 0
    missing = client.post(reverse("dashboard:reports"), {"month": "2026-11"})
    assert missing.status_code == 400
    ok = client.post(reverse("dashboard:reports"), {"month": "2026-11", "township": org["township_a"].id})
    assert ok.status_code == 302
    report = MonthlyReport.objects.get()
    assert report.township_id == org["township_a"].id
    report_generate(report_id=report.id)
    book = load_workbook(io.BytesIO(client.get(reverse("dashboard:report_download", args=[report.id])).content))
    assert _summary(book)["群众点单"] == 4
    client.force_login(cast.staff_b)
    assert client.get(reverse("dashboard:report_download", args=[report.id])).status_code == 404


def test_beat_asks_for_last_months_city_report(cast, org) -> None:
    from datetime import date

    report = report_previous_month(today=date(2026, 12, 1))
    assert (report.month, report.township_id, report.requested_by_id) == (date(2026, 11, 1), None, None)
    assert Job.objects.filter(task="dashboard.report", subject_id=report.id).exists()
