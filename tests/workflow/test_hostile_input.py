"""Hostile and careless input is refused at the door, in the API's error shape, changing nothing."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import translation

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
