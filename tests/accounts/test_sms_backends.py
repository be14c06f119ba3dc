"""The SMS provider interface: the development backends (console, file, the administrators' inbox),
the default configuration, and the Aliyun adapter against a fake dysmsapi on 127.0.0.1 that checks
each request's signature by the published algorithm, implemented here on its own."""

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from apps.accounts.models import PhoneCode
from apps.accounts.sms import SmsError, send_sms, sms_backends
from apps.accounts.sms.aliyun import AliyunSmsBackend
from apps.accounts.sms.development import ConsoleSmsBackend, FileSmsBackend, read_sms_file
from apps.notifications.models import Kind, Notification
from apps.notifications.sms_inbox import AdminInboxSmsBackend
from tests.accounts.factories import make_user

PHONE = "13812345678"
TEXT = "您的注册验证码是 123456，5 分钟内有效。请勿告诉他人。"
DEVELOPMENT = [
    "apps.accounts.sms.development.ConsoleSmsBackend",
    "apps.accounts.sms.development.FileSmsBackend",
    "apps.notifications.sms_inbox.AdminInboxSmsBackend",
]


# --- development backends ------------------------------------------------------------------------


def test_the_default_without_configuration_is_the_three_development_backends(settings) -> None:
    from zhuozhou_civic.settings import sms

    assert sms.DEVELOPMENT_SMS_BACKENDS == DEVELOPMENT
    assert [type(b) for b in sms_backends(sms.DEVELOPMENT_SMS_BACKENDS)] == [
        ConsoleSmsBackend,
        FileSmsBackend,
        AdminInboxSmsBackend,
    ]


def test_the_console_backend_logs_number_and_text(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="apps.accounts.sms"):
        ConsoleSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("apps.accounts.sms", "INFO", f"SMS to {PHONE}: {TEXT}")
    ]


def test_the_file_backend_appends_one_json_line_per_message(tmp_path) -> None:
    path = tmp_path / "deep" / "sms.log"
    backend = FileSmsBackend(path)
    backend.send(PHONE, TEXT, params={"code": "123456"})
    backend.send("13987654321", "第二条", params={"code": "654321"})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert TEXT in lines[0]  # readable as it is, not escaped
    messages = read_sms_file(path)
    assert [(m["phone"], m["text"], m["params"]) for m in messages] == [
        (PHONE, TEXT, {"code": "123456"}),
        ("13987654321", "第二条", {"code": "654321"}),
    ]


def test_the_file_backend_path_comes_from_the_setting(settings, tmp_path) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "elsewhere.log")
    FileSmsBackend().send(PHONE, TEXT, params={})
    assert [m["phone"] for m in read_sms_file()] == [PHONE]


def test_an_unwritable_file_is_an_sms_error(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SmsError, match="cannot write"):
        FileSmsBackend(blocker / "sms.log").send(PHONE, TEXT, params={})


@pytest.mark.django_db
def test_the_inbox_backend_notifies_every_active_administrator_with_the_full_number() -> None:
    admin = make_user(is_superuser=True, is_staff=True)
    second_admin = make_user(is_superuser=True, is_staff=True)
    make_user(is_superuser=True, is_active=False)
    make_user()  # a resident
    AdminInboxSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    rows = Notification.objects.order_by("recipient_id")
    assert [(n.recipient_id, n.kind, n.params) for n in rows] == [
        (admin.id, Kind.SMS_DEVELOPMENT, {"phone": PHONE, "text": TEXT}),
        (second_admin.id, Kind.SMS_DEVELOPMENT, {"phone": PHONE, "text": TEXT}),
    ]


@pytest.mark.django_db
def test_send_sms_goes_through_console_file_and_inbox(settings, tmp_path, caplog) -> None:
    settings.SMS_BACKENDS = DEVELOPMENT
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    admin = make_user(is_superuser=True, is_staff=True)
    with caplog.at_level(logging.INFO, logger="apps.accounts.sms"):
        send_sms(phone=PHONE, text=TEXT, params={"code": "123456"})
    assert [r.getMessage() for r in caplog.records if r.name == "apps.accounts.sms"] == [f"SMS to {PHONE}: {TEXT}"]
    assert [m["text"] for m in read_sms_file()] == [TEXT]
    assert list(Notification.objects.values_list("recipient_id", "params")) == [
        (admin.id, {"phone": PHONE, "text": TEXT})
    ]


