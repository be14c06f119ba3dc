"""每月调度: the month's workbook (summary, by township, by field, SLA breaches, low ratings and
their follow-up, the best volunteers and teams), written by a worker with its progress kept in
the report's row so that the page can show a bar."""

import io
import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from apps.accounts.areas import WHOLE_CITY, Area
from apps.core.errors import DomainError
from apps.jobs.services import job_enqueue
from apps.organisation.models import Place
from apps.ratings.models import FollowUp
from apps.service_requests.models import ServiceRequest, Status, Urgency

from .board import sla_limit
from .charts import sheet_title
from .kpi import DURATIONS, OPEN_STATUSES, KpiQuery, facts_for, kpis_for, month_bounds
from .models import MonthlyReport, ReportState, RequestFact
from .scorecards import prior_mean, scorecards

logger = logging.getLogger(__name__)
REPORT_TASK = "dashboard.report"
TOP = 20
BREACH_ROWS = 1000


def report_request(*, month: date, township: Place | None, actor: Any) -> MonthlyReport:
    """Ask for a month's workbook (city-wide, or one township's); a worker writes it."""
    first = month.replace(day=1)
    if first > timezone.localdate().replace(day=1):
        raise DomainError(_("不能生成未来月份的报表。"), code="future_month")
    with transaction.atomic():
        report = MonthlyReport.objects.create(month=first, township=township, requested_by=actor)
        job_enqueue(REPORT_TASK, report.id)
    return report


def report_previous_month(*, today: date | None = None) -> MonthlyReport:
    """Beat, on the first of each month: last month's city-wide workbook."""
    today = today or timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return report_request(month=last_month, township=None, actor=None)


def _minutes(seconds: int | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> Worksheet:
    sheet = book.create_sheet(sheet_title(title))
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(10, width * 2))
    return sheet


def _progress(report: MonthlyReport, percent: int) -> None:
    MonthlyReport.objects.filter(id=report.id).update(progress=percent)


def area_of_report(report: MonthlyReport) -> Area:
    return Area(township_id=report.township_id) if report.township_id else WHOLE_CITY


