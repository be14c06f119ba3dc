"""Benchmark on PostgreSQL: the dashboard's live board and its one-year KPIs over 1,000,000
requests and their events, for the centre and for one township office.

    .venv/bin/python bench/dashboard.py                         # about eight minutes on 2 cores
    .venv/bin/python bench/dashboard.py --requests 100000 --runs 30 --explain
    .venv/bin/python bench/dashboard.py --keep                  # build once, then reuse it

It creates its own database (``zc_bench_dashboard``, or BENCH_DB_NAME) on the server of
BENCH_POSTGRES_URL (see ``benchkit.bench_database``), builds the city with
``dashboard_world.build_world`` (14 townships, 450 villages, 20,000 volunteers, ``--requests``
requests over three years with their events, offers and ratings, written with COPY; about
1,500 still open; under three minutes for a million), runs VACUUM ANALYZE as autovacuum would,
and fills the facts
(``dashboard_requestfact``) with one INSERT … SELECT computing in SQL what
``apps.dashboard.facts.facts_refresh`` computes. Then it checks and measures:

* **facts** — 200 random requests' facts deleted and written again by ``facts_refresh``: they
  must be the SQL's, column for column, or the benchmark fails (a check of the SQL fill and of
  ``facts_refresh`` against each other); ``facts_refresh`` timed on ``--refresh-sample``
  requests (the rate beat's full rewrite would have over the whole table);
* **board** — ``apps.dashboard.board.board`` for a dispatcher of the centre (the whole city)
  and for the staff of the busiest township's office, ``--runs`` times each after 3 warm-up
  runs: p50, p95 and the worst run, the database's CPU per run (this connection's backend:
  parallel workers' CPU is not in it), the number of statements;
* **KPI, one year** — ``kpis_for(area, KpiQuery(today − 364 days, today))`` for the same two
  areas, likewise: the stretches of ended months from the cache (Redis, ``BENCH_CACHE_URL``,
  emptied first; the warm-up runs keep them), the current month from the database. Its answer
  must equal one uncached reading of the whole year (``kpis``). Then ``--cold-runs`` times with
  every month's version renewed before each run (every month read from the database, as right
  after a change to each): p50 and the worst run, for information;
* **baseline** — in the same run, ``--baseline-runs`` times each (after one untimed run whose
  figures are compared): the same figures computed straight from the raw tables. For the KPIs,
  requests joined with their events, completed offers and rating, GROUP BY and
  ``percentile_disc`` per section as ``kpis`` has them; its totals (submitted, completed,
  rejected, cancelled, open, rated, hours), the four durations' median and p90, the monthly
  series, the fields, townships, reasons and active volunteers must equal ``kpis``'s, or the
  benchmark fails. For the board, counts by status over every request of the area (GROUP BY
  over the whole table, no status index: every statement runs with index scans off), the
  waiting rows and their SLA, the offers unanswered and the tasks held, today's completions
  and ratings from the events and ratings; its figures and lists must equal the board's.

Goal: p95 ≤ 300 ms for each of the four (board and KPI, centre and township). Exit status 1 if
one is missed or a check fails. ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of every
statement of the centre's one-year KPIs (or of ``--explain board-centre kpi-township …``),
slowest first. ``--keep`` keeps the database at the end and reuses it next time if it holds
``--requests`` requests (building a million takes a few minutes).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from benchkit import (
    MAINTENANCE_URL,
    Database,
    admin_execute,
    bench_database,
    configure,
    percentile,
    print_table,
    server_cpu_ms,
)

TARGET_P95_MS = 300.0
WARM_UP = 3
DB_NAME = "zc_bench_dashboard"
META_TABLE = "bench_dashboard_meta"
SAMPLE = 200
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10")
EXPLAINABLE = ("kpi-centre", "kpi-township", "board-centre", "board-township")


# --- The database: benchkit's, or one kept between runs -------------------------------------------


def _kept_world(url: str, requests: int) -> dict[str, Any] | None:
    """What the kept database's build wrote down, if it exists and holds ``requests`` requests
    and as many facts."""
    import psycopg2

    try:
        conn = psycopg2.connect(url)
    except psycopg2.OperationalError:
        return None
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [META_TABLE])
            if cursor.fetchone()[0] is None:
                return None
            cursor.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'world'")  # noqa: S608 — a constant
            row = cursor.fetchone()
            cursor.execute(
                "SELECT (SELECT count(*) FROM service_requests_servicerequest),"
                " (SELECT count(*) FROM dashboard_requestfact)"
            )
            counts = cursor.fetchone()
    finally:
        conn.close()
    if row is None or row[0]["requests"] != requests or counts != (requests, requests):
        return None
    return row[0]


@contextmanager
def _database(default_name: str, *, keep: bool, requests: int) -> Iterator[dict[str, Any] | None]:
    """benchkit's fresh database (dropped at the end), or with ``keep`` one kept between runs:
    reused when its world has ``requests`` requests (yields what its build wrote down), else
    made anew (yields None)."""
    if not keep:
        with bench_database(default_name):
            yield None
        return
    name = os.environ.get("BENCH_DB_NAME", default_name)
    database = Database(
        name=name,
        url=urlunparse(urlparse(MAINTENANCE_URL)._replace(path=f"/{name}")),
        work=Path(tempfile.mkdtemp(prefix="zc-bench-")),
    )
    kept = _kept_world(database.url, requests)
    if kept is None:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    configure(database)
    # The KPIs keep ended months' stretches in the shared cache: Redis, as deployed (emptied first).
    os.environ["CACHE_URL"] = CACHE_URL
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield kept
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(database.work, ignore_errors=True)


# --- Measuring -------------------------------------------------------------------------------------


class Timing:
    def __init__(self, timings: list[float], server_cpu: float | None, statements: int):
        self.timings = timings
        self.server_cpu = server_cpu
        self.statements = statements

    @property
    def p50(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        return percentile(self.timings, 0.95)

    @property
    def max(self) -> float:
        return max(self.timings)


def measure(fn: Callable[[], Any], *, runs: int, warm_up: int) -> Timing:
    """``fn`` run ``warm_up`` times (its statements counted on the last), then ``runs`` times
    timed (ms), with the database's CPU."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = 0
    for n in range(warm_up):
        if n < warm_up - 1:
            fn()
            continue
        with CaptureQueriesContext(connection) as captured:
            fn()
        statements = len(captured.captured_queries)
    gc.collect()
    timings = []
    cpu_before = server_cpu_ms()
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    cpu_after = server_cpu_ms()
    server_cpu = (cpu_after - cpu_before) / runs if cpu_before is not None and cpu_after is not None else None
    return Timing(timings, server_cpu, statements)


