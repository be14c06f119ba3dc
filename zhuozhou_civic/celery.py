import os

from celery import Celery
from celery.signals import beat_init, worker_init

from apps.jobs.quiet import quiet_housekeeping
from apps.jobs.worker import WorkerHeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhuozhou_civic.settings")

app = Celery("zhuozhou_civic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker writes its heartbeat to the database (the queue's health view reads it).
app.steps["worker"].add(WorkerHeartbeatStep)
# The relay's and the sweep's runs are not logged at INFO (apps/jobs/quiet.py).
quiet_housekeeping()


def _refuse_to_start_without_a_secret(**kwargs: object) -> None:
    # Tasks decrypt phones and addresses: a worker or beat without the secret must not start.
    # Celery logs and swallows a handler's Exception, so the refusal is a SystemExit.
    from django.core.exceptions import ImproperlyConfigured

    from .startup import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"refusing to start: {exc} Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1).") from exc


# Connected by call, not as decorators: Celery's signals are untyped and would erase the handler's type.
worker_init.connect(_refuse_to_start_without_a_secret)
beat_init.connect(_refuse_to_start_without_a_secret)
