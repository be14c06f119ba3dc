"""Auto mode end to end on a real Redis broker and real Celery workers: the queue's steps are job
rows, relayed to the broker and run by a worker subprocess on the test database; the test only
acts as residents, volunteers and beat would, and watches the database.

Wave 1 offers K; all decline through the service → wave 2 is out within seconds; all expire (the
expiry sweep) → widened, then escalated to the township office, whose staff are told; the event
log tells the whole story. Also the helpers the kill drill shares (workers it can SIGKILL, the
relay pump)."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import offer_decline
from apps.jobs.models import Job, JobState
from apps.matching.models import MatchState, MatchWave, NeedsPerson
from apps.matching.services import matching_sweep
from apps.notifications.models import Kind
from apps.service_requests.models import ServiceRequest, Status
from tests.conftest import _reachable, require
from tests.matching.test_auto_waves import add_volunteers, expire_all, notified, queued_auto_request, story
from zhuozhou_civic.celery import app as celery_app

pytestmark = pytest.mark.redis

PROJECT_ROOT = Path(settings.BASE_DIR)
WORKER_START_TIMEOUT = 60


class WorkerProcess:
    """A real ``celery worker`` subprocess (solo pool) on the test database and broker."""

    def __init__(self, directory: Path, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.name = name
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = directory / f"{name}.log"
        self.starts = 0

    def _env(self) -> dict[str, str]:
        database_name = str(connection.settings_dict["NAME"])
        if connection.vendor == "sqlite":
            database_name = os.path.abspath(database_name)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "ZC_TEST_DATABASE_NAME": database_name,
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def start(self, *, wait: bool = True) -> None:
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
            f"{self.name}-{os.getpid()}-{self.starts}@%h",
        ]
        self.starts += 1
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self._env(), stdout=log_file, stderr=subprocess.STDOUT
            )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> float:
        """Wait until the latest start says it is ready; return the seconds waited."""
        marker = f"{self.name}-{os.getpid()}-{self.starts - 1}@"
        started = time.monotonic()
        while time.monotonic() - started < WORKER_START_TIMEOUT:
            text = self.log()
            if marker in text and text.rfind(" ready.") > text.rfind(marker):
                return time.monotonic() - started
            assert self.process is not None and self.process.poll() is None, f"{self.name} exited:\n{self.log()}"
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, whatever it holds is left as it is."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace") if self.log_path.exists() else ""


def relay_once() -> int:
    """What beat's relay tick does: hand due job rows to the broker. The job queue's own relay
    when it is there; until then the due ``matching.advance`` rows are published as they are
    and closed (the matching sweep rewrites any whose message is lost)."""
    try:
        from apps.jobs.runtime import jobs_relay
    except ImportError:
        jobs = list(
            Job.objects.filter(task="matching.advance", state=JobState.PENDING, run_at__lte=timezone.now())
            .order_by("run_at", "id")
            .values_list("id", "subject_id")[:500]
        )
        for job_id, subject_id in jobs:
            celery_app.send_task("matching.advance", args=[subject_id])
            Job.objects.filter(id=job_id, state=JobState.PENDING).update(state=JobState.DONE)
        return len(jobs)
    return int(jobs_relay(budget=500))


def sweep_jobs_once() -> None:
    """What beat's job sweep tick does (leases that ran out handed back), when it is there."""
    try:
        from apps.jobs.services import jobs_sweep
    except ImportError:
        return
    jobs_sweep(now=timezone.now(), budget=500)


class Beat:
    """The ticks beat would send, run from a thread of the test: the relay every
    ``relay_every`` seconds, the job sweep and the matching sweep every ``sweep_every``."""

    def __init__(self, *, relay_every: float = 0.2, sweep_every: float = 2.0) -> None:
        self.relay_every = relay_every
        self.sweep_every = sweep_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.errors: list[BaseException] = []

    def _loop(self) -> None:
        last_sweep = 0.0
        try:
            while not self._stop.is_set():
                relay_once()
                if time.monotonic() - last_sweep >= self.sweep_every:
                    sweep_jobs_once()
                    matching_sweep()
                    last_sweep = time.monotonic()
                self._stop.wait(self.relay_every)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            connections.close_all()

    def __enter__(self) -> "Beat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert self.errors == [], self.errors


