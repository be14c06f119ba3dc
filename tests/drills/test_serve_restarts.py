"""``manage.py serve`` (what ``make run`` runs) keeps its Celery worker and beat running: one that
is killed is started again within seconds, with a back-off that grows while it keeps dying; the
web server exiting stops the platform."""

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.core.management.commands.serve import (
    RESTART_DELAY_FIRST,
    RESTART_DELAY_MAX,
    RESTART_STABLE_AFTER,
    Child,
    PlatformDown,
    Supervisor,
    next_restart_delay,
)
from tests.drills.procs import child_running
from tests.servers import ROOT, free_port, manage, wait_until_serving
from tools.drills.redis_server import RedisServer

WORKER, BEAT, GUNICORN = " worker ", " beat ", "gunicorn"


def test_the_restart_delay_doubles_from_one_second_to_ten_and_starts_over_after_a_stable_run():
    delays = [next_restart_delay(None, ran_for=0.1)]
    for _ in range(6):
        delays.append(next_restart_delay(delays[-1], ran_for=0.1))
    assert (RESTART_DELAY_FIRST, RESTART_DELAY_MAX, RESTART_STABLE_AFTER) == (1.0, 10.0, 60.0)
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert next_restart_delay(10.0, ran_for=59.9) == 10.0
    assert next_restart_delay(10.0, ran_for=60.0) == 1.0


def test_a_child_that_keeps_exiting_is_started_again_after_1_then_2_then_4_seconds():
    lines: list[str] = []
    crashing = Child("crasher", [sys.executable, "-c", "raise SystemExit(3)"], restart=True)
    supervisor = Supervisor([crashing], log=lines.append)
    starts: list[float] = []
    supervisor.start()
    pids = {crashing.process.pid} if crashing.process else set()
    starts.append(time.monotonic())
    try:
        deadline = time.monotonic() + 12
        while crashing.restarts < 3 and time.monotonic() < deadline:
            before = crashing.restarts
            supervisor.check()
            if crashing.restarts > before:
                starts.append(time.monotonic())
                assert crashing.process is not None
                pids.add(crashing.process.pid)
            time.sleep(0.02)
    finally:
        supervisor.stop()
    assert crashing.restarts == 3, lines
    assert len(pids) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Each gap is the pause plus the time the child took to exit (an interpreter start, well under 1 s).
    for gap, pause in zip(gaps, [1.0, 2.0, 4.0], strict=True):
        assert pause <= gap < pause + 1.0, gaps
    assert next(line.split(" exited ")[1] for line in lines if " exited " in line).startswith("(3) after ")
    assert sum("starting it again in 1 s" in line for line in lines) == 1
    assert sum("starting it again in 2 s" in line for line in lines) == 1
    assert sum("starting it again in 4 s" in line for line in lines) == 1
    assert sum(" restarted (pid " in line for line in lines) == 3


def test_a_child_without_restart_that_exits_stops_the_platform():
    web = Child("gunicorn", [sys.executable, "-c", "raise SystemExit(4)"], restart=False)
    worker = Child("celery worker", [sys.executable, "-c", "import time; time.sleep(60)"], restart=True)
    supervisor = Supervisor([web, worker], log=lambda line: None)
    supervisor.start()
    try:
        assert web.process is not None
        web.process.wait(timeout=10)
        with pytest.raises(PlatformDown, match=r"^gunicorn exited \(4\); stopping the rest$"):
            supervisor.check()
    finally:
        supervisor.stop(timeout=5)
    assert worker.process is not None
    assert worker.process.returncode == -signal.SIGTERM


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DATABASE_URL", "PHONE_LOOKUP_KEY"}}
    env.update(
        DJANGO_SECRET_KEY="serve-restarts-test-secret-key-" + "x" * 40,
        ZC_DATA_DIR=str(data_dir),
        CELERY_BROKER_URL="filesystem://",
        REDIS_URL="",
        CACHE_URL="",
    )
    return env


