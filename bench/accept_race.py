"""Benchmark on PostgreSQL: 接单 under contention, and the staff requests list.

    .venv/bin/python bench/accept_race.py                 # about a minute on 2 cores
    .venv/bin/python bench/accept_race.py --rounds 5 --concurrency 30 --list-rows 2000

Needs the dev requirements (it seeds the organisation tree with the tests' factories) and a
PostgreSQL server. It creates its own database (``zc_bench``, or BENCH_DB_NAME; a stale one is
dropped first) on the server of BENCH_POSTGRES_URL (default
``postgres://postgres@127.0.0.1:5432/postgres``, a maintenance database to connect to), migrates
it, seeds it, serves the project with gunicorn (gthread, as in production) on a free loopback
port, measures, and drops the database at the end.

What it measures, each next to a baseline taken in the same run through the same path:

(a) accept: each round, ``--requests`` requests of one village station, each needing
    ``--needed`` volunteers and offered to ``concurrency / requests`` volunteers; every
    volunteer has a warm keep-alive HTTP session and a token, and a barrier releases all the
    POST /api/v1/offers/<id>/accept/ together. Reports latency p50/p95 of every answer
    (200 and 409), attempts/s and places filled/s, and checks exactly ``needed`` winners per
    request and no 5xx. Baselines: the same clients sending a bare ``SELECT 1`` request
    together (HTTP + gunicorn + one database round trip, no Django), and a plain single-row
    UPDATE round trip from as many connections on one contended row (the database alone).
(b) list: GET /api/v1/requests/ (first page, and a status filter) as the centre's dispatcher,
    who sees the whole city, with ``--list-rows`` requests in the database; baseline: the bare
    ``SELECT 1`` request, sequentially, through the same client.

The bare request is served by :func:`application` below, a WSGI wrapper that answers one
path itself and hands everything else to the project's Django application.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchkit import WSGIApp, analyze, bench_database, gunicorn, lazy_application, print_table, seed_requests

BASELINE_PATH = "/__bench__/select1"

# ---------------------------------------------------------------------------------------------
# The WSGI application gunicorn serves: the project, plus one bare baseline endpoint.


def _django() -> WSGIApp:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


_project = lazy_application(_django)


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == BASELINE_PATH:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body = b'{"ok": 1}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    return _project(environ, start_response)


# ---------------------------------------------------------------------------------------------
# Measuring.


def _ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return p50 * 1000, p95 * 1000


class Row:
    def __init__(self, name: str, latencies: list[float], baseline: Row | None = None, note: str = "") -> None:
        self.name = name
        self.latencies = latencies
        self.baseline = baseline
        self.note = note
        self.p50, self.p95 = _ms(latencies)

    def cells(self) -> list[str]:
        ratio = ""
        if self.baseline is not None:
            ratio = f"{self.p50 / self.baseline.p50:.1f}x / {self.p95 / self.baseline.p95:.1f}x"
        return [self.name, str(len(self.latencies)), f"{self.p50:.2f}", f"{self.p95:.2f}", ratio, self.note]


def _print_table(rows: list[Row]) -> None:
    print_table(["measurement", "n", "p50 ms", "p95 ms", "p50/p95 vs baseline", "notes"], [r.cells() for r in rows])


# ---------------------------------------------------------------------------------------------
# Seeding (in this process, through the project's own services where it matters).


def _seed(*, volunteers: int, list_rows: int) -> dict[str, Any]:
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.volunteers.services import volunteer_register
    from tests.organisation.factories import build_org_tree

    org = build_org_tree()
    phones = iter(f"137{n:08d}" for n in range(10**6))
    resident = User.objects.create_user(phone=next(phones), password=None, name="王秀兰")
    staff = User.objects.create_user(phone=next(phones), password=None, name="钱所长", staff_node=org["office_a"])
    dispatcher = User.objects.create_user(phone=next(phones), password=None, name="赵调度", staff_node=org["centre"])
    crowd = [
        volunteer_register(
            user=User.objects.create_user(phone=next(phones), password=None, name="张小明"),
            home_township=org["township_a"],
            home_village=org["village_a1"],
            categories=[org["category"]],
            verified=True,
        )
        for _ in range(volunteers)
    ]
    tokens = {v.id: Token.objects.create(user=v.user).key for v in crowd}

    # The list: requests spread over the city's stations, statuses, categories and six months.
    seed_requests(org=org, requester=resident, count=list_rows, rng=random.Random(20200701))
    return {
        "org": org,
        "resident": resident,
        "staff": staff,
        "crowd": crowd,
        "tokens": tokens,
        "dispatcher_token": Token.objects.create(user=dispatcher).key,
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="accept rounds (default 10)")
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous accepts per round (default 50)")
    parser.add_argument("--requests", type=int, default=5, help="requests per round sharing them (default 5)")
    parser.add_argument("--needed", type=int, default=3, help="volunteers each request needs (default 3)")
    parser.add_argument("--list-rows", type=int, default=5000, help="requests in the database for (b)")
    parser.add_argument("--list-samples", type=int, default=200, help="sequential list requests (default 200)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    args = parser.parse_args()
    if args.concurrency % args.requests or args.concurrency // args.requests < args.needed:
        parser.error("--concurrency must be a multiple of --requests, with at least --needed offers per request")

    started = time.monotonic()
    with bench_database("zc_bench") as database:
        seeded = _seed(volunteers=args.concurrency, list_rows=args.list_rows)
        analyze()
        print(f"database {database.name} ready in {time.monotonic() - started:.1f}s", flush=True)
        with gunicorn(
            "accept_race", database, workers=args.web_workers, threads=args.web_threads, ready_path=BASELINE_PATH
        ) as url:
            rows = _measure(args, seeded, url, database.url)
        print()
        print(
            f"PostgreSQL {database.name}; gunicorn gthread {args.web_workers}x{args.web_threads}; "
            f"{os.cpu_count()} CPUs; total {time.monotonic() - started:.0f}s"
        )
        _print_table(rows)
    return 0


def _measure(args, seeded, url, database_url) -> list[Row]:  # type: ignore[no-untyped-def]
    import psycopg2
    import requests

    from apps.dispatch.services import dispatch_directed
    from apps.service_requests.models import ServiceRequest, Status
    from apps.service_requests.services import RequestInput, request_review, request_submit

    org, crowd = seeded["org"], seeded["crowd"]
    sessions: dict[int, requests.Session] = {}
    for volunteer in crowd:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {seeded['tokens'][volunteer.id]}"
        sessions[volunteer.id] = session
    concurrency = args.concurrency
    pool = ThreadPoolExecutor(max_workers=concurrency)

    def together(calls: list[Callable[[], Any]]) -> tuple[list[Any], float]:
        """Run the calls at once behind a barrier; return their results and the wall time."""
        barrier = threading.Barrier(len(calls) + 1, timeout=60)

        def run(call: Callable[[], Any]) -> Any:
            barrier.wait()
            return call()

        futures = [pool.submit(run, call) for call in calls]
        barrier.wait()
        t0 = time.perf_counter()
        results = [future.result() for future in futures]
        return results, time.perf_counter() - t0

    def timed_get(session: requests.Session, path: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        response = session.get(url + path, timeout=60)
        return time.perf_counter() - t0, response.status_code

    # Warm every keep-alive connection (and every server thread's database connection).
    for _ in range(2):
        together([lambda s=s: timed_get(s, BASELINE_PATH) for s in sessions.values()])

    # Baseline for (a), database alone: one row, many connections, plain UPDATE round trips.
    db_connections = [psycopg2.connect(database_url) for _ in range(min(concurrency, 20))]
    for conn in db_connections:
        conn.autocommit = True
    with db_connections[0].cursor() as cursor:
        cursor.execute("CREATE TABLE bench_counter (id int PRIMARY KEY, n int NOT NULL)")
        cursor.execute("INSERT INTO bench_counter VALUES (1, 0)")

    def update_once(conn) -> float:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
        return time.perf_counter() - t0

    update_latencies: list[float] = []
    for _ in range(args.rounds * 3):
        results, _wall = together([lambda c=c: update_once(c) for c in db_connections])
        update_latencies.extend(results)
    sequential_update = [update_once(db_connections[0]) for _ in range(300)]
    for conn in db_connections:
        conn.close()

    # Baseline for (a), HTTP: the same clients, the bare request, released together.
    select1_together: list[float] = []
    for _ in range(args.rounds):
        results, _wall = together([lambda s=s: timed_get(s, BASELINE_PATH) for s in sessions.values()])
        assert all(status == 200 for _t, status in results)
        select1_together.extend(t for t, _status in results)

    # (a) accept under contention.
    per_request = concurrency // args.requests
    accept_latencies: list[float] = []
    walls: list[float] = []
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    wrong: list[str] = []

    def accept(offer_id: int, volunteer_id: int) -> tuple[float, int, str]:
        t0 = time.perf_counter()
        response = sessions[volunteer_id].post(f"{url}/api/v1/offers/{offer_id}/accept/", timeout=60)
        elapsed = time.perf_counter() - t0
        code = response.json().get("code", "") if response.status_code == 409 else ""
        return elapsed, response.status_code, code

    for round_number in range(args.rounds):
        calls = []
        request_ids = []
        for k in range(args.requests):
            request = request_submit(
                data=RequestInput(
                    category=org["category"],
                    title=f"第{round_number}轮需求{k}",
                    description="帮忙搬运物资",
                    village=org["village_a1"],
                    address="太平庄村东街12号",
                    contact_name="王秀兰",
                    contact_phone="13912345678",
                    urgency="normal",
                    volunteers_needed=args.needed,
                ),
                requester=seeded["resident"],
                entered_by=seeded["resident"],
            )
            request_review(request=request, actor=seeded["staff"], accept=True)
            offers = dispatch_directed(
                request=request, actor=seeded["staff"], volunteers=crowd[k * per_request : (k + 1) * per_request]
            )
            request_ids.append(request.id)
            calls.extend(lambda o=o: accept(o.id, o.volunteer_id) for o in offers)
        random.shuffle(calls)
        results, wall = together(calls)
        walls.append(wall)
        for elapsed, status, code in results:
            accept_latencies.append(elapsed)
            statuses[status] += 1
            if code:
                codes[code] += 1
        for request in ServiceRequest.objects.filter(id__in=request_ids):
            if request.status != Status.ACCEPTED or request.volunteers_accepted != args.needed:
                wrong.append(f"#{request.id} {request.status} {request.volunteers_accepted}")
    attempts = args.rounds * concurrency
    places = args.rounds * args.requests * args.needed
    if statuses.get(200, 0) != places or wrong or any(status >= 500 for status in statuses):
        print(f"!! accept results are WRONG: statuses={dict(statuses)} codes={dict(codes)} wrong={wrong[:5]}")

    # (b) the requests list as the city's dispatcher, sequential, after a warm-up.
    staff_session = requests.Session()
    staff_session.headers["Authorization"] = f"Token {seeded['dispatcher_token']}"
    count = staff_session.get(url + "/api/v1/requests/", timeout=60).json()["count"]
    for _ in range(10):
        timed_get(staff_session, BASELINE_PATH)
        timed_get(staff_session, "/api/v1/requests/")
    select1_sequential = [timed_get(staff_session, BASELINE_PATH)[0] for _ in range(args.list_samples)]
    list_first = [timed_get(staff_session, "/api/v1/requests/") for _ in range(args.list_samples)]
    list_queued = [timed_get(staff_session, "/api/v1/requests/?status=queued") for _ in range(args.list_samples)]
    assert all(status == 200 for _t, status in [*list_first, *list_queued])

    for session in [*sessions.values(), staff_session]:
        session.close()
    pool.shutdown()

    update_row = Row(f"(a) baseline: UPDATE one row, {len(db_connections)} conns together", update_latencies)
    http_row = Row(f"(a) baseline: bare SELECT 1 request, {concurrency} together", select1_together)
    total_wall = sum(walls)
    accept_note = (
        f"{attempts / total_wall:.0f} attempts/s, {places / total_wall:.0f} places filled/s; "
        f"status {dict(sorted(statuses.items()))}; 409 codes {dict(codes)}"
    )
    accept_row = Row(
        f"(a) accept, {concurrency} together on {args.requests} req x N={args.needed}",
        accept_latencies,
        http_row,
        accept_note,
    )
    accept_vs_db = Row("(a) accept vs the UPDATE baseline", accept_latencies, update_row)
    sequential_update_row = Row("    single-row UPDATE, one connection, sequential", sequential_update)
    base_row = Row("(b) baseline: bare SELECT 1 request, sequential", select1_sequential)
    list_row = Row(
        f"(b) GET /requests/ page 1, dispatcher, {count} rows", [t for t, _s in list_first], base_row, "count + page"
    )
    queued_row = Row(
        "(b) GET /requests/?status=queued", [t for t, _s in list_queued], base_row, "filtered count + page"
    )
    return [
        update_row,
        sequential_update_row,
        http_row,
        accept_row,
        accept_vs_db,
        base_row,
        list_row,
        queued_row,
    ]


if __name__ == "__main__":
    sys.exit(main())
