"""One-time codes: six digits, stored as a keyed hash, 5 minutes, 5 wrong tries, 60 s between
sends, 5 sends an hour per number and 20 per client address — through the services and the API.

Pinned: the 6th try after 5 wrong ones is 429 (even with the right code); a send past an hourly
cap is 429 with Retry-After and a message that says how long; other numbers and addresses are
not affected; the answer to a log-in or reset code does not tell whether the number has an
account."""

import re

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import CodePurpose, PhoneCode
from apps.accounts.phones import phone_digest
from apps.accounts.verification import CodeThrottled, code_hash, sms_code_consume, sms_code_send
from tests.accounts.factories import make_user

PHONE, OTHER_PHONE = "13812345678", "13987654321"
HERE, ELSEWHERE = "10.1.1.1", "10.2.2.2"
SEND_URL = "/api/v1/auth/sms-code/"
TOKEN_URL = "/api/v1/auth/sms-token/"

pytestmark = pytest.mark.django_db


def request_from(address: str = HERE) -> HttpRequest:
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = address
    return request


@pytest.fixture
def send(outbox, clock, django_capture_on_commit_callbacks):
    """``send(phone, purpose, address)`` through the service, the SMS going out after the commit."""

    def run(phone: str = PHONE, purpose: str = CodePurpose.LOGIN, address: str = HERE):
        with django_capture_on_commit_callbacks(execute=True):
            return sms_code_send(phone=phone, purpose=purpose, request=request_from(address))

    return run


@pytest.fixture
def api(outbox, clock, django_capture_on_commit_callbacks):
    """``api.post(url, body, **meta)``: an anonymous API call; what it sends goes out after the commit."""

    class Api:
        client = APIClient()

        def post(self, url: str, body: dict, **meta):
            with django_capture_on_commit_callbacks(execute=True):
                return self.client.post(url, body, format="json", **meta)

    return Api()


@pytest.fixture
def member():
    return make_user(phone=PHONE, name="王秀兰")


def throttled(call) -> CodeThrottled:
    with pytest.raises(CodeThrottled) as caught:
        call()
    return caught.value


def refused(phone: str, code: str, purpose: str = CodePurpose.LOGIN) -> list[str]:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        sms_code_consume(phone=phone, purpose=purpose, code=code)
    return caught.value.messages


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the code ------------------------------------------------------------------------------------


