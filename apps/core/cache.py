"""The shared cache on Redis, made to degrade instead of failing requests when Redis is down.

The cache holds only counters and lockouts (log-in throttles, SMS code caps), never the truth. When
Redis is stopped (connection refused) or frozen (connects, never answers), a call gives up after
the short socket timeouts in ``settings.CACHES`` and answers as a miss: ``get`` its default, ``add``
False, ``incr`` the missing-key ``ValueError`` every caller already handles, writes nothing. After
a failure the process does not try Redis again for :data:`COOL_OFF` seconds, so one outage costs
each process one timeout, not one per call.

What that means for the callers (they fail open while the cache is down, and the outage is logged):
the log-in lockout and the token endpoint's flood guard do not count, and the SMS code hourly caps
do not count (the per-number resend interval, kept in the database, still holds). Nothing a
resident's submission (点单) does touches the cache."""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

COOL_OFF = 5.0  # seconds without trying Redis after a failure

T = TypeVar("T")


class _Outage:
    """Whether one Redis cache location is taken to be down, shared by the process's threads."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.lock = threading.Lock()

    def skipping(self) -> bool:
        return self.down_since is not None and time.monotonic() < self.retry_at

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            first = self.down_since is None
            if first:
                self.down_since = now
            self.retry_at = now + COOL_OFF
        if first:
            logger.warning(
                "cache %s unreachable (%s: %s); counters and lockouts are not kept until it answers",
                self.location,
                type(error).__name__,
                error,
            )

    def answered(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            logger.warning("cache %s answers again after %.1f s", self.location, time.monotonic() - since)


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(servers: Iterable[str]) -> _Outage:
    location = ",".join(servers)
    with _outages_lock:
        return _outages.setdefault(location, _Outage(location))


class ResilientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._outage = _outage_of(servers)

    def _guard(self, call: Callable[[], T], miss: Callable[[], T]) -> T:
        if self._outage.skipping():
            return miss()
        try:
            result = call()
        except RedisError as error:  # ConnectionError, TimeoutError and the rest of the client's failures
            self._outage.failed(error)
            return miss()
        self._outage.answered()
        return result

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).add(key, value, timeout), lambda: False)

    def get(self, key: Any, default: Any) -> Any:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).get(key, default), lambda: default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).set(key, value, timeout), lambda: None)

    def touch(self, key: Any, timeout: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).touch(key, timeout), lambda: False)

    def delete(self, key: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).delete(key), lambda: False)

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).get_many(keys), dict)

    def has_key(self, key: Any) -> bool:
        return self._guard(lambda: super(ResilientRedisCacheClient, self).has_key(key), lambda: False)

    def incr(self, key: Any, delta: int) -> int:
        def missing() -> int:
            raise ValueError(f"Key '{key}' not found.")  # as for a key that does not exist

        count: int = self._guard(lambda: super(ResilientRedisCacheClient, self).incr(key, delta), missing)
        return count

    def set_many(self, data: Any, timeout: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).set_many(data, timeout), lambda: None)

    def delete_many(self, keys: Any) -> None:
        self._guard(lambda: super(ResilientRedisCacheClient, self).delete_many(keys), lambda: None)

    # clear() is left as it is: emptying the cache is an operator's (or a test's) deliberate act,
    # which must fail loudly rather than pretend.


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, answering as a miss while Redis is unreachable (see the module)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
