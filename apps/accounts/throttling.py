"""Log-in lockout, shared by the page log-in, the admin log-in and the API token.

Wrong passwords are counted in the shared cache (settings/cache.py) under two keys: the
account — the keyed hash of the phone number as typed, so unknown numbers count the same as
known ones and nothing is stored in clear — and the client address (an IPv6 client by its /64,
which one client usually holds whole). When either count reaches its limit within the window
(``LOGIN_LOCKOUT_ACCOUNT_FAILURES`` for an account, ``LOGIN_LOCKOUT_ADDRESS_FAILURES`` for an
address, per ``LOGIN_LOCKOUT_WINDOW`` seconds), that key is locked for one full window:

* an account lock refuses that account from every address (guessing one account's password
  from many addresses is what it stops) — but it ends when the window has passed, attempts
  refused while locked neither count nor extend it, and the count starts from zero afterwards,
  so no one can keep an account locked beyond one window per round of guesses, and a single
  address doing so locks itself as well;
* an address lock refuses every account from that address, and no other address.

While locked, even the right password is refused. A successful log-in clears the account's
count (not the address's: signing in to one's own account must not buy more guesses at others).

Counting uses two fixed buckets of one window each, weighted for a sliding window, so failures
straddling a bucket boundary still add up; increments are atomic on Redis. Times come from
:func:`now`, so tests can move the clock.
"""

import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

from .phones import phone_digest

_PREFIX = "login-lockout:v1"


def now() -> float:
    return time.time()


@dataclass(frozen=True)
class LoginDecision:
    allowed: bool
    locked_until: float | None = None  # a timestamp of :func:`now`, when not allowed

    @property
    def retry_after(self) -> int:
        """Whole seconds until the lock ends (for the Retry-After header)."""
        if self.locked_until is None:
            return 0
        return max(1, math.ceil(self.locked_until - now()))

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        until = datetime.fromtimestamp(self.locked_until or now(), tz=timezone.get_current_timezone())
        return ngettext(
            "登录失败次数过多，已暂时锁定。请在 %(minutes)d 分钟后（%(time)s 以后）再试。",
            "登录失败次数过多，已暂时锁定。请在 %(minutes)d 分钟后（%(time)s 以后）再试。",
            minutes,
        ) % {"minutes": minutes, "time": until.strftime("%H:%M")}


ALLOWED = LoginDecision(allowed=True)


def client_address(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or behind the proxy the last X-Forwarded-For entry
    (the one the proxy appended). An IPv6 address stands for its /64."""
    if request is None:
        return "unknown"
    raw = request.META.get("REMOTE_ADDR") or ""
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            raw = forwarded[-1]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _subjects(request: HttpRequest | None, phone: str) -> list[tuple[str, int]]:
    """(key, failure limit) of the account and of the client address."""
    return [
        (f"{_PREFIX}:account:{phone_digest(phone)}", settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES),
        (f"{_PREFIX}:address:{client_address(request)}", settings.LOGIN_LOCKOUT_ADDRESS_FAILURES),
    ]


def _bucket_keys(key: str, at: float) -> tuple[str, str, float]:
    """Keys of the current and the previous bucket, and how far into the current one ``at`` is (0..1)."""
    window = settings.LOGIN_LOCKOUT_WINDOW
    bucket, into = divmod(at, window)
    return f"{key}:n:{int(bucket)}", f"{key}:n:{int(bucket) - 1}", into / window


def _locked_until(key: str, at: float) -> float | None:
    until = cache.get(f"{key}:locked")
    return until if isinstance(until, (int, float)) and until > at else None


def login_attempt_allowed(request: HttpRequest | None, phone: str) -> LoginDecision:
    """Whether a log-in for ``phone`` from this client may be tried at all (before authenticating)."""
    at = now()
    locks = [until for key, _limit in _subjects(request, phone) if (until := _locked_until(key, at)) is not None]
    return LoginDecision(allowed=False, locked_until=max(locks)) if locks else ALLOWED


def record_login_failure(request: HttpRequest | None, phone: str) -> LoginDecision:
    """Count a wrong password for the account and the address; lock whichever reached its limit."""
    at = now()
    window = settings.LOGIN_LOCKOUT_WINDOW
    locks = []
    for key, limit in _subjects(request, phone):
        current, previous, into = _bucket_keys(key, at)
        cache.add(current, 0, timeout=2 * window)
        try:
            count = cache.incr(current)
        except ValueError:  # expired between add and incr
            cache.set(current, 1, timeout=2 * window)
            count = 1
        cache.touch(current, 2 * window)  # incr keeps the expiry on Redis, not on every backend
        recent = count + (cache.get(previous) or 0) * (1 - into)
        if recent > limit - 1:
            until = at + window
            cache.set(f"{key}:locked", until, timeout=window)
            cache.delete_many([current, previous])  # after the lock, counting starts afresh
            locks.append(until)
    return LoginDecision(allowed=False, locked_until=max(locks)) if locks else ALLOWED


def record_login_success(request: HttpRequest | None, phone: str) -> None:
    """Clear the account's failure count (the address's stays)."""
    account_key, _limit = _subjects(request, phone)[0]
    current, previous, _into = _bucket_keys(account_key, now())
    cache.delete_many([current, previous])
