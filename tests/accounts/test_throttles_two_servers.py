"""Throttles tested across two server processes sharing the cache: the 11th wrong password in the
window is refused for that account and IP only.

Two gunicorn processes serve one (temporary SQLite) database and count log-in failures in one
Redis database; wrong passwords alternate between them."""

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import _reachable, require
from tests.servers import free_port, manage, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/9"
TOKEN_URL = "/api/v1/auth/token/"
LOCKED, OTHER, PASSWORD = "13811110001", "13811110002", "a-long-pass-2026"


def _env(data_dir: Path) -> dict[str, str]:
    dropped = {"DJANGO_DEBUG", "DATABASE_URL", "PHONE_LOOKUP_KEY", "CACHE_URL", "CELERY_BROKER_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("LOGIN_", "API_LOGIN"))}
    env.update(
        DJANGO_SECRET_KEY="two-servers-test-secret-key-" + "x" * 40,
        ZC_DATA_DIR=str(data_dir),
        REDIS_URL=REDIS_URL,
        DJANGO_BEHIND_PROXY="0",
    )
    return env


def _post_token(port: int, phone: str, password: str) -> tuple[int, dict, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = json.dumps({"phone": phone, "password": password})
        conn.request("POST", TOKEN_URL, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Retry-After")
    finally:
        conn.close()


@pytest.fixture
def shared_redis() -> Iterator[redis.Redis]:
    require(_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def two_servers(tmp_path, shared_redis) -> Iterator[list[int]]:
    env = _env(tmp_path)
    manage(["migrate", "--noinput"], env)
    manage(["createcachetable"], env)
    create = (
        "from apps.accounts.models import User\n"
        f"User.objects.create_user(phone='{LOCKED}', password='{PASSWORD}', name='王秀兰')\n"
        f"User.objects.create_user(phone='{OTHER}', password='{PASSWORD}', name='周建国')\n"
    )
    manage(["shell", "-c", create], env)

    processes: list[subprocess.Popen[bytes]] = []
    ports = [free_port(), free_port()]
    try:
        for port in ports:
            log = tmp_path / f"gunicorn-{port}.log"
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "zhuozhou_civic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ]
            with log.open("wb") as log_file:
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
            processes.append(process)
            wait_until_serving(process, port, log)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_eleventh_wrong_password_across_two_servers_is_refused_for_that_account_and_ip_only(
    two_servers, shared_redis
) -> None:
    first, second = two_servers

    statuses = [_post_token(two_servers[n % 2], LOCKED, "wrong-password")[0] for n in range(10)]
    assert statuses == [400] * 10  # five on each server, counted together

    status, body, retry_after = _post_token(first, LOCKED, "wrong-password")
    assert status == 429
    assert body["code"] == "throttled"
    assert body["detail"].startswith("登录失败次数过多")
    assert retry_after is not None
    assert 0 < int(retry_after) <= 15 * 60
    # Refused on the other server too, even with the right password.
    assert _post_token(second, LOCKED, PASSWORD)[0] == 429

    # Another account from the same address: its normal answers, on both servers.
    status, body, _retry = _post_token(first, OTHER, "wrong-password")
    assert (status, body["code"]) == (400, "invalid")
    status, body, _retry = _post_token(second, OTHER, PASSWORD)
    assert status == 200
    assert body["token"]

    assert any(key.startswith(b":1:login-lockout:v1:") for key in shared_redis.scan_iter())
