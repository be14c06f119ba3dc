"""The wording of each kind of notification, rendered when read so it follows the reader's language."""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.reasons import Reason

from .models import Kind

# The body of each kind, translated only when one is shown (a list of twenty renders twenty, not
# twenty times fifteen). Keyed by Kind members, looked up by the stored string: Kind is a str, so
# both hash alike.
# Chinese puts no space between its characters and a name, number or reference: every placeholder
# sits flush against its neighbours, and a request's reference is always written just before its
# title, "#42「帮忙修理水龙头」", so without a request the title reads on its own. An English
# translation spaces them as English does.
BODIES: dict[str, Promise] = {
    Kind.RECEIVED: _("您的需求%(ref)s「%(title)s」已收到，我们会尽快审核。"),
    Kind.NEW_REQUEST: _("新的群众需求%(ref)s「%(title)s」等待审核。"),
    Kind.NEW_IN_QUEUE: _("新的群众需求%(ref)s「%(title)s」已自动受理，等待派单。"),
    Kind.QUEUED: _("您的需求%(ref)s「%(title)s」已受理，正在为您安排志愿者。"),
    Kind.REJECTED: _("很抱歉，您的需求%(ref)s「%(title)s」未能受理：%(reason)s"),
    Kind.OFFERED: _("有一项服务邀请%(ref)s「%(title)s」等您确认，请在%(expires)s前答复。"),
    Kind.ACCEPTED: _("志愿者%(volunteer)s已接单%(ref)s「%(title)s」。"),
    Kind.OFFER_CLOSED: _("服务邀请%(ref)s「%(title)s」已结束：%(reason)s"),
    Kind.RETURNED_TO_QUEUE: _("工单%(ref)s「%(title)s」暂无志愿者接单，已退回待派单。"),
    Kind.VOLUNTEER_RELEASED: _("志愿者%(volunteer)s无法前往%(ref)s「%(title)s」：%(reason)s"),
    Kind.IN_SERVICE: _("志愿者已到达，开始为您服务%(ref)s「%(title)s」。"),
    Kind.COMPLETED: _("工单%(ref)s「%(title)s」已完成服务。"),
    Kind.PLEASE_RATE: _("服务%(ref)s「%(title)s」已完成，请您评价。"),
    Kind.ESCALATED: _("工单%(ref)s「%(title)s」超时仍未派出，已上报中心调度。"),
    Kind.CANCELLED: _("工单%(ref)s「%(title)s」已取消：%(reason)s"),
    Kind.APPLICATION_SUBMITTED: _("%(applicant)s提交了志愿者注册申请（%(place)s），等待实名核验。"),
    Kind.APPLICATION_APPROVED: _("您的志愿者注册已通过审核，志愿者编号%(number)s。现在可以接收服务邀请了。"),
    Kind.APPLICATION_REJECTED: _("您的志愿者注册未通过审核：%(reason)s。请修改后重新提交。"),
    Kind.TEAM_JOIN_REQUESTED: _("%(volunteer)s申请加入「%(team)s」。"),
    Kind.TEAM_JOIN_APPROVED: _("您已加入「%(team)s」。"),
    Kind.TEAM_JOIN_REJECTED: _("您加入「%(team)s」的申请未通过：%(reason)s"),
    Kind.TEAM_INVITED: _("「%(team)s」邀请您加入。"),
    Kind.TEAM_INVITE_ANSWERED: _("%(volunteer)s%(answer)s「%(team)s」的邀请。"),
    Kind.TEAM_MEMBER_REMOVED: _("您已被移出「%(team)s」：%(reason)s"),
    Kind.ROSTER_IMPORTED: _("名册「%(file)s」导入完成：成功%(imported)s行，错误%(errors)s行。"),
    Kind.SMS_DEVELOPMENT: _("发往%(phone)s的短信：%(text)s"),
    Kind.OPEN_TASK: _("附近有一项服务需求%(ref)s「%(title)s」等待志愿者承接，先到先得。"),
    Kind.TEAM_OFFERED: _("工单%(ref)s「%(title)s」已派给「%(team)s」，请队长安排队员。"),
    Kind.TEAM_ASSIGNED: _("「%(team)s」队长为您安排了任务%(ref)s「%(title)s」，请在%(expires)s前答复。"),
    Kind.TEAM_MEMBER_DECLINED: _("队员%(volunteer)s无法承接%(ref)s「%(title)s」，请另行安排。"),
    Kind.ON_THE_WAY: _("志愿者%(volunteer)s已出发前往%(ref)s「%(title)s」%(eta)s。"),
    Kind.NEEDS_PERSON: _("工单%(ref)s「%(title)s」需要人工派单：%(reason)s"),
    Kind.MATCH_ESCALATED: _("工单%(ref)s「%(title)s」在本地无人接单，已上报%(node)s调度：%(reason)s"),
    Kind.FOLLOW_UP_OPENED: _("服务%(ref)s「%(title)s」需要回访（%(follow_up_reason)s），请在%(due)s前联系群众。"),
    Kind.FOLLOW_UP_CLOSED: _("您对服务%(ref)s「%(title)s」的反馈已回访办结：%(outcome)s。感谢您的监督。"),
    Kind.FOLLOW_UP_ESCALATED: _("服务%(ref)s「%(title)s」的回访（%(station)s）超过%(due)s仍未办结，已上报中心。"),
}

# Parameters stored as the untranslated label of a choice (a team invitation's answer, why a
# follow-up opened, its outcome), shown in the reader's language.
TRANSLATED_PARAMS = ("answer", "follow_up_reason", "outcome")

TITLES: dict[str, Promise | str] = dict(Kind.choices)


class _Params(dict[str, Any]):
    """A missing parameter renders empty rather than failing the whole inbox."""

    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, params: dict[str, Any], request_id: int | None) -> tuple[str, str]:
    """Return (title, body) for a notification, in the active language."""
    title_text = params.get("title", "")
    # Typed reasons as typed; system reasons translated for the reader (apps.core.reasons).
    reason = str(Reason.from_params(params))
    ref = f"#{request_id}" if request_id else ""
    # Every stored parameter is available to a body (plain values: names already masked by the writer).
    values = _Params(
        {
            **{key: value for key, value in params.items() if isinstance(value, (str, int))},
            "ref": ref,
            "title": title_text,
            "reason": reason,
            "volunteer": params.get("volunteer", ""),
            "expires": params.get("expires", ""),
        }
    )
    # Parameters stored as their untranslated source (``apps.core.reasons.source_text``), shown in
    # the reader's language.
    for key in TRANSLATED_PARAMS:
        if values.get(key):
            values[key] = gettext(values[key])
    # 出发: the expected arrival, when the volunteer gave one, as a clause of the reader's language.
    if isinstance(params.get("eta_minutes"), int):
        values["eta"] = gettext("，预计%(minutes)d分钟后到达（约%(arrive)s）") % {
            "minutes": params["eta_minutes"],
            "arrive": params.get("arrive", ""),
        }
    body = str(BODIES.get(kind, "%(title)s")) % values
    return str(TITLES.get(kind, kind)), body
