"""The queue's health: the selector's numbers at a fixed time, the staff page (centre dispatchers
and administrators only) and the monitoring JSON (200 healthy, 503 not; counts only)."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.jobs.models import Job, JobState, WorkerHeartbeat
from apps.jobs.selectors import TaskCounts, queue_health
from apps.jobs.services import worker_heartbeat_write

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
MAIL = "notifications.deliver_email"
MATCH = "matching.advance"
PAGE = "/s/queue/health/"
JSON = "/healthz/queue"


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def job(task: str, state: str, *, run_at: datetime, finished_at: datetime | None = None, subject_id=None) -> Job:
    return Job.objects.create(task=task, subject_id=subject_id, state=state, run_at=run_at, finished_at=finished_at)


def a_queue(now: datetime) -> None:
    job(MAIL, JobState.PENDING, run_at=now - s(42), subject_id=1)  # the oldest due
    job(MAIL, JobState.PENDING, run_at=now - s(1), subject_id=2)
    job(MAIL, JobState.PENDING, run_at=now + s(300), subject_id=3)  # a retry waiting for its backoff
    job(MAIL, JobState.RUNNING, run_at=now - s(100), subject_id=4)
    job(MAIL, JobState.DEAD, run_at=now - s(9000), finished_at=now - s(3600), subject_id=5)
    job(MAIL, JobState.DEAD, run_at=now - s(99000), finished_at=now - s(86401), subject_id=6)  # over a day ago
    job(MAIL, JobState.DONE, run_at=now - s(10), finished_at=now - s(5), subject_id=7)
    job(MATCH, JobState.PENDING, run_at=now - s(3), subject_id=8)
    job(MATCH, JobState.RUNNING, run_at=now - s(3), subject_id=9)


def test_health_counts_the_queue_at_a_fixed_time():
    a_queue(NOW)
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=NOW - s(3600), now=NOW - s(60))
    worker_heartbeat_write(hostname="celery@web-2", pid=42, started_at=NOW - s(3600), now=NOW - s(61))

    health = queue_health(now=NOW)

    assert (health.depth, health.pending, health.running, health.dead_last_day) == (3, 4, 2, 1)
    assert health.oldest_due_seconds == 42
    assert [(w.hostname, w.pid, w.last_seen) for w in health.workers] == [("celery@web-1", 41, NOW - s(60))]
    assert health.tasks == [TaskCounts(MATCH, 1, 1, 1, 0), TaskCounts(MAIL, 2, 3, 1, 1)]  # by name
    assert (health.healthy, health.problems) == (True, [])


def test_health_is_bad_without_a_worker_seen_in_the_last_minute_or_with_a_job_waiting_over_a_minute():
    job(MAIL, JobState.PENDING, run_at=NOW - s(60.5), subject_id=1)

    health = queue_health(now=NOW)

    assert health.problems == ["no_worker", "backlog"]
    assert not health.healthy


def test_an_empty_queue_with_a_worker_is_healthy():
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=NOW, now=NOW)

    health = queue_health(now=NOW)

    assert (health.depth, health.pending, health.oldest_due_seconds, health.tasks, health.problems) == (
        0,
        0,
        0.0,
        [],
        [],
    )


def test_a_heartbeat_updates_the_workers_row():
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=NOW, now=NOW)
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=NOW, now=NOW + s(5))

    assert list(WorkerHeartbeat.objects.values_list("hostname", "pid", "started_at", "last_seen")) == [
        ("celery@web-1", 41, NOW, NOW + s(5))
    ]


# --- the monitoring JSON ---------------------------------------------------------------------------


def test_the_json_answers_200_with_counts_only_when_healthy(client: Client):
    now = timezone.now()
    a_queue(now)
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=now, now=now)

    response = client.get(JSON)

    assert response.status_code == 200
    body = response.json()
    assert body.pop("checked_at")
    assert 42 <= body.pop("oldest_due_seconds") < 50
    assert body == {
        "healthy": True,
        "problems": [],
        "depth": 3,
        "pending": 4,
        "running": 2,
        "dead_last_day": 1,
        "workers_seen": 1,
        "tasks": {
            MAIL: {"due": 2, "pending": 3, "running": 1, "dead_last_day": 1},
            MATCH: {"due": 1, "pending": 1, "running": 1, "dead_last_day": 0},
        },
    }
    assert "celery@web-1" not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    ("seen_seconds_ago", "oldest_wait", "problems"),
    [(61, 0, ["no_worker"]), (1, 61, ["backlog"]), (None, 61, ["no_worker", "backlog"])],
    ids=["no-worker-in-a-minute", "oldest-waits-over-a-minute", "both"],
)
def test_the_json_answers_503_when_unhealthy(client: Client, seen_seconds_ago, oldest_wait, problems):
    now = timezone.now()
    if seen_seconds_ago is not None:
        worker_heartbeat_write(hostname="w", pid=1, started_at=now, now=now - s(seen_seconds_ago))
    if oldest_wait:
        job(MAIL, JobState.PENDING, run_at=now - s(oldest_wait), subject_id=1)

    response = client.get(JSON, {"verbose": "yes", "task": "'; DROP TABLE"})

    assert response.status_code == 503
    assert (response.json()["healthy"], response.json()["problems"]) == (False, problems)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_json_answers_only_get(client: Client, method):
    response = getattr(client, method)(JSON)
    assert response.status_code == 405
    assert Job.objects.count() == 0


# --- the staff page --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("resident", 404),
        ("volunteer", 404),
        ("station_staff_a1", 404),
        ("staff_a", 404),
        ("staff_b", 404),
        ("sub_centre_staff", 404),
        ("centre_office_staff", 404),
        ("dispatcher", 200),
        ("admin", 200),
    ],
)
def test_the_staff_page_is_for_the_centres_dispatchers_and_administrators(client: Client, cast, who, status):
    now = timezone.now()
    a_queue(now)
    worker_heartbeat_write(hostname="celery@web-1", pid=41, started_at=now, now=now)
    if who != "anonymous":
        user = getattr(cast, who)
        client.force_login(getattr(user, "user", user))

    response = client.get(PAGE)

    assert response.status_code == status
    content = response.content.decode()
    assert ("celery@web-1" in content) == (status == 200)
    assert ("notifications.deliver_email" in content) == (status == 200)
    if status == 302:
        assert response["Location"].startswith(reverse("accounts:login"))
    assert Job.objects.count() == 9


def test_the_staff_page_shows_the_numbers_and_what_is_wrong(client: Client, cast):
    now = timezone.now()
    job(MAIL, JobState.PENDING, run_at=now - s(75), subject_id=1)
    client.force_login(cast.dispatcher)

    content = client.get(PAGE).content.decode()

    assert '<dd id="depth">1</dd>' in content
    assert '<dd id="running">0</dd>' in content
    assert "最近60秒内没有工作进程报到：后台任务无人执行。" in content
    assert "最早的到期任务已等待超过60秒：队列积压。" in content


def test_the_staff_page_answers_only_get(client: Client, cast):
    client.force_login(cast.admin)
    assert client.post(PAGE).status_code == 405


# --- the worker's heartbeat thread -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_step_beats_every_few_seconds_and_survives_a_database_error(settings, monkeypatch):
    from apps.jobs import services
    from apps.jobs.worker import WorkerHeartbeatStep

    settings.JOBS_HEARTBEAT_SECONDS = 0.05
    real_write = services.worker_heartbeat_write
    calls: list[str] = []

    def flaky_write(**kwargs):
        calls.append("write")
        if len(calls) == 2:  # the database went away for one beat
            raise OperationalError("server closed the connection unexpectedly")
        real_write(**kwargs)

    monkeypatch.setattr(services, "worker_heartbeat_write", flaky_write)

    class Parent:
        hostname = "celery@web-9"

    step = WorkerHeartbeatStep(Parent())
    step.start(Parent())
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        step.stop(Parent())

    assert len(calls) >= 5
    beat = WorkerHeartbeat.objects.get(hostname="celery@web-9")
    assert beat.pid == os.getpid()
    assert (timezone.now() - beat.last_seen).total_seconds() < 5
