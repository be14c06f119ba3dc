"""The exact words of every kind of notice. Chinese puts no space between its characters and a
name, number or reference ("志愿者张*明（ZZV0000001）已接单#42「…」"); English spaces them as
English does. A request's reference always stands just before its title."""

import re
from typing import Any

import pytest
from django.utils import translation

from apps.notifications.messages import BODIES, render
from apps.notifications.models import Kind

TITLE = "帮忙修理漏水的水龙头"
VOLUNTEER = "张*明（ZZV0000001）"
EXPIRES = "2025-05-01 10:00"
TEAM = "助老服务队"


def _request(**params: Any) -> dict[str, Any]:
    return {"title": TITLE, **params}


# (kind, parameters as the writer stores them, request id, the Chinese body), one case per kind
# and a second for 出发 with an expected arrival.
CASES: list[tuple[str, dict[str, Any], int | None, str]] = [
    (Kind.RECEIVED, _request(), 42, "您的需求#42「帮忙修理漏水的水龙头」已收到，我们会尽快审核。"),
    (Kind.NEW_REQUEST, _request(), 42, "新的群众需求#42「帮忙修理漏水的水龙头」等待审核。"),
    (Kind.NEW_IN_QUEUE, _request(), 42, "新的群众需求#42「帮忙修理漏水的水龙头」已自动受理，等待派单。"),
    (Kind.QUEUED, _request(), 42, "您的需求#42「帮忙修理漏水的水龙头」已受理，正在为您安排志愿者。"),
    (
        Kind.REJECTED,
        _request(reason="超出服务范围"),
        42,
        "很抱歉，您的需求#42「帮忙修理漏水的水龙头」未能受理：超出服务范围",
    ),
    (
        Kind.OFFERED,
        _request(expires=EXPIRES),
        42,
        "有一项服务邀请#42「帮忙修理漏水的水龙头」等您确认，请在2025-05-01 10:00前答复。",
    ),
    (Kind.ACCEPTED, _request(volunteer=VOLUNTEER), 42, "志愿者张*明（ZZV0000001）已接单#42「帮忙修理漏水的水龙头」。"),
    (
        Kind.OFFER_CLOSED,
        _request(reason_code="places_filled_thanks"),
        42,
        "服务邀请#42「帮忙修理漏水的水龙头」已结束：所需志愿者已满员，感谢您的关注。",
    ),
    (
        Kind.RETURNED_TO_QUEUE,
        _request(),
        42,
        "工单#42「帮忙修理漏水的水龙头」暂无志愿者接单，已退回待派单。",
    ),
    (
        Kind.VOLUNTEER_RELEASED,
        _request(volunteer="ZZV0000001", reason="路上车坏了"),
        42,
        "志愿者ZZV0000001无法前往#42「帮忙修理漏水的水龙头」：路上车坏了",
    ),
    (Kind.IN_SERVICE, _request(), 42, "志愿者已到达，开始为您服务#42「帮忙修理漏水的水龙头」。"),
    (Kind.COMPLETED, _request(), 42, "工单#42「帮忙修理漏水的水龙头」已完成服务。"),
    (Kind.PLEASE_RATE, _request(), 42, "服务#42「帮忙修理漏水的水龙头」已完成，请您评价。"),
    (Kind.ESCALATED, _request(), 42, "工单#42「帮忙修理漏水的水龙头」超时仍未派出，已上报中心调度。"),
    (
        Kind.CANCELLED,
        _request(reason_code="cancelled_by_resident"),
        42,
        "工单#42「帮忙修理漏水的水龙头」已取消：群众取消",
    ),
    (
        Kind.APPLICATION_SUBMITTED,
        {"applicant": "张*明", "place": "桃园街道太平庄村"},
        None,
        "张*明提交了志愿者注册申请（桃园街道太平庄村），等待实名核验。",
    ),
    (
        Kind.APPLICATION_APPROVED,
        {"number": "ZZV0000007"},
        None,
        "您的志愿者注册已通过审核，志愿者编号ZZV0000007。现在可以接收服务邀请了。",
    ),
    (
        Kind.APPLICATION_REJECTED,
        {"reason": "证件照片不清晰"},
        None,
        "您的志愿者注册未通过审核：证件照片不清晰。请修改后重新提交。",
    ),
    (
        Kind.TEAM_JOIN_REQUESTED,
        {"volunteer": VOLUNTEER, "team": TEAM},
        None,
        "张*明（ZZV0000001）申请加入「助老服务队」。",
    ),
    (Kind.TEAM_JOIN_APPROVED, {"team": TEAM}, None, "您已加入「助老服务队」。"),
    (
        Kind.TEAM_JOIN_REJECTED,
        {"team": TEAM, "reason": "名额已满"},
        None,
        "您加入「助老服务队」的申请未通过：名额已满",
    ),
    (Kind.TEAM_INVITED, {"team": TEAM}, None, "「助老服务队」邀请您加入。"),
    (
        Kind.TEAM_INVITE_ANSWERED,
        {"volunteer": "张*明", "answer": "接受了", "team": TEAM},
        None,
        "张*明接受了「助老服务队」的邀请。",
    ),
    (
        Kind.TEAM_MEMBER_REMOVED,
        {"team": TEAM, "reason": "长期未参加活动"},
        None,
        "您已被移出「助老服务队」：长期未参加活动",
    ),
    (
        Kind.ROSTER_IMPORTED,
        {"file": "名册.xlsx", "imported": 970, "errors": 30},
        None,
        "名册「名册.xlsx」导入完成：成功970行，错误30行。",
    ),
    (
        Kind.SMS_DEVELOPMENT,
        {"phone": "139****0001", "text": "【涿州i志愿】您的验证码是123456。"},
        None,
        "发往139****0001的短信：【涿州i志愿】您的验证码是123456。",
    ),
    (
        Kind.OPEN_TASK,
        _request(),
        42,
        "附近有一项服务需求#42「帮忙修理漏水的水龙头」等待志愿者承接，先到先得。",
    ),
    (
        Kind.TEAM_OFFERED,
        _request(team=TEAM),
        42,
        "工单#42「帮忙修理漏水的水龙头」已派给「助老服务队」，请队长安排队员。",
    ),
    (
        Kind.TEAM_ASSIGNED,
        _request(team=TEAM, expires=EXPIRES),
        42,
        "「助老服务队」队长为您安排了任务#42「帮忙修理漏水的水龙头」，请在2025-05-01 10:00前答复。",
    ),
    (
        Kind.TEAM_MEMBER_DECLINED,
        _request(volunteer="李*华（ZZV0000002）"),
        42,
        "队员李*华（ZZV0000002）无法承接#42「帮忙修理漏水的水龙头」，请另行安排。",
    ),
    (
        Kind.ON_THE_WAY,
        _request(volunteer=VOLUNTEER),
        42,
        "志愿者张*明（ZZV0000001）已出发前往#42「帮忙修理漏水的水龙头」。",
    ),
    (
        Kind.ON_THE_WAY,
        _request(volunteer=VOLUNTEER, eta_minutes=20, arrive="10:15"),
        42,
        "志愿者张*明（ZZV0000001）已出发前往#42「帮忙修理漏水的水龙头」，预计20分钟后到达（约10:15）。",
    ),
    (
        Kind.NEEDS_PERSON,
        _request(reason_code="no_candidates"),
        42,
        "工单#42「帮忙修理漏水的水龙头」需要人工派单：没有符合条件的志愿者",
    ),
    (
        Kind.MATCH_ESCALATED,
        _request(node="桃园街道新时代文明实践所", reason_code="no_takers"),
        42,
        "工单#42「帮忙修理漏水的水龙头」在本地无人接单，已上报桃园街道新时代文明实践所调度：多轮邀请均无人接单",
    ),
    (
        Kind.FOLLOW_UP_OPENED,
        _request(follow_up_reason="评分较低", due="2026-03-04 09:00"),
        42,
        "服务#42「帮忙修理漏水的水龙头」需要回访（评分较低），请在2026-03-04 09:00前联系群众。",
    ),
    (
        Kind.FOLLOW_UP_CLOSED,
        _request(outcome="已解释说明，群众认可"),
        42,
        "您对服务#42「帮忙修理漏水的水龙头」的反馈已回访办结：已解释说明，群众认可。感谢您的监督。",
    ),
    (
        Kind.FOLLOW_UP_ESCALATED,
        _request(station="太平庄村新时代文明实践站", due="2026-03-04 09:00"),
        42,
        "服务#42「帮忙修理漏水的水龙头」的回访（太平庄村新时代文明实践站）超过2026-03-04 09:00仍未办结，已上报中心。",
    ),
]
CASE_IDS = [f"{kind}-{index}" for index, (kind, *_rest) in enumerate(CASES)]

