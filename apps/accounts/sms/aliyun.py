"""阿里云短信服务 (Alibaba Cloud SMS): the ``SendSms`` action of dysmsapi, version 2017-05-25.

An RPC-style call: every parameter, the common ones (``AccessKeyId``, ``Timestamp``,
``SignatureNonce``, …) and the action's (``PhoneNumbers``, ``SignName``, ``TemplateCode``,
``TemplateParam``), is signed with signature version 1.0:

1. percent-encode each name and value (UTF-8; ``A–Z a–z 0–9 - _ . ~`` kept, every other byte
   as ``%XY`` in capitals, so a space is ``%20``), sort by name, join as ``name=value`` with ``&``
   — the canonicalized query string;
2. the string to sign is ``<HTTP method>&%2F&<percent-encoded canonicalized query string>``;
3. the signature is Base64(HMAC-SHA1(key = AccessKeySecret + "&", string to sign)), sent as the
   ``Signature`` parameter.

The parameters go in a form-encoded POST body, so the keys and the number stay out of URLs and
access logs. The answer is JSON; ``"Code": "OK"`` means accepted, anything else is a refusal.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import SmsError

API_VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    return quote(value, safe="~")


def canonicalized_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))


def signature(*, method: str, params: Mapping[str, str], secret: str) -> str:
    """The ``Signature`` of ``params`` (which must not contain it) for a call with ``method``."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsBackend:
    """Sends through ``SMS_ALIYUN_ENDPOINT`` with the approved signature and verification-code
    template (``SMS_ALIYUN_SIGN_NAME``, ``SMS_ALIYUN_TEMPLATE_CODE``); the template's variables
    are the message's ``params``. Raises :class:`SmsError` on a transport error, a timeout
    (``SMS_ALIYUN_TIMEOUT`` seconds), an HTTP error or an answer whose ``Code`` is not ``OK``."""

    def __init__(self) -> None:
        self.endpoint = settings.SMS_ALIYUN_ENDPOINT
        self.access_key_id = settings.SMS_ALIYUN_ACCESS_KEY_ID
        self.access_key_secret = settings.SMS_ALIYUN_ACCESS_KEY_SECRET
        self.sign_name = settings.SMS_ALIYUN_SIGN_NAME
        self.template_code = settings.SMS_ALIYUN_TEMPLATE_CODE
        self.region = settings.SMS_ALIYUN_REGION
        self.timeout = settings.SMS_ALIYUN_TIMEOUT
        missing = [
            name
            for name, value in [
                ("SMS_ALIYUN_ACCESS_KEY_ID", self.access_key_id),
                ("SMS_ALIYUN_ACCESS_KEY_SECRET", self.access_key_secret),
                ("SMS_ALIYUN_SIGN_NAME", self.sign_name),
                ("SMS_ALIYUN_TEMPLATE_CODE", self.template_code),
            ]
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"The Aliyun SMS backend needs {', '.join(missing)}.")
        if urlparse(self.endpoint).scheme not in {"http", "https"}:
            raise ImproperlyConfigured(f"SMS_ALIYUN_ENDPOINT must be an http(s) URL, got {self.endpoint!r}.")

    def request_params(self, phone: str, params: Mapping[str, str]) -> dict[str, str]:
        """Every parameter of the call, signed."""
        call = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Version": API_VERSION,
        }
        call["Signature"] = signature(method="POST", params=call, secret=self.access_key_secret)
        return call

    def send(self, phone: str, text: str, *, params: Mapping[str, str]) -> None:
        body = canonicalized_query(self.request_params(phone, params)).encode()
        request = urllib.request.Request(  # noqa: S310 — the scheme is checked in __init__
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = _json(response.read())
        except urllib.error.HTTPError as exc:
            answer = _json(exc.read())
            raise SmsError(f"Aliyun SMS answered HTTP {exc.code}: {_describe(answer)}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"Aliyun SMS unreachable: {exc}") from exc
        if answer.get("Code") != "OK":
            raise SmsError(f"Aliyun SMS refused the message: {_describe(answer)}")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _describe(answer: Mapping[str, Any]) -> str:
    return (
        f"{answer.get('Code', '?')} ({answer.get('Message', 'no message')}, RequestId {answer.get('RequestId', '?')})"
    )