def workbook_for(report: MonthlyReport, *, step: Any = None) -> bytes:
    """The workbook's bytes. ``step(percent)`` is called as each sheet is done."""
    step = step or (lambda percent: None)
    start, end = month_bounds(report.month)
    query = KpiQuery(start=start, end=end, grain="day")
    facts = facts_for(area=area_of_report(report), query=query)
    figures = kpis_for(area=area_of_report(report), query=query)
    totals = figures["totals"]
    scope = report.township.name if report.township else _("全市")
    book = Workbook()
    book.remove(book.active)
    summary = [
        [_("月份"), f"{report.month:%Y-%m}"],
        [_("范围"), scope],
        [_("群众点单"), totals["submitted"]],
        [_("已完成"), totals["completed"]],
        [_("完成率"), totals["completion_rate"]],
        [_("未受理"), totals["rejected"]],
        [_("已取消"), totals["cancelled"]],
        [_("未办结"), totals["open"]],
        [_("志愿服务时长（小时）"), float(totals["hours"])],
        [_("参与服务的志愿者"), totals["active_volunteers"]],
        [_("评价数"), totals["rated"]],
        [_("平均评分"), totals["average_score"]],
    ]
    labels = {"review": _("审核"), "offer": _("首次派单"), "accept": _("接单"), "complete": _("完成")}
    for name in DURATIONS:
        d = figures["durations"][name]
        summary.append([_("%(step)s用时中位数（分钟）") % {"step": labels[name]}, _minutes(d["median"])])
        summary.append([_("%(step)s用时P90（分钟）") % {"step": labels[name]}, _minutes(d["p90"])])
    _sheet(book, _("概要"), [_("指标"), _("数值")], summary)
    step(20)
    header = [
        _("名称"),
        _("点单"),
        _("已完成"),
        _("完成率"),
        _("未受理"),
        _("已取消"),
        _("服务时长（小时）"),
        _("评价数"),
        _("平均评分"),
    ]

    def part(row: dict[str, Any], name: str) -> list[Any]:
        return [
            name,
            row["submitted"],
            row["completed"],
            row["completion_rate"],
            row["rejected"],
            row["cancelled"],
            float(row["hours"]),
            row["rated"],
            row["average_score"],
        ]

    _sheet(book, _("按乡镇"), header, [part(r, r["township"]) for r in figures["by_township"]])
    _sheet(book, _("按类别"), header, [part(r, r["category"]) for r in figures["by_category"]])
    step(40)
    _sheet(
        book,
        _("超时工单"),
        [
            _("工单号"),
            _("标题"),
            _("乡镇/街道"),
            _("紧急程度"),
            _("时限（分钟）"),
            _("派出用时（分钟）"),
            _("当前状态"),
        ],
        _breaches(facts),
    )
    step(60)
    _sheet(
        book,
        _("差评与回访"),
        [
            _("工单号"),
            _("评分"),
            _("回访原因"),
            _("回访状态"),
            _("是否联系上"),
            _("回访结果"),
            _("截止时间"),
            _("超期上报"),
        ],
        _follow_up_rows(facts),
    )
    step(80)
    mean = prior_mean(facts_for(area=WHOLE_CITY, query=query))
    card_header = [
        _("名次"),
        _("名称"),
        _("编号"),
        _("完成工单"),
        _("服务时长（小时）"),
        _("评价数"),
        _("满意度（含先验）"),
        _("差评/投诉"),
    ]
    for level, title in (("volunteer", _("优秀志愿者")), ("team", _("优秀服务队"))):
        cards = scorecards(level=level, facts=facts, mean=mean)[:TOP]
        rows = [
            [i, c.name, c.number, c.handled, float(c.hours), c.rated, c.score, c.complaints]
            for i, c in enumerate(cards, start=1)
        ]
        _sheet(book, title, card_header, rows)
    step(95)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _breaches(facts: QuerySet[RequestFact]) -> list[list[Any]]:
    """Requests first dispatched later than their urgency's limit, or still waiting past it."""
    now = timezone.now()
    late = Q(pk__in=[])
    for urgency in Urgency.values:
        limit = sla_limit(urgency)
        late |= Q(urgency=urgency) & (
            Q(offer_seconds__gt=int(limit.total_seconds()))
            | Q(offer_seconds__isnull=True, status__in=OPEN_STATUSES, created_at__lt=now - limit)
        )
    rows = list(
        facts.filter(late)
        .order_by("created_at", "request_id")
        .values_list("request_id", "township_id", "urgency", "offer_seconds", "status")[:BREACH_ROWS]
    )
    titles = dict(ServiceRequest.objects.filter(id__in=[r[0] for r in rows]).values_list("id", "title"))
    townships = dict(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", "name"))
    return [
        [
            request_id,
            titles.get(request_id, ""),
            townships.get(township_id, ""),
            str(Urgency(urgency).label),
            int(sla_limit(urgency).total_seconds()) // 60,
            _minutes(offer_seconds),
            str(Status(status).label),
        ]
        for request_id, township_id, urgency, offer_seconds, status in rows
    ]


def _follow_up_rows(facts: QuerySet[RequestFact]) -> list[list[Any]]:
    cases = (
        FollowUp.objects.filter(request_id__in=facts.values("request_id"))
        .select_related("request__rating")
        .order_by("opened_at", "id")
    )
    out = []
    for case in cases:
        rating = getattr(case.request, "rating", None)
        out.append(
            [
                case.request_id,
                rating.score if rating else None,
                case.get_reason_display(),
                case.get_status_display(),
                "" if case.reached is None else (_("是") if case.reached else _("否")),
                case.get_outcome_display() if case.outcome else "",
                timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(case.escalated_at).strftime("%Y-%m-%d %H:%M") if case.escalated_at else "",
            ]
        )
    return out


def report_generate(*, report_id: int) -> bool:
    """The worker's part: write the workbook into the row. Idempotent: a report already done is
    left as it is; a failure is recorded on the row (and logged) for the page to show."""
    report = MonthlyReport.objects.select_related("township").filter(id=report_id).first()
    if report is None or report.state == ReportState.DONE:
        return False
    MonthlyReport.objects.filter(id=report.id).update(state=ReportState.RUNNING, progress=5, error="")
    try:
        # Written in the platform's language (the sheet names and headers), whoever asked.
        with override(settings.LANGUAGE_CODE):
            data = workbook_for(report, step=lambda percent: _progress(report, percent))
    except Exception as exc:  # recorded and logged; the page shows it failed
        logger.exception("monthly report %s failed", report.id)
        # Recorded for the page, not retried: staff may ask again once the cause is fixed.
        MonthlyReport.objects.filter(id=report.id).update(state=ReportState.FAILED, error=type(exc).__name__[:300])
        return False
    MonthlyReport.objects.filter(id=report.id).update(
        state=ReportState.DONE, progress=100, workbook=data, finished_at=timezone.now()
    )
    return True


def filename(report: MonthlyReport) -> str:
    scope = report.township.code if report.township and report.township.code else "city"
    return f"monthly-report-{report.month:%Y-%m}-{scope}.xlsx"