# A Han character, kana, or CJK / full-width punctuation (「」，。：（）).
CJK = r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
SPACE_BY_CJK = re.compile(rf"{CJK}\s|\s{CJK}")


def test_the_cases_cover_every_kind_and_every_kind_has_a_body() -> None:
    assert {kind for kind, *_rest in CASES} == set(Kind.values) == set(BODIES)


@pytest.mark.parametrize(("kind", "params", "request_id", "body"), CASES, ids=CASE_IDS)
def test_every_chinese_body_reads_exactly(kind, params, request_id, body) -> None:
    with translation.override("zh-hans"):
        assert render(kind, params, request_id) == (str(Kind(kind).label), body)


@pytest.mark.parametrize(("kind", "params", "request_id", "body"), CASES, ids=CASE_IDS)
def test_no_chinese_body_has_a_space_beside_a_chinese_character(kind, params, request_id, body) -> None:
    with translation.override("zh-hans"):
        title, rendered = render(kind, params, request_id)
        source = str(BODIES[kind])

    assert SPACE_BY_CJK.findall(rendered) == []
    assert SPACE_BY_CJK.findall(title) == []
    # The source string itself, so that no placeholder is set off by a space whatever it holds.
    assert " " not in source


@pytest.mark.parametrize("kind", sorted(Kind.values))
def test_a_body_missing_its_parameters_or_its_request_leaves_no_stray_space(kind) -> None:
    with translation.override("zh-hans"):
        _title, body = render(kind, {}, None)

    assert "%(" not in body
    assert " " not in body


