"""One-time codes sent by SMS: for registering, logging in without a password and (re)setting a password.

A code is six random digits, stored only as an HMAC under a key derived from ``PHONE_LOOKUP_KEY``,
one live code per number and purpose (:class:`~apps.accounts.models.PhoneCode`). It lives
``SMS_CODE_TTL`` seconds (5 minutes), is used once, and dies after ``SMS_CODE_MAX_ATTEMPTS`` (5)
wrong tries: the try after that is refused with :class:`CodeThrottled` (429) even if right. A new
code for the same number and purpose may be sent ``SMS_CODE_RESEND_SECONDS`` (60) after the last,
and at most ``SMS_CODE_PHONE_HOURLY_LIMIT`` (5) an hour to one number and
``SMS_CODE_ADDRESS_HOURLY_LIMIT`` (20) an hour from one client address, counted in the shared
cache that backs the log-in lockout (``apps.accounts.throttling``): each number and address has
a one-hour window that starts with its first send, counted with atomic increments.

For log-in and password reset a code is only sent to a number that has an active account, but
the answer is the same either way (the same throttles, the same row written), so the answer
does not tell whether a number is registered.

Times come from :func:`now`, so tests can move the clock.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from apps.core.errors import DomainError
from apps.core.masking import mask_phone

from .models import CodePurpose, PhoneCode, User
from .phones import phone_digest, validate_mobile
from .sms import SmsError, send_sms
from .throttling import client_address

_PREFIX = "sms-code:v1"
HOUR = 3600


def now() -> datetime:
    return timezone.now()


class CodeThrottled(Exception):
    """Too many codes asked for, too soon, or too many wrong tries: HTTP 429 with Retry-After."""

    def __init__(self, message: str, *, code: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = max(1, retry_after)


class SmsUnavailable(DomainError):
    """The provider did not take the message. HTTP 503; the person may ask again at once."""

    status_code = 503
    default_code = "sms_unavailable"


@dataclass(frozen=True)
class CodeSent:
    resend_after: int  # seconds until another code may be asked for
    expires_in: int  # seconds the code lives


def _code_key() -> bytes:
    return hashlib.sha256(f"sms-code:{settings.PHONE_LOOKUP_KEY}".encode()).digest()


def code_hash(*, digest: str, purpose: str, code: str) -> str:
    """The stored form of a code: an HMAC of the number's digest, the purpose and the digits."""
    return hmac.new(_code_key(), f"{digest}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def _seconds(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds())


# --- hourly caps ---------------------------------------------------------------------------------


def _count_send(key: str, limit: int, at: float) -> float | None:
    """Count one send under ``key``; the time its window ends if the count is now past ``limit``.

    The window starts at the key's first send and lasts an hour; each window has its own counter
    (named by its start), incremented atomically, so concurrent sends cannot both take the last
    place. A window that has ended (by the clock of :func:`now`) is replaced by a new one."""
    start_key = f"{key}:start"
    cache.add(start_key, at, timeout=2 * HOUR)
    start = cache.get(start_key)
    if not isinstance(start, int | float) or start + HOUR <= at:
        start = at
        cache.set(start_key, start, timeout=2 * HOUR)
    count_key = f"{key}:n:{int(start)}"
    cache.add(count_key, 0, timeout=2 * HOUR)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=2 * HOUR)
        count = 1
    return start + HOUR if count > limit else None


