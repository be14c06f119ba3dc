"""For tests that run the real web server as a process of its own: a free loopback port, the
project's management commands in a given environment, and waiting until the server listens."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(args: list[str], env: dict[str, str], *, timeout: float = 300) -> None:
    """``manage.py <args>`` in ``env``; fails the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout + result.stderr


def wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 30) -> None:
    """Return once something listens on ``port``; fail with the server's log if it exits or
    does not listen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not listen on {port} within {timeout}s:\n{log.read_text()}")


def start_server(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` (a server listening on ``port``) in a session of its own, its output in
    ``log``, and return once it listens."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    wait_until_serving(process, port, log)
    return process


def stop_server(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    """Stop a server started by :func:`start_server`, and every process of its session: SIGTERM,
    then SIGKILL if it has not exited within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
