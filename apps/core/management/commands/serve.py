import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.core import worker_watch

# The web server's settings (gthread 2 workers x 4 threads, keep-alive 65 s, access log on stdout)
# live in one file at the top of the repository, shared with the README's deployment steps, the
# Docker image and Docker Compose; only the address is given here.
GUNICORN_CONFIG = settings.BASE_DIR / "gunicorn.conf.py"

# A worker or beat that exits is started again after a pause that doubles from the first to the
# last value below with each exit in a row; one that then stays up this long starts the next
# count from the first value again.
RESTART_DELAY_FIRST = 1.0
RESTART_DELAY_MAX = 10.0
RESTART_STABLE_AFTER = 60.0
POLL_INTERVAL = 0.25


def gunicorn_command(addrport: str) -> list[str]:
    """The production web server: gunicorn with the shared configuration, on ``addrport``."""
    return [sys.executable, "-m", "gunicorn", f"--config={GUNICORN_CONFIG}", f"--bind={addrport}"]


def gunicorn_available() -> bool:
    return sys.platform.startswith("linux") and importlib.util.find_spec("gunicorn") is not None


def next_restart_delay(previous: float | None, *, ran_for: float) -> float:
    """The pause before starting a child again that exited after running ``ran_for`` seconds,
    ``previous`` being the pause before its current run (None for its first run)."""
    if previous is None or ran_for >= RESTART_STABLE_AFTER:
        return RESTART_DELAY_FIRST
    return min(previous * 2, RESTART_DELAY_MAX)


@dataclass
class Child:
    """One process of the platform. ``restart``: started again when it exits; otherwise its exit
    stops the platform."""

    name: str
    command: list[str]
    restart: bool
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float | None = None  # the pause before the current run; None before the first restart
    due_at: float | None = None  # when a child that exited is started again
    restarts: int = 0
    kill_at: float | None = None  # when a child asked to stop (recycled) is killed if still running


class PlatformDown(Exception):
    """A child whose exit cannot be repaired by starting it again (the web server) exited."""


