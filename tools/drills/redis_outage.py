"""Drill: Redis stopped for a minute, then frozen for a minute, while residents submit requests.

The platform runs as ``make run`` runs it (``manage.py serve``: gunicorn, a Celery worker and
beat) on a PostgreSQL database and a redis-server of the drill's own (broker and cache). A resident
submits 点单 through the API at a steady rate for the whole drill. Each outage: Redis is killed
(connections reset, new ones refused) or frozen with SIGSTOP (connections are accepted and never
answered) for ``--outage`` seconds, then started again or thawed.

Checked, for each outage: every submission answered 201 within 1 s (nothing in a web request
waits on the broker); every answered request is saved and no request is saved that its client
did not see created; the work written meanwhile (e-mail jobs) is all done within 60 s of Redis's
return. Printed: submissions and their latency (p50, p99, max) during the outage, jobs written
meanwhile, the drain time, and how often serve had to start the worker or beat again.

Usage: ``python tools/drills/redis_outage.py [--outage 60] [--modes stop,freeze]`` from the
repository, with PostgreSQL on 127.0.0.1 (``DRILL_POSTGRES``) and redis-server installed. Exits
non-zero on any failure."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.drills.redis_server import RedisServer
from tools.drills.rig import (
    POSTGRES,
    Platform,
    Submitter,
    cast,
    django_on,
    drop_database,
    jobs_open,
    latency_line,
    platform_env,
    prepare_database,
    wait_drained,
)

ANSWER_LIMIT = 1.0
DRAIN_LIMIT = 60.0


def outage(
    mode: str, *, seconds: float, redis: RedisServer, submitter: Submitter, platform: Platform
) -> tuple[list[str], list[str]]:
    """One outage; (printed lines, failures)."""
    from django.utils import timezone

    from apps.jobs.models import Job

    lines: list[str] = []
    failures: list[str] = []
    settled = wait_drained(created_before=timezone.now(), timeout=DRAIN_LIMIT)
    if settled is None:
        failures.append(f"{mode}: the backlog before the outage did not drain within {DRAIN_LIMIT:g} s")
    restarts_before = platform.restarts()
    began_at = timezone.now()
    began = time.monotonic()
    if mode == "stop":
        redis.kill()
    else:
        redis.freeze()
    time.sleep(seconds)
    if mode == "stop":
        redis.start()
    else:
        redis.thaw()
    back = time.monotonic()
    back_at = timezone.now()
    written = Job.objects.filter(created_at__gte=began_at, created_at__lte=back_at).count()
    drain = wait_drained(created_before=back_at, timeout=DRAIN_LIMIT, started=back)

    during = [a for a in submitter.answers if began <= a.sent_at <= back]
    slow = [a for a in during if a.seconds >= ANSWER_LIMIT]
    refused = [a for a in during if a.status != 201]
    restarts = {k: v - restarts_before[k] for k, v in platform.restarts().items()}
    verb = "stopped" if mode == "stop" else "frozen (SIGSTOP)"
    lines.append(f"Redis {verb} {seconds:g} s: during it, {latency_line(during)}")
    ok = len(during) - len(refused)
    lines.append(f"  answers: {ok} × 201, {len(refused)} other; {len(slow)} took ≥ {ANSWER_LIMIT:g} s")
    if drain is not None:
        drained = f"{drain:.1f} s"
    else:
        drained = f"NOT within {DRAIN_LIMIT:g} s ({jobs_open(created_before=back_at)} left)"
    lines.append(f"  jobs written meanwhile: {written}; all work written before Redis's return done {drained} after it")
    lines.append(f"  serve started again: worker {restarts['celery worker']} ×, beat {restarts['celery beat']} ×")
    if not during:
        failures.append(f"{mode}: no submission during the outage")
    if refused:
        failures.append(f"{mode}: {len(refused)} submissions not answered 201, e.g. {refused[0]}")
    if slow:
        slowest = max(a.seconds for a in slow)
        failures.append(f"{mode}: {len(slow)} submissions took ≥ {ANSWER_LIMIT:g} s (max {slowest:.2f} s)")
    if written == 0:
        failures.append(f"{mode}: no job was written during the outage (the drill measures nothing)")
    if drain is None:
        failures.append(f"{mode}: the work written before Redis's return was not done within {DRAIN_LIMIT:g} s")
    return lines, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds Redis stays stopped or frozen")
    parser.add_argument("--modes", default="stop,freeze", help="stop, freeze or both, comma-separated, in order")
    parser.add_argument("--rate", type=float, default=4.0, help="submissions per second")
    parser.add_argument("--database", default="zhuozhou_civic_drill_redis")
    parser.add_argument("--redis-port", type=int, default=None, help="the drill's redis-server port (else a free one)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="extra platform setting")
    parser.add_argument("--template", default="", help="copy this seeded database if it exists")
    parser.add_argument("--save-template", default="", help="keep the seeded database as this template")
    parser.add_argument("--keep", action="store_true", help="keep the database and the data directory")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    assert set(modes) <= {"stop", "freeze"}, modes

    directory = Path(tempfile.mkdtemp(prefix="drill-redis-"))
    redis = RedisServer(directory, args.redis_port)
    redis.start()
    database_url = f"{POSTGRES}/{args.database}"
    extra = dict(item.split("=", 1) for item in args.set)
    env = platform_env(database_url=database_url, redis_url=redis.url, data_dir=directory / "data", extra=extra)
    platform = Platform(env, directory / "serve.log")
    failures: list[str] = []
    lines: list[str] = []
    submitter: Submitter | None = None
    try:
        started = time.monotonic()
        made = prepare_database(args.database, env, template=args.template, save_as=args.save_template)
        print(f"database {args.database}: {made}", flush=True)
        with django_on(env):
            from apps.service_requests.models import ServiceRequest

            people = cast()
            platform.start()
            print(f"platform up in {time.monotonic() - started:.0f} s (redis-server on port {redis.port})", flush=True)
            last_before = ServiceRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0
            submitter = Submitter(port=platform.port, cast=people, rate=args.rate)
            submitter.start()
            time.sleep(5)  # submissions and their e-mails flowing before the first outage
            windows: list[tuple[float, float]] = []
            for mode in modes:
                window_start = time.monotonic() + 0.0
                mode_lines, mode_failures = outage(
                    mode, seconds=args.outage, redis=redis, submitter=submitter, platform=platform
                )
                for line in mode_lines:
                    print(line, flush=True)
                lines += mode_lines
                failures += mode_failures
                windows.append((window_start, window_start + args.outage))
                time.sleep(5)  # submissions go on after Redis is back
            submitter.stop()
            from django.utils import timezone

            if wait_drained(created_before=timezone.now(), timeout=60) is None:
                failures.append("the work of the last submissions was not done within 60 s")
            answered = {a.request_id for a in submitter.answers if a.request_id is not None}
            saved = set(ServiceRequest.objects.filter(id__gt=last_before).values_list("id", flat=True))
            print(f"whole drill: {latency_line(submitter.answers)}; {len(answered)} answered 201, {len(saved)} saved")
            origin = submitter.answers[0].sent_at if submitter.answers else 0.0
            slowest = sorted(submitter.answers, key=lambda a: a.seconds)[-3:]
            print("slowest:", ", ".join(f"{a.seconds * 1000:.0f} ms at +{a.sent_at - origin:.1f} s" for a in slowest))
            print("outages at:", ", ".join(f"+{start - origin:.1f}..+{end - origin:.1f} s" for start, end in windows))
            if answered - saved:
                failures.append(f"{len(answered - saved)} requests answered 201 but not saved")
            if saved - answered:
                failures.append(f"{len(saved - answered)} requests saved that no client saw created")
            attribute_errors = platform.log().count("AttributeError")
            print(f"AttributeError in the platform's log: {attribute_errors}")
    except Exception as error:  # the drill itself broke: say where, fail
        failures.append(f"drill error: {type(error).__name__}: {error}")
    finally:
        if submitter is not None:
            submitter.stop()
        platform.stop()
        redis.close()
        if not args.keep:
            drop_database(args.database)
    if failures:
        print("FAILED:", *failures, sep="\n  ")
        print(f"(logs in {directory})")
        return 1
    print("redis outage drill: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
