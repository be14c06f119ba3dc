import importlib.util
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# The web server's settings (gthread 2 workers x 4 threads, keep-alive 65 s, access log on stdout)
# live in one file at the top of the repository, shared with the README's deployment steps, the
# Docker image and Docker Compose; only the address is given here.
GUNICORN_CONFIG = settings.BASE_DIR / "gunicorn.conf.py"


def gunicorn_command(addrport: str) -> list[str]:
    """The production web server: gunicorn with the shared configuration, on ``addrport``."""
    return [sys.executable, "-m", "gunicorn", f"--config={GUNICORN_CONFIG}", f"--bind={addrport}"]


def gunicorn_available() -> bool:
    return sys.platform.startswith("linux") and importlib.util.find_spec("gunicorn") is not None


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class Command(BaseCommand):
    help = (
        "Run the whole platform in one terminal: web server (gunicorn; Django's development server "
        "with DJANGO_DEBUG=1 or where gunicorn cannot run), Celery worker and Celery beat."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        addrport = options["addrport"]
        celery = [sys.executable, "-m", "celery", "-A", "zhuozhou_civic"]
        # One process each; on SQLite a single worker thread avoids write contention.
        worker = [*celery, "worker", "--loglevel=INFO", "--concurrency=1"]
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            worker.append("--pool=solo")
        beat = [*celery, "beat", "--loglevel=INFO", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
        use_gunicorn = not settings.DEBUG and gunicorn_available()

        # Ctrl+C and SIGTERM end this process through the finally below, which stops the children.
        # SIGINT is handled explicitly: a shell that starts us in the background leaves it ignored.
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            children["celery worker"] = subprocess.Popen(worker)
            children["celery beat"] = subprocess.Popen(beat)
            if use_gunicorn:
                children["gunicorn"] = subprocess.Popen(gunicorn_command(addrport))
            self.stdout.write(self.style.SUCCESS(f"涿州i志愿 running at http://{addrport}/  (Ctrl+C to stop)"))
            if use_gunicorn:
                self._watch(children)
            else:
                call_command("runserver", addrport, use_reloader=False)
        except _Stop:
            pass
        finally:
            # Stopping is not interrupted; a second Ctrl+C still reaches the children from the terminal.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self._stop(children)

    def _watch(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        """Return only by exception: when any child exits, a platform missing its web server, worker
        or beat is down, so the rest are stopped too."""
        while True:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    self.stderr.write(f"{name} exited ({code}); stopping the rest")
                    raise SystemExit(1)
            time.sleep(0.5)

    @staticmethod
    def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