def explain(label: str, fn: Callable[[], Any]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement ``fn`` runs, slowest first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    statements = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    print(f"\n=== EXPLAIN (ANALYZE, BUFFERS): {label}, {len(statements)} statements, slowest first ===")
    for n, query in enumerate(statements, 1):
        print(f"\n--- {n}. {float(query['time']) * 1000:.1f} ms\n{query['sql']}\n")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))
    print(flush=True)


# --- The baselines: the same figures from the raw tables -------------------------------------------


def _area_sql(area: Any, alias: str = "r") -> tuple[str, list[Any]]:
    if area.whole_city:
        return "TRUE", []
    assert area.township_id is not None and area.village_id is None and area.category_ids is None
    return f"{alias}.township_id = %s", [area.township_id]


def _raw_requests(area: Any, since: datetime, until: datetime) -> tuple[str, list[Any]]:
    """Per request submitted in [since, until) in ``area``: what its fact holds, read from the
    request, its events (GROUP BY over the join), its completed offers and its rating."""
    from dashboard_world import seconds_sql

    from apps.dashboard.facts import TYPED_REASON

    where, area_params = _area_sql(area, "r")
    scope = f"r.created_at >= %s AND r.created_at < %s AND {where}"
    params = [since, until, *area_params]

    def seconds(column: str) -> str:
        return seconds_sql(f"ev.{column}", "r.created_at")

    sql = f"""
SELECT r.id, r.created_at, (r.created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, r.township_id,
       r.category_id, r.status,
       CASE WHEN r.status IN ('rejected', 'cancelled')
            THEN COALESCE(NULLIF(r.status_reason_code, ''),
                          CASE WHEN r.status_reason <> '' THEN '{TYPED_REASON}' ELSE '' END)
            ELSE '' END AS reason_code,
       {seconds("reviewed")} AS review_seconds, {seconds("offered")} AS offer_seconds,
       {seconds("accepted")} AS accept_seconds, {seconds("completed")} AS complete_seconds,
       ev.completed AS completed_at, COALESCE(done.hours, 0) AS hours, g.score, g.tags
  FROM service_requests_servicerequest r
  LEFT JOIN (
        SELECT e.request_id,
               min(e.created_at) FILTER (WHERE e.from_status = 'submitted'
                                           AND e.to_status IN ('queued', 'rejected')
                                           AND e.actor_id IS NOT NULL) AS reviewed,
               min(e.created_at) FILTER (WHERE e.to_status = 'offered') AS offered,
               min(e.created_at) FILTER (WHERE e.to_status = 'accepted') AS accepted,
               min(e.created_at) FILTER (WHERE e.to_status = 'completed') AS completed
          FROM service_requests_requestevent e
          JOIN service_requests_servicerequest r ON r.id = e.request_id
         WHERE {scope}
         GROUP BY e.request_id) ev ON ev.request_id = r.id
  LEFT JOIN (
        SELECT o.request_id, sum(o.hours) AS hours
          FROM dispatch_offer o
          JOIN service_requests_servicerequest r ON r.id = o.request_id
         WHERE o.status = 'completed' AND {scope}
         GROUP BY o.request_id) done ON done.request_id = r.id
  LEFT JOIN ratings_rating g ON g.request_id = r.id
 WHERE {scope}"""  # noqa: S608 — constants only
    return sql, params * 3


