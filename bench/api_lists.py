"""Benchmark on PostgreSQL: the API's list endpoints under load, each against a plain view.

    .venv/bin/python bench/api_lists.py                   # about three minutes on 2 cores
    .venv/bin/python bench/api_lists.py --duration 8 --alternations 3 --explain

Needs the dev requirements (it seeds the organisation tree with the tests' factories), a
PostgreSQL server and ``wrk``. It creates its own database (``zc_bench_lists``, or BENCH_DB_NAME;
a stale one is dropped first) on the server of BENCH_POSTGRES_URL (default
``postgres://postgres@127.0.0.1:5432/postgres``, a maintenance database to connect to), migrates
it, seeds it with bulk inserts, serves the project with gunicorn (gthread, as in production) on
a free loopback port, measures, and drops the database at the end.

Seeded: ``--requests`` requests over the city (default 50,000), ``--offers`` offers to one
volunteer (default 5,000, on as many of those requests, in every status) and ``--notifications``
notifications to one user (default 5,000).

Measured, with wrk (``--connections`` connections, default 32, a Lua script sending the token),
first page of each list:

* GET /api/v1/requests/ as the city's dispatcher (centre staff, who sees the whole city);
* GET /api/v1/offers/ as that volunteer;
* GET /api/v1/notifications/ as that user.

Each next to its baseline, taken under the same server and the same wrk: a plain Django view
of the same page — the token looked up as DRF does, the same rows counted and the same 20 rows
read with ``.values()`` into a ``JsonResponse``, through the same middleware — served only by
this module's own URLconf (:data:`urlpatterns`), which :func:`application` gives each request
and which includes the project's own. Endpoint and baseline alternate, ``--alternations``
times, ``--duration`` seconds a run. The table shows requests/s (mean of the runs), p50 (median
of the runs) and p99 (the worst run), and the ratio endpoint/baseline in requests/s: the median
of the ratios of each alternation's two runs, which ran back to back under the same conditions
(on a small machine, where wrk, PostgreSQL and the server share the CPUs, runs a minute apart
can differ by a third), with their range. The target is a ratio of at least 0.7 and p99 within
100 ms.

``--explain`` prints ``EXPLAIN ANALYZE`` of every query each endpoint runs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchkit import WSGIApp, analyze, bench_database, gunicorn, lazy_application, print_table, seed_requests

PAGE_SIZE = 20
TARGET_RATIO = 0.7
TARGET_P99_MS = 100.0

# ---------------------------------------------------------------------------------------------
# What gunicorn serves: the project, with this module as the URLconf of every request, so the
# baseline views below exist only here.


def _django() -> WSGIApp:
    import django
    from django.core.handlers.wsgi import WSGIHandler

    django.setup(set_prefix=False)

    class BenchHandler(WSGIHandler):
        def get_response(self, request):  # type: ignore[no-untyped-def]
            request.urlconf = __name__
            return super().get_response(request)

    return BenchHandler()


application = lazy_application(_django)


def _token_user(request):  # type: ignore[no-untyped-def]
    """The token's user, read as DRF's TokenAuthentication reads it (one query)."""
    from rest_framework.authtoken.models import Token

    key = request.headers.get("Authorization", "").removeprefix("Token ")
    return Token.objects.select_related("user").get(key=key).user


def _page(queryset, fields: list[str]):  # type: ignore[no-untyped-def]
    from django.core.serializers.json import DjangoJSONEncoder
    from django.http import JsonResponse

    count = queryset.count()
    rows = list(queryset.values(*fields)[:PAGE_SIZE])
    return JsonResponse({"count": count, "next": None, "previous": None, "results": rows}, encoder=DjangoJSONEncoder)


def baseline_requests(request):  # type: ignore[no-untyped-def]
    from apps.service_requests.models import ServiceRequest

    _token_user(request)  # the dispatcher sees the whole city
    fields = [
        *("id", "title", "category_id", "category__name", "township_id", "township__name"),
        *("village_id", "village__name", "status", "urgency", "channel", "volunteers_needed"),
        *("volunteers_accepted", "created_at", "status_changed_at"),
    ]
    return _page(ServiceRequest.objects.order_by("-created_at", "-id"), fields)


def baseline_offers(request):  # type: ignore[no-untyped-def]
    from django.db.models import Q, Subquery
    from django.utils import timezone

    from apps.dispatch.models import Offer, OfferStatus
    from apps.volunteers.models import VolunteerProfile

    user = _token_user(request)
    # On volunteer_id, as the endpoint reads it, so that both read the index in order.
    own = Subquery(VolunteerProfile.objects.filter(user=user).values("id")[:1])
    queryset = (
        Offer.objects.filter(volunteer_id=own)
        .exclude(Q(status=OfferStatus.OFFERED, expires_at__lte=timezone.now()))
        .order_by("-created_at", "-id")
    )
    fields = [
        *("id", "status", "created_at", "expires_at", "responded_at", "checked_in_at", "checked_out_at"),
        *("hours", "report", "request_id", "request__title", "request__description", "request__category__name"),
        *("request__township_id", "request__township__name", "request__village_id", "request__village__name"),
        *("request__urgency", "request__status", "request__window_start", "request__window_end"),
        *("request__volunteers_needed", "request__volunteers_accepted", "request__contact_name"),
        *("volunteer_id", "volunteer__volunteer_number", "volunteer__user__name"),
    ]
    return _page(queryset, fields)


def baseline_notifications(request):  # type: ignore[no-untyped-def]
    from apps.notifications.models import Notification

    user = _token_user(request)
    fields = ["id", "kind", "request_id", "params", "link", "created_at", "read_at"]
    return _page(Notification.objects.filter(recipient=user).order_by("-created_at", "-id"), fields)


def _urlpatterns() -> list:
    from django.urls import include, path

    return [
        path("__bench__/requests/", baseline_requests),
        path("__bench__/offers/", baseline_offers),
        path("__bench__/notifications/", baseline_notifications),
        path("", include("zhuozhou_civic.urls")),
    ]


def __getattr__(name: str) -> Any:
    # Built on first use, once Django is set up (the URL resolver reads it from this module).
    if name == "urlpatterns":
        patterns = _urlpatterns()
        globals()["urlpatterns"] = patterns
        return patterns
    raise AttributeError(name)


# ---------------------------------------------------------------------------------------------
# Helpers.


# ---------------------------------------------------------------------------------------------
# Seeding: bulk inserts, in this process.


def _seed(*, requests: int, offers: int, notifications: int) -> dict[str, Any]:
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.dispatch.models import Offer, OfferStatus
    from apps.notifications.models import Kind, Notification
    from apps.volunteers.services import volunteer_register
    from tests.organisation.factories import build_org_tree

    org = build_org_tree()
    resident = User.objects.create_user(phone="13700000001", password=None, name="王秀兰")
    staff = User.objects.create_user(phone="13700000002", password=None, name="钱所长", staff_node=org["office_a"])
    dispatcher = User.objects.create_user(phone="13700000003", password=None, name="赵调度", staff_node=org["centre"])
    volunteer = volunteer_register(
        user=User.objects.create_user(phone="13700000004", password=None, name="张小明"),
        home_township=org["township_a"],
        home_village=org["village_a1"],
        categories=[org["category"]],
        verified=True,
    )

    rng = random.Random(20200701)
    now = timezone.now()
    created = seed_requests(org=org, requester=resident, count=requests, rng=rng)

    statuses = [
        OfferStatus.OFFERED,
        OfferStatus.ACCEPTED,
        OfferStatus.IN_SERVICE,
        OfferStatus.COMPLETED,
        OfferStatus.DECLINED,
        OfferStatus.EXPIRED,
    ]
    offer_rows = []
    for request in created[:offers]:
        status = rng.choice(statuses)
        offer_rows.append(
            Offer(
                request=request,
                volunteer=volunteer,
                offered_by=staff,
                status=status,
                # Some offered ones already past their time: the list leaves those out.
                expires_at=now + timedelta(hours=rng.choice([-2, 24, 48])),
                responded_at=None if status == OfferStatus.OFFERED else now,
                hours=2 if status == OfferStatus.COMPLETED else None,
            )
        )
    Offer.objects.bulk_create(offer_rows, batch_size=2000)

    kinds = [Kind.OFFERED, Kind.ACCEPTED, Kind.OFFER_CLOSED, Kind.COMPLETED, Kind.CANCELLED]
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=volunteer.user,
                kind=rng.choice(kinds),
                request_id=request.id,
                params={"title": request.title, "reason": "", "volunteer": "张**", "expires": "06-01 18:00"},
                link=f"/v/offers/#offer-{request.id}",
            )
            for request in created[:notifications]
        ],
        batch_size=2000,
    )
    return {
        "dispatcher": Token.objects.create(user=dispatcher).key,
        "volunteer": Token.objects.create(user=volunteer.user).key,
    }


# ---------------------------------------------------------------------------------------------
# Measuring.

LUA = """
wrk.headers["Authorization"] = "Token %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