def test_a_code_is_six_random_digits_sent_to_the_number(send, outbox, member) -> None:
    sent = send()
    assert (sent.resend_after, sent.expires_in) == (60, 300)
    [message] = outbox.messages()
    code = outbox.last_code(PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert message["phone"] == PHONE
    assert message["text"] == f"您的登录验证码是 {code}，5 分钟内有效。请勿告诉他人。"


def test_the_code_is_stored_only_as_a_keyed_hash_and_the_number_only_as_its_digest(send, outbox, member) -> None:
    send()
    code = outbox.last_code(PHONE)
    row = PhoneCode.objects.get()
    assert row.code_hash == code_hash(digest=phone_digest(PHONE), purpose="login", code=code)
    assert len(row.code_hash) == 64 and code not in row.code_hash
    assert row.phone_digest == phone_digest(PHONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_phonecode")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert code not in stored
    assert PHONE not in stored


def test_the_right_code_works_once(send, outbox, member) -> None:
    send()
    code = outbox.last_code(PHONE)
    sms_code_consume(phone=PHONE, purpose=CodePurpose.LOGIN, code=code)
    assert refused(PHONE, code) == ["验证码已过期或已使用，请重新获取验证码。"]


def test_a_code_is_only_good_for_its_own_purpose(send, outbox, member) -> None:
    send(purpose=CodePurpose.LOGIN)
    code = outbox.last_code(PHONE)
    assert refused(PHONE, code, CodePurpose.RESET_PASSWORD) == ["验证码已过期或已使用，请重新获取验证码。"]
    sms_code_consume(phone=PHONE, purpose=CodePurpose.LOGIN, code=code)


def test_a_code_lives_five_minutes(send, outbox, clock, member) -> None:
    send()
    clock.advance(299)
    sms_code_consume(phone=PHONE, purpose=CodePurpose.LOGIN, code=outbox.last_code(PHONE))
    clock.advance(60)
    send()
    clock.advance(300)
    assert refused(PHONE, outbox.last_code(PHONE)) == ["验证码已过期或已使用，请重新获取验证码。"]


def test_five_wrong_tries_kill_the_code_and_the_sixth_try_is_throttled_even_when_right(send, outbox, member) -> None:
    send()
    code = outbox.last_code(PHONE)
    messages = [refused(PHONE, wrong(code)) for _ in range(5)]
    assert messages == [
        ["验证码不正确，还可以再试 4 次。"],
        ["验证码不正确，还可以再试 3 次。"],
        ["验证码不正确，还可以再试 2 次。"],
        ["验证码不正确，还可以再试 1 次。"],
        ["验证码不正确。错误次数已达上限，此验证码已失效，请重新获取。"],
    ]
    sixth = throttled(lambda: sms_code_consume(phone=PHONE, purpose=CodePurpose.LOGIN, code=code))
    assert (sixth.code, sixth.message) == ("code_attempts_exceeded", "验证码错误次数过多，已失效。请重新获取验证码。")
    assert sixth.retry_after == 60  # the clock has not moved: a new code may be asked for in 60 s
    assert PhoneCode.objects.get().failed_attempts == 5


def test_a_new_code_replaces_the_old_one_and_has_its_own_tries(send, outbox, clock, member) -> None:
    send()
    first = outbox.last_code(PHONE)
    for _ in range(5):
        refused(PHONE, wrong(first))
    clock.advance(60)
    send()
    second = outbox.last_code(PHONE)
    if second != first:
        assert refused(PHONE, first) == ["验证码不正确，还可以再试 4 次。"]
    sms_code_consume(phone=PHONE, purpose=CodePurpose.LOGIN, code=second)


# --- how often codes may be sent -----------------------------------------------------------------


def test_a_second_code_within_60_seconds_is_refused_with_the_seconds_left(send, outbox, clock, member) -> None:
    send()
    clock.advance(1)
    too_soon = throttled(send)
    assert (too_soon.code, too_soon.retry_after) == ("sms_resend_too_soon", 59)
    assert too_soon.message == "验证码已发送，请在 59 秒后再重新获取。"
    clock.advance(58)
    assert throttled(send).message == "验证码已发送，请在 1 秒后再重新获取。"
    clock.advance(1)
    send()
    assert len(outbox.codes(PHONE)) == 2


def test_the_wait_is_per_purpose(send, outbox, member) -> None:
    send(purpose=CodePurpose.LOGIN)
    send(purpose=CodePurpose.RESET_PASSWORD)
    login, reset = outbox.codes(PHONE)
    assert [m["text"] for m in outbox.messages()] == [
        f"您的登录验证码是 {login}，5 分钟内有效。请勿告诉他人。",
        f"您的设置密码验证码是 {reset}，5 分钟内有效。请勿告诉他人。",
    ]


def test_five_codes_an_hour_per_number_then_429_other_numbers_unaffected(send, outbox, clock, member) -> None:
    make_user(phone=OTHER_PHONE)
    for _ in range(5):
        send()
        clock.advance(60)
    sixth = throttled(send)
    assert sixth.code == "sms_phone_limit"
    assert sixth.message == "该手机号获取验证码次数过多（每小时最多 5 次），请在 55 分钟后再试。"
    assert sixth.retry_after == 3600 - 5 * 60
    assert len(outbox.codes(PHONE)) == 5
    send(phone=OTHER_PHONE)  # same address, another number
    assert len(outbox.codes(OTHER_PHONE)) == 1
    clock.advance(3600 - 5 * 60)
    send()
    assert len(outbox.codes(PHONE)) == 6


def test_twenty_codes_an_hour_per_address_then_429_other_addresses_unaffected(send, outbox, clock) -> None:
    phones = [f"1371111{n:04d}" for n in range(21)]
    for phone in phones[:20]:
        send(phone=phone, purpose=CodePurpose.REGISTER)
    over = throttled(lambda: send(phone=phones[20], purpose=CodePurpose.REGISTER))
    assert over.code == "sms_address_limit"
    assert over.message == "当前网络获取验证码次数过多，请在 60 分钟后再试。"
    assert over.retry_after == 3600
    assert outbox.codes(phones[20]) == []
    send(phone=phones[20], purpose=CodePurpose.REGISTER, address=ELSEWHERE)
    assert len(outbox.codes(phones[20])) == 1


def test_an_ipv6_client_is_counted_by_its_64(send, outbox) -> None:
    for n in range(20):
        send(phone=f"1372222{n:04d}", purpose=CodePurpose.REGISTER, address=f"2001:db8:1:2::{n + 1:x}")
    over = throttled(lambda: send(phone="13722229999", purpose=CodePurpose.REGISTER, address="2001:db8:1:2::ff"))
    assert over.code == "sms_address_limit"
    send(phone="13722229999", purpose=CodePurpose.REGISTER, address="2001:db8:1:3::1")


# --- not telling who has an account --------------------------------------------------------------


@pytest.mark.parametrize("purpose", [CodePurpose.LOGIN, CodePurpose.RESET_PASSWORD])
def test_log_in_and_reset_codes_answer_alike_for_unknown_numbers_but_send_nothing(api, outbox, purpose) -> None:
    make_user(phone=PHONE)
    with_account = api.post(SEND_URL, {"phone": PHONE, "purpose": purpose})
    without = api.post(SEND_URL, {"phone": OTHER_PHONE, "purpose": purpose})
    assert (with_account.status_code, without.status_code) == (200, 200)
    assert with_account.json() == {
        "detail": "如果 138****5678 已注册，验证码已发送到这个号码，5 分钟内有效。",
        "resend_after": 60,
        "expires_in": 300,
    }
    assert without.json() == {
        "detail": "如果 139****4321 已注册，验证码已发送到这个号码，5 分钟内有效。",
        "resend_after": 60,
        "expires_in": 300,
    }
    assert [m["phone"] for m in outbox.messages()] == [PHONE]
    # ...and the wait applies to both alike.
    again = api.post(SEND_URL, {"phone": OTHER_PHONE, "purpose": purpose})
    assert again.status_code == 429


def test_inactive_accounts_get_no_code(api, outbox) -> None:
    make_user(phone=PHONE, is_active=False)
    response = api.post(SEND_URL, {"phone": PHONE, "purpose": "login"})
    assert response.status_code == 200
    assert outbox.messages() == []


# --- the API -------------------------------------------------------------------------------------


def test_api_sends_a_register_code_and_says_where(api, outbox) -> None:
    response = api.post(SEND_URL, {"phone": "+86 138 1234 5678", "purpose": "register"})
    assert response.status_code == 200
    assert response.json() == {
        "detail": "验证码已发送到 138****5678，5 分钟内有效。",
        "resend_after": 60,
        "expires_in": 300,
    }
    assert len(outbox.codes(PHONE)) == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"phone": "1381234567", "purpose": "register"}, {"phone": ["请输入11位手机号码。"]}),
        ({"phone": "03123456789", "purpose": "login"}, {"phone": ["请输入11位手机号码。"]}),
        ({"phone": PHONE, "purpose": "delete"}, {"purpose": ["“delete” 不是合法选项。"]}),
        ({"phone": PHONE}, {"purpose": ["该字段是必填项。"]}),
    ],
)
def test_api_bad_send_requests_are_400_and_send_nothing(api, outbox, body, errors) -> None:
    response = api.post(SEND_URL, body)
    assert response.status_code == 400
    assert response.json() == {"detail": "提交的内容有误，请检查后重试。", "code": "invalid", "errors": errors}
    assert outbox.messages() == []
    assert PhoneCode.objects.count() == 0


