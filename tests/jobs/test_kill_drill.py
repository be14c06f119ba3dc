"""The kill drill: a real prefork worker SIGKILLed (its whole process group) while it holds
claimed e-mail jobs, 20 times; beat runs throughout, as in production.

Each round writes 5 e-mails, lets the worker work for a moment, writes 5 more and kills the
worker once it holds claimed sends (200 e-mails in all, a few more if its replacement, up early,
took the new ones; each send slowed to half a second; 4 pool processes). Its replacement is
started while it works (a worker takes seconds to start on a busy machine), so it takes over the
moment the kill happens: the restart. Afterwards every e-mail has been sent (no loss) and every
job is done, once; a duplicate is only possible for a send that the mail server took just before
the kill and that was not yet marked sent (at most the jobs in flight at each kill). Every job
that was still to do at a kill is done within 60 s of the restart after it (or after the last
kill that caught it in flight again): the killed run's lease ends 27 s after its claim (a send's
20 s limit, the 5 s drain window, 2 s of grace), the sweep (every 5 s) hands it back, and the
relay (every second) sends it again.

The numbers of the run are printed (pytest -s shows them); the report quotes them."""

import contextlib
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.jobs.models import Job, JobState
from apps.notifications.models import EmailStatus, Kind, Notification
from apps.notifications.services import notify
from tests.accounts.factories import make_user
from tests.conftest import _reachable, require
from tests.jobs.processes import Process, spawn_worker, start_beat, wait_ready
from tests.jobs.slow_mail import sends
from zhuozhou_civic.celery import app as celery_app

pytestmark = pytest.mark.redis

KILLS = 20
PER_ROUND = 10
MAIL_DELAY = "0.5"
PARAMS = {"title": "修水管"}
RECOVERY = timedelta(seconds=60)


@dataclass
class Kill:
    number: int
    at: datetime
    in_flight: set[int]  # jobs the killed worker held (running, claimed by it)
    to_do: set[int]  # jobs not done at the kill
    restarted_at: datetime | None = None


def _claimed_by(name: str) -> set[int]:
    prefix = f"{name}@{socket.gethostname()}:"
    return set(Job.objects.filter(state=JobState.RUNNING, claimed_by__startswith=prefix).values_list("id", flat=True))


def wait_for(condition: Callable[[], bool], worker: Process, *, seconds: float) -> None:
    """Until ``condition`` holds; TimeoutError after ``seconds``; AssertionError if the worker exited."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log()[-5000:]}"
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)


def _not_done() -> set[int]:
    return set(Job.objects.exclude(state=JobState.DONE).values_list("id", flat=True))


def test_sigkill_of_a_worker_holding_jobs_twenty_times_loses_none_and_recovers_within_a_minute(
    require_redis, require_postgres, transactional_db, tmp_path: Path
):
    broker = settings.CELERY_BROKER_URL
    require(broker.startswith("redis://") and _reachable(broker), "needs Redis")
    celery_app.control.purge()
    user = make_user(name="钱所长", email="qian@example.org")

    written: list[int] = []

    def write_emails(count: int) -> None:
        """``count`` notification e-mails, one per new request number, as web requests write them."""
        for request_id in range(len(written) + 1, len(written) + count + 1):
            notify(recipient_ids=[user.id], kind=Kind.NEW_REQUEST, request_id=request_id, params=PARAMS)
            written.append(request_id)

    rng = random.Random(8)  # the same pauses every run
    beat = start_beat(tmp_path)
    processes: list[Process] = [beat]
    kills: list[Kill] = []
    drill_started = time.monotonic()
    try:
        upcoming = spawn_worker(tmp_path, "drill-1", ZC_TEST_MAIL_DELAY=MAIL_DELAY)
        processes.append(upcoming)
        for number in range(1, KILLS + 1):
            name, worker = f"drill-{number}", wait_ready(upcoming)
            if kills:
                kills[-1].restarted_at = max(timezone.now(), kills[-1].at)
            upcoming = spawn_worker(tmp_path, "drill-final" if number == KILLS else f"drill-{number + 1}",
                                    ZC_TEST_MAIL_DELAY=MAIL_DELAY)  # fmt: skip
            processes.append(upcoming)
            write_emails(PER_ROUND // 2)
            time.sleep(rng.uniform(1.0, 3.0))  # it works through what is there
            # Kill it while it sends: once it holds claimed work, after a random moment more. (Its
            # replacement may be up already and take the new work: then more is written.)
            while True:
                write_emails(PER_ROUND // 2)
                with contextlib.suppress(TimeoutError):
                    wait_for(lambda: bool(_claimed_by(name)), worker, seconds=5)  # noqa: B023
                    break
            time.sleep(rng.uniform(0.05, 0.3))
            worker.kill()
            kills.append(Kill(number, timezone.now(), in_flight=_claimed_by(name), to_do=_not_done()))
        drill_seconds = time.monotonic() - drill_started

        final = wait_ready(upcoming)
        kills[-1].restarted_at = max(timezone.now(), kills[-1].at)
        final.wait_until(lambda: not _not_done(), "every job to be done", timeout=90)
        total_seconds = time.monotonic() - drill_started
    except BaseException:
        for process in processes:
            print(f"----- {process.log_path.name} -----\n{process.log()[-20000:]}")
        raise
    finally:
        for process in processes:
            process.stop()

    # No loss, each job done once.
    jobs = list(Job.objects.values_list("id", "subject_id", "state", "attempts", "finished_at"))
    assert len(jobs) == len(written) >= KILLS * PER_ROUND
    assert {state for _, _, state, _, _ in jobs} == {JobState.DONE}
    assert set(Notification.objects.values_list("email_status", flat=True)) == {EmailStatus.SENT}
    counts = sends(str(tmp_path / "mail.log"))
    assert sorted(counts) == written
    duplicates = sum(count - 1 for count in counts.values())
    in_flight = sum(len(kill.in_flight) for kill in kills)
    assert duplicates <= in_flight

    # Recovery: a job to do at a kill is done within 60 s of the restart after the last kill that
    # caught it in flight (a later kill that caught it in flight starts its clock again).
    finished = {job_id: finished_at for job_id, _, _, _, finished_at in jobs if finished_at is not None}
    assert len(finished) == len(written)
    worst = timedelta(0)
    for index, kill in enumerate(kills):
        for job_id in kill.to_do:
            last = next(k for k in reversed(kills[index:]) if job_id in k.in_flight or k is kill)
            assert last.restarted_at is not None
            waited = finished[job_id] - last.restarted_at
            worst = max(worst, waited)
            assert waited <= RECOVERY, f"job {job_id}, to do at kill {kill.number}: done {waited} after the restart"
    last_restart = kills[-1].restarted_at
    assert last_restart is not None
    last_done = max(finished.values()) - last_restart

    print(
        f"\nkill drill: {len(kills)} kills in {drill_seconds:.1f}s ({total_seconds:.1f}s until all done); "
        f"jobs in flight at the kills: {[len(k.in_flight) for k in kills]} (total {in_flight}); "
        f"to do at each kill: {[len(k.to_do) for k in kills]}; "
        f"duplicates: {duplicates} of {sum(counts.values())} sends; "
        f"attempts > 1: {sum(1 for _, _, _, attempts, _ in jobs if attempts > 1)}; "
        f"worst time from a restart to a job to do at its kill being done: {worst.total_seconds():.1f}s; "
        f"last job done {last_done.total_seconds():.1f}s after the last restart"
    )
    assert len(kills) == KILLS
