"""The worker's and beat's logs leave out the job queue's own housekeeping runs (three INFO lines
per second otherwise), and nothing else."""

import logging

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

import zhuozhou_civic.celery  # noqa: F401  the app attaches the filter when it is loaded
from apps.jobs.quiet import CELERY_LOGGERS, QuietHousekeeping, quiet_housekeeping


def _received(task: str) -> None:
    context = {"id": "5f0c", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context, extra={"data": context})


def _succeeded(task: str) -> None:
    logging.getLogger("celery.app.trace").info(
        LOG_SUCCESS, {"id": "5f0c", "name": task, "return_value": 0, "runtime": 0.004, "args": "()", "kwargs": "{}"}
    )


def _sent_by_beat(entry: str, task: str) -> None:
    logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", entry, task)


def test_the_filter_is_on_each_of_celerys_loggers_once():
    quiet_housekeeping()  # a second call adds nothing
    for name in CELERY_LOGGERS:
        assert sum(isinstance(f, QuietHousekeeping) for f in logging.getLogger(name).filters) == 1


@pytest.mark.parametrize("task", ["jobs.relay", "jobs.sweep"])
def test_housekeeping_runs_leave_no_info_lines(caplog, task):
    with caplog.at_level(logging.INFO):
        _received(task)
        _succeeded(task)
        _sent_by_beat(task.replace(".", "-"), task)
    assert caplog.messages == []


def test_other_tasks_and_any_failure_are_still_logged(caplog):
    with caplog.at_level(logging.INFO):
        _received("matching.advance")
        _succeeded("jobs.run")
        _sent_by_beat("sweep-matching-queue", "matching.sweep")
        logging.getLogger("celery.app.trace").error("Task jobs.relay[5f0c] raised unexpected: OperationalError()")
    assert caplog.messages == [
        "Task matching.advance[5f0c] received",
        "Task jobs.run[5f0c] succeeded in 0.004s: 0",
        "Scheduler: Sending due task sweep-matching-queue (matching.sweep)",
        "Task jobs.relay[5f0c] raised unexpected: OperationalError()",
    ]
