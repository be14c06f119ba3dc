"""Dashboard API for staff: the live board, KPIs, scorecards and monthly reports, each of the
caller's area. Anyone who is not staff gets 403; a report outside the caller's reach, 404."""

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.areas import WHOLE_CITY, Area
from apps.core.api import AuthenticatedAPIView
from apps.core.errors import DomainError
from apps.core.schema import error_codes

from .board import board
from .forms import BoardForm, KpiForm, ReportForm, ScorecardForm
from .kpi import KpiQuery, facts_for, kpis_for
from .models import MonthlyReport, ReportState
from .reports import filename, report_request
from .scorecards import prior_mean, scorecards, shortlist
from .selectors import report_for, reports_visible_to, staff_area
from .serialize import board_data, card_data
from .serializers import (
    BoardOutput,
    BoardQuery,
    KpiOutput,
    KpiQueryInput,
    ReportListOutput,
    ReportOutput,
    ScorecardQuery,
    ScorecardsOutput,
)
from .views import XLSX


class StaffAPIView(AuthenticatedAPIView):
    def area(self) -> Area:
        area = staff_area(self.user)
        if area is None:
            raise PermissionDenied()
        return area


def _checked(form: Any, *, query: Any = None) -> Any:
    """``form`` once valid; else a 400 with its errors. ``query``: the documented serializer of the
    query string, checked first (an empty ``township=`` is no number, whatever the form thinks)."""
    if query is not None:
        query.is_valid(raise_exception=True)
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return form


class BoardView(StaffAPIView):
    @extend_schema(parameters=[BoardQuery], responses=BoardOutput)
    @error_codes({400: {}, 403: {}})
    def get(self, request: Request) -> Response:
        """The live board of the caller's area: open requests by status, those waiting for a
        person with their waiting time and SLA state (green/amber/red), unanswered offers,
        volunteers on duty, today's completions and ratings, open requests per township.
        Filters: ``township``, ``urgency``, ``category``."""
        form = _checked(BoardForm(request.query_params, area=self.area()), query=BoardQuery(data=request.query_params))
        return Response(BoardOutput(board_data(board(user=self.user, flt=form.to_filter()))).data)


class KpiView(StaffAPIView):
    @extend_schema(parameters=[KpiQueryInput], responses=KpiOutput)
    @error_codes({400: {}, 403: {}})
    def get(self, request: Request) -> Response:
        """KPIs of the requests submitted from ``start`` to ``end`` (dates, both included; by
        default the last 30 days) in the caller's area, optionally one ``township``, ``village``
        or ``category``; ``grain`` day/week/month for the series. Durations are seconds."""
        area = self.area()
        form = _checked(KpiForm(request.query_params, area=area), query=KpiQueryInput(data=request.query_params))
        query = form.to_query()
        figures = kpis_for(area=area, query=query)
        return Response(KpiOutput({"start": query.start, "end": query.end, **figures}).data)


class ScorecardsView(StaffAPIView):
    @extend_schema(parameters=[ScorecardQuery], responses=ScorecardsOutput)
    @error_codes({400: {}, 403: {}})
    def get(self, request: Request) -> Response:
        """Scorecards and ranking (月榜/年榜) at ``level`` volunteer/team/station/township for
        ``period`` month (``month`` = YYYY-MM) or year (``year``), of the caller's area; names
        of volunteers masked unless they agreed to show them. ``score`` is satisfaction with the
        prior (see the README); ``shortlist`` the commendation shortlist (volunteers)."""
        area = self.area()
        form = _checked(ScorecardForm(request.query_params), query=ScorecardQuery(data=request.query_params))
        start, end = form.bounds()
        query = KpiQuery(start=start, end=end)
        mean = prior_mean(facts_for(area=WHOLE_CITY, query=query))
        level = form.cleaned_data["level"]
        cards = scorecards(level=level, facts=facts_for(area=area, query=query), mean=mean)
        yearly = form.cleaned_data["period"] == "year"
        min_tasks = settings.COMMEND_MIN_TASKS_YEAR if yearly else settings.COMMEND_MIN_TASKS_MONTH
        listed = shortlist(cards, min_tasks=min_tasks) if level == "volunteer" else []
        data = {
            "level": level,
            "start": start,
            "end": end,
            "prior": {"mean": round(mean, 4), "weight": settings.SATISFACTION_PRIOR_WEIGHT},
            "results": [card_data(c, i) for i, c in enumerate(cards[:100], start=1)],
            "total": len(cards),
            "shortlist": [card_data(c, i) for i, c in enumerate(listed, start=1)],
        }
        return Response(ScorecardsOutput(data).data)


