"""Drill: the mail server down for a while, while residents submit requests and their e-mails queue.

The platform runs as ``make run`` runs it (``manage.py serve``) on a PostgreSQL database and a
redis-server of the drill's own, sending e-mail by SMTP to a small SMTP server of the drill's
own. A resident submits 点单 through the API at a steady rate (each writes e-mail jobs for the
resident and the staff of the village and township). The SMTP server is then stopped (its port
refuses connections) for ``--down`` seconds and started again.

Checked from the job rows, sampled every second while the mail server is down and until every
e-mail is sent:

* backoff: every pending e-mail job that has failed ``n`` times is due ``5 s × 2^(n-1)`` (up to a
  tenth more) after its last attempt began — ``run_at − claimed_at`` against ``attempts``;
* no job waits longer than its backoff says: a due pending job is claimed within
  ``LATE_LIMIT`` seconds of its due time (``now − run_at`` over every sample);
* oldest first: no job was claimed while an older one (due earlier, and already due) waited;
* once the server is back, every e-mail is sent within 60 s of its due time, exactly once
  (the messages the server received against the notifications marked sent), none given up.

The issue's trial had the server down 10 minutes; ``--down 120`` (the default, what CI runs) is
a compressed window: attempts reach the 4th–5th retry (40–80 s waits) instead of the 7th.

Usage: ``python tools/drills/smtp_outage.py [--down 120]`` from the repository. Exits non-zero
on any failure."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
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
    latency_line,
    percentile,
    platform_env,
    prepare_database,
)
from tools.drills.smtp_sink import SmtpSink

EMAIL_TASK = "notifications.deliver_email"
LATE_LIMIT = 10.0  # seconds a due job may wait for the relay's tick and a free worker
SEND_SLACK = 2.0  # seconds between a claim and the failure's record (the refused connection)
DRAIN_LIMIT = 60.0


@dataclass
class Readings:
    lateness: list[float]
    backoff_violations: list[str]
    order_violations: list[str]
    samples: int = 0
    max_attempts_seen: int = 0


def _backoff_bounds(attempts: int) -> tuple[float, float]:
    from django.conf import settings

    base = settings.JOBS_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    high = min(base * (1 + settings.JOBS_BACKOFF_JITTER), settings.JOBS_BACKOFF_MAX_SECONDS)
    return min(base, settings.JOBS_BACKOFF_MAX_SECONDS), high


def sample(readings: Readings, seen_claims: dict[int, datetime]) -> int:
    """One look at the e-mail jobs; returns how many are not done."""
    from django.utils import timezone

    from apps.jobs.models import Job, JobState

    now = timezone.now()
    rows = list(
        Job.objects.filter(task=EMAIL_TASK, state__in=[JobState.PENDING, JobState.RUNNING]).values_list(
            "id", "state", "run_at", "claimed_at", "attempts"
        )
    )
    readings.samples += 1
    for job_id, state, run_at, claimed_at, attempts in rows:
        readings.max_attempts_seen = max(readings.max_attempts_seen, attempts)
        if state == JobState.PENDING and run_at <= now:
            readings.lateness.append((now - run_at).total_seconds())
        if state == JobState.PENDING and attempts >= 1 and claimed_at is not None:
            low, high = _backoff_bounds(attempts)
            gap = (run_at - claimed_at).total_seconds()
            if not low <= gap <= high + SEND_SLACK:
                readings.backoff_violations.append(
                    f"job {job_id}: {attempts} attempts, due {gap:.1f} s after its last claim "
                    f"(expected {low:g}–{high:g} s)"
                )
        if claimed_at is not None:
            seen_claims[job_id] = claimed_at
    return len(rows)


def order_check(readings: Readings, since: datetime) -> None:
    """Oldest first, from the final rows: no job claimed while a job due earlier (and already due
    then, by more than a second) was still waiting."""
    from apps.jobs.models import Job

    rows = list(
        Job.objects.filter(task=EMAIL_TASK, created_at__gte=since, claimed_at__isnull=False).values_list(
            "id", "run_at", "claimed_at"
        )
    )
    rows.sort(key=lambda row: row[2])
    # Walking claims from the last to the first, keep the earliest due time among later claims.
    earliest_later: tuple[datetime, int] | None = None
    for job_id, run_at, claimed_at in reversed(rows):
        if earliest_later is not None:
            later_run_at, later_id = earliest_later
            waited = (claimed_at - later_run_at).total_seconds()
            if later_run_at < run_at and waited > 1.0:
                readings.order_violations.append(
                    f"job {job_id} (due {run_at:%H:%M:%S.%f}) claimed at {claimed_at:%H:%M:%S.%f} while job "
                    f"{later_id} (due {later_run_at:%H:%M:%S.%f}) had waited {waited:.1f} s"
                )
        if earliest_later is None or run_at < earliest_later[0]:
            earliest_later = (run_at, job_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--down", type=float, default=120.0, help="seconds the mail server is down")
    parser.add_argument("--rate", type=float, default=2.0, help="submissions per second")
    parser.add_argument("--database", default="zhuozhou_civic_drill_smtp")
    parser.add_argument("--redis-port", type=int, default=None, help="the drill's redis-server port (else a free one)")
    parser.add_argument("--template", default="", help="copy this seeded database if it exists")
    parser.add_argument("--save-template", default="", help="keep the seeded database as this template")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="drill-smtp-"))
    redis = RedisServer(directory, args.redis_port)
    redis.start()
    sink = SmtpSink()
    sink.start()
    database_url = f"{POSTGRES}/{args.database}"
    env = platform_env(
        database_url=database_url,
        redis_url=redis.url,
        data_dir=directory / "data",
        extra={
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
        },
    )
    platform = Platform(env, directory / "serve.log")
    failures: list[str] = []
    submitter: Submitter | None = None
    try:
        made = prepare_database(args.database, env, template=args.template, save_as=args.save_template)
        print(f"database {args.database}: {made}", flush=True)
        with django_on(env):
            from django.utils import timezone

            from apps.jobs.models import Job, JobState
            from apps.notifications.models import EmailStatus, Notification

            people = cast()
            platform.start()
            drill_start = timezone.now()
            submitter = Submitter(port=platform.port, cast=people, rate=args.rate)
            submitter.start()
            time.sleep(5)
            readings = Readings(lateness=[], backoff_violations=[], order_violations=[])
            claims: dict[int, datetime] = {}

            sink.stop()
            down_at = time.monotonic()
            print(f"mail server stopped for {args.down:g} s (submitting {args.rate:g}/s)", flush=True)
            while time.monotonic() - down_at < args.down:
                sample(readings, claims)
                time.sleep(1.0)
            submitter.stop()
            sink.start()
            back = time.monotonic()
            back_at = timezone.now()
            written = Job.objects.filter(task=EMAIL_TASK, created_at__gte=drill_start).count()
            waiting = Job.objects.filter(task=EMAIL_TASK, state=JobState.PENDING).count()
            last_due = Job.objects.filter(task=EMAIL_TASK, state=JobState.PENDING).order_by("-run_at").first()
            print(f"mail server back: {waiting} of {written} e-mail jobs waiting", flush=True)
            deadline_after_due = (last_due.run_at - back_at).total_seconds() if last_due else 0.0
            open_jobs = 1
            while open_jobs:
                open_jobs = sample(readings, claims)
                if time.monotonic() - back > max(deadline_after_due, 0.0) + DRAIN_LIMIT:
                    break
                time.sleep(1.0)
            drained = time.monotonic() - back
            order_check(readings, drill_start)

            done = Job.objects.filter(task=EMAIL_TASK, created_at__gte=drill_start)
            attempts = list(done.values_list("attempts", flat=True))
            dead = done.filter(state=JobState.DEAD).count()
            sent = Notification.objects.filter(created_at__gte=drill_start, email_status=EmailStatus.SENT).count()
            wanted = Notification.objects.filter(created_at__gte=drill_start).exclude(email_status=EmailStatus.NONE)
            received = sink.total()
            late = readings.lateness
            print(latency_line(submitter.answers))
            print(
                f"e-mail jobs: {written}; attempts per job: max {max(attempts, default=0)}, "
                f"mean {statistics.fmean(attempts) if attempts else 0:.1f}; dead {dead}"
            )
            print(
                f"waits past due while pending ({len(late)} readings over {readings.samples} samples): "
                f"p50 {statistics.median(late) if late else 0:.1f} s, "
                f"p99 {percentile(late, 0.99) if late else 0:.1f} s, "
                f"max {max(late, default=0):.1f} s"
            )
            violations = (len(readings.backoff_violations), len(readings.order_violations))
            print(f"backoff violations: {violations[0]}; order violations: {violations[1]}")
            print(
                f"all sent {drained:.1f} s after the server came back (the last retry was due "
                f"{max(deadline_after_due, 0):.1f} s after it); sent {sent} of {wanted.count()}, "
                f"server received {received} messages ({received - sent} duplicates)"
            )
            if open_jobs:
                failures.append(f"{open_jobs} e-mail jobs not done within {DRAIN_LIMIT:g} s of their due time")
            if dead:
                failures.append(f"{dead} e-mail jobs given up")
            if max(late, default=0) > LATE_LIMIT:
                failures.append(f"a due job waited {max(late):.1f} s past its due time (limit {LATE_LIMIT:g} s)")
            if readings.backoff_violations:
                failures.append("backoff not as configured: " + "; ".join(readings.backoff_violations[:3]))
            if readings.order_violations:
                failures.append("not oldest first: " + "; ".join(readings.order_violations[:3]))
            if sent != wanted.count():
                failures.append(f"{wanted.count() - sent} e-mails not marked sent")
            if received < sent:
                failures.append(f"the server received {received} messages for {sent} sent")
            if max(attempts, default=0) < 3:
                failures.append("no job was retried more than twice: the drill measured little")
            if any(a.status != 201 for a in submitter.answers):
                failures.append("a submission was not answered 201")
    except Exception as error:
        failures.append(f"drill error: {type(error).__name__}: {error}")
    finally:
        if submitter is not None:
            submitter.stop()
        platform.stop()
        sink.stop()
        redis.close()
        if not args.keep:
            drop_database(args.database)
    if failures:
        print("FAILED:", *failures, sep="\n  ")
        print(f"(logs in {directory})")
        return 1
    print("smtp outage drill: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
