"""The KPI page's charts: each one a table (header and rows, also its .xlsx sheet) and the
ECharts option drawn from the same rows. Values are printed on the bars and lines, series differ
by pattern (decal) as well as colour, and the table sits under every chart, so that nothing
depends on colour alone."""

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .serialize import plain

# The site's red, then a blue and a green that stay apart for the common colour blindnesses.
PALETTE = ["#b3261e", "#1f5fa8", "#2e7d32", "#7a4a00"]


@dataclass
class Section:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    option: dict[str, Any] = field(default_factory=dict)

    @property
    def sheet_title(self) -> str:
        return sheet_title(self.title)


def sheet_title(title: str) -> str:
    """``title`` as Excel allows a sheet's name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "·", title)[:31]


def _minutes(seconds: int | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _bar(*, categories: list[str], series: list[tuple[str, list[Any]]], horizontal: bool = False) -> dict[str, Any]:
    names = {"type": "category", "data": categories, "axisLabel": {"interval": 0, "hideOverlap": True}}
    values = {"type": "value", "minInterval": 1}
    return {
        "aria": {"enabled": True, "decal": {"show": True}},
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": values if horizontal else names,
        "yAxis": names if horizontal else values,
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": data,
                "label": {"show": True, "position": "right" if horizontal else "top"},
            }
            for name, data in series
        ],
    }


def _line(*, categories: list[str], series: list[tuple[str, list[Any]]]) -> dict[str, Any]:
    symbols = ["circle", "triangle", "rect", "diamond"]
    return {
        "aria": {"enabled": True, "decal": {"show": True}},
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": categories},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "type": "line",
                "name": name,
                "data": data,
                "symbol": symbols[i % len(symbols)],
                "symbolSize": 8,
                "lineStyle": {"type": ["solid", "dashed", "dotted"][i % 3]},
                "label": {"show": len(categories) <= 31},
            }
            for i, (name, data) in enumerate(series)
        ],
    }


def sections(figures: dict[str, Any]) -> list[Section]:
    """Every chart of the KPI page, in order."""
    out: list[Section] = []
    submitted, completed = _("点单"), _("已完成")
    series = figures["series"]
    periods = [str(plain(row["period"])) for row in series]
    out.append(
        Section(
            key="series",
            title=_("点单与完成（按%(grain)s）")
            % {"grain": {"day": _("日"), "week": _("周"), "month": _("月")}[figures["grain"]]},
            header=[_("时段"), submitted, completed, _("完成率"), _("服务时长（小时）")],
            rows=[
                [p, r["submitted"], r["completed"], r["completion_rate"], float(r["hours"])]
                for p, r in zip(periods, series, strict=True)
            ],
            option=_line(
                categories=periods,
                series=[(submitted, [r["submitted"] for r in series]), (completed, [r["completed"] for r in series])],
            ),
        )
    )
    for key, title, label_key in (
        ("by_category", _("按服务类别"), "category"),
        ("by_township", _("按乡镇/街道"), "township"),
    ):
        rows = figures[key]
        names = [str(r[label_key]) for r in rows]
        out.append(
            Section(
                key=key,
                title=title,
                header=[_("名称"), submitted, completed, _("完成率"), _("平均评分")],
                rows=[
                    [n, r["submitted"], r["completed"], r["completion_rate"], r["average_score"]]
                    for n, r in zip(names, rows, strict=True)
                ],
                option=_bar(
                    categories=names[::-1],
                    series=[
                        (submitted, [r["submitted"] for r in rows][::-1]),
                        (completed, [r["completed"] for r in rows][::-1]),
                    ],
                    horizontal=True,
                ),
            )
        )
    steps = {"review": _("审核"), "offer": _("首次派单"), "accept": _("接单"), "complete": _("完成")}
    durations = figures["durations"]
    out.append(
        Section(
            key="durations",
            title=_("各环节用时（分钟，自提交起）"),
            header=[_("环节"), _("件数"), _("中位数（分钟）"), _("P90（分钟）")],
            rows=[
                [steps[k], durations[k]["count"], _minutes(durations[k]["median"]), _minutes(durations[k]["p90"])]
                for k in steps
            ],
            option=_bar(
                categories=[str(v) for v in steps.values()],
                series=[
                    (_("中位数"), [_minutes(durations[k]["median"]) for k in steps]),
                    (_("P90"), [_minutes(durations[k]["p90"]) for k in steps]),
                ],
            ),
        )
    )
    reasons = figures["reasons"]
    reason_rows = [[_("已取消"), r["label"], r["count"]] for r in reasons["cancelled"]] + [
        [_("未受理"), r["label"], r["count"]] for r in reasons["rejected"]
    ]
    out.append(
        Section(
            key="reasons",
            title=_("取消与未受理的原因"),
            header=[_("结果"), _("原因"), _("件数")],
            rows=reason_rows,
            option=_bar(
                categories=[f"{row[0]}·{row[1]}" for row in reason_rows][::-1],
                series=[(_("件数"), [row[2] for row in reason_rows][::-1])],
                horizontal=True,
            ),
        )
    )
    satisfaction = figures["satisfaction"]
    distribution = satisfaction["distribution"]
    out.append(
        Section(
            key="satisfaction",
            title=_("满意度：评分分布"),
            header=[_("评分"), _("件数")],
            rows=[[row["score"], row["count"]] for row in distribution],
            option=_bar(
                categories=[_("%(n)s分") % {"n": row["score"]} for row in distribution],
                series=[(_("件数"), [row["count"] for row in distribution])],
            ),
        )
    )
    tags = satisfaction["tags"]
    out.append(
        Section(
            key="tags",
            title=_("满意度：评价标签"),
            header=[_("标签"), _("次数")],
            rows=[[t["label"], t["count"]] for t in tags],
            option=_bar(
                categories=[t["label"] for t in tags][::-1],
                series=[(_("次数"), [t["count"] for t in tags][::-1])],
                horizontal=True,
            ),
        )
    )
    for section in out:
        section.option = plain(section.option)
    return out
