"""Benchmark on PostgreSQL and Redis: 1,000 requests queued in auto mode, matched by 2 workers.

    .venv/bin/python bench/matching_queue.py                 # about seven minutes on 2 cores
    .venv/bin/python bench/matching_queue.py --volunteers 10000 --requests 300 --rate 5

It creates its own database (``zc_bench_matching_queue``, or BENCH_DB_NAME) on the server of
BENCH_POSTGRES_URL (see ``benchkit.bench_database``), builds the city with
``matching_world.build_world`` (14 townships, 450 villages, ``--volunteers`` volunteers with their
history), puts every category in auto mode with automatic acceptance, and starts what production
runs: ``--workers`` real Celery workers (solo pool, one process each) and Celery beat, whose job
relay publishes the job rows every second, on the broker of REDIS_URL (or CELERY_BROKER_URL;
its queue is purged first).

Then it files ``--requests`` requests through ``request_submit`` — what a resident's submission
does: the request and its ``matching.advance`` job row written in one transaction, nothing sent to
the broker — at a steady ``--rate`` per second, each in a random village and category, wanted as
soon as possible. It waits until every request has its first wave (or the queue gave it to a
person: no candidates), and measures for each request the time from its submission
(``created_at``) to its first offer (the earliest ``Offer.created_at``): p50, p95 and the worst.
It also checks what the queue must never do: a volunteer offered the same request twice, a wave
number sent twice.

Target: p95 ≤ 2 s. Exit status 1 if missed or if a check fails. The latency holds only while the
workers keep up with the rate: a step costs one ranking among the city's volunteers plus the
offers' writes (the table prints the workers' time per step); filed faster than that, requests
wait in line and the latency grows with the backlog.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchkit import PROJECT_ROOT, bench_database, percentile, print_table

TARGET_P95_S = 2.0
SETTLE_TIMEOUT_S = 180


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or ""
    if not url.startswith("redis://"):
        raise SystemExit("needs a Redis broker: set REDIS_URL=redis://127.0.0.1:6379/<db>")
    return url


def _start(command: list[str], log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"}
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _wait_for(log_path: Path, marker: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"{log_path.name}: did not start\n{log_path.read_text(errors='replace')[-5000:]}")


def _worker_seconds(work: Path) -> tuple[int, float, int]:
    """From the workers' logs: steps run, seconds spent in runs that ran at least one, and runs
    that found their job already taken (a message whose job another run's drain had done)."""
    steps, busy, idle = 0, 0.0, 0
    for log_path in work.glob("worker-*.log"):
        for line in log_path.read_text(errors="replace").splitlines():
            match = re.search(r"Task jobs\.run\[[^]]+\] succeeded in ([0-9.]+)s: (\d+)", line)
            if match:
                ran = int(match.group(2))
                steps += ran
                busy += float(match.group(1)) if ran else 0.0
                idle += 0 if ran else 1
    return steps, busy, idle


def _submit(world: Any, rng: random.Random) -> Any:
    from apps.service_requests.services import RequestInput, request_submit

    village = rng.choice(world.villages)
    return request_submit(
        data=RequestInput(
            category=rng.choice(world.categories),
            title="帮忙修理漏水的水龙头",
            description="厨房水龙头一直滴水，老两口拧不动。",
            village=village,
            address="东街12号",
            contact_name="王秀兰",
            contact_phone="13912345678",
            urgency="normal",
        ),
        requester=world.requester,
        entered_by=world.requester,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=3.0, help="submissions per second")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    broker = _broker_url()
    os.environ["CELERY_BROKER_URL"] = broker

    with bench_database("zc_bench_matching_queue", keep_env=("CELERY_BROKER_URL",)) as database:
        from django.db.models import Count, Min
        from matching_world import build_world

        from apps.dispatch.models import Offer
        from apps.jobs.models import Job, JobState
        from apps.matching.models import MatchState, MatchWave
        from apps.organisation.models import DispatchMode, ServiceCategory
        from apps.service_requests.models import ServiceRequest
        from zhuozhou_civic.celery import app as celery_app

        world = build_world(args.volunteers)
        print(
            f"world built in {world.seconds:.1f} s: {world.volunteers:,} volunteers, {world.offers:,} offers",
            flush=True,
        )
        ServiceCategory.objects.update(default_dispatch_mode=DispatchMode.AUTO, auto_accept=True)
        for category in world.categories:
            category.default_dispatch_mode, category.auto_accept = DispatchMode.AUTO, True
        celery_app.control.purge()

        celery = [sys.executable, "-m", "celery", "-A", "zhuozhou_civic"]
        processes: list[subprocess.Popen] = []
        try:
            for n in range(args.workers):
                log_path = database.work / f"worker-{n}.log"
                worker = _start(
                    [
                        *celery,
                        "worker",
                        "--pool=solo",
                        "--loglevel=INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-Q",
                        "celery",
                        "-n",
                        f"bench-{n}-{os.getpid()}@%h",
                    ],
                    log_path,
                )
                processes.append(worker)
                _wait_for(log_path, " ready.", worker)
            beat_log = database.work / "beat.log"
            beat = _start(
                [*celery, "beat", "--loglevel=INFO", "-s", str(database.work / "beat-schedule")],
                beat_log,
            )
            processes.append(beat)
            _wait_for(beat_log, "beat: Starting", beat)
            print(f"{args.workers} workers and beat started; {args.requests:,} requests at {args.rate}/s", flush=True)

            rng = random.Random(11)
            ids: list[int] = []
            submit_ms: list[float] = []
            started = time.monotonic()
            for n in range(args.requests):
                due = started + n / args.rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                before = time.perf_counter()
                ids.append(_submit(world, rng).id)
                submit_ms.append((time.perf_counter() - before) * 1000)
            filing_s = time.monotonic() - started

            def settled() -> int:
                """Requests with their first offer, or given to a person by the queue."""
                offered = Offer.objects.filter(request_id__in=ids).values("request_id").distinct().count()
                given_up = MatchState.objects.filter(request_id__in=ids).exclude(needs_person="").count()
                return offered + given_up

            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            while settled() < len(ids) and time.monotonic() < deadline:
                time.sleep(0.5)
            drained_s = time.monotonic() - started
        finally:
            for process in processes:
                _stop(process)
        steps, busy_s, idle_runs = _worker_seconds(database.work)

        requests = ServiceRequest.objects.filter(id__in=ids).annotate(first_offer=Min("offers__created_at"))
        latencies = [(r.first_offer - r.created_at).total_seconds() for r in requests if r.first_offer is not None]
        no_candidates = MatchState.objects.filter(request_id__in=ids, needs_person="no_candidates").count()
        unsettled = len(ids) - settled()
        offers = Offer.objects.filter(request_id__in=ids)
        repeated_offers = offers.values("request_id", "volunteer_id").annotate(n=Count("id")).filter(n__gt=1).count()
        waves = MatchWave.objects.filter(request_id__in=ids)
        repeated_waves = waves.values("request_id", "number").annotate(n=Count("id")).filter(n__gt=1).count()
        failed_jobs = (
            Job.objects.filter(task="matching.advance", subject_id__in=ids).exclude(state=JobState.DONE).count()
        )

        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        met = p95 <= TARGET_P95_S
        checks = repeated_offers == 0 and repeated_waves == 0 and unsettled == 0
        print()
        print(
            f"{len(ids):,} requests filed in {filing_s:.0f} s (submission p50 {statistics.median(submit_ms):.0f} ms), "
            f"all settled {drained_s:.0f} s after the first; {args.workers} workers + beat (relay every second); "
            f"{world.volunteers:,} volunteers; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(
            f"workers: {steps:,} steps in {busy_s:.0f} s of runs ({busy_s * 1000 / max(steps, 1):.0f} ms a step), "
            f"{idle_runs:,} messages whose job a drain had already run"
        )
        print_table(
            ["measure", "n", "p50", "p95", "max", "target"],
            [
                [
                    "submission → first offer (s)",
                    f"{len(latencies):,}",
                    f"{p50:.2f}",
                    f"{p95:.2f}",
                    f"{max(latencies):.2f}",
                    f"p95 <= {TARGET_P95_S:.0f} s: {'met' if met else 'MISSED'}",
                ],
            ],
        )
        print()
        print_table(
            ["check", "count", "expected"],
            [
                ["requests with a first wave", f"{len(latencies):,}", ""],
                ["given to a person (no candidates)", f"{no_candidates:,}", ""],
                ["neither (not settled in time)", f"{unsettled:,}", "0"],
                ["offers made", f"{offers.count():,}", ""],
                ["waves sent", f"{waves.count():,}", ""],
                ["(request, volunteer) offered twice", f"{repeated_offers:,}", "0"],
                ["(request, wave number) sent twice", f"{repeated_waves:,}", "0"],
                ["matching jobs not done", f"{failed_jobs:,}", "0"],
            ],
        )
    return 0 if met and checks else 1


if __name__ == "__main__":
    raise SystemExit(main())