def wait_until(condition: Callable[[], bool], what: str, *, timeout: float, workers: list[WorkerProcess]) -> float:
    """Poll ``condition``; return the seconds it took. Fails with the workers' logs on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    logs = "\n".join(f"----- {w.name} -----\n{w.log()[-6000:]}" for w in workers)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")


@pytest.fixture
def broker(require_redis) -> str:
    require(_reachable(settings.CELERY_BROKER_URL), "needs Redis")
    celery_app.control.purge()  # this run's own Redis database: drop what an earlier run left
    return str(settings.CELERY_BROKER_URL)


@pytest.fixture
def worker(broker, tmp_path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tmp_path, "matching-worker")
    process.start()
    try:
        yield process
    finally:
        process.stop()
        print(f"----- worker log -----\n{process.log()[-20000:]}")


def test_auto_mode_end_to_end_on_a_real_worker(transactional_db, broker, worker, cast, org):
    # The worker reads its own settings: factor 3, 3 waves per reach (the defaults).
    assert (settings.MATCHING_WAVE_FACTOR, settings.MATCHING_MAX_WAVES) == (3, 3)
    add_volunteers(org, 30)
    request = queued_auto_request(cast, org, needed=1)

    def offers_of_wave(number: int) -> list[Offer]:
        return list(Offer.objects.filter(request=request, wave=number).select_related("volunteer"))

    def wave_out(number: int) -> bool:
        return len(offers_of_wave(number)) == 3

    with Beat():
        wait_until(lambda: len(offers_of_wave(1)) == 3, "wave 1", timeout=20, workers=[worker])
        for offer in offers_of_wave(1):
            offer_decline(offer=offer, volunteer=offer.volunteer, reason="")
        took = wait_until(lambda: len(offers_of_wave(2)) == 3, "wave 2 after declines", timeout=10, workers=[worker])
        assert took < 5, f"wave 2 took {took:.1f}s"
        assert not {o.volunteer_id for o in offers_of_wave(2)} & {o.volunteer_id for o in offers_of_wave(1)}

        # Waves 2 and 3 expire at this reach; the reach widens; three more waves expire; escalation.
        for number in range(2, 7):
            wait_until(partial(wave_out, number), f"wave {number}", timeout=10, workers=[worker])
            expire_all(request)
        wait_until(
            lambda: ServiceRequest.objects.get(id=request.id).status == Status.ESCALATED,
            "the escalation",
            timeout=10,
            workers=[worker],
        )

    state = MatchState.objects.get(request=request)
    assert (state.needs_person, state.escalated_to_id, state.widened, state.waves_sent) == (
        NeedsPerson.ESCALATED,
        org["office_a"].id,
        True,
        6,
    )
    assert list(MatchWave.objects.filter(request=request).values_list("number", "offered", "radius_extra_km")) == [
        (1, 3, 0),
        (2, 3, 0),
        (3, 3, 0),
        (4, 3, 10),
        (5, 3, 10),
        (6, 3, 10),
    ]
    assert Offer.objects.filter(request=request).count() == 18
    assert Offer.objects.filter(request=request).values("volunteer").distinct().count() == 18
    assert [(e[0], e[1], e[2]) for e in story(request)] == [
        ("", "submitted", ""),
        ("submitted", "queued", ""),
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),  # all three declined
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),  # wave 2 expired
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),
        ("queued", "queued", "reach_widened"),
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),
        ("queued", "queued", "no_takers"),
        ("queued", "escalated", "escalated_to_parent"),
    ]
    assert notified(request, Kind.MATCH_ESCALATED) == [cast.staff_a.id]
    assert notified(request, Kind.RETURNED_TO_QUEUE) == []
    assert Offer.objects.filter(request=request, status=OfferStatus.OFFERED).count() == 0
