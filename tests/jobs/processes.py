"""Real Celery processes for the job queue's end-to-end tests and drills: workers (prefork, each
in a process group of its own, so a kill takes the pool with it) and beat, on the test database
and this run's Redis broker. Their output goes to a log file, printed when a test fails."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT_ROOT = Path(settings.BASE_DIR)
START_TIMEOUT = 60


def environment(directory: Path, **extra: str) -> dict[str, str]:
    database_name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        database_name = os.path.abspath(database_name)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "ZC_TEST_DATABASE_NAME": database_name,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_EMAIL_BACKEND": "tests.jobs.slow_mail.SlowMailBackend",
        "ZC_TEST_MAIL_LOG": str(directory / "mail.log"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Process:
    """A Celery process in its own process group."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the process exited ({self.process.returncode}) before {what}")
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker and its pool) and reap it."""
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (finish what is in hand), killed if it takes too long."""
        if self.process.poll() is not None:
            return
        self.process.terminate()  # the main process only: it stops its pool itself
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def celery(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "zhuozhou_civic", *arguments]


def spawn_worker(directory: Path, name: str, *, concurrency: int = 4, **env: str) -> Process:
    """A prefork worker named ``name@<host>``, starting (see :func:`wait_ready`)."""
    command = celery(
        "worker", f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "-n", f"{name}@%h",
    )  # fmt: skip
    return Process(command, environment(directory, **env), directory / f"{name}.log")


def wait_ready(worker: Process) -> Process:
    worker.wait_until(lambda: " ready." in worker.log(), f"worker {worker.log_path.stem} to start")
    return worker


def start_worker(directory: Path, name: str, *, concurrency: int = 4, **env: str) -> Process:
    """A prefork worker named ``name@<host>``; returns once it is ready."""
    return wait_ready(spawn_worker(directory, name, concurrency=concurrency, **env))


def start_beat(directory: Path) -> Process:
    """Beat with the project's schedule (the relay every second, the sweep every five)."""
    command = celery("beat", "--loglevel=INFO", "--schedule", str(directory / "celerybeat-schedule"))
    beat = Process(command, environment(directory), directory / "beat.log")
    beat.wait_until(lambda: "beat: Starting..." in beat.log(), "beat to start")
    return beat
