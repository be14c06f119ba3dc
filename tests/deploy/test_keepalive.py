"""Keep-alive as deployed: the web server started the documented way (gunicorn with gunicorn.conf.py,
as in the README's steps) never resets a reused connection that a client left idle for a while.

Ten HTTP/1.1 connections, each in its own thread and each reused for every request it sends, carry
500 POSTs between them, and every connection waits 1–5 s before each request after its first. With
gunicorn's default keep-alive (2 s) most of these requests would meet a reset connection; with the
documented settings none may, and every request must travel on its connection's first TCP connection.

It needs no service (SQLite, no broker), so it runs everywhere, CI included; it takes about 2.5 minutes.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import free_port, manage, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "gunicorn.conf.py"

REQUESTS = 500
CONNECTIONS = 10
IDLE_SECONDS = (1.0, 5.0)
PATH = "/api/v1/notifications/read-all/"  # harmless: marks the caller's (no) notifications read
PHONE = "13812340000"
PASSWORD = "keep-alive-Passw0rd"
CONNECTION_LOST = (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)


def _env(data_dir: Path) -> dict[str, str]:
    # The embedded default (SQLite in a data directory of its own), debug off.
    drop = {"DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL", "PHONE_LOOKUP_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DJANGO_SECRET_KEY="keep-alive-test-secret-key-" + "x" * 40, ZC_DATA_DIR=str(data_dir))
    return env


def _documented_server(port: int) -> list[str]:
    """The README's gunicorn line, on a port of the test's own."""
    return [sys.executable, "-m", "gunicorn", "-c", CONFIG, "-b", f"127.0.0.1:{port}", "zhuozhou_civic.wsgi"]


def _api_token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"phone": PHONE, "password": PASSWORD})
        conn.request("POST", "/api/v1/auth/token/", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        assert response.status == 200, data
        return str(json.loads(data)["token"])
    finally:
        conn.close()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)
    closing_responses: int = 0
    tcp_connections: set[tuple[int, int]] = field(default_factory=set)  # (client, local port)

    def take(self) -> bool:
        with self.lock:
            if self.sent >= REQUESTS:
                return False
            self.sent += 1
            return True


def _client(number: int, port: int, token: str, tally: Tally) -> None:
    rng = random.Random(number)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    first = True
    try:
        while tally.take():
            if not first:
                time.sleep(rng.uniform(*IDLE_SECONDS))  # the connection lies idle, kept alive
            first = False
            try:
                conn.request("POST", PATH, headers=headers)
                assert conn.sock is not None
                local_port = conn.sock.getsockname()[1]
                response = conn.getresponse()
                body = response.read()
            except CONNECTION_LOST as error:
                with tally.lock:
                    tally.resets.append(f"connection {number}: {error!r}")
                conn.close()  # the next request opens a new connection (and is counted as one)
                continue
            except Exception as error:
                with tally.lock:
                    tally.other_errors.append(f"connection {number}: {error!r}")
                conn.close()
                continue
            with tally.lock:
                tally.statuses[response.status] = tally.statuses.get(response.status, 0) + 1
                tally.tcp_connections.add((number, local_port))
                if (response.getheader("Connection") or "").lower() == "close":
                    tally.closing_responses += 1
                if response.status != 200 or json.loads(body) != {"marked": 0}:
                    tally.other_errors.append(f"connection {number}: {response.status} {body[:200]!r}")
    finally:
        conn.close()


@pytest.mark.timeout(240)
def test_keep_alive_connections_idle_1_to_5_s_between_500_posts_are_never_reset(tmp_path):
    env = _env(tmp_path)
    manage(["migrate", "--noinput"], env)
    create = (
        "from apps.accounts.models import User; "
        f"User.objects.create_user(phone={PHONE!r}, password={PASSWORD!r}, name='长连接')"
    )
    manage(["shell", "-c", create], env)

    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = start_server(_documented_server(port), env, port, log)
    try:
        token = _api_token(port)
        tally = Tally()
        started = time.monotonic()
        threads = [
            threading.Thread(target=_client, args=(number, port, token, tally), daemon=True)
            for number in range(CONNECTIONS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=210)
        elapsed = time.monotonic() - started
        assert not any(thread.is_alive() for thread in threads), "clients still running after 210 s"
    finally:
        stop_server(process, timeout=20)

    print(
        f"\n{REQUESTS} POSTs on {CONNECTIONS} keep-alive connections idle {IDLE_SECONDS[0]:g}-{IDLE_SECONDS[1]:g} s "
        f"between uses: {len(tally.resets)} resets, {len(tally.other_errors)} other errors, statuses "
        f"{tally.statuses}, {len(tally.tcp_connections)} TCP connections, {elapsed:.0f} s"
    )
    assert tally.resets == [], f"{len(tally.resets)} connection resets: {tally.resets[:10]}"
    assert tally.other_errors == [], tally.other_errors[:10]
    assert tally.statuses == {200: REQUESTS}
    assert tally.closing_responses == 0  # the server never announced closing a connection
    # Every client kept its first TCP connection to the end: the server closed none of them.
    assert len(tally.tcp_connections) == CONNECTIONS
    assert log.read_text().count(f'"POST {PATH} HTTP/1.1" 200') == REQUESTS  # access log on stdout
