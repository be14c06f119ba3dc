"""Reading the queue's state: its health, for the staff page and for monitoring.

Only counts, ages, task names and worker host names: no job's subject, no personal data."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Job, JobState, WorkerHeartbeat


@dataclass(frozen=True)
class WorkerSeen:
    hostname: str
    pid: int
    started_at: datetime
    last_seen: datetime


@dataclass(frozen=True)
class TaskCounts:
    task: str
    due: int
    pending: int
    running: int
    dead_last_day: int


@dataclass(frozen=True)
class QueueHealth:
    checked_at: datetime
    depth: int  # pending jobs that are due now
    pending: int  # all pending jobs, retries waiting for their backoff included
    running: int
    dead_last_day: int
    oldest_due_seconds: float  # how long the oldest due job has waited; 0 when none waits
    workers: list[WorkerSeen]  # seen in the last JOBS_HEALTH_WORKER_SEEN_SECONDS
    tasks: list[TaskCounts]

    @property
    def problems(self) -> list[str]:
        """Codes of what is wrong: ``no_worker``, ``backlog``. Empty when healthy."""
        found = []
        if not self.workers:
            found.append("no_worker")
        if self.oldest_due_seconds > settings.JOBS_HEALTH_MAX_WAIT_SECONDS:
            found.append("backlog")
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems


def queue_health(*, now: datetime | None = None) -> QueueHealth:
    """The queue at ``now`` (default: now), in three queries: counts per task and state, the
    oldest due job, the workers seen lately."""
    now = now or timezone.now()
    pending = Q(state=JobState.PENDING)
    due = pending & Q(run_at__lte=now)
    dead = Q(state=JobState.DEAD, finished_at__gte=now - timedelta(days=1))
    rows = (
        Job.objects.filter(Q(pending) | Q(state=JobState.RUNNING) | dead)
        .values("task")
        .annotate(
            due=Count("id", filter=due),
            pending=Count("id", filter=pending),
            running=Count("id", filter=Q(state=JobState.RUNNING)),
            dead=Count("id", filter=dead),
        )
        .order_by("task")
    )
    tasks = [TaskCounts(r["task"], r["due"], r["pending"], r["running"], r["dead"]) for r in rows]
    oldest = Job.objects.filter(due).aggregate(oldest=Min("run_at"))["oldest"]
    seen_since = now - timedelta(seconds=settings.JOBS_HEALTH_WORKER_SEEN_SECONDS)
    workers = [
        WorkerSeen(w.hostname, w.pid, w.started_at, w.last_seen)
        for w in WorkerHeartbeat.objects.filter(last_seen__gte=seen_since).order_by("hostname")
    ]
    return QueueHealth(
        checked_at=now,
        depth=sum(t.due for t in tasks),
        pending=sum(t.pending for t in tasks),
        running=sum(t.running for t in tasks),
        dead_last_day=sum(t.dead_last_day for t in tasks),
        oldest_due_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        workers=workers,
        tasks=tasks,
    )
