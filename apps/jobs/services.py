"""Writing work to the queue, and every change of a job row: the relay's publishing mark, a
worker's claim, its outcome (done, retried with backoff, dead), the sweep of expired leases and
the workers' heartbeats.

Each function takes the time (``now``) from its caller, so a test can state exact due times.
None of them talks to the broker; the tasks in ``tasks.py`` do, outside any transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from .models import Job, JobState, WorkerHeartbeat

ERROR_MAX_CHARS = 2000


def job_enqueue(task: str, subject_id: int | None = None, *, run_at: datetime | None = None) -> None:
    """Ask for ``task(subject_id)`` to run (at ``run_at``, by default now), once.

    Written in the caller's transaction: the work exists exactly when the change that needs it
    commits. If the same work is already pending it is not added twice; it is only brought
    forward when asked for sooner. ``task`` is a registered Celery task's name."""
    when = run_at or timezone.now()
    pending = Q(task=task, subject_id=subject_id, state=JobState.PENDING)
    if Job.objects.filter(pending).update(run_at=Least("run_at", when)):
        return
    try:
        # A savepoint: a concurrent insert of the same pending row must not break the caller's transaction.
        with transaction.atomic():
            Job.objects.create(task=task, subject_id=subject_id, run_at=when)
    except IntegrityError:
        Job.objects.filter(pending).update(run_at=Least("run_at", when))


def jobs_enqueue_new(task: str, subject_ids: list[int], *, run_at: datetime | None = None) -> None:
    """:func:`job_enqueue` for many subjects at once, in two queries whatever their number:
    pending ones are brought forward, the others are inserted (a row inserted concurrently for
    the same work is left as it is)."""
    if not subject_ids:
        return
    when = run_at or timezone.now()
    Job.objects.filter(task=task, subject_id__in=subject_ids, state=JobState.PENDING).update(
        run_at=Least("run_at", when)
    )
    Job.objects.bulk_create(
        [Job(task=task, subject_id=subject_id, run_at=when) for subject_id in subject_ids], ignore_conflicts=True
    )


@dataclass(frozen=True)
class JobClaim:
    """A job held by one run. ``attempts`` (raised by every claim) tells this claim from any
    later one of the same row: every outcome is written only while the row is still this claim."""

    id: int
    task: str
    subject_id: int | None
    attempts: int
    max_attempts: int

    def _held(self) -> Q:
        return Q(id=self.id, state=JobState.RUNNING, attempts=self.attempts)


def job_backoff(attempts: int, *, jitter: float) -> timedelta:
    """How long a job waits after its ``attempts``-th failed attempt: the base delay doubled per
    attempt (5 s, 10 s, 20 s, …), stretched by up to a tenth (``jitter`` in [0, 1)) so that a batch
    failing together does not retry together, and capped."""
    base = settings.JOBS_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base * (1 + settings.JOBS_BACKOFF_JITTER * jitter), settings.JOBS_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds)


def jobs_take_for_publishing(*, now: datetime, budget: int) -> list[tuple[int, str]]:
    """The relay's share of due pending jobs, oldest due first: those never published (at most
    ``budget``), then those published more than ``JOBS_REPUBLISH_AFTER_SECONDS`` ago whose
    message may have been lost (at most ``JOBS_REPUBLISH_BUDGET``). Marks them published at
    ``now`` and returns ``(id, task)`` pairs to publish, after this commits. Rows another relay
    holds are skipped (SKIP LOCKED), so no row is published twice by two relays at once.

    Re-publishing is budgeted on its own: under a backlog larger than the workers clear in the
    republish delay, most "old" messages are not lost but still queued, and re-sending all of
    them every tick would bury the workers in duplicates. Every run drains due jobs whatever its
    message named, so a few re-sent messages are enough to recover from a lost queue."""
    republish_before = now - timedelta(seconds=settings.JOBS_REPUBLISH_AFTER_SECONDS)
    due = Job.objects.filter(state=JobState.PENDING, run_at__lte=now).order_by("run_at", "id")
    with transaction.atomic():
        rows = list(
            due.filter(published_at__isnull=True).select_for_update(skip_locked=True).values_list("id", "task")[:budget]
        )
        rows += list(
            due.filter(published_at__lt=republish_before)
            .select_for_update(skip_locked=True)
            .values_list("id", "task")[: settings.JOBS_REPUBLISH_BUDGET]
        )
        if rows:
            Job.objects.filter(id__in=[job_id for job_id, _ in rows]).update(published_at=now)
    return rows


def jobs_publish_failed(*, job_ids: list[int], published_at: datetime) -> int:
    """Take back the publishing mark of jobs whose message did not reach the broker, so the next
    relay tick publishes them again. Rows claimed or re-marked since are left alone."""
    return Job.objects.filter(id__in=job_ids, state=JobState.PENDING, published_at=published_at).update(
        published_at=None
    )


def job_claim(
    *,
    now: datetime,
    lease_until: datetime,
    worker: str,
    job_id: int | None = None,
    tasks: list[str] | None = None,
) -> JobClaim | None:
    """Claim one due pending job for running until ``lease_until``: job ``job_id`` if given,
    otherwise the oldest due one (of ``tasks``, if given). None when there is nothing to claim
    (the job is done, running, not due, or locked by a concurrent claim).

    A short transaction of its own; the row lock (``FOR UPDATE SKIP LOCKED``) means two workers
    never take the same row and never wait for each other. Side effect: the row becomes running,
    its attempts go up by one, and it records who holds it and until when."""
    with transaction.atomic():
        candidates = Job.objects.filter(state=JobState.PENDING, run_at__lte=now)
        if job_id is not None:
            candidates = candidates.filter(id=job_id)
        if tasks is not None:
            candidates = candidates.filter(task__in=tasks)
        row = (
            candidates.order_by("run_at", "id")
            .select_for_update(skip_locked=True)
            .values("id", "task", "subject_id", "attempts", "max_attempts")
            .first()
        )
        if row is None:
            return None
        attempts = row["attempts"] + 1
        Job.objects.filter(id=row["id"]).update(
            state=JobState.RUNNING,
            attempts=attempts,
            claimed_at=now,
            lease_expires_at=lease_until,
            claimed_by=worker[:120],
        )
    return JobClaim(
        id=row["id"],
        task=row["task"],
        subject_id=row["subject_id"],
        attempts=attempts,
        max_attempts=row["max_attempts"],
    )


