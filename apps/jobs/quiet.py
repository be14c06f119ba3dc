"""Keeping the worker's and beat's logs readable: the job queue's own housekeeping (the relay every
second, the sweep every five) would otherwise write three INFO lines per run — sent by beat,
received, succeeded — and bury everything else. Those lines are dropped; a failure (WARNING and
above) of the same tasks is still logged, and so is every line of every other task."""

import logging

QUIET_TASKS = ("jobs.relay", "jobs.sweep")
# Where Celery writes those lines: the worker's "received", the task's "succeeded", beat's "Sending due task".
CELERY_LOGGERS = ("celery.worker.strategy", "celery.app.trace", "celery.beat")


class QuietHousekeeping(logging.Filter):
    """Drops INFO (and lower) records that name one of ``QUIET_TASKS``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(f"{task}[" in message or f"({task})" in message for task in QUIET_TASKS)


def quiet_housekeeping() -> None:
    """Attach the filter to Celery's loggers (once, however often called)."""
    for name in CELERY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietHousekeeping) for f in logger.filters):
            logger.addFilter(QuietHousekeeping())