def test_api_sends_past_the_limits_get_429_with_retry_after(api, outbox, clock) -> None:
    make_user(phone=PHONE)
    client = api
    assert client.post(SEND_URL, {"phone": PHONE, "purpose": "login"}).status_code == 200
    clock.advance(10)
    soon = client.post(SEND_URL, {"phone": PHONE, "purpose": "login"})
    assert soon.status_code == 429
    assert soon["Retry-After"] == "50"
    assert soon.json() == {"detail": "验证码已发送，请在 50 秒后再重新获取。", "code": "sms_resend_too_soon"}
    for _ in range(4):
        clock.advance(60)
        assert client.post(SEND_URL, {"phone": PHONE, "purpose": "login"}).status_code == 200
    clock.advance(60)
    over = client.post(SEND_URL, {"phone": PHONE, "purpose": "login"})
    assert over.status_code == 429
    assert over["Retry-After"] == str(3600 - 310)
    assert over.json() == {
        "detail": "该手机号获取验证码次数过多（每小时最多 5 次），请在 55 分钟后再试。",
        "code": "sms_phone_limit",
    }
    # Another number from the same address is not affected.
    other = client.post(SEND_URL, {"phone": OTHER_PHONE, "purpose": "register"})
    assert other.status_code == 200


def test_api_address_cap_is_429_for_that_address_only(api, outbox) -> None:
    client = api
    for n in range(20):
        phone = f"1361111{n:04d}"
        assert client.post(SEND_URL, {"phone": phone, "purpose": "register"}).status_code == 200
    over = client.post(SEND_URL, {"phone": "13611119999", "purpose": "register"})
    assert over.status_code == 429
    assert over["Retry-After"] == "3600"
    assert over.json() == {"detail": "当前网络获取验证码次数过多，请在 60 分钟后再试。", "code": "sms_address_limit"}
    elsewhere = client.post(SEND_URL, {"phone": "13611119999", "purpose": "register"}, REMOTE_ADDR=ELSEWHERE)
    assert elsewhere.status_code == 200