def test_the_expected_arrival_clause_is_spaced_as_chinese() -> None:
    params = _request(volunteer=VOLUNTEER, eta_minutes=5, arrive="09:05")
    with translation.override("zh-hans"):
        _title, body = render(Kind.ON_THE_WAY, params, 42)
    assert body.endswith("」，预计5分钟后到达（约09:05）。")


def test_without_a_request_the_title_stands_alone() -> None:
    with translation.override("zh-hans"):
        assert render(Kind.COMPLETED, {"title": "义诊"}, None) == ("服务已完成", "工单「义诊」已完成服务。")


# English: the words the lead fills into locale/en for the rewritten Chinese source strings.
ENGLISH = [
    (
        Kind.ACCEPTED,
        _request(volunteer=VOLUNTEER),
        "Volunteer accepted",
        "Volunteer 张*明（ZZV0000001） has accepted #42 “帮忙修理漏水的水龙头”.",
    ),
    (
        Kind.ON_THE_WAY,
        _request(volunteer=VOLUNTEER, eta_minutes=20, arrive="10:15"),
        "Volunteer on the way",
        "Volunteer 张*明（ZZV0000001） is on the way to #42 “帮忙修理漏水的水龙头”, expected in 20 min (around 10:15).",
    ),
    (
        Kind.PLEASE_RATE,
        _request(),
        "Please rate the service",
        "The service #42 “帮忙修理漏水的水龙头” is complete. Please rate it.",
    ),
    (
        Kind.REJECTED,
        _request(reason="超出服务范围"),
        "Request not accepted",
        "We are sorry, your request #42 “帮忙修理漏水的水龙头” could not be accepted: 超出服务范围",
    ),
    (
        Kind.OFFERED,
        _request(expires=EXPIRES),
        "New service offer",
        "You have a service offer #42 “帮忙修理漏水的水龙头”. Please reply by 2025-05-01 10:00.",
    ),
]


@pytest.mark.parametrize(("kind", "params", "title", "body"), ENGLISH, ids=[kind for kind, *_rest in ENGLISH])
def test_key_bodies_read_in_english_with_english_spacing(kind, params, title, body) -> None:
    with translation.override("en"):
        assert render(kind, params, 42) == (title, body)
