"""Bad input on every write endpoint: the exact 4xx, a JSON error naming what is wrong, and
nothing changed. Validation errors are 400 ``invalid`` with ``errors`` keyed by field; a rule of
the business is 400 with its own code; a state that no longer allows the action is 409; an
unknown id is 404. Never a 500."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.dispatch.models import Offer
from apps.dispatch.services import request_cancel
from apps.organisation.models import Place, ServiceCategory
from apps.volunteers.models import VolunteerProfile
from tests.service_requests.factories import request_payload
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import (
    INVALID,
    NOT_FOUND,
    World,
    actor_user,
    advance,
    build_world,
    db_state,
    error_body,
)

MISSING = object()  # remove the key from the payload
HUGE_ID = 2**70  # far beyond a 64-bit id


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def _apply(payload: dict, changes: dict) -> dict:
    result = dict(payload)
    for key, value in changes.items():
        if value is MISSING:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _resolve(changes: dict | Callable[[World], dict], world: World) -> dict:
    return changes(world) if callable(changes) else changes


def assert_invalid(response, fields: list[str], before: dict) -> None:
    """400 ``invalid``, ``errors`` naming exactly ``fields`` with a message each, nothing changed."""
    assert response.status_code == 400, response.content
    body = error_body(response)
    assert (body["detail"], body["code"]) == (INVALID, "invalid")
    assert sorted(body["errors"]) == sorted(fields), body
    for messages in body["errors"].values():
        assert messages, body
    assert db_state() == before


def assert_refused(response, status_code: int, code: str, detail: str | None, before: dict) -> None:
    """A refusal by a rule or a state: its status, code and message, no field errors, nothing changed."""
    assert response.status_code == status_code, response.content
    body = error_body(response)
    assert body["code"] == code, body
    assert "errors" not in body
    if detail is not None:
        assert body["detail"] == detail
    assert db_state() == before


# ---------------------------------------------------------------------------------------------
# 点单: POST /requests/ and /requests/on-behalf/
# ---------------------------------------------------------------------------------------------


def _inactive_category(world: World) -> dict:
    ServiceCategory.objects.filter(id=world.org["other_category"].id).update(is_active=False)
    return {"category": world.org["other_category"].id}


REQUIRED_FIELDS = ["category", "title", "description", "village", "address", "contact_name", "contact_phone"]

CREATE_CASES = [
    *[pytest.param({field: MISSING}, [field], id=f"{field}-missing") for field in REQUIRED_FIELDS],
    pytest.param({field: MISSING for field in REQUIRED_FIELDS}, REQUIRED_FIELDS, id="everything-missing"),
    pytest.param({"title": ""}, ["title"], id="title-empty"),
    pytest.param({"title": "   "}, ["title"], id="title-blank"),
    pytest.param({"title": None}, ["title"], id="title-null"),
    pytest.param({"title": "修" * 81}, ["title"], id="title-81-chars"),
    # Control and zero-width characters are taken out before the checks: left with nothing, it is blank.
    pytest.param({"title": "\x00\u200b\u2060"}, ["title"], id="title-nul-and-zero-width-only"),
    pytest.param({"title": ["水龙头"]}, ["title"], id="title-a-list"),
    pytest.param({"description": "漏" * 2001}, ["description"], id="description-2001-chars"),
    pytest.param({"address": "街" * 201}, ["address"], id="address-201-chars"),
    pytest.param({"contact_name": "王" * 51}, ["contact_name"], id="contact-name-51-chars"),
    pytest.param({"contact_phone": "12345"}, ["contact_phone"], id="phone-too-short"),
    pytest.param({"contact_phone": "23912345678"}, ["contact_phone"], id="phone-not-a-mobile"),
    pytest.param({"contact_phone": "1391234567a"}, ["contact_phone"], id="phone-with-a-letter"),
    pytest.param({"contact_phone": "139123456789012345678"}, ["contact_phone"], id="phone-21-chars"),
    pytest.param({"category": "abc"}, ["category"], id="category-not-a-number"),
    pytest.param({"category": 999999}, ["category"], id="category-unknown"),
    pytest.param({"category": HUGE_ID}, ["category"], id="category-huge"),
    pytest.param({"category": {"id": 1}}, ["category"], id="category-an-object"),
    pytest.param(_inactive_category, ["category"], id="category-inactive"),
    pytest.param({"village": "abc"}, ["village"], id="village-not-a-number"),
    pytest.param({"village": 999999}, ["village"], id="village-unknown"),
    pytest.param(lambda w: {"village": w.org["township_a"].id}, ["village"], id="village-is-a-township"),
    pytest.param(lambda w: {"village": w.org["city"].id}, ["village"], id="village-is-the-city"),
    pytest.param({"volunteers_needed": 0}, ["volunteers_needed"], id="needed-0"),
    pytest.param({"volunteers_needed": 21}, ["volunteers_needed"], id="needed-21"),
    pytest.param({"volunteers_needed": -1}, ["volunteers_needed"], id="needed-negative"),
    pytest.param({"volunteers_needed": "abc"}, ["volunteers_needed"], id="needed-abc"),
    pytest.param({"volunteers_needed": 1.5}, ["volunteers_needed"], id="needed-fraction"),
    pytest.param({"volunteers_needed": True}, ["volunteers_needed"], id="needed-boolean"),
    pytest.param({"urgency": "whenever"}, ["urgency"], id="urgency-unknown"),
    pytest.param(
        {"window_start": "2030-05-01T10:00:00+08:00", "window_end": "2030-05-01T09:00:00+08:00"},
        ["window_end"],
        id="window-end-before-start",
    ),
    pytest.param(
        {"window_start": "2030-05-01T10:00:00+08:00", "window_end": "2030-05-01T10:00:00+08:00"},
        ["window_end"],
        id="window-empty",
    ),
    pytest.param({"window_start": "next tuesday"}, ["window_start"], id="window-start-not-a-time"),
    pytest.param({"window_end": "0001-01-01T00:00:00"}, ["window_end"], id="window-end-year-1"),
    pytest.param({"window_end": "9999-12-31T23:59:59-12:00"}, ["window_end"], id="window-end-past-year-9999"),
    # Found by the fuzzer: before 1901 Shanghai keeps local mean time, and the answer said
    # "0362-04-13T10:49:18+08:05:43", which is no RFC 3339 date-time.
    pytest.param({"window_end": "0362-04-13T02:43:35Z"}, ["window_end"], id="window-end-in-local-mean-time"),
    pytest.param({"window_start": "1900-12-31T15:00:00Z"}, ["window_start"], id="window-start-in-local-mean-time"),
    pytest.param({"latitude": 91}, ["latitude"], id="latitude-91"),
    pytest.param({"latitude": "NaN"}, ["latitude"], id="latitude-nan"),
    pytest.param({"latitude": "39.1234567"}, ["latitude"], id="latitude-7-decimals"),
    pytest.param({"longitude": 181}, ["longitude"], id="longitude-181"),
]


@pytest.mark.parametrize(("changes", "fields"), CREATE_CASES)
def test_a_request_with_bad_input_is_refused_with_the_fields_named(world, api, org, changes, fields):
    payload = _apply(request_payload(category=org["category"], village=org["village_a1"]), _resolve(changes, world))
    before = db_state()

    response = api(world.cast.resident).post("/api/v1/requests/", payload, format="json")

    assert_invalid(response, fields, before)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"title": "水龙头\ud800"}, id="in-a-text"),
        pytest.param({"urgency": "\ud800"}, id="in-a-choice-echoed-by-its-error"),
        pytest.param({"category": "\udfff"}, id="in-an-id"),
        pytest.param({"extra": {"nested": ["\ud83d"]}}, id="in-an-unknown-nested-key"),
    ],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_refused_as_unparseable(world, api, org, changes):
    """Valid JSON (``"\\ud800"``) but no UTF-8 text: saving it, or echoing it in an error, would be a 500."""
    payload = _apply(request_payload(category=org["category"], village=org["village_a1"]), changes)
    before = db_state()

    # ASCII-escaped as a browser may send it (the test client cannot UTF-8 encode a lone surrogate itself).
    response = api(world.cast.resident).post("/api/v1/requests/", json.dumps(payload), content_type="application/json")

    assert_refused(response, 400, "parse_error", "提交的内容含有无效字符。", before)


def test_a_request_at_every_length_limit_is_accepted(world, api, org):
    payload = request_payload(
        category=org["category"],
        village=org["village_a1"],
        title="修" * 80,
        description="漏" * 2000,
        address="街" * 200,
        contact_name="王" * 50,
        contact_phone="0312-3234567",  # a landline with its area code
        volunteers_needed=20,
    )
    response = api(world.cast.resident).post("/api/v1/requests/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contact_phone"] == "03123234567"
    assert response.json()["volunteers_needed"] == 20


def _on_behalf_payload(world: World, **changes: Any) -> dict:
    payload = request_payload(
        category=world.org["category"],
        village=world.org["village_a1"],
        requester_phone="13711112222",
        requester_name="吴大爷",
        channel="phone",
    )
    return _apply(payload, changes)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"requester_phone": MISSING}, ["requester_phone"], id="requester-phone-missing"),
        pytest.param({"requester_name": MISSING}, ["requester_name"], id="requester-name-missing"),
        pytest.param({"channel": MISSING}, ["channel"], id="channel-missing"),
        pytest.param({"requester_phone": "12345"}, ["requester_phone"], id="requester-phone-invalid"),
        pytest.param({"requester_phone": "03121234567"}, ["requester_phone"], id="requester-phone-a-landline"),
        pytest.param({"requester_name": "吴" * 51}, ["requester_name"], id="requester-name-51-chars"),
        pytest.param({"channel": "web"}, ["channel"], id="channel-web-is-not-on-behalf"),
        pytest.param({"title": "修" * 81, "channel": "fax"}, ["title", "channel"], id="two-fields-wrong"),
    ],
)
def test_an_on_behalf_request_with_bad_input_is_refused_with_the_fields_named(world, api, changes, fields):
    before = db_state()
    response = api(world.cast.staff_a).post(
        "/api/v1/requests/on-behalf/", _on_behalf_payload(world, **changes), format="json"
    )
    assert_invalid(response, fields, before)


@pytest.mark.parametrize(
    ("actor", "village"),
    [("staff_a", "village_b1"), ("station_staff_a1", "village_a2"), ("staff_b", "village_a1")],
)
def test_an_on_behalf_request_for_a_village_outside_the_staff_area_is_refused(world, api, actor, village):
    before = db_state()
    response = api(actor_user(world.cast, actor)).post(
        "/api/v1/requests/on-behalf/", _on_behalf_payload(world, village=world.org[village].id), format="json"
    )
    assert_refused(response, 400, "out_of_area", "该村/社区不在您的服务范围内。", before)


# ---------------------------------------------------------------------------------------------
# 审核, 派单, cancel, 评单
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, ["decision"], id="decision-missing"),
        pytest.param({"decision": "maybe"}, ["decision"], id="decision-unknown"),
        pytest.param({"decision": None}, ["decision"], id="decision-null"),
        pytest.param({"decision": ["accept"]}, ["decision"], id="decision-a-list"),
        pytest.param({"decision": "reject", "reason": "原" * 501}, ["reason"], id="reason-501-chars"),
    ],
)
def test_a_review_with_bad_input_is_refused_with_the_fields_named(world, api, body, fields):
    before = db_state()
    response = api(world.cast.staff_a).post(f"/api/v1/requests/{world.request.id}/review/", body, format="json")
    assert_invalid(response, fields, before)


@pytest.mark.parametrize("reason", [MISSING, "", "   "])
def test_a_rejection_without_a_reason_is_refused(world, api, reason):
    before = db_state()
    response = api(world.cast.staff_a).post(
        f"/api/v1/requests/{world.request.id}/review/",
        _apply({"decision": "reject"}, {"reason": reason}),
        format="json",
    )
    assert_refused(response, 400, "reason_required", "不予受理时必须填写原因。", before)


def _many_ids(world: World) -> dict:
    return {"volunteer_ids": list(range(1, 52))}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"volunteer_ids": MISSING}, ["volunteer_ids"], id="ids-missing"),
        pytest.param({"volunteer_ids": []}, ["volunteer_ids"], id="ids-empty"),
        pytest.param({"volunteer_ids": None}, ["volunteer_ids"], id="ids-null"),
        pytest.param({"volunteer_ids": "abc"}, ["volunteer_ids"], id="ids-a-string"),
        pytest.param({"volunteer_ids": 1}, ["volunteer_ids"], id="ids-a-number"),
        pytest.param({"volunteer_ids": ["abc"]}, ["volunteer_ids"], id="id-not-a-number"),
        pytest.param({"volunteer_ids": [0]}, ["volunteer_ids"], id="id-0"),
        pytest.param({"volunteer_ids": [-3]}, ["volunteer_ids"], id="id-negative"),
        pytest.param({"volunteer_ids": [HUGE_ID]}, ["volunteer_ids"], id="id-huge"),
        pytest.param(lambda w: {"volunteer_ids": [w.cast.volunteer.id] * 2}, ["volunteer_ids"], id="ids-duplicated"),
        pytest.param(_many_ids, ["volunteer_ids"], id="ids-51"),
        pytest.param({"expires_in_minutes": 4}, ["expires_in_minutes"], id="expiry-4-minutes"),
        pytest.param({"expires_in_minutes": 1441}, ["expires_in_minutes"], id="expiry-over-a-day"),
        pytest.param({"expires_in_minutes": "soon"}, ["expires_in_minutes"], id="expiry-not-a-number"),
    ],
)
def test_a_dispatch_with_bad_input_is_refused_with_the_fields_named(world, api, changes, fields):
    advance(world, "queued")
    body = _apply({"volunteer_ids": [world.cast.volunteer.id]}, _resolve(changes, world))
    before = db_state()
    response = api(world.cast.staff_a).post(f"/api/v1/requests/{world.request.id}/dispatch/", body, format="json")
    assert_invalid(response, fields, before)


def _unverified(world: World) -> list[int]:
    volunteer = make_volunteer(
        township=world.org["township_a"], village=world.org["village_a1"], verified=False, name="未核验"
    )
    return [volunteer.id]


@pytest.mark.parametrize(
    ("actor", "ids", "code", "detail"),
    [
        pytest.param(
            "staff_a",
            lambda w: [999999],
            "unknown_volunteer",
            "以下志愿者不存在或不在您的服务范围内：999999",
            id="unknown",
        ),
        pytest.param(
            "staff_a",
            lambda w: [w.volunteer_b.id],
            "unknown_volunteer",
            None,
            id="volunteer-of-another-township",
        ),
        pytest.param(
            "staff_a",
            lambda w: [w.cast.volunteer.id, w.volunteer_b.id],
            "unknown_volunteer",
            None,
            id="one-in-scope-one-not",
        ),
        pytest.param(
            "station_staff_a1",
            lambda w: [w.cast.other_volunteer.id],
            "unknown_volunteer",
            None,
            id="volunteer-of-another-village-for-a-station",
        ),
        pytest.param(
            "staff_a",
            _unverified,
            "volunteer_unavailable",
            "以下志愿者未通过实名核验或已停止服务：{numbers}",
            id="volunteer-not-verified",
        ),
    ],
)
def test_a_dispatch_to_volunteers_out_of_scope_or_unavailable_is_refused(world, api, actor, ids, code, detail):
    advance(world, "queued")
    volunteer_ids = ids(world)
    before = db_state()
    response = api(actor_user(world.cast, actor)).post(
        f"/api/v1/requests/{world.request.id}/dispatch/", {"volunteer_ids": volunteer_ids}, format="json"
    )
    # A volunteer still under review has no number yet: the message names them masked.
    numbers = "、".join(
        v.volunteer_number or v.user.masked_name
        for v in VolunteerProfile.objects.filter(id__in=volunteer_ids).select_related("user")
    )
    assert_refused(response, 400, code, detail and detail.format(numbers=numbers), before)
    if code == "unknown_volunteer":
        out_of_scope = [i for i in volunteer_ids if i != world.cast.volunteer.id]
        assert response.json()["detail"] == "以下志愿者不存在或不在您的服务范围内：" + ", ".join(map(str, out_of_scope))


def test_a_dispatch_to_a_volunteer_already_offered_is_refused(world, api):
    advance(world, "offered")
    before = db_state()
    response = api(world.cast.staff_a).post(
        f"/api/v1/requests/{world.request.id}/dispatch/", {"volunteer_ids": [world.cast.volunteer.id]}, format="json"
    )
    assert_refused(
        response, 409, "already_offered", f"已向以下志愿者派过单：{world.cast.volunteer.volunteer_number}", before
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"reason": "因" * 501}, ["reason"], id="reason-501-chars"),
        pytest.param({"reason": {"text": "不需要了"}}, ["reason"], id="reason-an-object"),
        pytest.param({"reason": None}, ["reason"], id="reason-null"),
    ],
)
def test_a_cancellation_with_bad_input_is_refused_with_the_fields_named(world, api, body, fields):
    advance(world, "offered")
    before = db_state()
    response = api(world.cast.resident).post(f"/api/v1/requests/{world.request.id}/cancel/", body, format="json")
    assert_invalid(response, fields, before)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, ["score"], id="score-missing"),
        pytest.param({"score": 0}, ["score"], id="score-0"),
        pytest.param({"score": 6}, ["score"], id="score-6"),
        pytest.param({"score": "x"}, ["score"], id="score-x"),
        pytest.param({"score": None}, ["score"], id="score-null"),
        pytest.param({"score": 4.5}, ["score"], id="score-fraction"),
        pytest.param({"score": 5, "tags": ["rude"]}, ["tags"], id="tag-unknown"),
        pytest.param({"score": 5, "tags": "friendly"}, ["tags"], id="tags-a-string"),
        pytest.param({"score": 5, "tags": [None]}, ["tags"], id="tag-null"),
        pytest.param(
            {"score": 5, "tags": ["friendly", "on_time", "skilled", "patient", "late", "unsolved", "friendly"]},
            ["tags"],
            id="tags-7",
        ),
        pytest.param({"score": 5, "comment": "好" * 501}, ["comment"], id="comment-501-chars"),
        pytest.param(
            {"score": 9, "tags": ["rude"], "comment": "好" * 501}, ["score", "tags", "comment"], id="all-wrong"
        ),
    ],
)
def test_a_rating_with_bad_input_is_refused_with_the_fields_named(world, api, body, fields):
    advance(world, "completed")
    before = db_state()
    response = api(world.cast.resident).post(f"/api/v1/requests/{world.request.id}/rate/", body, format="json")
    assert_invalid(response, fields, before)


# ---------------------------------------------------------------------------------------------
# The volunteer's side: decline, complete, release
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "action", "body", "fields"),
    [
        pytest.param("offered", "decline", {"reason": "忙" * 501}, ["reason"], id="decline-reason-501-chars"),
        pytest.param("offered", "decline", {"reason": ["忙"]}, ["reason"], id="decline-reason-a-list"),
        pytest.param("in_service", "complete", {"report": "修" * 2001}, ["report"], id="complete-report-2001-chars"),
        pytest.param("in_service", "complete", {"report": None}, ["report"], id="complete-report-null"),
        pytest.param("accepted", "release", {}, ["reason"], id="release-reason-missing"),
        pytest.param("accepted", "release", {"reason": "   "}, ["reason"], id="release-reason-blank"),
        pytest.param("accepted", "release", {"reason": "急" * 501}, ["reason"], id="release-reason-501-chars"),
    ],
)
def test_a_volunteer_answer_with_bad_input_is_refused_with_the_fields_named(world, api, stage, action, body, fields):
    advance(world, stage)
    before = db_state()
    response = api(world.cast.volunteer).post(f"/api/v1/offers/{world.offer.id}/{action}/", body, format="json")
    assert_invalid(response, fields, before)


# ---------------------------------------------------------------------------------------------
# Illegal transitions: 409, nothing changed
# ---------------------------------------------------------------------------------------------


def _expire_offer(world: World) -> None:
    assert world.offer is not None
    Offer.objects.filter(id=world.offer.id).update(expires_at=timezone.now() - timedelta(minutes=1))


def _cancel(world: World) -> None:
    request_cancel(request=world.request, actor=world.cast.resident, reason="已自行解决")


REQUEST_URL = "/api/v1/requests/{request}/{action}/"
OFFER_URL = "/api/v1/offers/{offer}/{action}/"

TRANSITIONS = [
    # (stage, extra setup, actor, url, action, body, code, detail)
    pytest.param(
        "queued", None, "staff_a", REQUEST_URL, "review", {"decision": "accept"}, "stale_status",
        "工单状态已被他人更新，请刷新后重试。", id="review-twice",
    ),
    pytest.param(
        "queued", None, "staff_a", REQUEST_URL, "review", {"decision": "reject", "reason": "重复"}, "stale_status",
        "工单状态已被他人更新，请刷新后重试。", id="reject-after-accepting",
    ),
    pytest.param(
        "submitted", _cancel, "staff_a", REQUEST_URL, "review", {"decision": "accept"}, "stale_status",
        "工单状态已被他人更新，请刷新后重试。", id="review-a-cancelled-request",
    ),
    pytest.param(
        "submitted", None, "staff_a", REQUEST_URL, "dispatch", "volunteer", "not_dispatchable",
        "工单当前状态为「已提交」，不能派单。", id="dispatch-before-review",
    ),
    pytest.param(
        "accepted", None, "staff_a", REQUEST_URL, "dispatch", "fresh_volunteer", "not_dispatchable",
        "工单当前状态为「已接单」，不能派单。", id="dispatch-when-every-place-is-taken",
    ),
    pytest.param(
        "completed", None, "staff_a", REQUEST_URL, "dispatch", "fresh_volunteer", "not_dispatchable",
        "工单当前状态为「已完成」，不能派单。", id="dispatch-after-completion",
    ),
    pytest.param(
        "completed", None, "resident", REQUEST_URL, "cancel", {}, "not_cancellable",
        "工单当前状态为「已完成」，不能取消。", id="cancel-after-completion",
    ),
    pytest.param(
        "in_service", None, "resident", REQUEST_URL, "cancel", {}, "not_cancellable",
        "工单当前状态为「服务中」，不能取消。", id="cancel-during-service",
    ),
    pytest.param(
        "offered", _cancel, "resident", REQUEST_URL, "cancel", {}, "not_cancellable",
        "工单当前状态为「已取消」，不能取消。", id="cancel-twice",
    ),
    pytest.param(
        "in_service", None, "resident", REQUEST_URL, "rate", {"score": 5}, "not_completed",
        "服务完成后才能评价。", id="rate-before-completion",
    ),
    pytest.param(
        "offered", _cancel, "resident", REQUEST_URL, "rate", {"score": 1}, "not_completed",
        "服务完成后才能评价。", id="rate-a-cancelled-request",
    ),
    pytest.param(
        "closed", None, "resident", REQUEST_URL, "rate", {"score": 4}, "already_rated",
        "该工单已经评价过了。", id="rate-twice",
    ),
    pytest.param(
        "closed", None, "staff_a", REQUEST_URL, "rate", {"score": 1}, "already_rated",
        "该工单已经评价过了。", id="staff-rate-after-the-resident",
    ),
    pytest.param(
        "accepted", None, "other_volunteer", OFFER_URL.replace("{offer}", "{other_offer}"), "accept", None,
        "offer_taken", "手慢了，这个需求已经有志愿者接单了。", id="accept-after-the-place-was-taken",
    ),
    pytest.param(
        "offered", _expire_offer, "volunteer", OFFER_URL, "accept", None, "offer_expired",
        "该邀请已过期。", id="accept-an-expired-offer",
    ),
    pytest.param(
        "offered", _cancel, "volunteer", OFFER_URL, "accept", None, "request_cancelled",
        "该需求已取消。", id="accept-after-cancellation",
    ),
    pytest.param(
        "offered", _cancel, "volunteer", OFFER_URL, "decline", {}, "request_cancelled",
        "该需求已取消。", id="decline-after-cancellation",
    ),
    pytest.param(
        "accepted", None, "volunteer", OFFER_URL, "decline", {}, "already_accepted",
        "您已接下这个任务。", id="decline-after-accepting",
    ),
    pytest.param(
        "offered", None, "volunteer", OFFER_URL, "arrive", None, "not_ready",
        "请等待所需志愿者全部接单后再签到。", id="arrive-before-accepting",
    ),
    pytest.param(
        "accepted", None, "volunteer", OFFER_URL, "complete", {}, "not_checked_in",
        "请先签到，再完成服务。", id="complete-before-arriving",
    ),
    pytest.param(
        "offered", None, "volunteer", OFFER_URL, "complete", {}, "not_checked_in",
        "请先签到，再完成服务。", id="complete-before-accepting",
    ),
    pytest.param(
        "accepted", _cancel, "volunteer", OFFER_URL, "arrive", None, "request_cancelled",
        "该需求已取消。", id="arrive-after-cancellation",
    ),
    pytest.param(
        "accepted", _cancel, "volunteer", OFFER_URL, "complete", {}, "request_cancelled",
        "该需求已取消。", id="complete-after-cancellation",
    ),
    pytest.param(
        "accepted", _cancel, "volunteer", OFFER_URL, "release", {"reason": "有事"}, "request_cancelled",
        "该需求已取消。", id="release-after-cancellation",
    ),
    pytest.param(
        "offered", None, "volunteer", OFFER_URL, "release", {"reason": "有事"}, "stale_status",
        "该邀请状态已变化，请刷新后重试。", id="release-before-accepting",
    ),
    pytest.param(
        "in_service", None, "volunteer", OFFER_URL, "release", {"reason": "有事"}, "stale_status",
        "该邀请状态已变化，请刷新后重试。", id="release-after-arriving",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("stage", "setup", "actor", "url", "action", "body", "code", "detail"), TRANSITIONS)
def test_an_action_the_current_state_does_not_allow_is_a_conflict(
    world, api, stage, setup, actor, url, action, body, code, detail
):
    advance(world, stage)
    if setup:
        setup(world)
    if body == "volunteer":
        body = {"volunteer_ids": [world.cast.volunteer.id]}
    elif body == "fresh_volunteer":  # a volunteer of township A never offered this request
        fresh = make_volunteer(township=world.org["township_a"], village=world.org["village_a1"], name="郑新")
        body = {"volunteer_ids": [fresh.id]}
    path = url.format(
        request=world.request.id,
        offer=world.offer.id if world.offer else 0,
        other_offer=world.other_offer.id if world.other_offer else 0,
        action=action,
    )
    before = db_state()

    response = api(actor_user(world.cast, actor)).post(path, body, format="json")

    assert_refused(response, 409, code, detail, before)


# ---------------------------------------------------------------------------------------------
# Unknown ids: 404, nothing changed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["999999", "abc", str(HUGE_ID), "-1"])
@pytest.mark.parametrize(
    ("actor", "method", "path", "body"),
    [
        ("resident", "get", "/api/v1/requests/{id}/", None),
        ("staff_a", "post", "/api/v1/requests/{id}/review/", {"decision": "accept"}),
        ("staff_a", "post", "/api/v1/requests/{id}/dispatch/", {"volunteer_ids": [1]}),
        ("resident", "post", "/api/v1/requests/{id}/cancel/", {}),
        ("resident", "post", "/api/v1/requests/{id}/rate/", {"score": 5}),
        ("volunteer", "get", "/api/v1/offers/{id}/", None),
        ("volunteer", "post", "/api/v1/offers/{id}/accept/", None),
        ("volunteer", "post", "/api/v1/offers/{id}/decline/", {}),
        ("volunteer", "post", "/api/v1/offers/{id}/arrive/", None),
        ("volunteer", "post", "/api/v1/offers/{id}/complete/", {}),
        ("volunteer", "post", "/api/v1/offers/{id}/release/", {"reason": "有事"}),
        ("staff_a", "get", "/api/v1/volunteers/{id}/", None),
        ("resident", "get", "/api/v1/notifications/{id}/", None),
        ("resident", "post", "/api/v1/notifications/{id}/read/", None),
    ],
)
def test_an_unknown_id_is_not_found(world, api, actor, method, path, body, bad_id):
    advance(world, "offered")
    client = api(actor_user(world.cast, actor))
    before = db_state()

    url = path.format(id=bad_id)
    response = client.get(url) if method == "get" else client.post(url, body, format="json")

    assert response.status_code == 404, response.content
    assert error_body(response) == NOT_FOUND
    assert db_state() == before


# ---------------------------------------------------------------------------------------------
# Log-in
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, ["phone", "password"], id="nothing"),
        pytest.param({"phone": None, "password": "x"}, ["phone"], id="phone-null"),
        pytest.param({"phone": "1" * 21, "password": "x"}, ["phone"], id="phone-21-chars"),
        pytest.param({"phone": "13900000000", "password": "p" * 129}, ["password"], id="password-129-chars"),
        pytest.param({"phone": "not a phone", "password": "correct-horse-battery"}, ["phone"], id="phone-garbage"),
        pytest.param(lambda w: {"phone": w.cast.resident.phone, "password": "nope"}, ["phone"], id="wrong-password"),
    ],
)
def test_a_log_in_with_bad_input_is_refused_with_the_fields_named(world, api, body, fields):
    cache.clear()  # the login throttle counts in the cache
    before = db_state()
    response = api().post("/api/v1/auth/token/", _resolve(body, world), format="json")
    assert_invalid(response, fields, before)


def test_log_in_attempts_past_the_limit_are_throttled(world, api):
    cache.clear()
    body = {"phone": world.cast.resident.phone, "password": "nope"}
    codes = [api().post("/api/v1/auth/token/", body, format="json").status_code for _ in range(11)]
    assert codes == [400] * 10 + [429]
    response = api().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 429
    assert error_body(response)["code"] == "throttled"


# ---------------------------------------------------------------------------------------------
# Bodies that are not a JSON object, on every endpoint that reads a body
# ---------------------------------------------------------------------------------------------

BODY_ENDPOINTS = [
    # (stage, actor, path)
    pytest.param("submitted", "resident", "/api/v1/requests/", id="create"),
    pytest.param("submitted", "staff_a", "/api/v1/requests/on-behalf/", id="on-behalf"),
    pytest.param("submitted", "staff_a", "/api/v1/requests/{request}/review/", id="review"),
    pytest.param("queued", "staff_a", "/api/v1/requests/{request}/dispatch/", id="dispatch"),
    pytest.param("offered", "resident", "/api/v1/requests/{request}/cancel/", id="cancel"),
    pytest.param("completed", "resident", "/api/v1/requests/{request}/rate/", id="rate"),
    pytest.param("offered", "volunteer", "/api/v1/offers/{offer}/decline/", id="decline"),
    pytest.param("in_service", "volunteer", "/api/v1/offers/{offer}/complete/", id="complete"),
    pytest.param("accepted", "volunteer", "/api/v1/offers/{offer}/release/", id="release"),
    pytest.param("submitted", "anonymous", "/api/v1/auth/token/", id="token"),
]

BAD_BODIES = [
    # (raw body, content type, status, code)
    pytest.param(b"{not json", "application/json", 400, "parse_error", id="broken-json"),
    pytest.param(b"\xff\xfe\x00garbage", "application/json", 400, "parse_error", id="not-utf8"),
    pytest.param(b'{"score": NaN}', "application/json", 400, "parse_error", id="json-nan"),
    pytest.param(b'{"reason": "\\ud800"}', "application/json", 400, "parse_error", id="lone-surrogate"),
    pytest.param(b"[1, 2]", "application/json", 400, "invalid", id="json-list"),
    pytest.param(b'"accept"', "application/json", 400, "invalid", id="json-string"),
    pytest.param(b"42", "application/json", 400, "invalid", id="json-number"),
    pytest.param(b"null", "application/json", 400, "invalid", id="json-null"),
    pytest.param(b"hello", "text/plain", 415, "unsupported_media_type", id="plain-text"),
    pytest.param(b"<xml/>", "application/xml", 415, "unsupported_media_type", id="xml"),
]


@pytest.mark.parametrize(("raw", "content_type", "status_code", "code"), BAD_BODIES)
@pytest.mark.parametrize(("stage", "actor", "path"), BODY_ENDPOINTS)
def test_a_body_that_is_not_a_json_object_is_refused_cleanly(
    world, api, stage, actor, path, raw, content_type, status_code, code
):
    cache.clear()
    advance(world, stage)
    url = path.format(request=world.request.id, offer=world.offer.id if world.offer else 0)
    before = db_state()

    response = api(actor_user(world.cast, actor)).generic("POST", url, raw, content_type=content_type)

    assert response.status_code == status_code, response.content
    body = error_body(response)
    assert body["code"] == code
    if code == "invalid":
        assert body["detail"] == INVALID
        assert list(body["errors"]) == ["non_field_errors"]
        assert body["errors"]["non_field_errors"][0]
    assert db_state() == before


# ---------------------------------------------------------------------------------------------
# Query strings of the list endpoints
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "query", "status_code", "fields"),
    [
        ("staff_a", "/api/v1/requests/?status=lost", 400, ["status"]),
        ("staff_a", "/api/v1/requests/?urgency=now", 400, ["urgency"]),
        ("staff_a", "/api/v1/requests/?created_after=yesterday", 400, ["created_after"]),
        ("staff_a", "/api/v1/requests/?created_after=0001-01-01T00:00:00", 400, ["created_after"]),
        ("staff_a", "/api/v1/requests/?created_before=9999-12-31T23:59:59-12:00", 400, ["created_before"]),
        ("staff_a", "/api/v1/requests/?category=abc", 400, ["category"]),
        ("staff_a", f"/api/v1/requests/?township={HUGE_ID}", 400, ["township"]),
        ("staff_a", "/api/v1/requests/?village=1e400", 400, ["village"]),
        ("staff_a", "/api/v1/requests/?village=1.5", 400, ["village"]),
        ("staff_a", "/api/v1/requests/?page=99", 404, None),
        ("staff_a", "/api/v1/requests/?page=abc", 404, None),
        ("volunteer", "/api/v1/offers/?status=lost", 400, ["status"]),
        ("staff_a", f"/api/v1/volunteers/?township={HUGE_ID}", 400, ["township"]),
        ("staff_a", f"/api/v1/volunteers/?category={HUGE_ID}", 400, ["category"]),
        ("resident", f"/api/v1/places/?parent={HUGE_ID}", 400, ["parent"]),
        ("resident", "/api/v1/places/?kind=planet", 400, ["kind"]),
        # Found by tests/workflow/test_api_fuzz.py: DRF and django-filter took these as not given.
        ("staff_a", "/api/v1/requests/?page_size=abc", 400, ["page_size"]),
        ("staff_a", "/api/v1/requests/?page_size=0", 400, ["page_size"]),
        ("staff_a", "/api/v1/requests/?page_size=-5", 400, ["page_size"]),
        ("staff_a", "/api/v1/volunteers/?verified=maybe", 400, ["verified"]),
        ("staff_a", "/api/v1/volunteers/?verified=1", 400, ["verified"]),
    ],
)
def test_a_bad_list_query_is_refused_cleanly(world, api, actor, query, status_code, fields):
    response = api(actor_user(world.cast, actor)).get(query)

    assert response.status_code == status_code, response.content
    body = error_body(response)
    if fields is None:
        assert body["code"] == "not_found"
    else:
        assert (body["detail"], body["code"]) == (INVALID, "invalid")
        assert sorted(body["errors"]) == fields


def test_well_formed_list_queries_still_narrow_the_list(world, api, org):
    """The bounds on ids and times refuse only what no row could match."""
    dispatcher = api(world.cast.dispatcher)

    def ids(url: str) -> list[int]:
        response = dispatcher.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        return [row["id"] for row in (body["results"] if isinstance(body, dict) else body)]

    assert ids(f"/api/v1/requests/?township={org['township_a'].id}") == [world.resident_a2.id, world.request.id]
    assert ids(f"/api/v1/requests/?village={org['village_b1'].id}") == [world.request_b.id]
    assert ids(f"/api/v1/requests/?category={org['other_category'].id}") == []
    assert ids("/api/v1/requests/?created_after=2000-01-01T00:00:00&created_before=2999-01-01T00:00:00%2B08:00") == [
        world.request_b.id,
        world.resident_a2.id,
        world.request.id,
    ]
    assert ids("/api/v1/requests/?created_before=2000-01-01T00:00:00") == []
    assert ids(f"/api/v1/volunteers/?township={org['township_b'].id}") == [world.volunteer_b.id]
    assert ids(f"/api/v1/volunteers/?village={org['village_a2'].id}") == [world.cast.other_volunteer.id]
    assert ids(f"/api/v1/places/?parent={org['township_a'].id}") == sorted(
        [org["village_a1"].id, org["village_a2"].id],
        key=lambda pk: Place.objects.get(id=pk).name,
    )


def test_list_queries_found_by_the_fuzzer_are_answered_as_documented(world, api, org):
    """Cases tests/workflow/test_api_fuzz.py found, each once a 500 or an answer the schema does not document."""
    dispatcher = api(world.cast.dispatcher)
    everything = [world.request_b.id, world.resident_a2.id, world.request.id]

    def ids(url: str) -> list[int]:
        response = dispatcher.get(url)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    # A UTC offset Python takes but PostgreSQL does not (past ±15:59): compared in UTC, not a 500.
    assert ids("/api/v1/requests/?created_before=3600-01-23T00:35:46.43969%2B23:41") == everything
    assert ids("/api/v1/requests/?created_after=2000-01-01T00:00:00-23:59") == everything
    assert ids("/api/v1/requests/?created_after=3600-01-23T00:35:46%2B23:41") == []
    # An empty value is as if the parameter were not given (``allowEmptyValue`` in the schema).
    assert ids("/api/v1/requests/?village=&created_after=&urgency=&page=&page_size=") == everything
    # A page size past the limit is cut to it, however many digits it has.
    assert ids(f"/api/v1/requests/?page_size={'9' * 5000}") == everything
    assert ids(f"/api/v1/volunteers/?verified=true&township={org['township_b'].id}") == [world.volunteer_b.id]
    assert ids("/api/v1/volunteers/?verified=false") == []


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "path", ["/api/v1/requests/1.5/", "/api/v1/offers/1/accept/more/", "/api/v1/no-such-thing/", "/api/nothing/"]
)
def test_an_api_url_that_no_route_matches_is_a_json_not_found(world, api, method, path):
    """Django's own 404 page was HTML, which the schema documents nowhere (found by the fuzzer)."""
    client = api(world.cast.resident)
    response = client.get(path) if method == "get" else client.post(path, {}, format="json")

    assert response.status_code == 404
    assert error_body(response) == NOT_FOUND


def test_a_page_that_no_route_matches_is_still_an_html_not_found(world, client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