def _counts_sql() -> str:
    from apps.dashboard.kpi import OPEN_STATUSES

    open_list = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    return f"""count(*) AS submitted, count(completed_at) AS completed,
       count(*) FILTER (WHERE status = 'rejected') AS rejected,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status IN ({open_list})) AS open,
       COALESCE(sum(hours), 0) AS hours, count(score) AS rated, COALESCE(sum(score), 0) AS score_sum"""


def kpi_baseline(area: Any, query: Any) -> dict[str, Any]:
    """The one-year KPIs ``kpis`` gives, straight from the raw tables (see the module's docstring)."""
    from django.db import connection
    from django.utils import timezone

    from apps.dashboard.facts import TAG_BITS

    tz = timezone.get_current_timezone()
    since = datetime.combine(query.start, datetime.min.time(), tzinfo=tz)
    until = datetime.combine(query.end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    raw, params = _raw_requests(area, since, until)
    counts = _counts_sql()
    columns = ["submitted", "completed", "rejected", "cancelled", "open", "hours", "rated", "score_sum"]
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        scores = ", ".join(f"count(*) FILTER (WHERE score = {n})" for n in range(1, 6))
        tags = ", ".join(f"count(*) FILTER (WHERE tags ? '{tag}')" for tag in TAG_BITS)
        cursor.execute(f"SELECT {counts}, {scores}, {tags} FROM ({raw}) x", params)  # noqa: S608
        row = cursor.fetchone()
        out["totals"] = dict(zip(columns, row[:8], strict=True))
        out["distribution"] = list(row[8:13])
        out["tags"] = list(row[13:])
        period = {"day": "day", "week": "date_trunc('week', day)::date", "month": "date_trunc('month', day)::date"}
        for key, group in (("series", period[query.effective_grain]), ("by_category", "category_id")):
            cursor.execute(f"SELECT {group}, {counts} FROM ({raw}) x GROUP BY 1 ORDER BY 1", params)  # noqa: S608
            out[key] = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in cursor.fetchall()}
        cursor.execute(f"SELECT township_id, {counts} FROM ({raw}) x GROUP BY 1 ORDER BY 1", params)  # noqa: S608
        out["by_township"] = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in cursor.fetchall()}
        cursor.execute(
            f"SELECT status, reason_code, count(*) FROM ({raw}) x "  # noqa: S608
            "WHERE status IN ('cancelled', 'rejected') GROUP BY 1, 2",
            params,
        )
        out["reasons"] = {(r[0], r[1]): r[2] for r in cursor.fetchall()}
        durations = ", ".join(
            f"count({c}), percentile_disc(0.5) WITHIN GROUP (ORDER BY {c}), "
            f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {c})"
            for c in ("review_seconds", "offer_seconds", "accept_seconds", "complete_seconds")
        )
        cursor.execute(f"SELECT {durations} FROM ({raw}) x", params)  # noqa: S608
        row = cursor.fetchone()
        out["durations"] = {
            name: {"count": row[3 * i], "median": row[3 * i + 1], "p90": row[3 * i + 2]}
            for i, name in enumerate(("review", "offer", "accept", "complete"))
        }
        where, area_params = _area_sql(area, "r")
        cursor.execute(
            "SELECT count(DISTINCT o.volunteer_id) FROM dispatch_offer o "  # noqa: S608
            "JOIN service_requests_servicerequest r ON r.id = o.request_id "
            f"WHERE o.status = 'completed' AND r.created_at >= %s AND r.created_at < %s AND {where}",
            [since, until, *area_params],
        )
        out["active_volunteers"] = cursor.fetchone()[0]
    return out


