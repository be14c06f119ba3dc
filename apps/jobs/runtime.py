"""Running jobs inside a Celery worker: the relay's publishing, one run (its own job, then a
drain of due jobs), and the time limits and leases that tie the two together.

A run of ``jobs.run`` is published with a hard time limit (Celery kills it then) of its job's
task time limit plus the drain window. Every job a run claims gets a lease that ends just after
that kill: a job is never handed on by the sweep while the run that holds it may still be
working on it; and once the lease is over, it runs again in seconds, not minutes."""

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import Task, current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.tasks_util import task_publish

from .services import (
    JobClaim,
    job_claim,
    job_fail,
    job_finish,
    jobs_publish_failed,
    jobs_take_for_publishing,
)

logger = logging.getLogger(__name__)

RUN_TASK = "jobs.run"
# On Redis, a message of priority 0 (the default: beat's ticks, the relay and the sweep among them)
# is taken before any of a higher number: a backlog of job messages never holds up the relay or
# the sweep that keep the backlog moving.
RUN_PRIORITY = 6


def registered_task(name: str) -> Task | None:
    """The task registered as ``name``, None if there is none. A process that has not imported
    the apps' ``tasks`` modules yet (a test, a shell) has them discovered first."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks.get(name)


def task_time_limit(name: str) -> float:
    """The hard time limit of the registered task ``name`` in seconds (the default for one that
    states none or is unknown)."""
    task = registered_task(name)
    limit = getattr(task, "time_limit", None)
    return float(limit or settings.JOBS_DEFAULT_TIME_LIMIT)


def run_time_limit(name: str) -> float:
    """The hard time limit of a ``jobs.run`` message for a job of task ``name``: the task's own
    limit plus the drain window."""
    return task_time_limit(name) + settings.JOBS_DRAIN_SECONDS


def jobs_relay(*, budget: int, publish: Callable[..., None] = task_publish) -> int:
    """Publish one ``jobs.run`` message per due job (see :func:`jobs_take_for_publishing`) and
    return how many went out. The rows are marked in a transaction that commits before the
    first publish (no network I/O inside a transaction); if the broker refuses one, that job and
    the rest of the batch are unmarked so the next tick publishes them again."""
    now = timezone.now()
    rows = jobs_take_for_publishing(now=now, budget=budget)
    if not rows:
        return 0
    sent = 0
    try:
        # One producer (one broker connection) for the whole batch.
        with current_app.producer_or_acquire() as producer:
            for job_id, task in rows:
                limit = run_time_limit(task)
                publish(
                    RUN_TASK,
                    job_id,
                    time_limit=limit,
                    soft_time_limit=limit - 1,
                    priority=RUN_PRIORITY,
                    producer=producer,
                )
                sent += 1
    except Exception:
        unsent = [job_id for job_id, _ in rows[sent:]]
        jobs_publish_failed(job_ids=unsent, published_at=now)
        logger.warning("jobs.relay: the broker refused a message; %d jobs wait for the next tick", len(unsent))
    return sent


class Run:
    """One execution of ``jobs.run``: its own job, then due jobs while the drain window lasts.

    ``hard_limit`` is the time after which Celery kills this execution; every lease ends
    ``JOBS_LEASE_GRACE_SECONDS`` after it."""

    def __init__(self, *, worker: str, hard_limit: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.worker = worker
        self.clock = clock
        self.started = clock()
        self.deadline = self.started + hard_limit

    def _lease_until(self, now: datetime) -> datetime:
        left = self.deadline - self.clock() + settings.JOBS_LEASE_GRACE_SECONDS
        return now + timedelta(seconds=left)

    def _fitting_tasks(self) -> list[str]:
        """Registered tasks whose time limit fits in what is left of this execution's."""
        registered_task(RUN_TASK)  # the apps' tasks are loaded
        left = self.deadline - self.clock()
        return sorted(name for name in current_app.tasks if task_time_limit(name) <= left)

    def claim(self, job_id: int | None = None) -> JobClaim | None:
        now = timezone.now()
        lease_until = self._lease_until(now)
        if job_id is not None:
            return job_claim(now=now, lease_until=lease_until, worker=self.worker, job_id=job_id)
        return job_claim(now=now, lease_until=lease_until, worker=self.worker, tasks=self._fitting_tasks())

    def execute(self, claim: JobClaim) -> bool:
        """Call the job's task function here, in this process, outside any transaction; record
        the outcome. True if the job is done."""
        task = registered_task(claim.task)
        try:
            if task is None:
                raise LookupError(f"no task is registered as {claim.task!r}")
            if claim.subject_id is None:
                task()
            else:
                task(claim.subject_id)
        except Exception as exc:
            if not connection.in_atomic_block:
                # A broken connection (the database restarted) must not also lose the failure's record.
                connection.close_if_unusable_or_obsolete()
            state = job_fail(
                claim=claim,
                error=f"{type(exc).__name__}: {exc}",
                now=timezone.now(),
                jitter=random.random(),  # noqa: S311 — spreading retries, not a secret
            )
            logger.warning(
                "job %s %s(%s) failed (attempt %s) → %s",
                claim.id,
                claim.task,
                claim.subject_id,
                claim.attempts,
                state,
                exc_info=True,
            )
            return False
        if not job_finish(claim=claim, now=timezone.now()):
            logger.warning("job %s finished after its lease ran out; the sweep had handed it on", claim.id)
        return True

    def drain(self) -> int:
        """Claim and run due jobs, oldest first, while the drain window lasts. Returns how many."""
        ran = 0
        while self.clock() - self.started < settings.JOBS_DRAIN_SECONDS:
            claim = self.claim()
            if claim is None:
                break
            self.execute(claim)
            ran += 1
        return ran


def jobs_run(job_id: int, *, worker: str, hard_limit: float, clock: Callable[[], float] = time.monotonic) -> int:
    """Run job ``job_id`` if it is still due and unclaimed, then drain; returns how many jobs
    this ran. A message for a job that is done, running, not yet due (a retry waiting for its
    backoff) or gone still drains: a duplicate or re-sent message is one more hand on the
    backlog, never a wasted trip."""
    run = Run(worker=worker, hard_limit=hard_limit, clock=clock)
    claim = run.claim(job_id)
    if claim is None:
        return run.drain()
    run.execute(claim)
    return 1 + run.drain()
