"""Docker Compose starts a worker or beat that exits again, and its health check for the worker
asks that very worker for a ping through the broker: run here as the container would run it,
against a real worker on a redis-server of the test's own."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.servers import ROOT
from tools.drills.redis_server import RedisServer


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_worker_and_beat_restart_unless_stopped_and_the_worker_has_a_health_check():
    services = _compose()["services"]
    assert services["worker"]["restart"] == "unless-stopped"
    assert services["beat"]["restart"] == "unless-stopped"
    assert services["worker"]["command"][:4] == ["celery", "-A", "zhuozhou_civic", "worker"]
    assert "--without-gossip" in services["worker"]["command"]
    check = services["worker"]["healthcheck"]
    assert check["test"][0] == "CMD-SHELL"
    assert (check["interval"], check["timeout"], check["start_period"], check["retries"]) == ("30s", "30s", "60s", 3)


def test_the_health_check_passes_for_a_running_worker_and_fails_for_another_name(tmp_path: Path):
    # Compose writes $$ for a $ the container's shell expands.
    command = _compose()["services"]["worker"]["healthcheck"]["test"][1].replace("$$", "$")
    redis = RedisServer(tmp_path)
    redis.start()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "REDIS_URL": f"{redis.url}/0",
        "CELERY_BROKER_URL": f"{redis.url}/0",
        "DJANGO_SECRET_KEY": "compose-health-test-" + "k" * 40,
        "ZC_DATA_DIR": str(tmp_path / "data"),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "zhuozhou_civic", "worker", "--pool=solo", "--without-gossip",
         "--without-mingle", "--hostname=celery@drill-health", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while " ready." not in (tmp_path / "worker.log").read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        bash = shutil.which("bash") or "/bin/bash"
        healthy = subprocess.run([bash, "-c", command], cwd=ROOT, env={**env, "HOSTNAME": "drill-health"}, timeout=60)
        other = subprocess.run([bash, "-c", command], cwd=ROOT, env={**env, "HOSTNAME": "somebody-else"}, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
        redis.close()
    assert healthy.returncode == 0
    assert other.returncode != 0