def job_finish(*, claim: JobClaim, now: datetime) -> bool:
    """Mark a claimed job done. False (and nothing changed) if the claim was lost meanwhile: its
    lease ran out and the sweep handed the row on."""
    return bool(Job.objects.filter(claim._held()).update(state=JobState.DONE, finished_at=now, lease_expires_at=None))


def job_fail(*, claim: JobClaim, error: str, now: datetime, jitter: float) -> JobState | None:
    """Record a failed attempt of a claimed job: back to pending, due after :func:`job_backoff`
    and to be published again, or dead once it has had ``max_attempts`` attempts. Returns the
    new state, None if the claim was lost meanwhile (nothing changed).

    If the same work was enqueued again while this attempt ran, that pending row carries the
    retry (pushed back to the backoff's due time): this one is closed as done, its error kept."""
    error = error[:ERROR_MAX_CHARS]
    held = Job.objects.filter(claim._held())
    if claim.attempts >= claim.max_attempts:
        dead = held.update(state=JobState.DEAD, finished_at=now, lease_expires_at=None, last_error=error)
        return JobState.DEAD if dead else None
    retry_at = now + job_backoff(claim.attempts, jitter=jitter)
    try:
        with transaction.atomic():
            retried = held.update(
                state=JobState.PENDING,
                run_at=retry_at,
                published_at=None,
                lease_expires_at=None,
                claimed_by="",
                last_error=error,
            )
        return JobState.PENDING if retried else None
    except IntegrityError:  # job_one_pending_per_subject: a newer pending row of the same work
        with transaction.atomic():
            superseded = held.update(state=JobState.DONE, finished_at=now, lease_expires_at=None, last_error=error)
            if superseded:
                Job.objects.filter(task=claim.task, subject_id=claim.subject_id, state=JobState.PENDING).update(
                    run_at=Greatest("run_at", retry_at)
                )
        return JobState.DONE if superseded else None


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    dead: int
    superseded: int
    purged: int


def jobs_sweep(*, now: datetime, budget: int) -> SweepResult:
    """Hand back running jobs whose lease ran out (their worker died or hung), oldest lease
    first, at most ``budget``; then purge done jobs older than ``JOBS_KEEP_DONE_SECONDS``, at
    most ``budget``.

    A job handed back becomes pending with its due time unchanged (so it is among the oldest and
    goes first) and unpublished (so the relay sends it at its next tick); one that has had all
    its attempts is dead; one whose work was enqueued again meanwhile is closed as done, the
    pending row carrying the work. Rows are taken with SKIP LOCKED and leave the scanned set, so
    a later sweep always reaches the rest: nothing starves behind a budget."""
    expired = Q(state=JobState.RUNNING, lease_expires_at__lt=now)
    twin = Job.objects.filter(task=OuterRef("task"), subject_id=OuterRef("subject_id"), state=JobState.PENDING)
    requeued = dead = superseded = 0
    with transaction.atomic():
        rows = list(
            Job.objects.filter(expired)
            .order_by("lease_expires_at", "id")
            .select_for_update(skip_locked=True)
            .annotate(has_twin=Exists(twin))
            .values_list("id", "attempts", "max_attempts", "has_twin", "claimed_by")[:budget]
        )
        for job_id, attempts, max_attempts, has_twin, claimed_by in rows:
            row = Job.objects.filter(id=job_id)
            error = f"lease expired ({claimed_by})"
            if attempts >= max_attempts:
                dead += row.update(state=JobState.DEAD, finished_at=now, lease_expires_at=None, last_error=error)
            elif has_twin:
                superseded += row.update(state=JobState.DONE, finished_at=now, lease_expires_at=None, last_error=error)
            else:
                try:
                    # A savepoint: a pending twin enqueued since the scan leaves this row to the next sweep.
                    with transaction.atomic():
                        requeued += row.update(
                            state=JobState.PENDING,
                            published_at=None,
                            lease_expires_at=None,
                            claimed_by="",
                            last_error=error,
                        )
                except IntegrityError:
                    pass
    purged = jobs_purge_done(before=now - timedelta(seconds=settings.JOBS_KEEP_DONE_SECONDS), budget=budget)
    return SweepResult(requeued=requeued, dead=dead, superseded=superseded, purged=purged)


def jobs_purge_done(*, before: datetime, budget: int) -> int:
    """Delete at most ``budget`` done jobs finished before ``before``, oldest first."""
    ids = list(
        Job.objects.filter(state=JobState.DONE, finished_at__lt=before)
        .order_by("id")
        .values_list("id", flat=True)[:budget]
    )
    if not ids:
        return 0
    deleted, _ = Job.objects.filter(id__in=ids, state=JobState.DONE).delete()
    return deleted


def worker_heartbeat_write(*, hostname: str, pid: int, started_at: datetime, now: datetime) -> None:
    """Record that the worker ``hostname`` (main process ``pid``) is alive at ``now``."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:160], defaults={"pid": pid, "started_at": started_at, "last_seen": now}
    )
