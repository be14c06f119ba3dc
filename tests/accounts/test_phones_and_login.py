"""Phone numbers (normalised, validated, looked up by a keyed hash, stored encrypted), logging in
with them through the API and the page, and the masking helpers of PIPL Art. 28."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from rest_framework.authtoken.models import Token

from apps.accounts.models import User
from apps.accounts.phones import normalize_phone, phone_digest, validate_contact_phone, validate_mobile
from apps.accounts.serializers import LOGIN_FAILED
from apps.accounts.services import resident_get_or_create
from apps.core.masking import mask_name, mask_phone
from apps.service_requests.models import ServiceRequest
from tests.accounts.factories import PASSWORD, make_user
from tests.service_requests.factories import submit_request

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def fresh_login_throttle():
    # The login throttle counts per client address in the cache; start every test from zero.
    cache.clear()
    yield
    cache.clear()


# --- normalisation and validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13912345678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        (" 139 1234-5678 ", "13912345678"),
        ("(0312) 386-1234", "03123861234"),
        ("（0312）38612345", "031238612345"),
        # Full-width digits and signs, as a Chinese input method types them, and invisible characters.
        ("１３９１２３４５６７８", "13912345678"),
        ("1391234567８", "13912345678"),
        ("＋８６ １３９-１２３４-５６７８", "13912345678"),
        ("139\u200b1234\u20605678\ufeff", "13912345678"),
        ("", ""),
    ],
)
def test_normalize_phone_strips_country_code_spaces_dashes_and_brackets(raw, normalized) -> None:
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["13912345678", "+86 139-1234-5678", "0086 19912345678", "15012345678"])
def test_validate_mobile_accepts_mainland_mobiles_in_any_common_notation(raw) -> None:
    assert validate_mobile(raw) == normalize_phone(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "1391234567", "139123456789", "12912345678", "23912345678", "0312-3861234", "1391234567x", "+1 139 1234 5678"],
)
def test_validate_mobile_rejects_anything_but_an_eleven_digit_mobile(raw) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_mobile(raw)

    assert excinfo.value.code == "invalid_phone"
    assert excinfo.value.messages == ["请输入11位手机号码。"]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13912345678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("0312-3861234", "03123861234"),
        ("0312-38612345", "031238612345"),
        ("010-62345678", "01062345678"),
        ("(0312) 3861234", "03123861234"),
    ],
)
def test_validate_contact_phone_accepts_mobiles_and_landlines_with_area_code(raw, normalized) -> None:
    assert validate_contact_phone(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "3861234",
        "38612345",
        "0312-386",
        "112",
        "abc",
        "1391234567",
        "00000000000",  # no area code starts 00
        "0312-1234567",  # local numbers start with 2–9
        "010-6234567",  # Beijing's local numbers have eight digits
        "\u200b\u200b",
    ],
)
def test_validate_contact_phone_rejects_landlines_without_area_code_and_junk(raw) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_contact_phone(raw)

    assert excinfo.value.code == "invalid_phone"
    assert excinfo.value.messages == ["请输入手机号码或带区号的固定电话。"]


# --- the keyed lookup hash ------------------------------------------------------------------------


def test_phone_digest_is_the_same_for_every_notation_of_one_number() -> None:
    notations = ["13912345678", "+86 139 1234 5678", "139-1234-5678", "008613912345678", "１３９１２３４５６７８"]
    digests = {phone_digest(raw) for raw in notations}

    assert len(digests) == 1
    digest = digests.pop()
    assert len(digest) == 64
    assert "13912345678" not in digest
    assert phone_digest("13912345679") != digest


def test_phone_digest_depends_on_the_lookup_key(settings) -> None:
    settings.PHONE_LOOKUP_KEY = "key-one"
    first = phone_digest("13912345678")
    assert phone_digest("13912345678") == first

    settings.PHONE_LOOKUP_KEY = "key-two"

    assert phone_digest("13912345678") != first


# --- encryption at rest ---------------------------------------------------------------------------


def _raw_column(model, column: str, pk: int) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        (value,) = cursor.fetchone()
    return value.tobytes().decode() if isinstance(value, memoryview) else str(value)


@pytest.mark.django_db
def test_user_phone_is_stored_encrypted_and_found_by_its_digest() -> None:
    user = User.objects.create_user(phone="+86 139-8765-4321", password=PASSWORD, name="王秀兰")

    raw = _raw_column(User, "phone", user.id)
    assert "13987654321" not in raw
    assert "87654321" not in raw
    assert raw != ""
    stored_digest = _raw_column(User, "phone_digest", user.id)
    assert stored_digest == phone_digest("13987654321")
    assert "13987654321" not in stored_digest
    reloaded = User.objects.get(id=user.id)
    assert reloaded.phone == "13987654321"
    assert User.objects.get_by_natural_key("139 8765 4321") == reloaded


@pytest.mark.django_db
def test_request_contact_phone_and_address_are_stored_encrypted(org) -> None:
    request = submit_request(requester=make_user(), category=org["category"], village=org["village_a1"])

    assert "13912345678" not in _raw_column(ServiceRequest, "contact_phone", request.id)
    assert "太平庄村东街12号" not in _raw_column(ServiceRequest, "address", request.id)
    reloaded = ServiceRequest.objects.get(id=request.id)
    assert (reloaded.contact_phone, reloaded.address) == ("13912345678", "太平庄村东街12号")


@pytest.mark.django_db
def test_create_user_refuses_a_landline_as_login_phone() -> None:
    with pytest.raises(ValidationError):
        User.objects.create_user(phone="0312-3861234", password=PASSWORD, name="王秀兰")

    assert User.objects.count() == 0


@pytest.mark.django_db
def test_two_accounts_cannot_share_one_number_in_different_notations() -> None:
    from django.db import IntegrityError, transaction

    User.objects.create_user(phone="13912345678", password=PASSWORD, name="王秀兰")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(phone="+86 139 1234 5678", password=PASSWORD, name="周建国")

    assert User.objects.count() == 1


@pytest.mark.django_db
def test_resident_get_or_create_finds_an_existing_resident_by_any_notation() -> None:
    existing = User.objects.create_user(phone="13912345678", password=PASSWORD, name="王秀兰")

    found = resident_get_or_create(phone="+86 139-1234-5678", name="另一个名字")

    assert found == existing
    assert User.objects.count() == 1
    created = resident_get_or_create(phone="13800000000", name="周建国")
    assert (created.phone, created.name, created.has_usable_password()) == ("13800000000", "周建国", False)


# --- logging in -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["13912345678", "+86 139 1234 5678", "139-1234-5678"])
def test_token_endpoint_logs_in_with_the_phone_as_typed(api, typed) -> None:
    user = make_user(phone="13912345678")

    response = api().post(TOKEN_URL, {"phone": typed, "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"token": Token.objects.get(user=user).key}
    me = api()
    me.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    body = me.get("/api/v1/me/").json()
    assert (body["id"], body["phone"]) == (user.id, "13912345678")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "password"),
    [("13912345678", "wrong-password"), ("13900000000", PASSWORD), ("13912345678", "")],
)
def test_token_endpoint_refuses_a_wrong_password_or_unknown_phone_with_the_same_400(api, phone, password) -> None:
    make_user(phone="13912345678")

    response = api().post(TOKEN_URL, {"phone": phone, "password": password}, format="json")

    assert response.status_code == 400
    if password:
        assert response.json() == {
            "detail": "提交的内容有误，请检查后重试。",
            "code": "invalid",
            "errors": {"phone": ["手机号或密码不正确。"]},
        }
    else:
        assert response.json()["errors"] == {"password": ["该字段不能为空。"]}
    assert Token.objects.count() == 0


@pytest.mark.django_db
def test_token_endpoint_refuses_an_inactive_user(api) -> None:
    make_user(phone="13912345678", is_active=False)

    response = api().post(TOKEN_URL, {"phone": "13912345678", "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"phone": ["手机号或密码不正确。"]}
    assert Token.objects.count() == 0


@pytest.mark.django_db
def test_token_endpoint_answers_a_wrong_password_in_the_language_of_the_request(api) -> None:
    make_user(phone="13912345678")
    with translation.override("en"):
        expected = str(LOGIN_FAILED)

    response = api().post(
        TOKEN_URL, {"phone": "13912345678", "password": "wrong-password"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"phone": [expected]}


@pytest.mark.django_db
def test_login_page_logs_in_with_the_phone_number(client) -> None:
    user = make_user(phone="13912345678")

    response = client.post("/login/", {"username": "+86 139 1234 5678", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.id)


@pytest.mark.django_db
def test_login_page_with_a_wrong_password_shows_the_message_and_does_not_log_in(client) -> None:
    make_user(phone="13912345678")

    response = client.post("/login/", {"username": "13912345678", "password": "wrong-password"})

    assert response.status_code == 200
    assert "手机号或密码不正确。" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_page_renders_its_form(client) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    assert 'inputmode="tel"' in response.content.decode()


# --- masking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小明", "张*明"), ("欧阳小明", "欧**明"), ("王", "*"), ("", ""), (None, "")],
)
def test_mask_name_keeps_the_first_and_last_character(name, masked) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13912345678", "139****5678"),
        ("03123861234", "031****1234"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone_hides_the_middle_digits(phone, masked) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.django_db
def test_user_str_and_masked_properties_never_show_name_or_phone_in_full() -> None:
    user = make_user(phone="13912345678", name="张小明")

    assert str(user) == "张*明 (139****5678)"
    assert (user.masked_name, user.masked_phone) == ("张*明", "139****5678")
