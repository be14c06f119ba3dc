"""What the benchmarks share: their own PostgreSQL database, the project under gunicorn, seeded
requests, and the printed table. Each benchmark is a script run from the project root
(``.venv/bin/python bench/<name>.py``); this module sits beside it and is imported by name."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAINTENANCE_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def lazy_application(make: Callable[[], WSGIApp]) -> WSGIApp:
    """A WSGI application that builds the real one (Django) on its first request, once, in the
    gunicorn worker rather than when gunicorn imports the module."""
    built: list[WSGIApp] = []
    lock = threading.Lock()

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not built:
            with lock:
                if not built:
                    built.append(make())
        return built[0](environ, start_response)

    return application


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_execute(*statements: str) -> None:
    """Run statements on the maintenance database, outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(MAINTENANCE_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@dataclass(frozen=True)
class Database:
    name: str
    url: str
    work: Path  # a scratch directory: the data directory of the project and the server's log


def configure(database: Database, *, keep_env: Iterable[str] = ()) -> None:
    """The project configured for ``database`` in this process: no broker and no shared cache
    unless named in ``keep_env`` (what the benchmarks measure needs neither)."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "zhuozhou_civic.settings",
            "DATABASE_URL": database.url,
            "DJANGO_SECRET_KEY": "bench-only-secret-key",
            "ZC_DATA_DIR": str(database.work),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    for variable in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG"):
        if variable not in keep_env:
            os.environ.pop(variable, None)
    sys.path.insert(0, str(PROJECT_ROOT))


def server_cpu_ms() -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend (same machine only): what a
    query costs the database, whatever else the machine is doing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def bench_database(default_name: str, *, keep_env: Iterable[str] = ()) -> Iterator[Database]:
    """A fresh database of its own (BENCH_DB_NAME, or ``default_name``; a stale one is dropped
    first) on the server of BENCH_POSTGRES_URL, the project configured for it in this process
    and migrated; dropped again at the end, whatever happens. No broker and no shared cache:
    what the benchmarks measure needs neither."""
    name = os.environ.get("BENCH_DB_NAME", default_name)
    database = Database(
        name=name,
        url=urlunparse(urlparse(MAINTENANCE_URL)._replace(path=f"/{name}")),
        work=Path(tempfile.mkdtemp(prefix="zc-bench-")),
    )
    configure(database, keep_env=keep_env)
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110  Django may not have been set up; the drop below still runs
            pass
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(database.work, ignore_errors=True)


def analyze(*, vacuum: bool = False) -> None:
    """Gather the statistics autovacuum would within a minute of a bulk load in production."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


@contextmanager
def gunicorn(module: str, database: Database, *, workers: int, threads: int, ready_path: str) -> Iterator[str]:
    """The project served by ``<module>:application`` under gunicorn (gthread, as in production)
    on a free loopback port; yields its URL once it answers ``ready_path`` (whatever the status:
    the server is up), stops it at the end."""
    import requests

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = database.work / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", f"{module}:application"),
                *("--pythonpath", f"{PROJECT_ROOT},{PROJECT_ROOT / 'bench'}"),
                *("--bind", f"127.0.0.1:{port}"),
                *("--worker-class", "gthread", "--workers", str(workers)),
                *("--threads", str(threads), "--keep-alive", "60", "--backlog", "2048"),
            ],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + ready_path, timeout=2)
                break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def seed_requests(*, org: dict[str, Any], requester: Any, count: int, rng: random.Random) -> list[Any]:
    """``count`` requests by ``requester`` spread over the three stations of the tests' organisation
    tree, its two categories, five statuses and six months, with bulk inserts."""
    from django.db import connection

    from apps.service_requests.models import Channel, ServiceRequest, Status, Urgency

    villages = [
        (org["village_a1"], org["township_a"], org["station_a1"]),
        (org["village_a2"], org["township_a"], org["station_a2"]),
        (org["village_b1"], org["township_b"], org["station_b1"]),
    ]
    rows = []
    for n in range(count):
        village, township, station = rng.choice(villages)
        rows.append(
            ServiceRequest(
                requester=requester,
                entered_by=requester,
                channel=rng.choice(Channel.values),
                category=rng.choice([org["category"], org["other_category"]]),
                title=f"需求{n}：帮忙修理漏水的水龙头",
                description="厨房水龙头一直滴水，老两口拧不动。",
                township=township,
                village=village,
                station=station,
                address="太平庄村东街12号",
                contact_name="王秀兰",
                contact_phone="13912345678",
                urgency=rng.choice(Urgency.values),
                status=rng.choice([Status.SUBMITTED, Status.QUEUED, Status.CLOSED, Status.COMPLETED, Status.REJECTED]),
            )
        )
    created = ServiceRequest.objects.bulk_create(rows, batch_size=2000)
    # created_at is auto_now_add: the spread over six months is written afterwards, in one UPDATE.
    table = ServiceRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET created_at = now() - (random() * interval '180 days')"  # noqa: S608 — own table
        )
        cursor.execute(f"UPDATE {table} SET status_changed_at = created_at")  # noqa: S608
    return created


def print_table(header: list[str], lines: list[list[str]]) -> None:
    table = [header, *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for index, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