def _count_hourly(request: HttpRequest | None, digest: str, at: float) -> None:
    phone_until = _count_send(f"{_PREFIX}:phone:{digest}", settings.SMS_CODE_PHONE_HOURLY_LIMIT, at)
    address_until = _count_send(
        f"{_PREFIX}:address:{client_address(request)}", settings.SMS_CODE_ADDRESS_HOURLY_LIMIT, at
    )
    if phone_until is not None:
        minutes = max(1, math.ceil((phone_until - at) / 60))
        message = ngettext(
            "该手机号获取验证码次数过多（每小时最多 %(limit)d 次），请在 %(minutes)d 分钟后再试。",
            "该手机号获取验证码次数过多（每小时最多 %(limit)d 次），请在 %(minutes)d 分钟后再试。",
            minutes,
        ) % {"limit": settings.SMS_CODE_PHONE_HOURLY_LIMIT, "minutes": minutes}
        raise CodeThrottled(message, code="sms_phone_limit", retry_after=math.ceil(phone_until - at))
    if address_until is not None:
        minutes = max(1, math.ceil((address_until - at) / 60))
        message = ngettext(
            "当前网络获取验证码次数过多，请在 %(minutes)d 分钟后再试。",
            "当前网络获取验证码次数过多，请在 %(minutes)d 分钟后再试。",
            minutes,
        ) % {"minutes": minutes}
        raise CodeThrottled(message, code="sms_address_limit", retry_after=math.ceil(address_until - at))


# --- sending -------------------------------------------------------------------------------------


def _too_soon(row_sent_at: datetime, at: datetime) -> CodeThrottled:
    seconds = max(1, _seconds(row_sent_at + timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS) - at))
    message = ngettext(
        "验证码已发送，请在 %(seconds)d 秒后再重新获取。",
        "验证码已发送，请在 %(seconds)d 秒后再重新获取。",
        seconds,
    ) % {"seconds": seconds}
    return CodeThrottled(message, code="sms_resend_too_soon", retry_after=seconds)


def code_text(*, code: str, purpose: str) -> str:
    """The message as the person reads it."""
    values = {"code": code, "minutes": settings.SMS_CODE_TTL // 60}
    if purpose == CodePurpose.REGISTER:
        return gettext("您的注册验证码是 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。") % values
    if purpose == CodePurpose.LOGIN:
        return gettext("您的登录验证码是 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。") % values
    return gettext("您的设置密码验证码是 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。") % values


def _deliver(*, row_id: int, stored_hash: str, phone: str, text: str, code: str) -> None:
    try:
        send_sms(phone=phone, text=text, params={"code": code})
    except SmsError as exc:
        # Not sent: forget the code, so that the person may ask again at once.
        PhoneCode.objects.filter(id=row_id, code_hash=stored_hash).delete()
        raise SmsUnavailable(gettext("短信发送失败，请稍后再试。")) from exc


def _has_account(digest: str) -> bool:
    return User.objects.filter(phone_digest=digest, is_active=True).exists()


def sms_code_send(*, phone: str, purpose: str, request: HttpRequest | None) -> CodeSent:
    """Send a new code for ``purpose`` to ``phone`` (as typed), replacing any earlier one.

    Raises ``ValidationError`` for a number that is not a mobile number, :class:`CodeThrottled`
    when it is too soon after the last code or past an hourly cap, and :class:`SmsUnavailable`
    when the provider refused the message. Writes the code's row, then sends the SMS once the
    surrounding transaction (if any) has committed — call it outside one, to learn whether the
    provider took the message. For log-in and reset, nothing is sent to a number without an
    active account, and the answer is the same."""
    phone = validate_mobile(phone)
    purpose = CodePurpose(purpose)
    digest = phone_digest(phone)
    at = now()
    resend = timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS)
    last = PhoneCode.objects.filter(phone_digest=digest, purpose=purpose).values_list("sent_at", flat=True).first()
    if last is not None and last + resend > at:
        raise _too_soon(last, at)
    _count_hourly(request, digest, at.timestamp())

    code = f"{secrets.randbelow(10**6):06d}"
    values = {
        "code_hash": code_hash(digest=digest, purpose=purpose, code=code),
        "sent_at": at,
        "expires_at": at + timedelta(seconds=settings.SMS_CODE_TTL),
        "failed_attempts": 0,
        "used_at": None,
    }
    # Claim the number's row with a conditional UPDATE: of two concurrent sends, one wins.
    claimed = PhoneCode.objects.filter(phone_digest=digest, purpose=purpose, sent_at__lte=at - resend).update(**values)
    if not claimed:
        try:
            with transaction.atomic():
                PhoneCode.objects.create(phone_digest=digest, purpose=purpose, **values)
        except IntegrityError:  # sent concurrently, or just now
            sent_at = PhoneCode.objects.filter(phone_digest=digest, purpose=purpose).values_list("sent_at", flat=True)
            raise _too_soon(sent_at.first() or at, at) from None
    row_id = PhoneCode.objects.filter(phone_digest=digest, purpose=purpose).values_list("id", flat=True).get()

    if purpose == CodePurpose.REGISTER or _has_account(digest):
        deliver = partial(
            _deliver,
            row_id=row_id,
            stored_hash=str(values["code_hash"]),
            phone=phone,
            text=code_text(code=code, purpose=purpose),
            code=code,
        )
        transaction.on_commit(deliver)  # at once outside a transaction: SMS is network I/O
    return CodeSent(resend_after=settings.SMS_CODE_RESEND_SECONDS, expires_in=settings.SMS_CODE_TTL)


