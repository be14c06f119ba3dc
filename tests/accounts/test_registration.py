"""Registration, log-in by code and password reset — pages and API: the happy paths, every bad
input (a clear translated error, nothing created or changed, never a 500), consent stored with
its version and time, and who may reach what (everyone: these are the ways in)."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.accounts.services import resident_get_or_create
from apps.accounts.throttling import login_attempt_allowed, record_login_failure
from tests.accounts.factories import PASSWORD, make_user

PHONE = "13812345678"
NEW_PASSWORD = "桃园街道-2027-春天"
SEND_URL = "/api/v1/auth/sms-code/"
REGISTER_URL = "/api/v1/auth/register/"
RESET_URL = "/api/v1/auth/password-reset/"
SMS_TOKEN_URL = "/api/v1/auth/sms-token/"
INVALID = "提交的内容有误，请检查后重试。"
EXPIRED = "验证码已过期或已使用，请重新获取验证码。"

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs what a request left for after the commit (the SMS), as production does at once."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def ask_code(outbox, clock, commit):
    """``ask_code(phone, purpose)`` → the code the development file backend received."""

    def ask(phone: str = PHONE, purpose: str = "register") -> str:
        with commit():
            response = APIClient().post(SEND_URL, {"phone": phone, "purpose": purpose}, format="json")
        assert response.status_code == 200, response.content
        return outbox.last_code(phone)

    return ask


def other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def body(org, sent_code: str, **changes) -> dict:
    return {
        "phone": PHONE,
        "code": sent_code,
        "name": "王秀兰",
        "password": NEW_PASSWORD,
        "village": org["village_a1"].id,
        "privacy_consent": True,
        **changes,
    }


# --- registration by the API ---------------------------------------------------------------------


def test_api_registers_a_resident_with_home_place_and_consent(org, ask_code, settings) -> None:
    code = ask_code()
    before = timezone.now()
    response = APIClient().post(REGISTER_URL, body(org, code), format="json")
    assert response.status_code == 201
    user = User.objects.get(phone_digest=phone_digest(PHONE))
    assert response.json() == {"token": Token.objects.get(user=user).key}
    assert (user.name, user.phone, user.home_village, user.home_township) == (
        "王秀兰",
        PHONE,
        org["village_a1"],
        org["township_a"],
    )
    assert user.privacy_version == settings.PRIVACY_NOTICE_VERSION == "2025-1"
    assert user.privacy_consented_at is not None
    assert before <= user.privacy_consented_at <= timezone.now()
    assert user.check_password(NEW_PASSWORD)
    assert (user.is_staff, user.is_superuser, user.staff_node) == (False, False, None)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert me.get("/api/v1/me/").json()["roles"] == ["resident"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"phone": "1381234567"}, {"phone": ["请输入11位手机号码。"]}),
        ({"code": "12345"}, {"code": ["请输入短信中的6位数字验证码。"]}),
        ({"code": "１２３"}, {"code": ["请输入短信中的6位数字验证码。"]}),
        ({"name": "\u200b "}, {"name": ["请填写姓名。"]}),
        ({"password": "12345678"}, {"password": ["这个密码太常见了。", "密码只包含数字。"]}),
        ({"password": "short"}, {"password": ["密码太短，至少需要 8 个字符。"]}),
        ({"privacy_consent": False}, {"privacy_consent": ["请阅读并同意隐私政策后再注册。"]}),
        ({"village": 999999}, {"village": ["没有这个村/社区，请重新选择。"]}),
        ({"village": "太平庄村"}, {"village": ["请选择村/社区。"]}),
    ],
)
def test_api_bad_registration_is_400_with_the_field_and_creates_nothing(org, ask_code, changes, errors) -> None:
    code = ask_code()
    response = APIClient().post(REGISTER_URL, body(org, code, **changes), format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "code": "invalid", "errors": errors}
    assert User.objects.count() == 0
    # The code was not used up by a form that was wrong elsewhere.
    assert APIClient().post(REGISTER_URL, body(org, code), format="json").status_code == 201


def test_api_a_township_is_not_a_home_village(org, ask_code) -> None:
    code = ask_code()
    response = APIClient().post(REGISTER_URL, body(org, code, village=org["township_a"].id), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"village": ["没有这个村/社区，请重新选择。"]}
    assert User.objects.count() == 0


def test_api_wrong_code_is_400_on_the_code_and_counts(org, ask_code) -> None:
    code = ask_code()
    response = APIClient().post(REGISTER_URL, body(org, other(code)), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "code": "invalid",
        "errors": {"code": ["验证码不正确，还可以再试 4 次。"]},
    }
    assert User.objects.count() == 0


def test_api_expired_code_is_400(org, ask_code, clock) -> None:
    code = ask_code()
    clock.advance(301)
    response = APIClient().post(REGISTER_URL, body(org, code), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"code": [EXPIRED]}
    assert User.objects.count() == 0


def test_api_code_never_asked_for_is_400(org, outbox, clock) -> None:
    response = APIClient().post(REGISTER_URL, body(org, "123456"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"code": [EXPIRED]}


def test_api_a_login_code_does_not_register(org, ask_code) -> None:
    make_user(phone="13900000001")
    code = ask_code("13900000001", "login")
    response = APIClient().post(REGISTER_URL, body(org, code, phone="13900000001"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"code": [EXPIRED]}


def test_api_an_already_registered_number_is_409_only_with_the_right_code(org, ask_code) -> None:
    existing = resident_get_or_create(phone=PHONE, name="王秀兰")  # registered by staff (代点单)
    code = ask_code()
    wrong = APIClient().post(REGISTER_URL, body(org, other(code)), format="json")
    assert wrong.status_code == 400  # a stranger learns nothing
    response = APIClient().post(REGISTER_URL, body(org, code), format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "该手机号已有账户（可能是工作人员为您登记的）。请直接用验证码登录，或用“忘记密码”设置密码。",
        "code": "phone_registered",
    }
    assert list(User.objects.values_list("id", flat=True)) == [existing.id]
    existing.refresh_from_db()
    assert not existing.has_usable_password()


def test_api_registration_in_english(org, ask_code, settings) -> None:
    code = ask_code()
    response = APIClient().post(
        REGISTER_URL, body(org, code, privacy_consent=False), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Some of the information is not valid. Please check it and try again."


# --- registration page ---------------------------------------------------------------------------


def form(org, sent_code: str, **changes) -> dict:
    return {
        "phone": PHONE,
        "code": sent_code,
        "name": "王秀兰",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "village": str(org["village_a1"].id),
        "privacy_consent": "on",
        **changes,
    }


def test_register_page_shows_every_field_and_the_privacy_link(org) -> None:
    response = Client().get("/register/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("phone", "code", "name", "password1", "password2", "village", "privacy_consent"):
        assert f'name="{name}"' in html
    assert '<button type="submit" name="send_code" value="1"' in html
    assert 'href="/privacy/"' in html
    assert "<h1>注册</h1>" in html


def test_register_page_signs_in_and_lands_on_my_requests(org, ask_code, settings) -> None:
    code = ask_code()
    client = Client()
    response = client.post("/register/", form(org, code))
    assert response.status_code == 302
    assert response["Location"] == "/r/requests/"
    user = User.objects.get()
    assert client.session[SESSION_KEY] == str(user.id)
    assert (user.home_village, user.home_township, user.privacy_version) == (
        org["village_a1"],
        org["township_a"],
        settings.PRIVACY_NOTICE_VERSION,
    )
    landed = client.get("/r/requests/")
    assert "注册成功，欢迎使用涿州i志愿！" in landed.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "138123"}, "请输入11位手机号码。"),
        ({"code": ""}, "请输入短信验证码。"),
        ({"phone": ""}, "请输入手机号。"),
        ({"password2": "something-else-2027"}, "两次输入的密码不一致。"),
        ({"password1": "12345678", "password2": "12345678"}, "这个密码太常见了。"),
        ({"privacy_consent": ""}, "请阅读并同意隐私政策后再注册。"),
        ({"village": "999999"}, "没有这个村/社区，请重新选择。"),
        ({"village": ""}, "请选择村/社区。"),
        ({"name": ""}, "请填写姓名。"),
        ({"name": "\u200b"}, "请填写姓名。"),
    ],
)
def test_register_page_bad_input_shows_the_error_and_creates_nothing(org, ask_code, changes, message) -> None:
    code = ask_code()
    response = Client().post("/register/", form(org, code, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 0


def test_register_page_wrong_and_expired_code(org, ask_code, clock) -> None:
    code = ask_code()
    wrong = Client().post("/register/", form(org, other(code)))
    assert wrong.status_code == 200
    assert "验证码不正确，还可以再试 4 次。" in wrong.content.decode()
    clock.advance(300)
    expired = Client().post("/register/", form(org, code))
    assert expired.status_code == 200
    assert EXPIRED in expired.content.decode()
    assert User.objects.count() == 0


def test_register_page_sixth_wrong_code_is_429(org, ask_code) -> None:
    code = ask_code()
    client = Client()
    for _ in range(5):
        assert client.post("/register/", form(org, other(code))).status_code == 200
    sixth = client.post("/register/", form(org, code))
    assert sixth.status_code == 429
    assert sixth["Retry-After"] == "60"
    assert "验证码错误次数过多，已失效。请重新获取验证码。" in sixth.content.decode()
    assert User.objects.count() == 0


def test_register_page_for_a_registered_number_says_log_in_or_set_a_password(org, ask_code) -> None:
    make_user(phone=PHONE)
    code = ask_code()
    response = Client().post("/register/", form(org, code))
    assert response.status_code == 200
    assert "该手机号已有账户" in response.content.decode()
    assert User.objects.count() == 1


def test_register_page_sends_signed_in_people_home(org, cast) -> None:
    client = Client()
    client.force_login(cast.resident)
    assert client.get("/register/")["Location"] == "/"


def test_privacy_notice_page_is_public_and_shows_its_version(settings) -> None:
    response = Client().get("/privacy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>隐私政策</h1>" in html
    assert f"版本 {settings.PRIVACY_NOTICE_VERSION}" in html


def test_the_login_page_offers_code_log_in_registration_and_reset() -> None:
    html = Client().get("/login/").content.decode()
    assert '<a href="/login/code/">验证码登录</a>' in html
    assert '<a href="/register/">注册新账户</a>' in html
    assert '<a href="/password/reset/">忘记密码</a>' in html
    # ...and the header offers registration to everyone not signed in.
    assert '<a href="/register/">注册</a>' in html


# --- log-in by code ------------------------------------------------------------------------------


def test_api_token_by_code(ask_code) -> None:
    user = make_user(phone=PHONE)
    code = ask_code(purpose="login")
    response = APIClient().post(SMS_TOKEN_URL, {"phone": PHONE, "code": code}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    again = APIClient().post(SMS_TOKEN_URL, {"phone": PHONE, "code": code}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"] == {"code": [EXPIRED]}


def test_api_token_by_code_bad_input(outbox, clock) -> None:
    response = APIClient().post(SMS_TOKEN_URL, {"phone": "abc", "code": "12"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"phone": ["请输入11位手机号码。"], "code": ["请输入短信中的6位数字验证码。"]}
    assert Token.objects.count() == 0


def test_code_login_page_signs_in_and_follows_next(ask_code) -> None:
    user = make_user(phone=PHONE)
    code = ask_code(purpose="login")
    client = Client()
    response = client.post("/login/code/", {"phone": PHONE, "code": code, "next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert client.session[SESSION_KEY] == str(user.id)


def test_code_login_page_refuses_a_wrong_code_and_an_outside_next(ask_code) -> None:
    make_user(phone=PHONE)
    code = ask_code(purpose="login")
    client = Client()
    wrong = client.post("/login/code/", {"phone": PHONE, "code": other(code)})
    assert wrong.status_code == 200
    assert "验证码不正确，还可以再试 4 次。" in wrong.content.decode()
    assert SESSION_KEY not in client.session
    response = client.post("/login/code/", {"phone": PHONE, "code": code, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_code_login_works_while_the_password_is_locked_out_and_clears_it(ask_code) -> None:
    make_user(phone=PHONE)
    for _ in range(10):
        record_login_failure(None, PHONE)
    assert not login_attempt_allowed(None, PHONE).allowed
    code = ask_code(purpose="login")
    client = Client()
    assert client.post("/login/code/", {"phone": PHONE, "code": code})["Location"] == "/"
    # The lock itself stands for its window; the count behind it starts afresh.
    assert not login_attempt_allowed(None, PHONE).allowed


# --- password reset ------------------------------------------------------------------------------


def test_api_reset_sets_a_password_for_an_account_that_never_had_one(ask_code) -> None:
    user = resident_get_or_create(phone=PHONE, name="王秀兰")
    assert not user.has_usable_password()
    code = ask_code(purpose="reset_password")
    response = APIClient().post(RESET_URL, {"phone": PHONE, "code": code, "password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    login = APIClient().post("/api/v1/auth/token/", {"phone": PHONE, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_api_reset_ends_the_old_tokens(ask_code) -> None:
    user = make_user(phone=PHONE)
    old = Token.objects.create(user=user)
    code = ask_code(purpose="reset_password")
    response = APIClient().post(RESET_URL, {"phone": PHONE, "code": code, "password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert list(Token.objects.values_list("key", flat=True)) == [response.json()["token"]]
    assert response.json()["token"] != old.key


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"password": "1234"},
            {"password": ["密码太短，至少需要 8 个字符。", "这个密码太常见了。", "密码只包含数字。"]},
        ),
        ({"code": "abcdef"}, {"code": ["请输入短信中的6位数字验证码。"]}),
        ({"phone": "23812345678"}, {"phone": ["请输入11位手机号码。"]}),
    ],
)
def test_api_bad_reset_is_400_and_changes_nothing(ask_code, changes, errors) -> None:
    user = make_user(phone=PHONE)
    code = ask_code(purpose="reset_password")
    response = APIClient().post(
        RESET_URL, {"phone": PHONE, "code": code, "password": NEW_PASSWORD, **changes}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "code": "invalid", "errors": errors}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_api_reset_for_an_unknown_number_is_the_expired_code_error(outbox, clock, commit) -> None:
    with commit():
        APIClient().post(SEND_URL, {"phone": PHONE, "purpose": "reset_password"}, format="json")
    assert outbox.messages() == []
    response = APIClient().post(RESET_URL, {"phone": PHONE, "code": "123456", "password": NEW_PASSWORD}, format="json")
    assert response.status_code == 400
    # Answered as a wrong code for a number with an account is: nothing tells them apart.
    assert response.json()["errors"] == {"code": ["验证码不正确，还可以再试 4 次。"]}
    assert User.objects.count() == 0


def test_reset_page_sets_the_password_and_signs_in(ask_code) -> None:
    user = make_user(phone=PHONE)
    user.set_unusable_password()
    user.save()
    code = ask_code(purpose="reset_password")
    client = Client()
    response = client.post(
        "/password/reset/", {"phone": PHONE, "code": code, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(user.id)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_page_mismatch_and_weak_password(ask_code) -> None:
    user = make_user(phone=PHONE)
    code = ask_code(purpose="reset_password")
    mismatch = Client().post(
        "/password/reset/", {"phone": PHONE, "code": code, "password1": NEW_PASSWORD, "password2": "x" + NEW_PASSWORD}
    )
    assert "两次输入的密码不一致。" in mismatch.content.decode()
    weak = Client().post(
        "/password/reset/", {"phone": PHONE, "code": code, "password1": "password", "password2": "password"}
    )
    assert "这个密码太常见了。" in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_reset_page_prefills_the_signed_in_users_number(cast) -> None:
    client = Client()
    client.force_login(cast.resident)
    html = client.get("/password/reset/").content.decode()
    assert f'value="{cast.resident.phone}"' in html


@pytest.mark.parametrize("url", ["/register/", "/login/code/", "/password/reset/", "/privacy/"])
def test_the_pages_answer_every_visitor_and_refuse_other_methods(cast, url) -> None:
    for user in (None, cast.resident, cast.volunteer.user, cast.staff_a, cast.admin):
        client = Client()
        if user is not None:
            client.force_login(user)
        assert client.get(url).status_code in ({302} if url == "/register/" and user else {200})
        assert client.put(url).status_code == 405


@pytest.mark.parametrize("url", [SEND_URL, REGISTER_URL, RESET_URL, SMS_TOKEN_URL])
def test_the_api_calls_are_public_post_only_and_ignore_a_token(cast, url, outbox, clock) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.post(url, {}, format="json").status_code == 400  # not 401: the way in needs no token
    assert client.get(url).status_code == 405


def test_no_clear_phone_code_or_password_in_the_database_after_registering(org, ask_code) -> None:
    from django.db import connection

    code = ask_code()
    APIClient().post(REGISTER_URL, body(org, code), format="json")
    with connection.cursor() as cursor:
        for table in ("accounts_user", "accounts_phonecode"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — fixed table names
            stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
            assert PHONE not in stored
            assert code not in stored
            assert NEW_PASSWORD not in stored


def test_a_code_expires_even_if_the_clock_is_read_late(org, ask_code, clock) -> None:
    code = ask_code()
    clock.advance(timedelta(minutes=5).total_seconds() - 1)
    assert APIClient().post(REGISTER_URL, body(org, code), format="json").status_code == 201
