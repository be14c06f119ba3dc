"""Staff pages: the live board, KPIs and charts (each with its table and .xlsx), scorecards and
rankings, and the monthly reports. Anyone who is not staff gets 404, as on the other staff pages;
every figure is of the viewer's area (``area_of``)."""

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook

from apps.accounts.areas import WHOLE_CITY, Area
from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest

from . import charts
from .board import board
from .forms import BoardForm, KpiForm, ReportForm, ScorecardForm
from .kpi import KpiQuery, facts_for, kpis_for
from .models import ReportState
from .reports import filename, report_request
from .scorecards import LEVELS, prior_mean, scorecards, shortlist
from .selectors import report_for, reports_visible_to, staff_area

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _area(request: AuthenticatedHttpRequest) -> Area:
    area = staff_area(request.user)
    if area is None:
        raise Http404
    return area


def _bad(request: AuthenticatedHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=400)


@login_required
@require_GET
def board_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    area = _area(request)
    form = BoardForm(request.GET, area=area)
    context: dict[str, Any] = {"form": form, "refresh": settings.DASHBOARD_BOARD_REFRESH_SECONDS, "area": area}
    if not form.is_valid():
        return _bad(request, "dashboard/board.html", context)
    context["board"] = board(user=request.user, flt=form.to_filter())
    return render(request, "dashboard/board.html", context)


@login_required
@require_GET
def board_live(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The board's changing part, for htmx to swap in every few seconds."""
    area = _area(request)
    form = BoardForm(request.GET, area=area)
    if not form.is_valid():
        return _bad(request, "dashboard/_board_errors.html", {"form": form})
    context = {
        "form": form,
        "refresh": settings.DASHBOARD_BOARD_REFRESH_SECONDS,
        "board": board(user=request.user, flt=form.to_filter()),
        "area": area,
    }
    return render(request, "dashboard/_board_live.html", context)


@login_required
@require_GET
def kpi_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    area = _area(request)
    form = KpiForm(request.GET, area=area)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return _bad(request, "dashboard/kpi.html", context)
    query = form.to_query()
    figures = kpis_for(area=area, query=query)
    context |= {
        "query": query,
        "figures": figures,
        "sections": charts.sections(figures),
        "querystring": request.GET.urlencode(),
    }
    return render(request, "dashboard/kpi.html", context)


@login_required
@require_GET
def kpi_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One chart's table (``section``), or every table (no section), as a workbook."""
    area = _area(request)
    form = KpiForm(request.GET, area=area)
    if not form.is_valid():
        return _bad(request, "dashboard/kpi.html", {"form": form})
    query = form.to_query()
    figures = kpis_for(area=area, query=query)
    sections = charts.sections(figures)
    wanted = request.GET.get("section", "")
    if wanted:
        sections = [s for s in sections if s.key == wanted]
        if not sections:
            form.add_error(None, _("没有这个图表：%(name)s") % {"name": wanted[:40]})
            return _bad(request, "dashboard/kpi.html", {"form": form})
    book = Workbook()
    book.remove(book.active)
    for section in sections:
        sheet = book.create_sheet(section.sheet_title)
        sheet.append(section.header)
        for row in section.rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = f"kpi-{query.start:%Y%m%d}-{query.end:%Y%m%d}{'-' + wanted if wanted else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def scorecards_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    area = _area(request)
    form = ScorecardForm(request.GET)
    context: dict[str, Any] = {"form": form, "levels": LEVELS}
    if not form.is_valid():
        return _bad(request, "dashboard/scorecards.html", context)
    start, end = form.bounds()
    query = KpiQuery(start=start, end=end)
    mean = prior_mean(facts_for(area=WHOLE_CITY, query=query))
    level = form.cleaned_data["level"]
    cards = scorecards(level=level, facts=facts_for(area=area, query=query), mean=mean)
    period = form.cleaned_data["period"]
    min_tasks = settings.COMMEND_MIN_TASKS_YEAR if period == "year" else settings.COMMEND_MIN_TASKS_MONTH
    context |= {
        "cards": cards[:100],
        "total": len(cards),
        "level": level,
        "level_label": LEVELS[level],
        "start": start,
        "end": end,
        "mean": round(mean, 2),
        "weight": settings.SATISFACTION_PRIOR_WEIGHT,
        "shortlist": shortlist(cards, min_tasks=min_tasks) if level == "volunteer" else [],
        "min_tasks": min_tasks,
    }
    return render(request, "dashboard/scorecards.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reports_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    area = _area(request)
    reports = reports_visible_to(request.user)
    if reports is None:
        raise Http404
    form = ReportForm(request.POST or None, area=area)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = report_request(
                    month=form.cleaned_data["month"], township=form.cleaned_data["township"], actor=request.user
                )
            except DomainError as exc:
                form.add_error("month", str(exc.message))
            else:
                messages.success(request, _("已开始生成报表，完成后可在列表中下载。"))
                return HttpResponseRedirect(reverse("dashboard:reports") + f"#report-{report.id}")
        status = 400
    page = Paginator(reports.select_related("township").defer("workbook"), 20).get_page(request.GET.get("page"))
    return render(request, "dashboard/reports.html", {"form": form, "page": page}, status=status)


@login_required
@require_GET
def report_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One report's row, for htmx to poll while it is written."""
    report = report_for(request.user, pk)
    return render(request, "dashboard/_report_row.html", {"report": report})


@login_required
@require_GET
def report_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = report_for(request.user, pk, with_workbook=True)
    if report.state != ReportState.DONE or report.workbook is None:
        raise Http404
    response = HttpResponse(bytes(report.workbook), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename(report)}"'
    return response