def _distribution(distribution: Any) -> list[int]:
    """Ratings by score 1–5, from ``[{"score": s, "count": n}, …]``."""
    by_score = {row["score"]: row["count"] for row in distribution}
    return [by_score[n] for n in range(1, 6)]


def kpi_figures(result: dict[str, Any]) -> dict[str, Any]:
    """What of ``kpis``'s answer the baseline must equal, in the baseline's shape."""
    columns = ["submitted", "completed", "rejected", "cancelled", "open", "hours", "rated", "score_sum"]
    satisfaction = result["satisfaction"]
    return {
        "totals": {c: result["totals"][c] for c in columns},
        "distribution": _distribution(satisfaction["distribution"]),
        "tags": [t["count"] for t in satisfaction["tags"]],
        "series": {row["period"]: {c: row[c] for c in columns} for row in result["series"]},
        "by_category": {row["category_ref"]["id"]: {c: row[c] for c in columns} for row in result["by_category"]},
        "by_township": {row["township_ref"]["id"]: {c: row[c] for c in columns} for row in result["by_township"]},
        "reasons": {(status, r["code"]): r["count"] for status, rows in result["reasons"].items() for r in rows},
        "durations": result["durations"],
        "active_volunteers": result["totals"]["active_volunteers"],
    }


def board_baseline(area: Any, now: datetime) -> dict[str, Any]:
    """The board's figures and lists read plainly: GROUP BY over every request of the area and
    joins over every offer, with index scans off (no status index, nor any other)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.dashboard.board import NEEDS_PERSON_ROWS, OFFER_ROWS, ON_DUTY_ROWS
    from apps.dashboard.kpi import OPEN_STATUSES
    from apps.dispatch.models import HOLDS_PLACE
    from apps.matching.models import NeedsPerson
    from apps.organisation.models import DispatchMode

    where, area_params = _area_sql(area, "r")
    needs = ", ".join(f"'{v}'" for v in NeedsPerson.values)
    waits = (
        "(r.status IN ('submitted', 'escalated')"
        f" OR (r.status = 'queued' AND r.dispatch_mode = '{DispatchMode.DIRECTED}')"
        f" OR (r.status IN ('queued', 'offered') AND m.needs_person IN ({needs})))"
    )
    limit = "CASE r.urgency " + " ".join(
        f"WHEN '{u}' THEN interval '{m} minutes'" for u, m in settings.ESCALATE_AFTER_MINUTES.items()
    )
    limit += " END"
    share = settings.DASHBOARD_SLA_AMBER_SHARE
    holds = ", ".join(f"'{s}'" for s in sorted(HOLDS_PLACE))
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    out: dict[str, Any] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(
            f"""SELECT r.status, r.township_id, count(*),
                       count(*) FILTER (WHERE {waits}),
                       count(*) FILTER (WHERE {waits} AND %s - r.created_at >= {limit}),
                       count(*) FILTER (WHERE {waits} AND %s - r.created_at < {limit}
                                          AND %s - r.created_at >= ({limit}) * %s)
                  FROM service_requests_servicerequest r
                  LEFT JOIN matching_matchstate m ON m.request_id = r.id
                 WHERE {where}
                 GROUP BY 1, 2""",  # noqa: S608 — constants only
            [now, now, now, share, *area_params],
        )
        counts = dict.fromkeys(OPEN_STATUSES, 0)
        by_township: dict[int, int] = {}
        waiting = red = amber = 0
        for status, township, n, w, r, a in cursor.fetchall():
            if status not in OPEN_STATUSES:
                continue
            counts[status] += n
            by_township[township] = by_township.get(township, 0) + n
            waiting, red, amber = waiting + w, red + r, amber + a
        out.update(
            counts=counts,
            open_by_township=by_township,
            waiting_total=waiting,
            sla_totals={"green": waiting - red - amber, "amber": amber, "red": red},
        )
        cursor.execute(
            f"""SELECT r.id, r.title, r.urgency, r.status, r.created_at, c.name, t.name, v.name, m.needs_person
                  FROM service_requests_servicerequest r
                  LEFT JOIN matching_matchstate m ON m.request_id = r.id
                  JOIN organisation_servicecategory c ON c.id = r.category_id
                  JOIN organisation_place t ON t.id = r.township_id
                  JOIN organisation_place v ON v.id = r.village_id
                 WHERE {where} AND {waits}
                 ORDER BY r.created_at, r.id LIMIT {NEEDS_PERSON_ROWS}""",  # noqa: S608
            area_params,
        )
        out["waiting"] = [row[0] for row in cursor.fetchall()]
        offers = f"""FROM dispatch_offer o
                  JOIN service_requests_servicerequest r ON r.id = o.request_id
                  JOIN volunteers_volunteerprofile p ON p.id = o.volunteer_id
                  JOIN accounts_user u ON u.id = p.user_id
                 WHERE {where}"""
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE o.status = 'offered'), "  # noqa: S608
            f"count(*) FILTER (WHERE o.status IN ({holds})) "
            f"FROM dispatch_offer o JOIN service_requests_servicerequest r ON r.id = o.request_id WHERE {where}",
            area_params,
        )
        out["offers_total"], out["on_duty_total"] = cursor.fetchone()
        cursor.execute(
            f"SELECT o.id, r.title, u.name {offers} AND o.status = 'offered' "
            f"ORDER BY o.expires_at, o.id LIMIT {OFFER_ROWS}",
            area_params,
        )
        out["offers"] = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT o.id, r.title, u.name {offers} AND o.status IN ({holds}) "
            f"ORDER BY o.created_at DESC, o.id LIMIT {ON_DUTY_ROWS}",
            area_params,
        )
        out["on_duty"] = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT count(DISTINCT e.request_id) FROM service_requests_requestevent e "  # noqa: S608
            "JOIN service_requests_servicerequest r ON r.id = e.request_id "
            f"WHERE e.to_status = 'completed' AND e.created_at >= %s AND {where}",
            [midnight, *area_params],
        )
        completed = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), avg(g.score) FROM ratings_rating g "  # noqa: S608
            "JOIN service_requests_servicerequest r ON r.id = g.request_id "
            f"WHERE g.created_at >= %s AND {where}",
            [midnight, *area_params],
        )
        rated, average = cursor.fetchone()
        out["today"] = {
            "completed": completed,
            "rated": rated,
            "average_score": round(average, 2) if average is not None else None,
        }
    return out


def board_figures(b: Any) -> dict[str, Any]:
    """What of the board the baseline must equal, in the baseline's shape."""
    return {
        "counts": dict(b.counts),
        "open_by_township": {dot.place_id: dot.open for dot in b.townships if dot.open},
        "waiting_total": b.waiting_total,
        "sla_totals": dict(b.sla_totals),
        "waiting": [row.request.id for row in b.waiting],
        "offers_total": b.offers_total,
        "on_duty_total": b.on_duty_total,
        "offers": [o.id for o in b.offers],
        "on_duty": [o.id for o in b.on_duty],
        "today": {k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in b.today.items()},
    }


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two nested figures differ (numbers compared as Decimal), as readable lines."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        lines = []
        for key in sorted(set(ours) | set(theirs), key=str):
            lines += differences(ours.get(key), theirs.get(key), f"{path}.{key}")
        return lines
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [
            line
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for line in differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(ours, int | float | Decimal) and isinstance(theirs, int | float | Decimal):
        same = Decimal(str(ours)) == Decimal(str(theirs))
    else:
        same = ours == theirs
    return [] if same else [f"{path or '.'}: ours {ours!r}, baseline {theirs!r}"]


# --- Facts: the SQL fill against facts_refresh ------------------------------------------------------

FACT_COLUMNS = (
    "request_id, created_at, day, township_id, village_id, station_id, category_id, urgency, status, reason_code, "
    "review_seconds, offer_seconds, accept_seconds, complete_seconds, completed_at, hours, volunteers, score, "
    "tag_bits, rated_at"
)


def _facts_of(ids: list[int]) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {FACT_COLUMNS} FROM dashboard_requestfact WHERE request_id = ANY(%s) ORDER BY request_id",  # noqa: S608
            [ids],
        )
        return cursor.fetchall()