class ReportInput(serializers.Serializer[Any]):
    month = serializers.CharField(max_length=7, help_text="YYYY-MM")
    township = serializers.IntegerField(required=False, allow_null=True, help_text="Empty: the whole city.")


def report_json(report: MonthlyReport) -> dict[str, Any]:
    done = report.state == ReportState.DONE
    data = {
        "id": report.id,
        "month": f"{report.month:%Y-%m}",
        "township": report.township_id,
        "state": report.state,
        "progress": report.progress,
        "error": report.error,
        "created_at": report.created_at,
        "finished_at": report.finished_at,
        "download": f"/api/v1/dashboard/reports/{report.id}/download/" if done else None,
    }
    result: dict[str, Any] = ReportOutput(data).data
    return result


class ReportAccess(StaffAPIView):
    def reports(self) -> Any:
        self.area()
        reports = reports_visible_to(self.user)
        if reports is None:
            raise PermissionDenied()
        return reports


class ReportsView(ReportAccess):
    @extend_schema(responses=ReportListOutput, operation_id="v1_dashboard_reports_list")
    @error_codes({403: {}})
    def get(self, request: Request) -> Response:
        """The monthly reports the caller may read, newest first (the last 50)."""
        reports = self.reports().select_related("township").defer("workbook")[:50]
        return Response({"results": [report_json(r) for r in reports]})

    @extend_schema(request=ReportInput, responses={202: ReportOutput})
    @error_codes({400: {}, 403: {}})
    def post(self, request: Request) -> Response:
        """Ask for a month's workbook; a worker writes it (poll the report for its progress)."""
        self.reports()
        data = request.data if hasattr(request.data, "get") else {}
        form = _checked(
            ReportForm({"month": data.get("month", ""), "township": data.get("township") or ""}, area=self.area())
        )
        try:
            report = report_request(
                month=form.cleaned_data["month"], township=form.cleaned_data["township"], actor=self.user
            )
        except DomainError as exc:
            raise ValidationError({"month": [str(exc.message)]}) from None
        return Response(report_json(report), status=202)


class ReportView(ReportAccess):
    @extend_schema(responses=ReportOutput)
    @error_codes({403: {}, 404: {}})
    def get(self, request: Request, pk: int) -> Response:
        """One report: its state and progress (percent), and where to download it once done."""
        self.reports()
        return Response(report_json(report_for(self.user, pk)))


class ReportDownloadView(ReportAccess):
    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY})
    @error_codes({400: {}, 403: {}, 404: {}})
    def get(self, request: Request, pk: int) -> HttpResponse:
        """The report's workbook (400 while it is still being written)."""
        self.reports()
        report = report_for(self.user, pk, with_workbook=True)
        if report.state != ReportState.DONE or report.workbook is None:
            raise ValidationError({"state": [str(ReportState(report.state).label)]})
        response = HttpResponse(bytes(report.workbook), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename(report)}"'
        return response


dashboard_api_paths: list[URLPattern] = [
    path("dashboard/board/", BoardView.as_view(), name="dashboard_board"),
    path("dashboard/kpi/", KpiView.as_view(), name="dashboard_kpi"),
    path("dashboard/scorecards/", ScorecardsView.as_view(), name="dashboard_scorecards"),
    path("dashboard/reports/", ReportsView.as_view(), name="dashboard_reports"),
    path("dashboard/reports/<int:pk>/", ReportView.as_view(), name="dashboard_report"),
    path("dashboard/reports/<int:pk>/download/", ReportDownloadView.as_view(), name="dashboard_report_download"),
]
