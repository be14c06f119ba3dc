"""The one place that publishes a Celery message: the job queue's relay, in a worker.

Nothing else sends to the broker. Work to do is a row in the job table written in the caller's
transaction (``apps.jobs.services.job_enqueue``); the relay hands due rows to Celery through
:func:`task_publish`, so a web request never waits on, or fails with, the broker."""

from typing import Any

from celery import Task, current_app


def _registered(name: str) -> Task:
    """The task called ``name``. A process that never imported the apps' ``tasks`` modules has
    them discovered first: Celery's autodiscovery runs only when modules are imported."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    task: Task = current_app.tasks[name]
    return task


def task_publish(name: str, *args: Any, **options: Any) -> None:
    """Publish ``name(*args)`` now (``options`` as for ``apply_async``: ``time_limit``, ...).

    Raises what the broker raises (after the short publish retry policy of the settings): the
    caller, the relay, puts the row back so that the next tick publishes it again. Never call it
    inside a database transaction or from a web request."""
    _registered(name).apply_async(args=args, **options)