def _row_differences(before: list[tuple], after: list[tuple]) -> list[str]:
    names = [c.strip() for c in FACT_COLUMNS.split(",")]
    if [r[0] for r in before] != [r[0] for r in after]:
        return [f"rows: {len(before)} from SQL, {len(after)} from facts_refresh"]
    lines = []
    for a, b in zip(before, after, strict=True):
        lines += [
            f"request {a[0]} {n}: SQL {x!r}, facts_refresh {y!r}" for n, x, y in zip(names, a, b, strict=True) if x != y
        ]
    return lines


def check_sample(rng: random.Random, n_requests: int) -> tuple[int, list[str]]:
    """``SAMPLE`` random requests' facts (from the SQL fill) deleted and written again by
    ``facts_refresh``: the differences, column by column."""
    from django.db import connection

    from apps.dashboard.facts import facts_refresh

    ids = sorted(rng.sample(range(1, n_requests + 1), SAMPLE))
    before = _facts_of(ids)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_requestfact WHERE request_id = ANY(%s)", [ids])
    facts_refresh(request_ids=ids)
    return len(before), _row_differences(before, _facts_of(ids))


def refresh_rate(rng: random.Random, n_requests: int, count: int) -> tuple[float, list[str]]:
    """Seconds ``facts_refresh`` takes over ``count`` random requests whose facts exist (the
    update path, as the jobs and beat's rewrite take it), and the differences it made."""
    from apps.dashboard.facts import facts_refresh

    ids = sorted(rng.sample(range(1, n_requests + 1), count))
    before = _facts_of(ids)
    started = time.perf_counter()
    facts_refresh(request_ids=ids)
    seconds = time.perf_counter() - started
    return seconds, _row_differences(before, _facts_of(ids))


