"""The real Celery path: a worker subprocess on the Redis broker and the test database.

Nothing here runs eagerly. The tests publish tasks through the broker exactly as beat and the
web process do, and watch the database for the worker's effects. The worker is started once
per module and always terminated; its log is printed with any failing test."""

import email
import email.policy
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import dispatch_directed
from apps.notifications.models import EmailStatus, Kind, Notification
from apps.notifications.services import notify
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review
from tests.conftest import _reachable, require
from tests.service_requests.factories import submit_request
from zhuozhou_civic.celery import app as celery_app

pytestmark = pytest.mark.redis

PROJECT_ROOT = Path(settings.BASE_DIR)
WORKER_START_TIMEOUT = 60
TASK_TIMEOUT = 30


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path, mail_dir: Path) -> None:
        self.process = process
        self.log_path = log_path
        self.mail_dir = mail_dir

    def log(self, start: int = 0) -> str:
        return self.log_path.read_bytes()[start:].decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = TASK_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited ({self.process.returncode}) before {what}")
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # warm shutdown: finish the task in hand, then exit
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    """One real worker for the module, on the test database and the broker from the settings."""
    broker = settings.CELERY_BROKER_URL
    require(broker.startswith("redis://") and _reachable(broker), "needs Redis: run with REDIS_URL=redis://...")
    # The broker URL is this test run's own Redis database: drop what an earlier run left queued.
    celery_app.control.purge()

    database_name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        database_name = os.path.abspath(database_name)
    directory = tmp_path_factory.mktemp("celery-worker")
    mail_dir = directory / "mail"
    mail_dir.mkdir()
    log_path = directory / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "ZC_TEST_DATABASE_NAME": database_name,
        # Phones and addresses are encrypted with keys derived from the secret key.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": broker,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "zhuozhou_civic",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        "celery",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"zc-test-{os.getpid()}@%h",
        # Beat inside the worker: its job relay hands the job rows that web requests write to the broker.
        "--beat",
        "--schedule",
        str(directory / "celerybeat-schedule"),
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    worker = Worker(process, log_path, mail_dir)
    try:
        worker.wait_until(lambda: " ready." in worker.log(), "the worker to start", timeout=WORKER_START_TIMEOUT)
        yield worker
    except BaseException:
        print(f"----- celery worker log ({log_path}) -----\n{worker.log()}")
        raise
    finally:
        _stop(process)


@pytest.fixture
def worker(celery_worker: Worker) -> Iterator[Worker]:
    """The module's worker; what it logged during the test is printed, and pytest shows it
    when the test fails."""
    assert celery_worker.process.poll() is None, f"the worker has exited:\n{celery_worker.log()}"
    start = celery_worker.log_size()
    yield celery_worker
    print(f"----- celery worker log during this test -----\n{celery_worker.log(start)}")


def test_worker_expires_a_past_offer_and_returns_the_request_to_the_queue(
    require_redis, transactional_db, worker, cast, org
):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    [offer] = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    Offer.objects.filter(id=offer.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    celery_app.send_task("dispatch.expire_offers")

    worker.wait_until(
        lambda: ServiceRequest.objects.get(id=request.id).status == Status.QUEUED, "the request to return to the queue"
    )
    assert Offer.objects.get(id=offer.id).status == OfferStatus.EXPIRED
    assert list(RequestEvent.objects.filter(request=request).values_list("from_status", "to_status")) == [
        ("", "submitted"),
        ("submitted", "queued"),
        ("queued", "offered"),
        ("offered", "queued"),
    ]
    assert RequestEvent.objects.get(request=request, from_status="offered").actor is None
    returned = Notification.objects.filter(request_id=request.id, kind=Kind.RETURNED_TO_QUEUE)
    assert sorted(returned.values_list("recipient_id", flat=True)) == sorted(
        [cast.staff_a.id, cast.station_staff_a1.id, cast.sub_centre_staff.id]
    )
    assert not Notification.objects.filter(recipient=cast.staff_b, request_id=request.id).exists()


def test_worker_leaves_an_offer_that_has_not_expired_alone(require_redis, transactional_db, worker, cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    [offer] = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])

    sent = celery_app.send_task("dispatch.expire_offers")

    worker.wait_until(lambda: f"[{sent.id}] succeeded" in worker.log(), "the sweep to finish")
    assert Offer.objects.get(id=offer.id).status == OfferStatus.OFFERED
    assert ServiceRequest.objects.get(id=request.id).status == Status.OFFERED
    assert not Notification.objects.filter(request_id=request.id, kind=Kind.RETURNED_TO_QUEUE).exists()


def test_worker_sends_a_notification_email_once_when_the_task_is_delivered_three_times(
    require_redis, transactional_db, worker, cast
):
    User.objects.filter(id=cast.staff_a.id).update(email="qian@example.org")
    mails_before = set(worker.mail_dir.iterdir())
    # notify() writes the e-mail's job row; the relay of the worker's beat publishes it.
    [notification] = notify(
        recipient_ids=[cast.staff_a.id], kind=Kind.NEW_REQUEST, request_id=4242, params={"title": "帮忙修理水龙头"}
    )
    assert notification.email_status == EmailStatus.PENDING

    # A redelivered message and a sweep that re-enqueued it: the same task twice more.
    duplicates = [
        celery_app.send_task("notifications.deliver_email", args=[notification.id]),
        celery_app.send_task("notifications.deliver_email", args=[notification.id]),
    ]

    worker.wait_until(
        lambda: all(f"[{task.id}] succeeded" in worker.log() for task in duplicates), "all deliveries to finish"
    )
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert notification.email_attempts == 1
    assert notification.email_sent_at is not None
    mails = [path for path in worker.mail_dir.iterdir() if path not in mails_before]
    assert len(mails) == 1, [m.name for m in mails]
    # The file backend writes each message followed by a line of 79 dashes.
    messages = [m for m in mails[0].read_bytes().split(b"-" * 79) if m.strip()]
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].strip(), policy=email.policy.default)
    assert message["To"] == "qian@example.org"
    assert message["Subject"] == "[涿州i志愿] 新的群众需求"
    assert "#4242「帮忙修理水龙头」" in message.get_content()
