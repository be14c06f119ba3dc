"""The job queue end to end: a real Celery worker (prefork) and a real beat on this run's Redis
broker and the test database. The test only writes rows, as a web request does, and watches the
database: beat's relay publishes them, the worker runs them, the heartbeat says it is alive."""

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.jobs.models import Job, JobState, WorkerHeartbeat
from apps.notifications.models import EmailStatus, Kind, Notification
from apps.notifications.services import notify
from tests.accounts.factories import make_user
from tests.conftest import _reachable, require
from tests.jobs.processes import Process, start_beat, start_worker
from tests.jobs.slow_mail import sends
from zhuozhou_civic.celery import app as celery_app

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def module_stack(django_db_setup, tmp_path_factory) -> Iterator[tuple[Process, Process, Path]]:
    """One beat and one worker for the module."""
    broker = settings.CELERY_BROKER_URL
    require(broker.startswith("redis://") and _reachable(broker), "needs Redis: run with REDIS_URL=redis://...")
    celery_app.control.purge()  # this run's own broker: drop what an earlier run left queued
    directory = tmp_path_factory.mktemp("jobs-e2e")
    beat = start_beat(directory)
    processes = [beat]
    try:
        worker = start_worker(directory, "e2e", concurrency=2, ZC_TEST_MAIL_FAIL_ONCE="4243")
        processes.append(worker)
        yield worker, beat, directory
    except BaseException:
        for process in processes:
            print(f"----- {process.log_path.name} -----\n{process.log()}")
        raise
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
def stack(module_stack, transactional_db) -> tuple[Process, Process, Path]:
    worker, beat, _ = module_stack
    assert worker.process.poll() is None and beat.process.poll() is None, worker.log() + beat.log()
    return module_stack


def test_a_notification_email_is_delivered_through_the_job_queue(stack, client: Client):
    worker, _beat, directory = stack
    user = make_user(name="钱所长", email="qian@example.org")

    [notification] = notify(recipient_ids=[user.id], kind=Kind.NEW_REQUEST, request_id=4242, params={"title": "修水管"})
    job = Job.objects.get(task="notifications.deliver_email", subject_id=notification.id)

    worker.wait_until(
        lambda: Notification.objects.get(id=notification.id).email_status == EmailStatus.SENT,
        "the e-mail to be sent",
        timeout=20,
    )
    assert sends(str(directory / "mail.log")).get(4242) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == (JobState.DONE, 1, "")
    assert job.claimed_by.startswith(f"e2e@{socket.gethostname()}:")

    # The worker's heartbeat, and the health view that reads it.
    heartbeat = WorkerHeartbeat.objects.get(hostname=f"e2e@{socket.gethostname()}")
    assert heartbeat.pid == worker.pid
    assert (timezone.now() - heartbeat.last_seen).total_seconds() < 10
    response = client.get("/healthz/queue")
    assert (response.status_code, response.json()["workers_seen"], response.json()["depth"]) == (200, 1, 0)


def test_a_failed_send_is_retried_after_its_backoff_and_sent_once(stack):
    worker, _beat, directory = stack
    user = make_user(name="钱所长", email="qian@example.org")

    [notification] = notify(recipient_ids=[user.id], kind=Kind.NEW_REQUEST, request_id=4243, params={"title": "修水管"})
    job = Job.objects.get(task="notifications.deliver_email", subject_id=notification.id)

    worker.wait_until(
        lambda: Job.objects.get(id=job.id).attempts == 1 and Job.objects.get(id=job.id).state == JobState.PENDING,
        "the first attempt to fail",
        timeout=20,
    )
    seen = timezone.now()
    failed = Job.objects.get(id=job.id)
    assert failed.last_error == "SMTPServerDisconnected: the mail server went away"
    assert failed.claimed_at is not None
    # Due 5 s after the failure, stretched by up to a tenth; the failure came after the claim and
    # before this test saw it (however long the attempt took on a busy machine).
    assert failed.claimed_at + timedelta(seconds=5) <= failed.run_at <= seen + timedelta(seconds=5.5)
    assert Notification.objects.get(id=notification.id).email_status == EmailStatus.FAILED

    worker.wait_until(lambda: Job.objects.get(id=job.id).state == JobState.DONE, "the retry", timeout=20)
    done = Job.objects.get(id=job.id)
    assert done.attempts == 2
    assert done.claimed_at is not None and done.claimed_at >= failed.run_at
    # Due after five seconds, relayed by the next tick of beat (every second): claimed within a few
    # more (a busy test machine is slow to pass a message on).
    assert (done.claimed_at - failed.run_at).total_seconds() < 3
    assert sends(str(directory / "mail.log")).get(4243) == 1
    stored = Notification.objects.get(id=notification.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.SENT, 2)
