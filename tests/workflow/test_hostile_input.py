"""Hostile and careless input is refused at the door, in the API's error shape, changing nothing."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import translation

from apps.accounts.models import User
from apps.service_requests.models import ServiceRequest
from tests.accounts.factories import make_user
from tests.service_requests.factories import request_payload, submit_request
from tests.workflow.scenario import db_state


@pytest.fixture
def resident_api(api, cast):
    return api(cast.resident)


def test_json_nested_a_hundred_thousand_deep_is_a_400(resident_api, cast) -> None:
    before = db_state()

    response = resident_api.generic("POST", "/api/v1/requests/", "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "提交的内容嵌套层数过多。", "code": "too_deep"}
    assert db_state() == before


def test_json_nested_just_past_the_limit_is_refused_and_at_the_limit_is_read(resident_api) -> None:
    too_deep = resident_api.generic("POST", "/api/v1/requests/", "[" * 33 + "]" * 33, content_type="application/json")
    at_limit = resident_api.generic("POST", "/api/v1/requests/", "[" * 32 + "]" * 32, content_type="application/json")

    assert (too_deep.status_code, too_deep.json()["code"]) == (400, "too_deep")
    # Read, then refused for what it is: not a request.
    assert (at_limit.status_code, at_limit.json()["code"]) == (400, "invalid")


def test_a_three_megabyte_body_is_a_json_413(resident_api) -> None:
    before = db_state()
    body = json.dumps({"title": "修" * 10, "description": "x" * (3 * 1024 * 1024)})

    response = resident_api.generic("POST", "/api/v1/requests/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "提交的内容太大。", "code": "too_large"}
    assert db_state() == before


def test_five_thousand_form_fields_are_a_json_413(resident_api) -> None:
    before = db_state()
    body = "&".join(f"f{i}=1" for i in range(5000))

    response = resident_api.generic("POST", "/api/v1/requests/", body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response.json() == {"detail": "提交的字段太多。", "code": "too_many_fields"}
    assert db_state() == before


def test_five_thousand_form_fields_on_a_page_get_the_house_400(client, cast) -> None:
    client.force_login(cast.resident)
    body = "&".join(f"f{i}=1" for i in range(5000))

    response = client.generic("POST", "/r/requests/new/", body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_an_unknown_id_gets_a_message_people_understand(resident_api, org) -> None:
    before = db_state()

    response = resident_api.post(
        "/api/v1/requests/", {"category": 99999, "village": org["village_a1"].id}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["category"] == ["编号为 99999 的选项不存在，或不可选择。"]
    assert db_state() == before


def test_the_framework_message_for_a_nul_character_is_ours() -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        ProhibitNullCharactersValidator()("a\x00b")

    assert excinfo.value.messages == ["不能包含空字符（NUL）。"]


INVISIBLE = "\u200b\u200c\u2060\ufeff"


@pytest.mark.parametrize("field", ["title", "address", "contact_name", "description"])
def test_a_field_of_invisible_characters_only_is_empty(resident_api, org, field) -> None:
    before = db_state()
    payload = request_payload(category=org["category"], village=org["village_a1"], **{field: INVISIBLE + " \x00"})

    response = resident_api.post("/api/v1/requests/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["该字段不能为空。"]}
    assert db_state() == before


def test_invisible_characters_are_taken_out_of_what_is_kept(resident_api, org) -> None:
    payload = request_payload(
        category=org["category"], village=org["village_a1"], title="修\u200b水龙头\x00", description="第一行\r\n第二行"
    )

    response = resident_api.post("/api/v1/requests/", payload, format="json")

    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.title, created.description) == ("修水龙头", "第一行\n第二行")


def test_a_rejection_reason_of_invisible_characters_only_is_refused(api, cast, org) -> None:
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    before = db_state()

    response = api(cast.staff_a).post(
        f"/api/v1/requests/{request.id}/review/", {"decision": "reject", "reason": INVISIBLE}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "reason_required"
    assert db_state() == before


def test_a_phone_in_full_width_digits_finds_the_same_resident_not_a_second_account(api, cast, org) -> None:
    resident = make_user(phone="13812345678", name="郭大爷")
    payload = request_payload(
        category=org["category"],
        village=org["village_a1"],
        requester_phone="1381234567８",
        requester_name="郭大爷",
        channel="phone",
    )

    response = api(cast.staff_a).post("/api/v1/requests/on-behalf/", payload, format="json")

    assert response.status_code == 201, response.content
    assert ServiceRequest.objects.get(id=response.json()["id"]).requester_id == resident.id
    assert User.objects.filter(name="郭大爷").count() == 1


def test_zeros_are_not_a_landline(resident_api, org) -> None:
    before = db_state()
    payload = request_payload(category=org["category"], village=org["village_a1"], contact_phone="00000000000")

    response = resident_api.post("/api/v1/requests/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"contact_phone": ["请输入手机号码或带区号的固定电话。"]}
    assert db_state() == before


@pytest.mark.parametrize("category", [1.5, "1.5", True, "１"])
def test_an_id_that_is_not_a_whole_number_is_refused(resident_api, org, category) -> None:
    before = db_state()
    payload = request_payload(category=org["category"], village=org["village_a1"])
    payload["category"] = category

    response = resident_api.post("/api/v1/requests/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"category": ["请填写整数编号。"]}
    assert db_state() == before


def test_a_township_given_as_a_village_is_refused_in_words_people_understand(resident_api, org) -> None:
    payload = request_payload(category=org["category"], village=org["village_a1"])
    payload["village"] = org["township_a"].id

    response = resident_api.post("/api/v1/requests/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"village": [f"编号为 {org['township_a'].id} 的选项不存在，或不可选择。"]}
