"""Why something happened, stored so that each reader sees it in their own language.

A reason is either typed by a person (kept and shown exactly as typed) or written by the
system, as a key of :data:`CATALOGUE` plus parameters, translated only when it is shown. A
dispatch made in an English session thus reads "已向2名志愿者发出服务邀请" to a resident
who reads Chinese.

Rows keep a reason in three columns: ``<name>`` (typed text), ``<name>_code`` and
``<name>_params``; see :meth:`Reason.as_fields` and :meth:`Reason.of`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext_lazy, override
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class SystemReason:
    message: Promise
    # Parameters whose values are themselves source text (a choice's label) to translate.
    translated_params: tuple[str, ...] = ()


# Every reason the system writes. Keys are stored in the database: add, never rename.
CATALOGUE: dict[str, SystemReason] = {
    "auto_accepted": SystemReason(_("该类别自动受理")),
    "entered_on_behalf": SystemReason(_("由工作人员代点单（%(channel)s）"), translated_params=("channel",)),
    "accepted_on_entry": SystemReason(_("工作人员代点单，录入即受理")),
    "offers_sent": SystemReason(ngettext_lazy("已向%(n)d名志愿者发出服务邀请", "已向%(n)d名志愿者发出服务邀请", "n")),
    "fully_staffed": SystemReason(_("所需志愿者已全部接单")),
    "places_filled": SystemReason(_("已满员")),
    "places_filled_thanks": SystemReason(_("所需志愿者已满员，感谢您的关注。")),
    "offers_ran_out": SystemReason(_("邀请均已婉拒或过期，退回待派单")),
    "offer_lapsed": SystemReason(_("答复时间已过")),
    "volunteer_arrived": SystemReason(_("志愿者已到达")),
    "all_completed": SystemReason(_("志愿者已全部完成服务")),
    "rated_and_closed": SystemReason(_("已评价，工单办结")),
    "escalated_overdue": SystemReason(_("超时未派出，已上报中心")),
    "closed_unrated": SystemReason(
        ngettext_lazy("超过%(days)s天未评价，自动办结", "超过%(days)s天未评价，自动办结", "days")
    ),
    "cancelled_by_resident": SystemReason(_("群众取消")),
    "cancelled_by_staff": SystemReason(_("工作人员取消")),
    # The matching queue (apps.matching).
    "mode_changed": SystemReason(_("派单方式改为「%(mode)s」"), translated_params=("mode",)),
    "wave_sent": SystemReason(
        ngettext_lazy("第%(wave)d轮：已向%(n)d名志愿者发出服务邀请", "第%(wave)d轮：已向%(n)d名志愿者发出服务邀请", "n")
    ),
    "reach_widened": SystemReason(_("附近无人接单，匹配范围扩大%(km)d公里")),
    "no_candidates": SystemReason(_("没有符合条件的志愿者")),
    "no_takers": SystemReason(_("多轮邀请均无人接单")),
    "escalated_to_parent": SystemReason(_("无人接单，已上报%(node)s")),
    "broadcast_opened": SystemReason(_("已发布为抢单任务")),
    "taken_from_open_tasks": SystemReason(_("志愿者抢单")),
    "team_offered": SystemReason(_("已派给服务队「%(team)s」")),
    "team_assigned": SystemReason(ngettext_lazy("队长已安排%(n)d名队员", "队长已安排%(n)d名队员", "n")),
    "team_declined": SystemReason(_("服务队无法承接")),
    "on_the_way": SystemReason(_("志愿者已出发")),
    "on_the_way_eta": SystemReason(_("志愿者已出发，预计%(minutes)d分钟到达")),
}


@dataclass(frozen=True)
class Reason:
    """A typed ``text`` or a system ``code`` with ``params``; empty when neither is set."""

    text: str = ""
    code: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def typed(cls, text: str) -> "Reason":
        return cls(text=text.strip())

    @classmethod
    def system(cls, code: str, **params: Any) -> "Reason":
        if code not in CATALOGUE:
            raise KeyError(f"unknown system reason {code!r}: add it to CATALOGUE")
        return cls(code=code, params=params)

    @classmethod
    def of(cls, row: object, name: str = "reason") -> "Reason":
        """The reason kept in ``row``'s three ``name`` columns."""
        return cls(
            text=getattr(row, name) or "",
            code=getattr(row, f"{name}_code") or "",
            params=getattr(row, f"{name}_params") or {},
        )

    def as_fields(self, name: str = "reason") -> dict[str, Any]:
        """The column values that keep this reason on a row (for create or update)."""
        return {name: self.text, f"{name}_code": self.code, f"{name}_params": dict(self.params)}

    def as_params(self) -> dict[str, Any]:
        """For a notification's JSON parameters."""
        if self.code:
            return {"reason_code": self.code, "reason_params": dict(self.params)}
        return {"reason": self.text} if self.text else {}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Reason":
        return cls(
            text=str(params.get("reason") or ""),
            code=str(params.get("reason_code") or ""),
            params=params.get("reason_params") or {},
        )

    def __bool__(self) -> bool:
        return bool(self.text or self.code)

    def __str__(self) -> str:
        """The reason in the active language."""
        if not self.code:
            return self.text
        entry = CATALOGUE.get(self.code)
        if entry is None:
            return self.code  # written by a newer release; the key is better than nothing
        values = {
            key: gettext(value) if key in entry.translated_params and isinstance(value, str) else value
            for key, value in self.params.items()
        }
        return str(entry.message % values) if values else str(entry.message)


NO_REASON = Reason()


def source_text(text: Promise | str) -> str:
    """The untranslated source of a lazily translated text (a choice's label), to store as a
    translated parameter."""
    with override(None):
        return str(text)
