"""Writing work to the queue. Called in the caller's transaction; talks to no broker."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Least
from django.utils import timezone

from .models import Job, JobState


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