def code_sent_message(*, phone: str, purpose: str) -> str:
    """What the person is told after asking for a code. For log-in and password reset it does not
    say whether the number has an account (the code is only sent if it has)."""
    minutes = settings.SMS_CODE_TTL // 60
    if purpose == CodePurpose.REGISTER:
        return gettext("验证码已发送到 %(phone)s，%(minutes)d 分钟内有效。") % {
            "phone": mask_phone(phone),
            "minutes": minutes,
        }
    return gettext("如果 %(phone)s 已注册，验证码已发送到这个号码，%(minutes)d 分钟内有效。") % {
        "phone": mask_phone(phone),
        "minutes": minutes,
    }


# --- checking ------------------------------------------------------------------------------------

CODE_EXPIRED = "code_expired"
CODE_WRONG = "code_wrong"


def _expired() -> ValidationError:
    return ValidationError(gettext("验证码已过期或已使用，请重新获取验证码。"), code=CODE_EXPIRED)


def sms_code_consume(*, phone: str, purpose: str, code: str) -> None:
    """Use the code last sent to ``phone`` for ``purpose``; return only if ``code`` is it.

    Raises ``ValidationError`` (for the code field) if the code is wrong — counting the try —,
    expired or already used, and :class:`CodeThrottled` once the code has had its wrong tries.
    Call it outside a transaction that the error would roll back: a wrong try must stay counted."""
    purpose = CodePurpose(purpose)
    digest = phone_digest(phone)
    at = now()
    row = PhoneCode.objects.filter(phone_digest=digest, purpose=purpose).first()
    if row is None or row.used_at is not None:
        raise _expired()
    limit = settings.SMS_CODE_MAX_ATTEMPTS
    if row.failed_attempts >= limit:
        wait = _seconds(row.sent_at + timedelta(seconds=settings.SMS_CODE_RESEND_SECONDS) - at)
        raise CodeThrottled(
            gettext("验证码错误次数过多，已失效。请重新获取验证码。"), code="code_attempts_exceeded", retry_after=wait
        )
    if row.expires_at <= at:
        raise _expired()
    same_code = PhoneCode.objects.filter(id=row.id, code_hash=row.code_hash, failed_attempts__lt=limit)
    if hmac.compare_digest(row.code_hash, code_hash(digest=digest, purpose=purpose, code=code)):
        # Conditional: a code is used once, even by two requests at the same moment.
        if same_code.filter(used_at=None, expires_at__gt=at).update(used_at=at):
            return
        raise _expired()
    same_code.update(failed_attempts=F("failed_attempts") + 1)
    failed = PhoneCode.objects.filter(id=row.id).values_list("failed_attempts", flat=True).get()
    left = limit - failed
    if left <= 0:
        raise ValidationError(gettext("验证码不正确。错误次数已达上限，此验证码已失效，请重新获取。"), code=CODE_WRONG)
    raise ValidationError(
        ngettext("验证码不正确，还可以再试 %(left)d 次。", "验证码不正确，还可以再试 %(left)d 次。", left)
        % {"left": left},
        code=CODE_WRONG,
    )
