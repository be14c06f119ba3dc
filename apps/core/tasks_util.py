"""The one way to enqueue a Celery task: after the surrounding transaction commits."""

import logging
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def _registered(name: str) -> Task:
    """The task called ``name``. A process that never imported the apps' ``tasks`` modules (the web
    process) has them discovered first: Celery's autodiscovery runs only when modules are imported."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    task: Task = current_app.tasks[name]
    return task


def enqueue_on_commit(task: Task | str, *args: Any) -> None:
    """Publish ``task(*args)`` once the current transaction commits (at once outside one).

    ``task`` may be given by its registered name, so a module that enqueues need not import the
    module that defines the task (which usually imports it back).

    Arguments must be ids or other JSON values. If the broker is unreachable the publish is
    logged and dropped: every task has a periodic sweep that finds its work in the database.
    """

    def publish() -> None:
        resolved = _registered(task) if isinstance(task, str) else task
        try:
            resolved.apply_async(args=args)
        except Exception:  # the broker is down; the beat sweep will redo this from the database
            logger.warning("could not publish %s%r; the periodic sweep will retry", resolved.name, args, exc_info=True)

    transaction.on_commit(publish, robust=True)