def _wait_for_child(serve_pid: int, marker: str, *, other_than: int | None, timeout: float) -> tuple[int, float]:
    """The pid of serve's child with ``marker`` that is not ``other_than``, and the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pid = child_running(serve_pid, marker)
        if pid is not None and pid != other_than:
            return pid, time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"no new child with {marker!r} within {timeout} s")


def _wait_for_log(log: Path, text: str, count: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count} times within {timeout} s:\n{log.read_text()}"
        time.sleep(0.2)


@contextlib.contextmanager
def _serving(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``manage.py serve`` on a free port with its output in ``serve.log``, once it answers; killed
    with its whole process group at the end, however the test ends."""
    manage(["migrate", "--noinput"], env)
    manage(["collectstatic", "--noinput", "--verbosity=0"], env)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(process, port, log, timeout=60)
        yield process, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=5)


def test_serve_starts_a_killed_worker_and_a_killed_beat_again_within_10_seconds(tmp_path):
    with _serving(tmp_path, _env(tmp_path)) as (process, log):
        _wait_for_log(log, " ready.", 1, timeout=30)  # the worker consumes
        worker, _ = _wait_for_child(process.pid, WORKER, other_than=None, timeout=10)
        beat, _ = _wait_for_child(process.pid, BEAT, other_than=None, timeout=10)
        web = child_running(process.pid, GUNICORN)
        assert web is not None

        os.kill(worker, signal.SIGKILL)
        new_worker, worker_back = _wait_for_child(process.pid, WORKER, other_than=worker, timeout=10)
        os.kill(beat, signal.SIGKILL)
        new_beat, beat_back = _wait_for_child(process.pid, BEAT, other_than=beat, timeout=10)
        print(f"worker back in {worker_back:.1f} s, beat back in {beat_back:.1f} s")

        # The new worker consumes; both stay up (no crash loop), gunicorn was never touched, serve runs.
        _wait_for_log(log, " ready.", 2, timeout=30)
        time.sleep(2)
        assert child_running(process.pid, WORKER) == new_worker
        assert child_running(process.pid, BEAT) == new_beat
        assert child_running(process.pid, GUNICORN) == web
        assert process.poll() is None

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    output = log.read_text()
    assert f"celery worker (pid {worker}) exited (-9)" in output
    assert f"celery worker restarted (pid {new_worker}, restart 1)" in output
    assert f"celery beat (pid {beat}) exited (-9)" in output
    assert f"celery beat restarted (pid {new_beat}, restart 1)" in output
    assert output.count("starting it again in 1 s") == 2


def test_serve_stops_and_starts_again_a_worker_that_takes_no_messages_while_the_broker_holds_some(tmp_path):
    # A worker frozen with SIGSTOP stands for one whose consumer hangs: its process is there, it
    # takes nothing, and it answers no remote-control question. Beat keeps queueing the relay's ticks.
    redis = RedisServer(tmp_path)
    redis.start()
    env = {**_env(tmp_path), "CELERY_BROKER_URL": f"{redis.url}/0"}
    try:
        with _serving(tmp_path, env) as (process, log):
            _wait_for_log(log, " ready.", 1, timeout=30)
            worker, _ = _wait_for_child(process.pid, WORKER, other_than=None, timeout=10)
            os.kill(worker, signal.SIGSTOP)
            frozen = time.monotonic()
            # Judged after its first 30 s and 20 s of taking nothing, stopped (SIGKILL 10 s after the
            # SIGTERM a frozen process cannot act on), and started again after 1 s.
            new_worker, _ = _wait_for_child(process.pid, WORKER, other_than=worker, timeout=75)
            back = time.monotonic() - frozen
            _wait_for_log(log, " ready.", 2, timeout=30)
            print(f"frozen worker replaced after {back:.1f} s")
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=40) == 0
    finally:
        redis.close()
    output = log.read_text()
    assert re.search(
        rf"celery worker \(pid {worker}\) took no message for 20 s while \d+ waited \(not answering\); "
        "stopping it to start it again",
        output,
    ), output[-3000:]
    assert f"celery worker (pid {worker}) exited (-9)" in output
    assert f"celery worker restarted (pid {new_worker}, restart 1)" in output
