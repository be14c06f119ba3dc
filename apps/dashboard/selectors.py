"""Who may see what of the dashboard."""

from django.db.models import QuerySet
from django.http import Http404

from apps.accounts.areas import Area, area_of
from apps.accounts.models import User
from apps.core.filters import MAX_ID

from .models import MonthlyReport


def staff_area(user: User) -> Area | None:
    """The area of a staff member; None for anyone else (or staff of a node that covers nothing)."""
    if not user.is_authenticated or not user.is_org_staff:
        return None
    area = area_of(user)
    return None if area.is_empty else area


def reports_visible_to(user: User) -> QuerySet[MonthlyReport] | None:
    """The city's reports to whole-city staff, a township's to its office; None: no reports page
    (stations and sub-centres use the KPI page and its downloads)."""
    area = staff_area(user)
    if area is None:
        return None
    if area.whole_city:
        return MonthlyReport.objects.all()
    if area.township_id is not None and area.village_id is None and area.category_ids is None:
        return MonthlyReport.objects.filter(township_id=area.township_id)
    return None


def report_for(user: User, pk: int, *, with_workbook: bool = False) -> MonthlyReport:
    reports = reports_visible_to(user)
    if reports is None or pk > MAX_ID:
        raise Http404
    if not with_workbook:
        reports = reports.defer("workbook")
    report = reports.select_related("township").filter(id=pk).first()
    if report is None:
        raise Http404
    return report