class Run:
    def __init__(self, requests: int, duration_us: int, p50_us: int, p99_us: int, bad: int, errors: int) -> None:
        self.rps = requests / (duration_us / 1e6)
        self.p50 = p50_us / 1000
        self.p99 = p99_us / 1000
        self.bad = bad
        self.errors = errors


def _wrk(url: str, script: Path, *, connections: int, duration: float) -> Run:
    out = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            f"{duration:g}s",
            "--timeout",
            "10s",
            "--script",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRK-RESULT"))
    return Run(*(int(value) for value in line.split()[1:]))


class Row:
    def __init__(self, name: str, runs: list[Run], baseline: Row | None = None, note: str = "") -> None:
        self.name = name
        self.runs = runs
        self.baseline = baseline
        self.note = note
        self.rps = statistics.mean(run.rps for run in runs)
        self.p50 = statistics.median(run.p50 for run in runs)
        self.p99 = max(run.p99 for run in runs)
        self.bad = sum(run.bad + run.errors for run in runs)

    def cells(self) -> list[str]:
        ratio = verdict = ""
        if self.baseline is not None:
            pairs = [run.rps / base.rps for run, base in zip(self.runs, self.baseline.runs, strict=True)]
            median = statistics.median(pairs)
            ratio = f"{median:.2f} ({min(pairs):.2f}–{max(pairs):.2f})"
            ok = median >= TARGET_RATIO and self.p99 <= TARGET_P99_MS
            verdict = "ok" if ok else "MISS"
        note = self.note + (f"; {self.bad} non-2xx/errors" if self.bad else "")
        return [self.name, f"{self.rps:.0f}", f"{self.p50:.1f}", f"{self.p99:.1f}", ratio, verdict, note]