@pytest.mark.django_db
def test_a_failing_backend_does_not_stop_the_others_and_the_send_fails(settings, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.SMS_BACKENDS = DEVELOPMENT
    settings.SMS_FILE_PATH = str(blocker / "sms.log")
    make_user(is_superuser=True, is_staff=True)
    with pytest.raises(SmsError, match="FileSmsBackend: cannot write"):
        send_sms(phone=PHONE, text=TEXT, params={})
    assert Notification.objects.count() == 1


# --- the Aliyun adapter, against a fake dysmsapi -------------------------------------------------

KEY_ID, SECRET = "LTAI-test-key-id", "test-secret/with+signs="
SIGN_NAME, TEMPLATE = "涿州i志愿", "SMS_123456789"
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def spec_encode(text: str) -> str:
    """Percent-encoding as the signature document states it: UTF-8 bytes; A–Z a–z 0–9 - _ . ~ as
    they are; every other byte %XY with capital hex digits (a space is %20, never +)."""
    return "".join(chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8"))


def spec_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((spec_encode(k), spec_encode(v)) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    string_to_sign = method + "&" + spec_encode("/") + "&" + spec_encode(canonical)
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class FakeDysms:
    """A dysmsapi on 127.0.0.1: checks the signature with ``secret`` and answers ``answer``."""

    def __init__(self) -> None:
        self.secret = SECRET
        self.answer: tuple[int, dict] = (200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})
        self.delay = 0.0
        self.requests: list[dict[str, str]] = []
        self.signature_ok: list[bool] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length).decode("ascii")
                assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
                params = dict(parse_qsl(body, keep_blank_values=True, strict_parsing=True))
                fake.requests.append(params)
                ok = hmac.compare_digest(params.get("Signature", ""), spec_signature("POST", params, fake.secret))
                fake.signature_ok.append(ok)
                time.sleep(fake.delay)
                status, answer = fake.answer
                if not ok:
                    status, answer = (
                        400,
                        {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."},
                    )
                answer = {"RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", **answer}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def dysms(settings) -> Iterator[FakeDysms]:
    fake = FakeDysms()
    fake.thread.start()
    settings.SMS_ALIYUN_ENDPOINT = fake.url
    settings.SMS_ALIYUN_ACCESS_KEY_ID = KEY_ID
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = SECRET
    settings.SMS_ALIYUN_SIGN_NAME = SIGN_NAME
    settings.SMS_ALIYUN_TEMPLATE_CODE = TEMPLATE
    settings.SMS_ALIYUN_REGION = "cn-hangzhou"
    settings.SMS_ALIYUN_TIMEOUT = 2
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def test_spec_encoding_matches_the_documented_examples() -> None:
    # The examples the signature document gives: a double quote is %22, a space %20, ~ kept.
    assert spec_encode('"') == "%22"
    assert spec_encode("a b~") == "a%20b~"
    assert spec_encode("涿") == "%E6%B6%BF"


def test_aliyun_sends_a_signed_sendsms_request(dysms) -> None:
    AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    assert dysms.signature_ok == [True]
    [params] = dysms.requests
    assert {k: v for k, v in params.items() if k not in {"Signature", "SignatureNonce", "Timestamp"}} == {
        "AccessKeyId": KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": PHONE,
        "RegionId": "cn-hangzhou",
        "SignName": SIGN_NAME,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "TemplateCode": TEMPLATE,
        "TemplateParam": '{"code":"123456"}',
        "Version": "2017-05-25",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params["Timestamp"])
    assert len(params["SignatureNonce"]) >= 16


def test_each_request_has_its_own_nonce(dysms) -> None:
    backend = AliyunSmsBackend()
    backend.send(PHONE, TEXT, params={"code": "111111"})
    backend.send(PHONE, TEXT, params={"code": "222222"})
    assert dysms.signature_ok == [True, True]
    assert dysms.requests[0]["SignatureNonce"] != dysms.requests[1]["SignatureNonce"]


def test_a_wrong_secret_fails_the_servers_check_and_raises(dysms, settings) -> None:
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    with pytest.raises(SmsError) as caught:
        AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    assert dysms.signature_ok == [False]
    assert str(caught.value) == (
        "Aliyun SMS answered HTTP 400: SignatureDoesNotMatch (Specified signature is not matched., "
        "RequestId F655A8D5-B967-440B-8683-DAD6FF8DE990)"
    )


def test_an_error_code_in_the_answer_raises(dysms) -> None:
    dysms.answer = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"})
    with pytest.raises(SmsError) as caught:
        AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    assert str(caught.value) == (
        "Aliyun SMS refused the message: isv.BUSINESS_LIMIT_CONTROL (触发小时级流控Permits:5, "
        "RequestId F655A8D5-B967-440B-8683-DAD6FF8DE990)"
    )


def test_an_http_error_raises(dysms) -> None:
    dysms.answer = (
        503,
        {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure."},
    )
    with pytest.raises(SmsError, match=r"^Aliyun SMS answered HTTP 503: ServiceUnavailable"):
        AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})


def test_a_timeout_raises(dysms, settings) -> None:
    settings.SMS_ALIYUN_TIMEOUT = 0.3
    dysms.delay = 1.0
    started = time.monotonic()
    with pytest.raises(SmsError, match=r"^Aliyun SMS unreachable: .*timed out"):
        AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})
    assert time.monotonic() - started < 1.0


