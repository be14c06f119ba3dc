"""How the volunteers' and residents' pages write times, hours, distances and places for a
phone: ``{% load civic %}``. Formatting only; the numbers come from the selectors."""

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Monday first, as ``datetime.weekday()`` counts.
WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))

# A completed task is never shown as no time at all: a few minutes of service read as half an hour.
LEAST_SHOWN_HOURS = Decimal("0.5")


@register.filter
def service_hours(value: Any) -> str:
    """Service hours as people read them, to the half hour: "0.5 小时", "1.5 小时", "2 小时";
    at least half an hour (it is shown for completed tasks). Empty for no value."""
    if value is None or value == "":
        return ""
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not hours.is_finite():
        return ""
    halves = (hours * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    shown = max(halves / 2, LEAST_SHOWN_HOURS)
    text = f"{shown:.1f}".removesuffix(".0")
    return gettext("%(hours)s 小时") % {"hours": text}


def _day(moment: datetime) -> str:
    """The day of a local time, for a phone: "12月3日 周四" (no year: service is days away)."""
    date = dateformat.format(moment, gettext("n月j日"))
    return gettext("%(date)s %(weekday)s") % {"date": date, "weekday": WEEKDAYS[moment.weekday()]}


@register.filter
def service_window(request: Any) -> str:
    """When the service is wanted, from a request's ``window_start`` and ``window_end``:
    "12月3日 周四 09:00–11:00", across days "12月3日 周四 09:00 – 12月4日 周五 11:00",
    "… 09:00 起" with a start only, "… 11:00 前" with an end only, "尽快" with neither."""
    start, end = getattr(request, "window_start", None), getattr(request, "window_end", None)
    if start is None and end is None:
        return gettext("尽快")
    if end is None:
        local = timezone.localtime(start)
        return gettext("%(start)s 起") % {"start": f"{_day(local)} {local:%H:%M}"}
    local_end = timezone.localtime(end)
    if start is None:
        return gettext("%(end)s 前") % {"end": f"{_day(local_end)} {local_end:%H:%M}"}
    local = timezone.localtime(start)
    if local.date() == local_end.date():
        return f"{_day(local)} {local:%H:%M}–{local_end:%H:%M}"
    return f"{_day(local)} {local:%H:%M} – {_day(local_end)} {local_end:%H:%M}"


@register.filter
def distance(km: float | None) -> str:
    """A distance as a rough figure: "约 3.2 公里"; empty when it is not known."""
    if km is None:
        return ""
    return gettext("约 %(km)s 公里") % {"km": f"{max(km, 0.1):.1f}"}


@register.filter
def places(request: Any) -> str:
    """How many volunteers a request needs and has: "需要3人 · 已有1人接单 · 还差2人"."""
    needed, taken = request.volunteers_needed, request.volunteers_accepted
    if taken >= needed:
        return gettext("需要%(needed)d人 · 已满员") % {"needed": needed}
    return gettext("需要%(needed)d人 · 已有%(taken)d人接单 · 还差%(left)d人") % {
        "needed": needed,
        "taken": taken,
        "left": needed - taken,
    }


def _left_text(minutes: int) -> str:
    if minutes < 60:
        return gettext("还剩 %(minutes)s 分钟答复") % {"minutes": minutes}
    hours, rest = divmod(minutes, 60)
    if not rest:
        return gettext("还剩 %(hours)s 小时答复") % {"hours": hours}
    return gettext("还剩 %(hours)s 小时 %(minutes)s 分钟答复") % {"hours": hours, "minutes": rest}


@register.simple_tag
def reply_countdown(expires_at: datetime) -> SafeString:
    """How long an offer stays open, written by the server ("还剩 25 分钟答复": minutes rounded
    up, so an open offer never reads 0) in a ``<time>`` that names the deadline.
    ``static/js/countdown.js`` rewrites the text every 30 s from ``data-seconds`` (the seconds
    left when the page was made: the phone's clock may be wrong) and the ``data-text-*``
    templates, which hold the same sentences in the reader's language."""
    seconds = (expires_at - timezone.now()).total_seconds()
    over = gettext("答复时间已过")
    text = _left_text(math.ceil(seconds / 60)) if seconds > 0 else over
    return format_html(
        '<time class="countdown" datetime="{}" data-seconds="{}" data-text-minutes="{}" data-text-hours="{}"'
        ' data-text-whole-hours="{}" data-text-over="{}">{}</time>',
        timezone.localtime(expires_at).isoformat(timespec="seconds"),
        max(0, int(seconds)),
        gettext("还剩 %(minutes)s 分钟答复") % {"minutes": "{m}"},
        gettext("还剩 %(hours)s 小时 %(minutes)s 分钟答复") % {"hours": "{h}", "minutes": "{m}"},
        gettext("还剩 %(hours)s 小时答复") % {"hours": "{h}"},
        over,
        text,
    )