@dataclass
class Supervisor:
    """Starts the children and keeps them running: each call of :meth:`check` restarts a worker or
    beat that exited (after its back-off pause) and raises :class:`PlatformDown` when a child
    without restart exited. ``log`` receives one line per exit and per restart."""

    children: list[Child]
    log: Callable[[str], None]
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: bool = False

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command)
        child.started_at = time.monotonic()
        child.due_at = None
        child.kill_at = None

    def recycle(self, child: Child, reason: str) -> None:
        """Stop a running child that no longer works (SIGTERM, SIGKILL 10 s later if need be), so
        that :meth:`check` starts it again."""
        with self.lock:
            if self.stopping or child.process is None or child.process.poll() is not None or child.kill_at:
                return
            self.log(f"{child.name} (pid {child.process.pid}) {reason}; stopping it to start it again")
            child.process.send_signal(signal.SIGTERM)
            child.kill_at = time.monotonic() + 10

    def check(self) -> None:
        with self.lock:
            if self.stopping:
                return
            now = time.monotonic()
            for child in self.children:
                if child.process is None:
                    continue
                if child.due_at is not None:
                    if now >= child.due_at:
                        self._spawn(child)
                        child.restarts += 1
                        self.log(f"{child.name} restarted (pid {child.process.pid}, restart {child.restarts})")
                    continue
                code = child.process.poll()
                if code is None:
                    if child.kill_at is not None and now >= child.kill_at:
                        child.process.kill()
                        child.kill_at = None
                    continue
                if not child.restart:
                    raise PlatformDown(f"{child.name} exited ({code}); stopping the rest")
                ran_for = now - child.started_at
                child.delay = next_restart_delay(child.delay, ran_for=ran_for)
                child.due_at = now + child.delay
                self.log(
                    f"{child.name} (pid {child.process.pid}) exited ({code}) after {ran_for:.1f} s; "
                    f"starting it again in {child.delay:g} s"
                )

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to every running child, SIGKILL to those still running after ``timeout`` seconds."""
        with self.lock:
            self.stopping = True
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class Command(BaseCommand):
    help = (
        "Run the whole platform in one terminal: web server (gunicorn; Django's development server "
        "with DJANGO_DEBUG=1 or where gunicorn cannot run), Celery worker and Celery beat. A worker "
        "or beat that exits is started again (after 1 s, doubling up to 10 s while it keeps exiting), "
        "and so is a worker that stops taking messages from a Redis broker; the web server exiting "
        "stops the platform."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        addrport = options["addrport"]
        celery = [sys.executable, "-m", "celery", "-A", "zhuozhou_civic"]
        # On SQLite a single worker thread avoids write contention; on PostgreSQL one worker
        # process per core (2 to 4), so a backlog left by a broker outage drains in seconds. Gossip
        # and mingle only talk between workers (the job rows, not the workers, know the work), and
        # gossip's restart after a lost broker connection is where kombu raises AttributeError.
        node = f"worker{os.getpid()}@{socket.gethostname()}"
        worker = [*celery, "worker", f"--hostname={node}", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            worker += ["--pool=solo", "--concurrency=1"]
        else:
            worker.append(f"--concurrency={max(2, min(4, os.cpu_count() or 1))}")
        beat = [*celery, "beat", "--loglevel=INFO", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
        use_gunicorn = not settings.DEBUG and gunicorn_available()

        # The worker and beat hold no state of their own (the work is in database rows), so one that
        # dies is simply started again. Gunicorn's master already replaces a web worker that dies;
        # the master itself exiting means the address is taken or the configuration is wrong, which
        # starting it again would not mend: then the platform stops, and says why.
        worker_child = Child("celery worker", worker, restart=True)
        children = [worker_child, Child("celery beat", beat, restart=True)]
        if use_gunicorn:
            children.append(Child("gunicorn", gunicorn_command(addrport), restart=False))
        supervisor = Supervisor(children, log=self._log)

        # Ctrl+C and SIGTERM end this process through the finally below, which stops the children.
        # SIGINT is handled explicitly: a shell that starts us in the background leaves it ignored.
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        watcher: threading.Thread | None = None
        broker = str(settings.CELERY_BROKER_URL)
        if broker.startswith(("redis://", "rediss://")):
            # A worker that is up but takes no messages is stopped and started again (apps/core/worker_watch.py).
            threading.Thread(
                target=self._watch_consumer, args=(supervisor, worker_child, broker, node), daemon=True
            ).start()
        try:
            supervisor.start()
            self.stdout.write(self.style.SUCCESS(f"涿州i志愿 running at http://{addrport}/  (Ctrl+C to stop)"))
            self.stdout.flush()
            if use_gunicorn:
                self._watch(supervisor)
            else:
                # The development server keeps the main thread; the worker and beat are watched beside it.
                watcher = threading.Thread(target=self._watch_quietly, args=(supervisor,), daemon=True)
                watcher.start()
                call_command("runserver", addrport, use_reloader=False)
        except _Stop:
            pass
        except PlatformDown as down:
            self._log(str(down))
            raise SystemExit(1) from None
        finally:
            # Stopping is not interrupted; a second Ctrl+C still reaches the children from the terminal.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            supervisor.stop()
            if watcher is not None:
                watcher.join(timeout=5)

    def _log(self, line: str) -> None:
        self.stderr.write(f"[serve {time.strftime('%Y-%m-%d %H:%M:%S')}] {line}")
        self.stderr.flush()

    @staticmethod
    def _watch_consumer(supervisor: Supervisor, worker: Child, broker: str, node: str) -> None:
        from celery import current_app

        queue = str(current_app.conf.task_default_queue)
        watch = worker_watch.StallWatch()
        while not supervisor.stopping:
            time.sleep(worker_watch.CHECK_INTERVAL)
            if worker.process is None or worker.due_at is not None or worker.kill_at is not None:
                watch.reset()
                continue
            reading = worker_watch.read(broker, queue, node)
            if watch.observe(reading, started_at=worker.started_at):
                supervisor.recycle(
                    worker,
                    f"took no message for {watch.stall_seconds:g} s while {reading.waiting} waited "
                    f"({'idle' if reading.busy is False else 'not answering'})",
                )
                watch.reset()

    @staticmethod
    def _watch(supervisor: Supervisor) -> None:
        """Return only by exception: :class:`PlatformDown` when the web server exits."""
        while True:
            supervisor.check()
            time.sleep(POLL_INTERVAL)

    @staticmethod
    def _watch_quietly(supervisor: Supervisor) -> None:
        # Beside the development server every child restarts, so this never raises PlatformDown.
        while not supervisor.stopping:
            supervisor.check()
            time.sleep(POLL_INTERVAL)
