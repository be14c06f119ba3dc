"""The judgement of ``manage.py serve`` that its worker is up but takes no messages: only while
the broker answers, messages wait and the worker runs nothing (or does not answer), for 20 s in
a row, and never in a worker's first 30 s."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from apps.core.worker_watch import GRACE_SECONDS, STALL_SECONDS, Reading, StallWatch, queue_keys, read
from tools.drills.redis_server import RedisServer

STALLED = Reading(broker_up=True, waiting=5, busy=False)
SILENT = Reading(broker_up=True, waiting=5, busy=None)
BUSY = Reading(broker_up=True, waiting=5, busy=True)
EMPTY = Reading(broker_up=True, waiting=0, busy=None)
BROKER_AWAY = Reading(broker_up=False, waiting=0, busy=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(readings: list[Reading], *, started_at: float = 0.0, step: float = 3.0) -> list[bool]:
    clock = Clock()
    watch = StallWatch(clock=clock)
    verdicts = []
    for reading in readings:
        verdicts.append(watch.observe(reading, started_at=started_at))
        clock.now += step
    return verdicts


def test_the_thresholds():
    assert (STALL_SECONDS, GRACE_SECONDS) == (20.0, 30.0)


@pytest.mark.parametrize("reading", [STALLED, SILENT], ids=["idle", "not answering"])
def test_a_worker_taking_nothing_while_messages_wait_is_stalled_after_20_seconds(reading):
    # Readings every 3 s: the first at 0 s, the one at 21 s is the first 20 s after the first.
    assert _run([reading] * 9) == [False] * 7 + [True, True]


@pytest.mark.parametrize("healthy", [BUSY, EMPTY, BROKER_AWAY], ids=["busy", "nothing waits", "broker away"])
def test_any_healthy_reading_starts_the_count_again(healthy):
    assert _run([STALLED] * 6 + [healthy] + [STALLED] * 7) == [False] * 14
    assert _run([STALLED] * 6 + [healthy] + [STALLED] * 8)[-1] is True


def test_a_worker_in_its_first_30_seconds_is_never_judged():
    clock = Clock()
    watch = StallWatch(clock=clock)
    started = clock.now
    verdicts = []
    for _ in range(20):
        verdicts.append(watch.observe(STALLED, started_at=started))
        clock.now += 3
    # Judged from 30 s on; stalled once 20 s more have passed (at 51 s: the 18th reading).
    assert verdicts.index(True) == 17


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_a_reading_of_a_real_broker_counts_the_queue_and_asks_the_worker(redis_server: RedisServer):
    url = f"{redis_server.url}/0"
    assert read(url, "celery", "nobody@nowhere") == Reading(broker_up=True, waiting=0, busy=None)
    client = redis.Redis.from_url(url)
    client.lpush("celery", "a", "b")
    client.lpush("celery\x06\x166", "c")  # a message at priority 6, in a list of its own
    assert queue_keys("celery") == ["celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169"]
    # No worker of that name answers the remote-control question: None, as for a worker whose consumer is gone.
    assert read(url, "celery", "nobody@nowhere") == Reading(broker_up=True, waiting=3, busy=None)
    redis_server.kill()
    assert read(url, "celery", "nobody@nowhere") == Reading(broker_up=False, waiting=0, busy=None)
