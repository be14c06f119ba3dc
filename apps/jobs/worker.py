"""The worker's heartbeat: a bootstep of the Celery worker (added to the app in
``zhuozhou_civic/celery.py``) whose thread in the worker's main process writes a
:class:`~apps.jobs.models.WorkerHeartbeat` every ``JOBS_HEARTBEAT_SECONDS``.

Loaded before Django is set up: nothing here imports models at module level."""

import logging
import os
import threading
from typing import Any

from celery import bootsteps

logger = logging.getLogger(__name__)


def _beat_once(*, hostname: str, pid: int, started_at: Any) -> None:
    from django.db import connection
    from django.utils import timezone

    from .services import worker_heartbeat_write

    try:
        worker_heartbeat_write(hostname=hostname, pid=pid, started_at=started_at, now=timezone.now())
    except Exception:  # the database is away: say so, and try again at the next beat
        logger.warning("worker heartbeat: could not write", exc_info=True)
    finally:
        # Never hold a connection between beats: the pool forks new processes from this one.
        connection.close()


class WorkerHeartbeatStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Starts the heartbeat thread once the pool has started; stops it with the worker."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stopping = threading.Event()

    def start(self, parent: Any) -> None:
        from django.conf import settings
        from django.utils import timezone

        hostname, pid, started_at = str(parent.hostname), os.getpid(), timezone.now()
        interval = float(settings.JOBS_HEARTBEAT_SECONDS)

        def beat() -> None:
            while True:
                _beat_once(hostname=hostname, pid=pid, started_at=started_at)
                if self._stopping.wait(interval):
                    return

        threading.Thread(target=beat, name="jobs-heartbeat", daemon=True).start()

    def stop(self, parent: Any) -> None:
        self._stopping.set()
