"""A task published by name (the job relay's one way to the broker) reaches the broker from a
process that never imported its module."""

import json
import os
import subprocess
import sys
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import django, os
django.setup()
from celery import current_app
from apps.core.tasks_util import task_publish
assert "jobs.run" not in current_app.tasks, "imported already: the test proves nothing"
task_publish("jobs.run", 4242, time_limit=25, soft_time_limit=24)
"""


def test_a_task_published_by_name_from_a_fresh_process_reaches_the_broker(require_redis) -> None:
    # This run's own broker (no worker runs during this test); only its default queue is touched.
    broker = require_redis
    queue = redis.Redis.from_url(broker)
    queue.delete("celery")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zhuozhou_civic.settings",
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": broker,
    }
    env.pop("DATABASE_URL", None)  # nothing here touches the database
    subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=True, timeout=60)

    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"], m["headers"]["timelimit"]) for m in messages] == [
        ("jobs.run", "(4242,)", [25, 24])
    ]
    queue.delete("celery")
