"""The shared cache degrades instead of failing: with its Redis stopped or frozen, a call answers
as a miss after the short socket timeout, later calls answer at once for a few seconds, and log-ins
(whose lockout counts in the cache) still answer quickly; once Redis is back, it counts again."""

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import Client

from apps.core import cache as resilient
from apps.core.cache import ResilientRedisCache
from tests.accounts.factories import PASSWORD, make_user
from tools.drills.redis_server import RedisServer

TIMEOUT = 0.3


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def running(redis_server: RedisServer, monkeypatch) -> Iterator[RedisServer]:
    """The server, answering before and after the test (thawed or started again if the test left it down);
    no outage remembered from an earlier test."""
    monkeypatch.setattr(resilient, "_outages", {})
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    yield redis_server
    if redis_server.frozen:
        redis_server.thaw()
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()


def _timed(call) -> tuple[object, float]:
    started = time.monotonic()
    try:
        result: object = call()
    except ValueError as error:
        result = error
    return result, time.monotonic() - started


def test_the_project_uses_the_resilient_backend_with_short_timeouts_on_redis():
    from zhuozhou_civic.settings.cache import _cache_url

    if _cache_url.scheme in {"redis", "rediss"}:
        assert django_settings.CACHES["default"]["BACKEND"] == "apps.core.cache.ResilientRedisCache"
        assert django_settings.CACHES["default"]["OPTIONS"] == {
            "socket_connect_timeout": TIMEOUT,
            "socket_timeout": TIMEOUT,
        }


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_a_cache_whose_redis_is_down_answers_as_a_miss_quickly_and_counts_again_once_it_is_back(
    running: RedisServer, outage: str, monkeypatch, caplog
):
    monkeypatch.setattr(resilient, "COOL_OFF", 2.0)
    cache = ResilientRedisCache(
        f"{running.url}/{1 if outage == 'stopped' else 2}",
        {"OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT}},
    )
    cache.clear()
    assert cache.add("count", 0) is True
    assert cache.incr("count") == 1
    assert cache.get("count") == 1

    caplog.set_level(logging.WARNING, logger="apps.core.cache")
    if outage == "stopped":
        running.kill()
    else:
        running.freeze()

    first, first_took = _timed(lambda: cache.get("count", "miss"))
    assert first == "miss"
    assert first_took < TIMEOUT + 0.2  # refused at once (stopped), or the read timed out (frozen)
    # Within the cool-off, calls do not touch Redis at all.
    calls = {
        "get": lambda: cache.get("count"),
        "add": lambda: cache.add("other", 0),
        "incr": lambda: cache.incr("count"),
        "set": lambda: cache.set("count", 5),
        "touch": lambda: cache.touch("count", 10),
        "get_many": lambda: cache.get_many(["count", "other"]),
        "has_key": lambda: cache.has_key("count"),
        "delete": lambda: cache.delete("count"),
        "delete_many": lambda: cache.delete_many(["count"]),
        "set_many": lambda: cache.set_many({"a": 1}),
    }
    answers = {name: _timed(call) for name, call in calls.items()}
    assert {name: took < 0.01 for name, (_answer, took) in answers.items()} == dict.fromkeys(calls, True)
    assert {name: answer for name, (answer, _took) in answers.items() if name != "incr"} == {
        "get": None,
        "add": False,
        "set": None,
        "touch": False,
        "get_many": {},
        "has_key": False,
        "delete": False,
        "delete_many": None,
        "set_many": [],
    }
    assert isinstance(answers["incr"][0], ValueError)  # what incr of a missing key raises
    outage_logs = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_logs) == 1
    assert outage_logs[0].startswith(f"cache {running.url}/") and "counters and lockouts are not kept" in outage_logs[0]

    # After the cool-off it tries again (and, still down, gives up again within the timeout).
    time.sleep(2.05)
    again, again_took = _timed(lambda: cache.get("count", "miss"))
    assert again == "miss"
    assert again_took < TIMEOUT + 0.2

    if outage == "stopped":
        running.start()
    else:
        running.thaw()
    time.sleep(2.05)
    assert cache.add("count", 7) in {True, False}  # the key may have survived a freeze
    assert cache.get("back") is None
    cache.set("back", 1)
    assert cache.get("back") == 1
    assert any("answers again after" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_log_ins_answer_within_a_second_while_the_cache_is_down(running: RedisServer, outage: str, settings, api):
    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": f"{running.url}/{3 if outage == 'stopped' else 4}",
            "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT},
        }
    }
    caches["default"].clear()
    user = make_user(name="王秀兰")
    body = {"phone": user.phone, "password": PASSWORD}
    assert api().post("/api/v1/auth/token/", body, format="json").status_code == 200

    if outage == "stopped":
        running.kill()
    else:
        running.freeze()
    try:
        timings = []
        statuses = []
        for attempt in range(6):
            wrong = attempt % 2 == 0
            started = time.monotonic()
            response = api().post(
                "/api/v1/auth/token/", {**body, "password": "wrong" if wrong else PASSWORD}, format="json"
            )
            timings.append(time.monotonic() - started)
            statuses.append(response.status_code)
        page = time.monotonic()
        login_page = Client().post("/login/", {"username": user.phone, "password": PASSWORD})
        timings.append(time.monotonic() - page)
    finally:
        if outage == "stopped":
            running.start()
        else:
            running.thaw()
    print(f"cache {outage}: log-in answers took {', '.join(f'{t:.3f}' for t in timings)} s")
    assert statuses == [400, 200, 400, 200, 400, 200]
    assert login_page.status_code == 302
    assert max(timings) < 1.0
