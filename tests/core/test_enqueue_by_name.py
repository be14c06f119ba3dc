"""A task enqueued by name reaches the broker from a process that never imported its module — the
web process, where only the apps' models and views are loaded."""

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
from apps.core.tasks_util import enqueue_on_commit
assert "notifications.deliver_email" not in current_app.tasks, "imported already: the test proves nothing"
enqueue_on_commit("notifications.deliver_email", 4242)
"""


def test_a_task_enqueued_by_name_from_a_fresh_process_reaches_the_broker(require_redis) -> None:
    broker = require_redis.rsplit("/", 1)[0] + "/11"
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
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
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
        ("notifications.deliver_email", "(4242,)")
    ]
    queue.flushdb()