def test_api_the_sixth_wrong_code_is_429_other_numbers_unaffected(api, outbox) -> None:
    make_user(phone=PHONE)
    make_user(phone=OTHER_PHONE)
    client = api
    for phone in (PHONE, OTHER_PHONE):
        client.post(SEND_URL, {"phone": phone, "purpose": "login"})
    code = outbox.last_code(PHONE)
    statuses = [client.post(TOKEN_URL, {"phone": PHONE, "code": wrong(code)}) for _ in range(5)]
    assert [r.status_code for r in statuses] == [400] * 5
    assert statuses[0].json() == {
        "detail": "提交的内容有误，请检查后重试。",
        "code": "invalid",
        "errors": {"code": ["验证码不正确，还可以再试 4 次。"]},
    }
    sixth = client.post(TOKEN_URL, {"phone": PHONE, "code": wrong(code)})
    assert sixth.status_code == 429
    assert sixth["Retry-After"] == "60"
    assert sixth.json() == {
        "detail": "验证码错误次数过多，已失效。请重新获取验证码。",
        "code": "code_attempts_exceeded",
    }
    assert client.post(TOKEN_URL, {"phone": PHONE, "code": code}).status_code == 429
    other = client.post(TOKEN_URL, {"phone": OTHER_PHONE, "code": outbox.last_code(OTHER_PHONE)})
    assert other.status_code == 200


def test_the_page_send_button_works_without_javascript(outbox, clock, django_capture_on_commit_callbacks) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", {"phone": PHONE, "name": "王秀兰", "send_code": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "验证码已发送到 138****5678，5 分钟内有效。" in html
    assert 'value="王秀兰"' in html  # what was typed is kept
    assert len(outbox.codes(PHONE)) == 1
    again = client.post("/register/", {"phone": PHONE, "send_code": "1"})
    assert again.status_code == 429
    assert again["Retry-After"] == "60"
    assert "验证码已发送，请在 60 秒后再重新获取。" in again.content.decode()
    bad = client.post("/register/", {"phone": "12345", "send_code": "1"})
    assert bad.status_code == 400
    assert "请输入11位手机号码。" in bad.content.decode()
    assert len(outbox.codes(PHONE)) == 1