def _print_table(rows: list[Row]) -> None:
    print_table(["measurement", "req/s", "p50 ms", "p99 ms", "ratio", "target", "notes"], [r.cells() for r in rows])


def _explain(path: str, token: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = Client(HTTP_HOST="127.0.0.1").get(path, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200, response.status_code
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "authtoken_token" in query["sql"]:
                continue
            cursor.execute("EXPLAIN ANALYZE " + query["sql"])
            print(f"\n--- {path}: {query['sql'][:160]}…")
            print("\n".join(row[0] for row in cursor.fetchall()))


def _measure(args: argparse.Namespace, tokens: dict[str, str], url: str, work: Path) -> list[Row]:
    import requests

    lists = [
        ("requests", "dispatcher", "GET /api/v1/requests/, city dispatcher"),
        ("offers", "volunteer", "GET /api/v1/offers/, volunteer"),
        ("notifications", "volunteer", "GET /api/v1/notifications/, its user"),
    ]
    scripts = {}
    for who, token in tokens.items():
        scripts[who] = work / f"{who}.lua"
        scripts[who].write_text(LUA % {"token": token})

    # Check both answer the same page, and warm every worker up.
    notes = {}
    for name, who, _label in lists:
        headers = {"Authorization": f"Token {tokens[who]}"}
        api = requests.get(f"{url}/api/v1/{name}/", headers=headers, timeout=30)
        plain = requests.get(f"{url}/__bench__/{name}/", headers=headers, timeout=30)
        assert api.status_code == plain.status_code == 200, (api.status_code, plain.status_code)
        api_ids = [row["id"] for row in api.json()["results"]]
        assert api_ids == [row["id"] for row in plain.json()["results"]], name
        assert len(api_ids) == PAGE_SIZE and api.json()["count"] == plain.json()["count"], name
        notes[name] = f"{api.json()['count']} rows, page {len(api.content) // 1024} KiB"
        for path in (f"/api/v1/{name}/", f"/__bench__/{name}/"):
            _wrk(url + path, scripts[who], connections=args.connections, duration=1)

    runs: dict[str, list[Run]] = {}
    for alternation in range(args.alternations):
        for name, who, _label in lists:
            paths = [f"/__bench__/{name}/", f"/api/v1/{name}/"]
            for path in paths if alternation % 2 == 0 else reversed(paths):
                run = _wrk(url + path, scripts[who], connections=args.connections, duration=args.duration)
                runs.setdefault(path, []).append(run)
                print(f"  {path:28} {run.rps:7.0f} req/s  p50 {run.p50:6.1f} ms  p99 {run.p99:6.1f} ms", flush=True)

    table = []
    for name, _who, label in lists:
        base = Row(f"baseline: plain .values() view, {name}", runs[f"/__bench__/{name}/"])
        table += [base, Row(label, runs[f"/api/v1/{name}/"], base, notes[name])]
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--offers", type=int, default=5_000, help="offers to the one volunteer (default 5,000)")
    parser.add_argument("--notifications", type=int, default=5_000, help="notifications to one user (default 5,000)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--alternations", type=int, default=5)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each endpoint's queries")
    args = parser.parse_args()
    if args.offers > args.requests or args.notifications > args.requests:
        parser.error("--offers and --notifications may not exceed --requests")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed")

    started = time.monotonic()
    with bench_database("zc_bench_lists") as database:
        tokens = _seed(requests=args.requests, offers=args.offers, notifications=args.notifications)
        analyze(vacuum=True)
        print(f"database {database.name} ready in {time.monotonic() - started:.1f}s", flush=True)
        if args.explain:
            for path, who in [
                ("/api/v1/requests/", "dispatcher"),
                ("/api/v1/offers/", "volunteer"),
                ("/api/v1/notifications/", "volunteer"),
            ]:
                _explain(path, tokens[who])
        from django.db import connection

        connection.close()
        with gunicorn(
            "api_lists", database, workers=args.web_workers, threads=args.web_threads, ready_path="/login/"
        ) as url:
            rows = _measure(args, tokens, url, database.work)
        print()
        print(
            f"PostgreSQL {database.name}; gunicorn gthread {args.web_workers}x{args.web_threads}; "
            f"wrk {args.connections} connections, {args.alternations} x {args.duration:g}s runs each; "
            f"{os.cpu_count()} CPUs; total {time.monotonic() - started:.0f}s"
        )
        _print_table(rows)
    return 0 if all(row.bad == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
