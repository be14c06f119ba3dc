"""The job queue's Celery tasks: the relay and the sweep (beat, every second and every five),
and the run of one job."""

import os
import socket
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from . import runtime, services


def _worker_name(task: Task) -> str:
    """``host:pid`` of the process running ``task`` (a pool process, not the worker's main one)."""
    return f"{task.request.hostname or socket.gethostname()}:{os.getpid()}"


# Celery's @shared_task is untyped.
@shared_task(name="jobs.relay", acks_late=True, time_limit=30, soft_time_limit=25)  # type: ignore[untyped-decorator]
def relay() -> int:
    return runtime.jobs_relay(budget=settings.JOBS_RELAY_BUDGET)


@shared_task(name="jobs.sweep", acks_late=True, time_limit=60, soft_time_limit=50)  # type: ignore[untyped-decorator]
def sweep() -> dict[str, int]:
    result = services.jobs_sweep(now=timezone.now(), budget=settings.JOBS_SWEEP_BUDGET)
    return {"requeued": result.requeued, "dead": result.dead, "superseded": result.superseded, "purged": result.purged}


# Published by the relay with the hard time limit of the job's own task (plus the drain window);
# these limits are for a message sent without them.
@shared_task(  # type: ignore[untyped-decorator]
    name="jobs.run", bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=60, soft_time_limit=59
)
def run(self: Task, job_id: int) -> int:
    timelimit: Any = self.request.timelimit
    hard_limit = (timelimit[0] if timelimit else None) or self.time_limit
    return runtime.jobs_run(job_id, worker=_worker_name(self), hard_limit=float(hard_limit))