# --- The run ---------------------------------------------------------------------------------------


def _write_meta(world: Any, extra: dict[str, Any]) -> dict[str, Any]:
    import json

    from django.db import connection

    meta = {
        "requests": world.requests,
        "events": world.events,
        "offers": world.offers,
        "ratings": world.ratings,
        "match_states": world.match_states,
        "residents": world.residents,
        "volunteers": world.volunteers,
        "statuses": dict(world.statuses),
        "now": world.now.isoformat(),
        "centre_user": world.centre_user.id,
        "township_user": world.township_user.id,
        "township": world.township.id,
        "seconds": world.seconds,
        **extra,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)")
        cursor.execute(
            f"INSERT INTO {META_TABLE} VALUES ('world', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",  # noqa: S608
            [json.dumps(meta)],
        )
    return meta


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _server_settings() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "current_setting('work_mem'), current_setting('max_parallel_workers_per_gather'), current_setting('jit')"
        )
        version, shared, work, parallel, jit = cursor.fetchone()
    return (
        f"PostgreSQL {version}, shared_buffers {shared}, work_mem {work}, parallel workers/gather {parallel}, jit {jit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--volunteers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3, help="KPI runs with the cache emptied before each")
    parser.add_argument(
        "--refresh-sample", type=int, default=20_000, help="requests facts_refresh is timed on (0: skip)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database; reuse it if it holds --requests requests"
    )
    parser.add_argument(
        "--explain",
        nargs="*",
        choices=EXPLAINABLE,
        metavar="WHAT",
        help=f"EXPLAIN (ANALYZE, BUFFERS) of the statements of: {', '.join(EXPLAINABLE)} (default kpi-centre)",
    )
    args = parser.parse_args()
    ok = True

    with _database(DB_NAME, keep=args.keep, requests=args.requests) as kept:
        from dashboard_world import build_world, fill_facts
        from django.core.cache import cache
        from django.db import connection
        from django.utils import timezone

        from apps.accounts.areas import area_of
        from apps.accounts.models import User
        from apps.dashboard.board import BoardFilter, board
        from apps.dashboard.facts import months_changed
        from apps.dashboard.kpi import OPEN_STATUSES, KpiQuery, facts_for, kpis, kpis_for, stretches
        from apps.organisation.models import Place

        if kept is None:
            started = time.perf_counter()
            print(f"building the city with {args.requests:,} requests …", flush=True)
            world = build_world(args.requests, n_volunteers=args.volunteers)
            counted = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            world.seconds["vacuum"] = time.perf_counter() - counted
            counted = time.perf_counter()
            facts = fill_facts()
            world.seconds["facts"] = time.perf_counter() - counted
            counted = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE dashboard_requestfact")
            world.seconds["vacuum"] += time.perf_counter() - counted
            world.seconds["total"] = time.perf_counter() - started
            meta = _write_meta(world, {"facts": facts})
        else:
            meta = kept
            print(f"reusing the kept database (built {meta['now']}, {meta['seconds']['total']:.0f} s)", flush=True)
        s = meta["seconds"]
        print(
            f"city built in {s['total']:.0f} s (people {s['people']:.0f} s, requests with their rows "
            f"{s['requests']:.0f} s, indexes {s['indexes']:.0f} s, VACUUM ANALYZE {s['vacuum']:.0f} s, facts by one "
            f"INSERT … SELECT {s['facts']:.0f} s): {meta['requests']:,} requests, {meta['events']:,} events, "
            f"{meta['offers']:,} offers, {meta['ratings']:,} ratings, {meta['match_states']:,} matching states, "
            f"{meta['residents']:,} residents, {meta['volunteers']:,} volunteers",
            flush=True,
        )
        statuses = meta["statuses"]
        open_now = sum(n for status, n in statuses.items() if status in OPEN_STATUSES)
        print(
            f"open now: {open_now:,}; statuses: "
            + ", ".join(
                f"{k} {v:,} ({v / meta['requests']:.1%})" for k, v in sorted(statuses.items(), key=lambda kv: -kv[1])
            ),
            flush=True,
        )

        rng = random.Random(11)
        checked, wrong = check_sample(rng, meta["requests"])
        print(
            f"sample check: {checked} random requests' facts deleted and rewritten by facts_refresh: "
            f"{'identical to the SQL fill' if not wrong else f'{len(wrong)} DIFFERENCES'}",
            flush=True,
        )
        for line in wrong[:10]:
            print("  " + line)
        ok = ok and not wrong and checked == SAMPLE
        if args.refresh_sample:
            count = min(args.refresh_sample, meta["requests"])
            seconds, changed = refresh_rate(rng, meta["requests"], count)
            rate = count / seconds
            print(
                f"facts_refresh over {count:,} random requests: {seconds:.1f} s, {rate:,.0f} requests/s "
                f"(the whole {meta['requests']:,}: about {_duration(meta['requests'] / rate)}); "
                f"{'no row changed' if not changed else f'{len(changed)} VALUES CHANGED'}",
                flush=True,
            )
            for line in changed[:10]:
                print("  " + line)
            ok = ok and not changed
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE dashboard_requestfact")

        centre_user = User.objects.select_related("staff_node").get(id=meta["centre_user"])
        township_user = User.objects.select_related("staff_node").get(id=meta["township_user"])
        township = Place.objects.get(id=meta["township"])
        today = timezone.localdate()
        query = KpiQuery(start=today - timedelta(days=364), end=today)
        grain = query.effective_grain

        def board_of(user: Any) -> Callable[[], Any]:
            return lambda: board(user=user, flt=BoardFilter())

        def kpis_of(user: Any) -> Callable[[], Any]:
            return lambda: kpis_for(area=area_of(user), query=query)

        def cold_kpis_of(user: Any) -> Callable[[], Any]:
            def run() -> Any:
                months_changed(month for month, _first, _last in stretches(query.start, query.end))
                return kpis_for(area=area_of(user), query=query)

            return run

        cache.clear()

        # Labels without the township's name: benchkit's table pads by characters, not by width.
        print(f"the township: {township.name}, the busiest (its office's staff see it only)", flush=True)
        cases = [
            ("board-centre", "board, centre (whole city)", centre_user, "board"),
            ("board-township", "board, township office", township_user, "board"),
            ("kpi-centre", "KPI one year, centre", centre_user, "kpi"),
            ("kpi-township", "KPI one year, township", township_user, "kpi"),
        ]
        lines = []
        colds: list[list[str]] = []
        for key, label, user, kind in cases:
            area = area_of(user)
            if kind == "board":
                fn = board_of(user)
                now = timezone.now()
                ours = board(user=user, flt=BoardFilter(), now=now)
                size = sum(ours.counts.values())
                wrong = differences(board_figures(ours), board_baseline(area, now))

                def baseline(area: Any = area) -> Any:
                    return board_baseline(area, timezone.now())
            else:
                fn = kpis_of(user)
                result = fn()
                size = result["totals"]["submitted"]
                wrong = differences(kpi_figures(result), kpi_baseline(area, query))
                # The kept months add up to exactly what one uncached reading of the year gives.
                if result != kpis(facts=facts_for(area=area, query=query), grain=grain):
                    wrong.append("kpis_for (with the kept months) differs from kpis over the whole year")
                cold = measure(cold_kpis_of(user), runs=args.cold_runs, warm_up=0)
                print(f"{label}, cold (every ended month read again): p50 {cold.p50:.1f} ms, max {cold.max:.1f} ms")
                colds.append([f"{label}, cold", f"{cold.p50:.1f}", f"{cold.max:.1f}"])

                def baseline(area: Any = area) -> Any:
                    return kpi_baseline(area, query)

            timing = measure(fn, runs=args.runs, warm_up=WARM_UP)
            base = measure(baseline, runs=args.baseline_runs, warm_up=0)
            met = timing.p95 <= TARGET_P95_MS
            ok = ok and met and not wrong
            print(
                f"{label}: p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms; baseline p50 {base.p50:,.0f} ms; "
                f"same figures: {'yes' if not wrong else 'NO'}",
                flush=True,
            )
            for line in wrong[:20]:
                print("  " + line)
            lines.append(
                [
                    label,
                    f"{size:,}",
                    f"{timing.p50:.1f}",
                    f"{timing.p95:.1f}",
                    f"{timing.max:.1f}",
                    f"{timing.server_cpu:.1f}" if timing.server_cpu is not None else "?",
                    str(timing.statements),
                    f"{base.p50:,.0f}",
                    f"{base.p50 / timing.p50:,.0f}x",
                    "yes" if not wrong else "NO",
                    f"p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'}",
                ]
            )
            if args.explain is not None and key in (args.explain or ["kpi-centre"]):
                explain(label, fn)

        print()
        print(
            f"{args.runs} runs per query after {WARM_UP} warm-up runs, {args.baseline_runs} of each baseline; "
            f"{meta['requests']:,} requests; one year = {query.start} … {query.end} (grain {grain}); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(_server_settings())
        print_table(
            [
                "query",
                "rows",
                "p50 ms",
                "p95 ms",
                "max ms",
                "DB CPU ms",
                "statements",
                "baseline p50 ms",
                "speed-up",
                "same figures",
                "goal",
            ],
            lines,
        )
        print_table(["KPI with the cache emptied before each run", "p50 ms", "max ms"], colds)
        print(
            "KPI: ended months' stretches come from the cache (kept by the warm-up runs), the current month "
            "from the database; cold: every month read from the database, as after a change to each."
        )
        print(
            "rows: open requests of the area (board), requests submitted in the year (KPI); "
            "DB CPU: this connection's PostgreSQL backend per run (parallel workers not included)"
        )
        print(f"\nall goals met and all checks passed: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
