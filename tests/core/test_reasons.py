"""Reasons are stored once (typed text, or a system key and its parameters) and each reader sees
them in their own language: every key of the catalogue in Chinese and English, every key used by
the code and every key the code uses catalogued, and the whole way round through the API, the
pages, the admin and e-mail with an English-speaking actor and a Chinese-speaking reader."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.core.reasons import CATALOGUE, Reason, source_text
from apps.dispatch.models import Offer, OfferEvent, OfferStatus
from apps.dispatch.services import offers_expire
from apps.notifications.models import Kind, Notification
from apps.notifications.services import notification_deliver_email
from apps.organisation.models import ServiceCategory
from apps.service_requests.models import Channel, RequestEvent, ServiceRequest, Status
from apps.service_requests.services import requests_close_unrated, requests_escalate_overdue
from tests.service_requests.factories import request_payload

APPS = Path(settings.BASE_DIR) / "apps"
PO_PATH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
TITLE = "帮忙修理漏水的水龙头"


@pytest.fixture
def english(settings, tmp_path):
    """Serve English from the committed .po (compiled here), not whatever .mo is on disk."""
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with PO_PATH.open("rb") as po, (target / "django.mo").open("wb") as mo:
        write_mo(mo, read_po(po, abort_invalid=True))
    settings.LOCALE_PATHS = [tmp_path / "locale"]


# ------------------------------------------------------------------ (a) every key, both languages

# (key, parameters, Chinese, English). Written out by hand: a new key without a row fails below.
EXPECTED: list[tuple[str, dict, str, str]] = [
    ("auto_accepted", {}, "该类别自动受理", "Accepted automatically for this category"),
    ("accepted_on_entry", {}, "工作人员代点单，录入即受理", "Entered by staff; accepted on entry"),
    (
        "entered_on_behalf",
        {"channel": "电话代点单"},
        "由工作人员代点单（电话代点单）",
        "Entered by staff for the resident (By phone (entered by staff))",
    ),
    (
        "entered_on_behalf",
        {"channel": "窗口代点单"},
        "由工作人员代点单（窗口代点单）",
        "Entered by staff for the resident (At the service desk (entered by staff))",
    ),
    ("offers_sent", {"n": 1}, "已向1名志愿者发出服务邀请", "Service offer sent to 1 volunteer"),
    ("offers_sent", {"n": 2}, "已向2名志愿者发出服务邀请", "Service offers sent to 2 volunteers"),
    ("fully_staffed", {}, "所需志愿者已全部接单", "All the volunteers needed have accepted"),
    ("places_filled", {}, "已满员", "All places filled"),
    (
        "places_filled_thanks",
        {},
        "所需志愿者已满员，感谢您的关注。",
        "All the volunteers needed have been found. Thank you for your interest.",
    ),
    (
        "offers_ran_out",
        {},
        "邀请均已婉拒或过期，退回待派单",
        "All offers were declined or expired; returned to the dispatch queue",
    ),
    ("offer_lapsed", {}, "答复时间已过", "The time to answer has passed"),
    ("volunteer_arrived", {}, "志愿者已到达", "Volunteer has arrived"),
    ("all_completed", {}, "志愿者已全部完成服务", "All volunteers have completed the service"),
    ("rated_and_closed", {}, "已评价，工单办结", "Rated; request closed"),
    ("escalated_overdue", {}, "超时未派出，已上报中心", "Not dispatched in time; escalated to the centre"),
    ("closed_unrated", {"days": 1}, "超过1天未评价，自动办结", "Not rated within 1 day; closed automatically"),
    ("closed_unrated", {"days": 7}, "超过7天未评价，自动办结", "Not rated within 7 days; closed automatically"),
    ("cancelled_by_resident", {}, "群众取消", "Cancelled by the resident"),
    ("cancelled_by_staff", {}, "工作人员取消", "Cancelled by staff"),
    ("mode_changed", {"mode": "自动派单"}, "派单方式改为「自动派单」", "Dispatch mode changed to “Automatic”"),
    ("wave_sent", {"wave": 1, "n": 1}, "第1轮：已向1名志愿者发出服务邀请", "Wave 1: service offer sent to 1 volunteer"),
    (
        "wave_sent",
        {"wave": 2, "n": 3},
        "第2轮：已向3名志愿者发出服务邀请",
        "Wave 2: service offers sent to 3 volunteers",
    ),
    (
        "reach_widened",
        {"km": 10},
        "附近无人接单，匹配范围扩大10公里",
        "No one nearby accepted; search area widened by 10 km",
    ),
    ("no_candidates", {}, "没有符合条件的志愿者", "No eligible volunteers"),
    ("no_takers", {}, "多轮邀请均无人接单", "No one accepted after several waves of offers"),
    (
        "escalated_to_parent",
        {"node": "码头镇新时代文明实践所"},
        "无人接单，已上报码头镇新时代文明实践所",
        "No one accepted; escalated to 码头镇新时代文明实践所",
    ),
    ("broadcast_opened", {}, "已发布为抢单任务", "Posted as an open task"),
    ("taken_from_open_tasks", {}, "志愿者抢单", "Taken from open tasks by a volunteer"),
    (
        "team_offered",
        {"team": "太平庄村志愿服务队"},
        "已派给服务队「太平庄村志愿服务队」",
        "Offered to the team “太平庄村志愿服务队”",
    ),
    ("team_assigned", {"n": 1}, "队长已安排1名队员", "Team leader assigned 1 member"),
    ("team_assigned", {"n": 2}, "队长已安排2名队员", "Team leader assigned 2 members"),
    ("team_declined", {}, "服务队无法承接", "Team can't take this on"),
    ("on_the_way", {}, "志愿者已出发", "Volunteer on the way"),
    (
        "on_the_way_eta",
        {"minutes": 15},
        "志愿者已出发，预计15分钟到达",
        "Volunteer on the way, expected in 15 min",
    ),
]


QUEUE_REASONS = {
    "mode_changed",
    "wave_sent",
    "reach_widened",
    "no_candidates",
    "no_takers",
    "escalated_to_parent",
    "broadcast_opened",
    "taken_from_open_tasks",
    "team_offered",
    "team_assigned",
    "team_declined",
    "on_the_way",
    "on_the_way_eta",
}


def test_the_table_covers_every_catalogue_key() -> None:
    assert {code for code, *_rest in EXPECTED} == set(CATALOGUE)


@pytest.mark.parametrize(("code", "params", "zh", "en"), EXPECTED, ids=[f"{r[0]}-{r[1]}" for r in EXPECTED])
def test_system_reason_renders_in_each_language(english, code, params, zh, en):
    reason = Reason.system(code, **params)
    # Stored as key and parameters, never as text.
    assert reason.as_fields() == {"reason": "", "reason_code": code, "reason_params": params}
    with translation.override("zh-hans"):
        assert str(reason) == zh
    with translation.override("en"):
        assert str(reason) == en
    # Read back from a row's columns or a notification's parameters: the same in each language.
    with translation.override("en"):
        assert str(Reason.from_params(reason.as_params())) == en
    with translation.override("zh-hans"):
        assert str(Reason.from_params(reason.as_params())) == zh


def test_channel_parameter_is_stored_as_source_text_whatever_the_language(english) -> None:
    with translation.override("en"):
        stored = source_text(Channel.PHONE.label)
        assert str(Channel.PHONE.label) == "By phone (entered by staff)"
    assert stored == "电话代点单"


def test_typed_reason_is_shown_as_typed_in_every_language(english) -> None:
    reason = Reason.typed("  老人已住院 ")
    assert reason.as_fields("status_reason") == {
        "status_reason": "老人已住院",
        "status_reason_code": "",
        "status_reason_params": {},
    }
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert str(reason) == "老人已住院"


def test_unknown_key_is_refused_when_written_and_shown_as_the_key_when_read() -> None:
    with pytest.raises(KeyError, match="unknown system reason 'no_such_reason'"):
        Reason.system("no_such_reason")
    assert str(Reason(code="from_a_newer_release")) == "from_a_newer_release"
    assert str(Reason()) == ""
    assert not Reason()


# ------------------------------------------------------------------ (b) the code and the catalogue


def _system_reason_codes() -> dict[str, list[str]]:
    """Every ``Reason.system(...)`` call under apps/: the string literals of its first argument,
    by where the call is."""
    calls: dict[str, list[str]] = {}
    for path in sorted(APPS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "system"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "Reason"
            ):
                continue
            assert node.args, f"{path.name}:{node.lineno}: Reason.system without a key"
            literals = [
                n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
            calls[f"{path.relative_to(APPS)}:{node.lineno}"] = literals
    return calls


def test_every_system_reason_in_the_code_is_catalogued_and_every_key_is_used() -> None:
    calls = _system_reason_codes()
    assert len(calls) >= len(CATALOGUE) - 1  # the two cancel keys share one call
    # Every call names its key with literals, so this scan sees every key the code can write.
    assert [where for where, literals in calls.items() if not literals] == []
    used = {code for literals in calls.values() for code in literals}
    assert sorted(used - set(CATALOGUE)) == []
    assert sorted(set(CATALOGUE) - used) == []


# ------------------------------------------------------------------ (c) end to end


def _events(client, request_id: int, **headers: str) -> list[tuple[str, str]]:
    body = client.get(f"/api/v1/requests/{request_id}/", **headers).json()
    return [(e["to_status"], e["reason"]) for e in body["events"]]


def _status_reason(client, request_id: int, **headers: str) -> str:
    return client.get(f"/api/v1/requests/{request_id}/", **headers).json()["status_reason"]


def _offer_events(offer_id: int) -> list[tuple[str, str, int | None, str, str]]:
    """As a Chinese reader sees them. (A test client's request leaves its language active in
    this thread, so the language is set here rather than assumed.)"""
    events = OfferEvent.objects.filter(offer_id=offer_id).order_by("created_at", "id")
    with translation.override("zh-hans"):
        return [(e.from_status, e.to_status, e.actor_id, e.reason_code, e.display_reason) for e in events]


def _offer_of(request_id: int, volunteer) -> Offer:
    return Offer.objects.get(request_id=request_id, volunteer=volunteer)


def _english(client):
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_reasons_written_in_english_sessions_read_in_each_readers_language(cast, org, api, client, english, mailoutbox):
    assert settings.UNRATED_CLOSE_AFTER_DAYS == 7
    User.objects.filter(id=cast.other_volunteer.user_id).update(email="liufang@example.com")
    User.objects.filter(id=cast.volunteer.user_id).update(email="zhangxiaoming@example.com")
    resident = api(cast.resident)
    staff_zh = api(cast.staff_a)
    staff_en = _english(api(cast.staff_a))
    volunteer_en = _english(api(cast.volunteer))
    payload = request_payload(category=org["category"], village=org["village_a1"])

    # --- 1. submitted by the resident, reviewed, dispatched to two, accepted, served, rated.
    first = resident.post("/api/v1/requests/", payload, format="json")
    assert first.status_code == 201, first.content
    r1 = first.json()["id"]
    reviewed = staff_en.post(f"/api/v1/requests/{r1}/review/", {"decision": "accept"}, format="json")
    assert (reviewed.status_code, reviewed.json()["status_display"]) == (200, "Awaiting dispatch")
    sent = staff_en.post(
        f"/api/v1/requests/{r1}/dispatch/",
        {"volunteer_ids": [cast.volunteer.id, cast.other_volunteer.id]},
        format="json",
    )
    assert sent.status_code == 201, sent.content
    winner, loser = _offer_of(r1, cast.volunteer), _offer_of(r1, cast.other_volunteer)
    accepted = volunteer_en.post(f"/api/v1/offers/{winner.id}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert volunteer_en.post(f"/api/v1/offers/{winner.id}/arrive/").status_code == 200
    assert (
        volunteer_en.post(f"/api/v1/offers/{winner.id}/complete/", {"report": "已修好"}, format="json").status_code
        == 200
    )
    rated = resident.post(f"/api/v1/requests/{r1}/rate/", {"score": 5}, format="json")
    assert rated.status_code == 201, rated.content

    assert _offer_events(loser.id) == [
        ("", OfferStatus.OFFERED, cast.staff_a.id, "", ""),
        (OfferStatus.OFFERED, OfferStatus.WITHDRAWN, None, "places_filled", "已满员"),
    ]
    r1_zh = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "已向2名志愿者发出服务邀请"),
        (Status.ACCEPTED, "所需志愿者已全部接单"),
        (Status.IN_SERVICE, "志愿者已到达"),
        (Status.COMPLETED, "志愿者已全部完成服务"),
        (Status.RATED, ""),
        (Status.CLOSED, "已评价，工单办结"),
    ]
    r1_en = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "Service offers sent to 2 volunteers"),
        (Status.ACCEPTED, "All the volunteers needed have accepted"),
        (Status.IN_SERVICE, "Volunteer has arrived"),
        (Status.COMPLETED, "All volunteers have completed the service"),
        (Status.RATED, ""),
        (Status.CLOSED, "Rated; request closed"),
    ]

    # --- 2. entered on the resident's behalf by phone in an auto-accept category; the offer
    # lapses, the request escalates, the resident cancels without a reason.
    ServiceCategory.objects.filter(id=org["other_category"].id).update(auto_accept=True)
    on_behalf = staff_en.post(
        "/api/v1/requests/on-behalf/",
        request_payload(
            category=org["other_category"],
            village=org["village_a1"],
            requester_phone=cast.resident.phone,
            requester_name=cast.resident.name,
            channel=Channel.PHONE,
        ),
        format="json",
    )
    assert on_behalf.status_code == 201, on_behalf.content
    r2 = on_behalf.json()["id"]
    assert ServiceRequest.objects.get(id=r2).requester_id == cast.resident.id
    sent = staff_en.post(
        f"/api/v1/requests/{r2}/dispatch/",
        {"volunteer_ids": [cast.volunteer.id], "expires_in_minutes": 5},
        format="json",
    )
    assert sent.status_code == 201, sent.content
    with translation.override("en"):
        assert offers_expire(now=timezone.now() + timedelta(minutes=10)) == 1
        assert requests_escalate_overdue(now=timezone.now() + timedelta(days=2)) == 1
    lapsed = _offer_of(r2, cast.volunteer)
    assert _offer_events(lapsed.id) == [
        ("", OfferStatus.OFFERED, cast.staff_a.id, "", ""),
        (OfferStatus.OFFERED, OfferStatus.EXPIRED, None, "offer_lapsed", "答复时间已过"),
    ]
    cancelled = resident.post(f"/api/v1/requests/{r2}/cancel/", {"reason": ""}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    r2_zh = [
        (Status.SUBMITTED, "由工作人员代点单（电话代点单）"),
        (Status.QUEUED, "工作人员代点单，录入即受理"),
        (Status.OFFERED, "已向1名志愿者发出服务邀请"),
        (Status.QUEUED, "邀请均已婉拒或过期，退回待派单"),
        (Status.ESCALATED, "超时未派出，已上报中心"),
        (Status.CANCELLED, "群众取消"),
    ]
    r2_en = [
        (Status.SUBMITTED, "Entered by staff for the resident (By phone (entered by staff))"),
        (Status.QUEUED, "Entered by staff; accepted on entry"),
        (Status.OFFERED, "Service offer sent to 1 volunteer"),
        (Status.QUEUED, "All offers were declined or expired; returned to the dispatch queue"),
        (Status.ESCALATED, "Not dispatched in time; escalated to the centre"),
        (Status.CANCELLED, "Cancelled by the resident"),
    ]

    # --- 3. dispatched, then cancelled by staff without a reason.
    third = resident.post("/api/v1/requests/", payload, format="json")
    r3 = third.json()["id"]
    assert staff_en.post(f"/api/v1/requests/{r3}/review/", {"decision": "accept"}, format="json").status_code == 200
    sent = staff_en.post(f"/api/v1/requests/{r3}/dispatch/", {"volunteer_ids": [cast.volunteer.id]}, format="json")
    assert sent.status_code == 201, sent.content
    cancelled = staff_en.post(f"/api/v1/requests/{r3}/cancel/", {"reason": ""}, format="json")
    assert (cancelled.status_code, cancelled.json()["status_reason"]) == (200, "Cancelled by staff")
    withdrawn = _offer_of(r3, cast.volunteer)
    assert _offer_events(withdrawn.id)[-1] == (
        OfferStatus.OFFERED,
        OfferStatus.WITHDRAWN,
        cast.staff_a.id,
        "cancelled_by_staff",
        "工作人员取消",
    )
    r3_zh = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "已向1名志愿者发出服务邀请"),
        (Status.CANCELLED, "工作人员取消"),
    ]
    r3_en = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "Service offer sent to 1 volunteer"),
        (Status.CANCELLED, "Cancelled by staff"),
    ]

    # --- 4. served, never rated, closed by the sweep.
    fourth = resident.post("/api/v1/requests/", payload, format="json")
    r4 = fourth.json()["id"]
    assert staff_en.post(f"/api/v1/requests/{r4}/review/", {"decision": "accept"}, format="json").status_code == 200
    sent = staff_en.post(f"/api/v1/requests/{r4}/dispatch/", {"volunteer_ids": [cast.volunteer.id]}, format="json")
    assert sent.status_code == 201, sent.content
    task = _offer_of(r4, cast.volunteer)
    for verb in ("accept", "arrive", "complete"):
        assert volunteer_en.post(f"/api/v1/offers/{task.id}/{verb}/").status_code == 200
    with translation.override("en"):
        assert requests_close_unrated(now=timezone.now() + timedelta(days=settings.UNRATED_CLOSE_AFTER_DAYS + 1)) == 1
    r4_zh = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "已向1名志愿者发出服务邀请"),
        (Status.ACCEPTED, "所需志愿者已全部接单"),
        (Status.IN_SERVICE, "志愿者已到达"),
        (Status.COMPLETED, "志愿者已全部完成服务"),
        (Status.CLOSED, "超过7天未评价，自动办结"),
    ]
    r4_en = [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, ""),
        (Status.OFFERED, "Service offer sent to 1 volunteer"),
        (Status.ACCEPTED, "All the volunteers needed have accepted"),
        (Status.IN_SERVICE, "Volunteer has arrived"),
        (Status.COMPLETED, "All volunteers have completed the service"),
        (Status.CLOSED, "Not rated within 7 days; closed automatically"),
    ]

    # --- The API: Chinese by default for the resident and for staff, English when asked.
    expected = {r1: (r1_zh, r1_en), r2: (r2_zh, r2_en), r3: (r3_zh, r3_en), r4: (r4_zh, r4_en)}
    for request_id, (zh, en) in expected.items():
        for reader in (resident, staff_zh):
            assert _events(reader, request_id) == zh, request_id
            assert _events(reader, request_id, HTTP_ACCEPT_LANGUAGE="en") == en, request_id
    for reader in (resident, staff_zh):
        assert [_status_reason(reader, r) for r in (r1, r2, r3, r4)] == ["", "群众取消", "工作人员取消", ""]
        assert [_status_reason(reader, r, HTTP_ACCEPT_LANGUAGE="en") for r in (r1, r2, r3, r4)] == [
            "",
            "Cancelled by the resident",
            "Cancelled by staff",
            "",
        ]

    # --- The resident's pages, in Chinese.
    client.force_login(cast.resident)
    for request_id, (zh, en) in expected.items():
        html = client.get(f"/r/requests/{request_id}/").content.decode()
        for _status, reason in zh:
            assert reason in html, (request_id, reason)
        for _status, reason in en:
            if reason:
                assert reason not in html, (request_id, reason)

    # --- The withdrawn volunteer's inbox, in Chinese though the accept came from an English session.
    thanks = f"服务邀请#{r1}「{TITLE}」已结束：所需志愿者已满员，感谢您的关注。"
    client.force_login(cast.other_volunteer.user)
    inbox = client.get("/notifications/").content.decode()
    assert thanks in inbox
    assert "Thank you for your interest" not in inbox
    inbox_en = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "All the volunteers needed have been found. Thank you for your interest." in inbox_en
    assert thanks not in inbox_en

    # --- The admin's change page of a request shows the reasons of its events and its status.
    client.force_login(cast.admin)
    for request_id, (zh, _en) in expected.items():
        page = client.get(f"/admin/service_requests/servicerequest/{request_id}/change/")
        assert page.status_code == 200
        html = page.content.decode()
        for _status, reason in zh:
            assert reason in html, (request_id, reason)

    # --- E-mail goes out in Chinese, whatever language is active when it is sent.
    closed_for_loser = Notification.objects.get(recipient=cast.other_volunteer.user, kind=Kind.OFFER_CLOSED)
    closed_for_volunteer = Notification.objects.get(recipient=cast.volunteer.user, kind=Kind.OFFER_CLOSED)
    with translation.override("en"):
        assert notification_deliver_email(notification_id=closed_for_loser.id) is True
        assert notification_deliver_email(notification_id=closed_for_volunteer.id) is True
    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [
        (["liufang@example.com"], "[涿州i志愿] 邀请已结束", thanks),
        (["zhangxiaoming@example.com"], "[涿州i志愿] 邀请已结束", f"服务邀请#{r3}「{TITLE}」已结束：工作人员取消"),
    ]

    # --- 5. the resident's own request in the auto-accept category is accepted by the category
    # (entered by staff it was accepted by their entry, above).
    own = resident.post(
        "/api/v1/requests/",
        request_payload(category=org["other_category"], village=org["village_a1"]),
        format="json",
    )
    assert own.status_code == 201, own.content
    assert _events(resident, own.json()["id"]) == [(Status.SUBMITTED, ""), (Status.QUEUED, "该类别自动受理")]
    assert _events(resident, own.json()["id"], HTTP_ACCEPT_LANGUAGE="en") == [
        (Status.SUBMITTED, ""),
        (Status.QUEUED, "Accepted automatically for this category"),
    ]

    # --- Every key of the loop's catalogue was written and read above (the matching queue's own
    # keys are written by its modes, in tests/matching and tests/dispatch/test_on_the_way*.py).
    seen = set(RequestEvent.objects.values_list("reason_code", flat=True))
    seen |= set(OfferEvent.objects.values_list("reason_code", flat=True))
    seen |= {n.params.get("reason_code", "") for n in Notification.objects.all()}
    assert seen - {""} == set(CATALOGUE) - QUEUE_REASONS