def test_a_closed_port_raises(settings, dysms) -> None:
    dysms.server.shutdown()
    dysms.server.server_close()
    with pytest.raises(SmsError, match=r"^Aliyun SMS unreachable"):
        AliyunSmsBackend().send(PHONE, TEXT, params={"code": "123456"})


def test_missing_keys_are_a_configuration_error(settings) -> None:
    settings.SMS_ALIYUN_ACCESS_KEY_ID = ""
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = ""
    settings.SMS_ALIYUN_SIGN_NAME = "x"
    settings.SMS_ALIYUN_TEMPLATE_CODE = "x"
    with pytest.raises(ImproperlyConfigured, match="SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET"):
        AliyunSmsBackend()


def test_an_endpoint_that_is_not_http_is_a_configuration_error(dysms, settings) -> None:
    settings.SMS_ALIYUN_ENDPOINT = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured, match="must be an http"):
        AliyunSmsBackend()


# --- codes through the Aliyun adapter ------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_sent_through_aliyun_is_the_template_parameter_and_works(
    dysms, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SMS_BACKENDS = ["apps.accounts.sms.aliyun.AliyunSmsBackend"]
    make_user(phone=PHONE)
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/auth/sms-code/", {"phone": PHONE, "purpose": "login"}, format="json")
    assert response.status_code == 200
    assert dysms.signature_ok == [True]
    code = json.loads(dysms.requests[0]["TemplateParam"])["code"]
    token = client.post("/api/v1/auth/sms-token/", {"phone": PHONE, "code": code}, format="json")
    assert token.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_refused_message_is_503_and_the_number_may_ask_again_at_once(dysms, settings) -> None:
    settings.SMS_BACKENDS = ["apps.accounts.sms.aliyun.AliyunSmsBackend"]
    dysms.answer = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
    client = APIClient()
    refused = client.post("/api/v1/auth/sms-code/", {"phone": PHONE, "purpose": "register"}, format="json")
    assert refused.status_code == 503
    assert refused.json() == {"detail": "短信发送失败，请稍后再试。", "code": "sms_unavailable"}
    assert PhoneCode.objects.count() == 0
    dysms.answer = (200, {"Code": "OK", "Message": "OK"})
    again = client.post("/api/v1/auth/sms-code/", {"phone": PHONE, "purpose": "register"}, format="json")
    assert again.status_code == 200
    assert PhoneCode.objects.count() == 1
    assert dysms.signature_ok == [True, True]
