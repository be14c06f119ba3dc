import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the whole platform in one terminal: web server, Celery worker and Celery beat."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "zhuozhou_civic"]
        # One process each; on SQLite a single worker thread avoids write contention.
        worker = [*celery, "worker", "--loglevel=INFO", "--concurrency=1"]
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            worker.append("--pool=solo")
        children = [
            subprocess.Popen(worker),
            subprocess.Popen(
                [*celery, "beat", "--loglevel=INFO", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
            ),
        ]
        self.stdout.write(self.style.SUCCESS(f"涿州i志愿 running at http://{options['addrport']}/  (Ctrl+C to stop)"))
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
