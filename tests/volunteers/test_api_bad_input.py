"""Bad input to the volunteer registration API: a clear translated message on the field at fault,
nothing changed, never a 500."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.volunteers.ids import check_char, resident_id, years_ago
from tests.volunteers.test_api import payload
from tests.volunteers.world import APPLICANT_ID, build_applications, volunteer_state
from tests.workflow.scenario import INVALID, error_body

TOO_YOUNG = "未满14周岁不能自行注册志愿者，请由监护人陪同到所在村（社区）新时代文明实践站办理。"
ID_LENGTH = "证件号码应为18位，最后一位可以是数字或X。"


@pytest.fixture
def world(cast, org):
    return build_applications(org)


def _wrong_check(number: str) -> str:
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def _feb_30() -> str:
    first17 = "13068119900230123"
    return first17 + check_char(first17)


CASES: dict[str, tuple[Any, Any]] = {
    "wrong check digit": (
        lambda org: {"id_number": _wrong_check(resident_id(years_ago(30)))},
        {"id_number": ["证件号码校验位不正确，请核对是否输错。"]},
    ),
    "17 digits": (lambda org: {"id_number": resident_id(years_ago(30))[:17]}, {"id_number": [ID_LENGTH]}),
    "19 digits": (lambda org: {"id_number": resident_id(years_ago(30)) + "1"}, {"id_number": [ID_LENGTH]}),
    "Feb 30": (lambda org: {"id_number": _feb_30()}, {"id_number": ["证件号码中的出生日期不存在，请核对。"]}),
    "born tomorrow": (
        lambda org: {"id_number": resident_id(timezone.localdate() + timedelta(days=1))},
        {"id_number": ["证件号码中的出生日期不正确，请核对。"]},
    ),
    "13 years old": (
        lambda org: {
            "id_number": resident_id(years_ago(13)),
            "guardian_name": "家长",
            "guardian_phone": "13900001111",
            "guardian_consent": True,
        },
        {"id_number": [TOO_YOUNG]},
    ),
    "15 without guardian": (
        lambda org: {"id_number": resident_id(years_ago(15))},
        {
            "guardian_name": ["未满18周岁须填写监护人姓名。"],
            "guardian_phone": ["未满18周岁须填写监护人手机号。"],
            "guardian_consent": ["未满18周岁须经监护人同意后才能注册。"],
        },
    ),
    "15 with a guardian's bad phone": (
        lambda org: {
            "id_number": resident_id(years_ago(15)),
            "guardian_name": "家长",
            "guardian_phone": "12345",
            "guardian_consent": True,
        },
        {"guardian_phone": ["请输入11位手机号码。"]},
    ),
    "passport without gender or birth date": (
        lambda org: {"id_type": "passport", "id_number": "E12345678"},
        {"gender": ["请选择性别。"], "birth_date": ["请填写出生日期。"]},
    ),
    "passport of a child": (
        lambda org: {
            "id_type": "passport",
            "id_number": "E12345678",
            "gender": "F",
            "birth_date": years_ago(10).isoformat(),
        },
        {"birth_date": [TOO_YOUNG]},
    ),
    "residence permit number as resident ID": (
        lambda org: {"id_number": resident_id(years_ago(30), region="810000")},
        {"id_number": ["这是港澳台居民居住证号码，请选择对应的证件类型。"]},
    ),
    "unknown ID type": (lambda org: {"id_type": "driving_licence"}, {"id_type": ["“driving_licence” 不是合法选项。"]}),
    "no categories": (lambda org: {"categories": []}, {"categories": ["请至少选择一个服务类别。"]}),
    "unknown skill": (lambda org: {"skills": ["flying"]}, {"skills": {"0": ["“flying” 不是合法选项。"]}}),
    "no availability": (lambda org: {"availability": []}, {"availability": ["请至少选择一个可服务时段。"]}),
    "unknown slot": (
        lambda org: {"availability": ["mon_night"]},
        {"availability": {"0": ["“mon_night” 不是合法选项。"]}},
    ),
    "a township as village": (
        lambda org: {"village": org["township_a"].id},
        lambda org: {"village": [f"编号为 {org['township_a'].id} 的选项不存在，或不可选择。"]},
    ),
    "radius 0": (lambda org: {"service_radius_km": 0}, {"service_radius_km": ["请确保该值大于或者等于 1。"]}),
    "radius 51": (lambda org: {"service_radius_km": 51}, {"service_radius_km": ["请确保该值小于或者等于 50。"]}),
    "bad emergency phone": (
        lambda org: {"emergency_contact_phone": "110"},
        {"emergency_contact_phone": ["请输入手机号码或带区号的固定电话。"]},
    ),
    "no privacy consent": (
        lambda org: {"privacy_consent": False},
        {"privacy_consent": ["请阅读并同意个人信息处理说明。"]},
    ),
    "invisible name": (lambda org: {"name": "\u200b "}, {"name": ["该字段不能为空。"]}),
    "number too long": (lambda org: {"id_number": "1" * 41}, {"id_number": ["请确保这个字段不能超过 40 个字符。"]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_application_is_refused_on_the_field_at_fault(api, cast, org, world, case):
    change, errors = CASES[case]
    before = volunteer_state()
    response = api(cast.resident).post("/api/v1/volunteer/application/", payload(org, **change(org)), format="json")
    assert response.status_code == 400, response.content
    body = error_body(response)
    assert (body["detail"], body["code"]) == (INVALID, "invalid")
    assert body["errors"] == (errors(org) if callable(errors) else errors)
    assert volunteer_state() == before


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("{not json", "application/json", "parse_error"),
        ("[1, 2]", "application/json", "invalid"),
        ('"text"', "application/json", "invalid"),
    ],
)
def test_a_body_that_is_no_application_is_a_400(api, cast, world, body, content_type, code):
    before = volunteer_state()
    response = api(cast.resident).generic("POST", "/api/v1/volunteer/application/", body, content_type=content_type)
    assert response.status_code == 400
    assert error_body(response)["code"] == code
    assert volunteer_state() == before


@pytest.mark.parametrize(
    ("action", "body", "errors"),
    [
        ("reject", {}, {"reason": ["该字段是必填项。"]}),
        ("reject", {"reason": " \u200b"}, {"reason": ["该字段不能为空。"]}),
        ("reject", {"reason": "长" * 201}, {"reason": ["请确保这个字段不能超过 200 个字符。"]}),
        ("reveal-id", {}, {"reason": ["该字段是必填项。"]}),
        ("reveal-id", {"reason": ""}, {"reason": ["该字段不能为空。"]}),
    ],
)
def test_a_rejection_or_a_reveal_without_a_reason_is_refused(api, cast, world, action, body, errors):
    before = volunteer_state()
    response = api(cast.staff_a).post(
        f"/api/v1/volunteer-applications/{world.profile.id}/{action}/", body, format="json"
    )
    assert response.status_code == 400
    assert error_body(response)["errors"] == errors
    assert APPLICANT_ID not in response.content.decode()
    assert volunteer_state() == before


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"status": "maybe"}, {"status": ["选择一个有效的选项。 maybe 不在可用的选项中。"]}),
        ({"number": "Z" * 17}, {"number": ["确保该变量包含不超过 16 字符 (目前字符数 17)。"]}),
    ],
)
def test_a_bad_queue_filter_is_a_400(api, cast, world, query, errors):
    response = api(cast.dispatcher).get("/api/v1/volunteer-applications/", query)
    assert response.status_code == 400
    assert error_body(response)["errors"] == errors


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"categories": []}, {"categories": ["请至少选择一个服务类别。"]}),
        ({"availability": []}, {"availability": ["请至少选择一个可服务时段。"]}),
        ({"village": 999999}, {"village": ["编号为 999999 的选项不存在，或不可选择。"]}),
        ({"village": "1.5"}, {"village": ["请填写整数编号。"]}),
        ({"service_radius_km": "far"}, {"service_radius_km": ["请填写合法的整数值。"]}),
    ],
)
def test_a_bad_profile_change_is_refused_and_changes_nothing(api, cast, world, body, errors):
    before = volunteer_state()
    response = api(cast.volunteer).patch("/api/v1/volunteer/profile/", body, format="json")
    assert response.status_code == 400
    assert error_body(response)["errors"] == errors
    assert volunteer_state() == before
