"""What every drill shares: a platform of its own started by the real run command
(``manage.py serve``: gunicorn, a Celery worker and beat) on a PostgreSQL database and a
redis-server of its own, a resident who submits requests (点单) through the API at a steady rate,
and readings of the job table.

A drill configures Django in its own process for the same database (before importing this
module's ORM helpers), so it seeds and watches with the ORM while the platform serves."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("DRILL_POSTGRES", "postgres://postgres@127.0.0.1:5432")
SECRET = "drill-secret-key-" + "d" * 48
START_TIMEOUT = 120.0


class DrillFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(f"{POSTGRES}/postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def recreate_database(name: str) -> str:
    """Drop and create database ``name`` on the drill's PostgreSQL; its URL."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def drop_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _exists(name: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(f"{POSTGRES}/postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def prepare_database(name: str, env: dict[str, str], *, template: str = "", save_as: str = "") -> str:
    """Database ``name`` (whose URL ``env`` already names) migrated and seeded: a copy of
    ``template`` if that exists, else seeded here and, with ``save_as``, kept as that template
    for the next drill. Returns how it was made."""
    if template and _exists(template):
        drop_database(name)
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return f"copied from {template}"
    recreate_database(name)
    seed(env)
    if save_as:
        drop_database(save_as)
        _admin(f'CREATE DATABASE "{save_as}" TEMPLATE "{name}"')
    return "migrated and seeded"


def platform_env(*, database_url: str, redis_url: str, data_dir: Path, extra: dict[str, str] | None = None) -> dict:
    """The environment of the platform's processes (and of the drill's own Django): debug off,
    the drill's database, broker and cache on the drill's redis-server (broker db 0, cache db 1)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE", "PHONE_LOOKUP_KEY", "CELERY_BROKER_URL"}
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=f"{redis_url}/0",
        CACHE_URL=f"{redis_url}/1",
        DJANGO_SECRET_KEY=SECRET,
        ZC_DATA_DIR=str(data_dir),
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def manage(args: list[str], env: dict[str, str], *, timeout: float = 300) -> None:
    done = subprocess.run(  # noqa: S603 — our own interpreter and commands, no shell
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise DrillFailed(f"manage.py {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")


class Platform:
    """``manage.py serve`` on a free port, in a process group of its own, its output in a log."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log_path = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and command, no shell
                [sys.executable, "manage.py", "serve", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DrillFailed(f"serve exited ({self.process.returncode}):\n{self.log()[-5000:]}")
            if " ready." in self.log() and _listening(self.port):
                return
            time.sleep(0.2)
        raise DrillFailed(f"the platform did not start within {START_TIMEOUT} s:\n{self.log()[-5000:]}")

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace") if self.log_path.exists() else ""

    def restarts(self) -> dict[str, int]:
        """How often serve started each child again, from its log."""
        text = self.log()
        return {name: len(re.findall(rf"\] {name} restarted \(pid", text)) for name in ("celery worker", "celery beat")}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=40)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------- seeding


@dataclass(frozen=True)
class Cast:
    token: str
    category_id: int
    village_id: int
    resident_id: int


def seed(env: dict[str, str]) -> None:
    """Migrate the drill's database and load the places, teams and demo accounts."""
    for command in (["migrate", "--noinput"], ["load_places"], ["load_teams"], ["seed_demo"]):
        manage(command, env)


def cast() -> Cast:
    """The demo resident (with a token) and every account given an e-mail address, so that each
    submission writes e-mail jobs (to the resident and to the staff of the village and township).
    Needs Django set up in this process on the drill's database."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast as DbCast
    from django.db.models.functions import Concat
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.accounts.phones import phone_digest
    from apps.organisation.models import Place, ServiceCategory

    User.objects.update(email=Concat(Value("drill-"), DbCast("id", CharField()), Value("@example.org")))
    resident = User.objects.get(phone_digest=phone_digest("13900000001"))
    token, _created = Token.objects.get_or_create(user=resident)
    village = Place.objects.get(parent__name="桃园街道", name="太平庄村")
    category = ServiceCategory.objects.get(code="convenience")
    return Cast(token=token.key, category_id=category.id, village_id=village.id, resident_id=resident.id)


# ------------------------------------------------------------------------------------------ client


@dataclass
class Answer:
    sent_at: float  # monotonic
    seconds: float
    status: int  # 0: no answer (connection error or timeout)
    request_id: int | None
    error: str = ""


@dataclass
class Submitter:
    """A resident's phone submitting 点单 at ``rate`` per second through the API, each with an
    idempotency key of its own, until stopped; every answer recorded."""

    port: int
    cast: Cast
    rate: float = 4.0
    timeout: float = 10.0
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _payload(self) -> bytes:
        return json.dumps(
            {
                "category": self.cast.category_id,
                "title": "帮忙修理漏水的水龙头",
                "description": "厨房水龙头一直滴水，老两口拧不动。",
                "village": self.cast.village_id,
                "address": "太平庄村东街12号",
                "contact_name": "王秀兰",
                "contact_phone": "13912345678",
                "urgency": "normal",
                "volunteers_needed": 1,
            }
        ).encode()

    def submit_once(self) -> Answer:
        body = self._payload()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Token {self.cast.token}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request("POST", "/api/v1/requests/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            seconds = time.monotonic() - started
            request_id = None
            if response.status == 201:
                request_id = int(json.loads(data)["id"])
            error = "" if response.status == 201 else data[:300].decode(errors="replace")
            return Answer(started, seconds, response.status, request_id, error)
        except OSError as failure:
            return Answer(started, time.monotonic() - started, 0, None, f"{type(failure).__name__}: {failure}")
        finally:
            conn.close()

    def _loop(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.answers.append(self.submit_once())
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
            else:
                next_at = time.monotonic()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="submitter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_line(answers: list[Answer]) -> str:
    seconds = [a.seconds for a in answers]
    if not seconds:
        return "no submissions"
    return (
        f"{len(seconds)} submissions: p50 {statistics.median(seconds) * 1000:.0f} ms, "
        f"p99 {percentile(seconds, 0.99) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )


# ------------------------------------------------------------------------------------------- jobs


def jobs_open(*, created_before: Any = None, task: str | None = None) -> int:
    """Jobs not finished (pending or running), created before ``created_before`` if given."""
    from apps.jobs.models import Job, JobState

    jobs = Job.objects.filter(state__in=[JobState.PENDING, JobState.RUNNING])
    if created_before is not None:
        jobs = jobs.filter(created_at__lte=created_before)
    if task is not None:
        jobs = jobs.filter(task=task)
    return jobs.count()


def wait_drained(*, created_before: Any, timeout: float, started: float | None = None) -> float | None:
    """Seconds (from ``started``, by default now) until every job created before ``created_before``
    is finished; None if that did not happen within ``timeout`` seconds of ``started``."""
    origin = started if started is not None else time.monotonic()
    while True:
        if jobs_open(created_before=created_before) == 0:
            return time.monotonic() - origin
        if time.monotonic() - origin > timeout:
            return None
        time.sleep(0.25)


@contextlib.contextmanager
def django_on(env: dict[str, str]) -> Iterator[None]:
    """Set Django up in this process with the platform's environment (once per process)."""
    for name in ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "DJANGO_SECRET_KEY", "ZC_DATA_DIR"):
        os.environ[name] = env[name]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhuozhou_civic.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    yield


def redis_db_url(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.hostname}:{parsed.port}"
