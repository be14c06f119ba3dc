"""The query strings of the board, KPI, scorecard and report pages and API, checked: a value
that is not valid is refused with its reason, never guessed at."""

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.areas import Area
from apps.organisation.models import Place, ServiceCategory
from apps.service_requests.models import Urgency

from .board import BoardFilter
from .kpi import KpiQuery
from .scorecards import LEVELS

OUTSIDE = _("不存在或不在您的管辖范围内。")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def townships_in(area: Area) -> QuerySet[Place]:
    townships = Place.objects.filter(kind=Place.Kind.TOWNSHIP).order_by("code", "id")
    if area.whole_city or (area.category_ids is not None and area.township_id is None and area.village_id is None):
        return townships
    if area.township_id is not None:
        return townships.filter(id=area.township_id)
    if area.village_id is not None:
        return townships.filter(children__id=area.village_id)
    return townships.none()


def villages_in(area: Area) -> QuerySet[Place]:
    villages = Place.objects.filter(kind=Place.Kind.VILLAGE).order_by("code", "id")
    if area.whole_city or (area.category_ids is not None and area.township_id is None and area.village_id is None):
        return villages
    if area.village_id is not None:
        return villages.filter(id=area.village_id)
    if area.township_id is not None:
        return villages.filter(parent_id=area.township_id)
    return villages.none()


def categories_in(area: Area) -> QuerySet[ServiceCategory]:
    categories = ServiceCategory.objects.order_by("sort_order", "id")
    if area.category_ids is not None and not area.whole_city:
        return categories.filter(id__in=sorted(area.category_ids))
    return categories


def _choice(label: Any, queryset: QuerySet[Any]) -> "forms.ModelChoiceField[Any]":
    return forms.ModelChoiceField(
        label=label,
        queryset=queryset,
        required=False,
        empty_label=_("全部"),
        error_messages={"invalid_choice": OUTSIDE},
    )


class ScopedForm(forms.Form):
    """A form whose place and field choices are those of the viewer's area."""

    def __init__(self, *args: Any, area: Area, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area = area
        for name, queryset in (
            ("township", townships_in(area)),
            ("village", villages_in(area)),
            ("category", categories_in(area)),
        ):
            if name in self.fields:
                self.fields[name].queryset = queryset  # type: ignore[attr-defined]


class BoardForm(ScopedForm):
    township = _choice(_("乡镇/街道"), Place.objects.none())
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=[("", _("全部")), *Urgency.choices], required=False)
    category = _choice(_("服务类别"), ServiceCategory.objects.none())

    def to_filter(self) -> BoardFilter:
        data = self.cleaned_data
        return BoardFilter(
            township_id=data["township"].id if data.get("township") else None,
            urgency=data.get("urgency") or "",
            category_id=data["category"].id if data.get("category") else None,
        )


class KpiForm(ScopedForm):
    start = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    township = _choice(_("乡镇/街道"), Place.objects.none())
    village = _choice(_("村/社区"), Place.objects.none())
    category = _choice(_("服务类别"), ServiceCategory.objects.none())
    grain = forms.ChoiceField(
        label=_("按"),
        required=False,
        choices=[("", _("自动")), ("day", _("日")), ("week", _("周")), ("month", _("月"))],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        for name in ("start", "end"):
            value = data.get(name)
            if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
                self.add_error(
                    name, _("日期须在%(first)d年至%(last)d年之间。") % {"first": FIRST_YEAR, "last": LAST_YEAR}
                )
                data[name] = None
        if self.errors:
            return data
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        elif (end - start).days + 1 > settings.DASHBOARD_MAX_PERIOD_DAYS:
            self.add_error("start", _("统计时段最长%(days)d天。") % {"days": settings.DASHBOARD_MAX_PERIOD_DAYS})
        village, township = data.get("village"), data.get("township")
        if village is not None and township is not None and village.parent_id != township.id:
            self.add_error("village", _("该村/社区不属于所选乡镇/街道。"))
        data["start"], data["end"] = start, end
        return data

    def to_query(self) -> KpiQuery:
        data = self.cleaned_data
        return KpiQuery(
            start=data["start"],
            end=data["end"],
            township_id=data["township"].id if data.get("township") else None,
            village_id=data["village"].id if data.get("village") else None,
            category_id=data["category"].id if data.get("category") else None,
            grain=data.get("grain") or "",
        )


MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> date | None:
    match = MONTH.match(value.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class MonthField(forms.Field):
    default_error_messages = {"invalid": _("请按“年-月”填写月份，例如 2026-11。")}

    def to_python(self, value: Any) -> date | None:
        text = str(value or "").strip()
        if not text:
            return None
        month = parse_month(text[:20])
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class ScorecardForm(forms.Form):
    level = forms.ChoiceField(label=_("评议对象"), choices=list(LEVELS.items()), required=False)
    period = forms.ChoiceField(label=_("榜单"), choices=[("month", _("月榜")), ("year", _("年榜"))], required=False)
    month = MonthField(label=_("月份"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        data["level"] = data.get("level") or "volunteer"
        data["period"] = data.get("period") or "month"
        data["month"] = data.get("month") or today.replace(day=1)
        data["year"] = data.get("year") or today.year
        return data

    def bounds(self) -> tuple[date, date]:
        data = self.cleaned_data
        if data["period"] == "year":
            return date(data["year"], 1, 1), date(data["year"], 12, 31)
        month: date = data["month"]
        following = (month + timedelta(days=32)).replace(day=1)
        return month, following - timedelta(days=1)


class ReportForm(ScopedForm):
    month = MonthField(label=_("月份"), widget=forms.TextInput(attrs={"type": "month"}))
    township = _choice(_("乡镇/街道（不选为全市）"), Place.objects.none())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.area.whole_city and data.get("township") is None and "township" not in self.errors:
            # A township office's report is always its own township's.
            self.add_error("township", _("请选择乡镇/街道。"))
        return data
