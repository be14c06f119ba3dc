"""Whether the platform's Celery worker still takes work from a Redis broker.

A worker can stay up and stop consuming: after Redis was frozen and thawed, kombu's consumer may
keep waiting on a connection whose answer was lost, while the worker still answers remote control
(pings) on another; and after a long outage kombu waits up to 30 s between reconnections. Its
process is alive, so a supervisor that only restarts exited processes never notices.

The judgement, every :data:`CHECK_INTERVAL` seconds: the broker answers a PING, messages wait in
the worker's queue, and the worker, asked over remote control which tasks it is running, says none
or does not answer. When that holds for :data:`STALL_SECONDS` in a row (and the worker has been up
for :data:`GRACE_SECONDS`), the worker is stalled: ``manage.py serve`` stops it, and starts it
again. A worker busy with long tasks is never judged stalled; nor is one whose broker is away
(nobody can consume then, and kombu reconnects by itself)."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from kombu.transport.redis import PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 3.0
STALL_SECONDS = 20.0
GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Reading:
    broker_up: bool
    waiting: int  # messages in the worker's queue
    busy: bool | None  # whether the worker runs a task; None when it did not answer


def queue_keys(queue: str) -> list[str]:
    """The Redis lists that hold ``queue``'s messages: kombu keeps one per priority step."""
    return [queue if step == 0 else f"{queue}{RedisChannel.sep}{step}" for step in PRIORITY_STEPS]


def broker_reading(broker_url: str, queue: str) -> tuple[bool, int]:
    """(the broker answers, messages waiting in ``queue`` at any priority), with one-second timeouts."""
    client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return True, sum(int(client.llen(key)) for key in queue_keys(queue))
    except RedisError:
        return False, 0
    finally:
        client.close()


def worker_busy(node: str, *, timeout: float = 2.0) -> bool | None:
    """Whether worker ``node`` runs a task now (remote control ``active``); None if it does not answer."""
    from celery import current_app

    try:
        replies = current_app.control.inspect(destination=[node], timeout=timeout).active()
    except Exception:  # the broker went away between the PING and the question
        return None
    if not replies or node not in replies:
        return None
    return bool(replies[node])


def read(broker_url: str, queue: str, node: str) -> Reading:
    up, waiting = broker_reading(broker_url, queue)
    if not up or waiting == 0:
        return Reading(broker_up=up, waiting=waiting, busy=None)
    return Reading(broker_up=True, waiting=waiting, busy=worker_busy(node))


@dataclass
class StallWatch:
    """Feeds on readings; :meth:`observe` says when the worker has been stalled long enough.
    ``started_at`` is when the current worker process started (monotonic seconds)."""

    stall_seconds: float = STALL_SECONDS
    grace_seconds: float = GRACE_SECONDS
    clock: Callable[[], float] = time.monotonic
    stalled_since: float | None = field(default=None, init=False)

    def observe(self, reading: Reading, *, started_at: float) -> bool:
        now = self.clock()
        stalled = reading.broker_up and reading.waiting > 0 and not reading.busy
        if not stalled or now - started_at < self.grace_seconds:
            self.stalled_since = None
            return False
        if self.stalled_since is None:
            self.stalled_since = now
        return now - self.stalled_since >= self.stall_seconds

    def reset(self) -> None:
        self.stalled_since = None
