"""The kill drill: two real workers take the queue's steps for a stream of auto requests while
one of them is SIGKILLed and restarted, again and again. Afterwards every request has had its
first wave exactly once: one wave row, one ``wave_sent`` event, K offers, each volunteer offered
once, each told once; every step's job row is done. What a killed worker held comes back when
its lease runs out (the job sweep), and a step whose message was lost is rewritten by the
matching sweep."""

import os
import random
import time

import pytest
from django.db.models import Count

from apps.dispatch.models import Offer
from apps.jobs.models import Job, JobState
from apps.matching.models import MatchState, MatchWave
from apps.notifications.models import Kind, Notification
from apps.service_requests.models import RequestEvent, ServiceRequest
from tests.conftest import _reachable, require
from tests.matching.test_auto_waves import add_volunteers, make_auto
from tests.matching.test_auto_worker import Beat, WorkerProcess, wait_until
from tests.service_requests.factories import submit_request
from zhuozhou_civic.celery import app as celery_app

pytestmark = pytest.mark.redis

KILLS = int(os.environ.get("ZC_DRILL_KILLS", "20"))
FIRST_BATCH = 100
PER_KILL = 10
# A killed worker's claim comes back when its lease ends: the step's time limit, the drain
# window and the grace (about half a minute), then the next sweep tick.
RECOVERY_TIMEOUT = 180


def submit_auto(cast, org) -> ServiceRequest:
    """A resident's request in an auto-mode category that goes straight to the queue."""
    return submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])


@pytest.fixture
def broker(require_redis: str) -> str:
    require(_reachable(require_redis), "needs Redis")
    celery_app.control.purge()  # this run's own Redis database: drop what an earlier run left
    return require_redis


def test_sigkill_of_workers_while_they_advance_loses_and_repeats_nothing(
    transactional_db, broker, cast, org, tmp_path, settings
):
    rng = random.Random(8)  # the timing of the kills
    factor = settings.MATCHING_WAVE_FACTOR
    add_volunteers(org, 3 * factor)
    make_auto(org["category"])
    org["category"].auto_accept = True
    org["category"].save(update_fields=["auto_accept"])
    requests = [submit_auto(cast, org) for _ in range(FIRST_BATCH)]
    workers = [WorkerProcess(tmp_path, "drill-a"), WorkerProcess(tmp_path, "drill-b")]
    for worker in workers:
        worker.start()
    kills_while_holding = 0
    ready_waits: list[float] = []
    submit_seconds: list[float] = []
    started = time.monotonic()
    try:
        with Beat(relay_every=0.2, sweep_every=2.0):
            for kill in range(KILLS):
                victim = workers[kill % 2]
                ready_waits.append(victim.wait_ready())  # a worker still starting is not a fair victim
                t0 = time.monotonic()
                requests += [submit_auto(cast, org) for _ in range(PER_KILL)]
                submit_seconds.append(time.monotonic() - t0)
                time.sleep(rng.uniform(0.1, 0.6))
                assert victim.process is not None
                if Job.objects.filter(state=JobState.RUNNING, claimed_by__endswith=f":{victim.process.pid}").exists():
                    kills_while_holding += 1
                victim.kill()
                victim.start(wait=False)
            drill_seconds = time.monotonic() - started
            ids = [r.id for r in requests]
            try:
                took = wait_until(
                    lambda: (
                        MatchWave.objects.filter(request_id__in=ids).count() == len(ids)
                        and not Job.objects.filter(state__in=[JobState.PENDING, JobState.RUNNING]).exists()
                    ),
                    "every request's first wave and every step done",
                    timeout=RECOVERY_TIMEOUT,
                    workers=workers,
                )
            except AssertionError:
                left = Job.objects.exclude(state=JobState.DONE).values(
                    "id",
                    "task",
                    "subject_id",
                    "state",
                    "attempts",
                    "run_at",
                    "published_at",
                    "lease_expires_at",
                    "claimed_by",
                    "last_error",
                )
                print("jobs not done:", list(left)[:20], "waves:", MatchWave.objects.filter(request_id__in=ids).count())
                raise
    finally:
        for worker in workers:
            worker.stop()
    print(
        f"{KILLS} kills in {drill_seconds:.0f}s ({kills_while_holding} while the victim held a claimed step), "
        f"{len(requests)} requests; recovered {took:.1f}s after the last restart; "
        f"waited {sum(ready_waits):.0f}s for restarts, {sum(submit_seconds):.0f}s submitting"
    )

    ids = [r.id for r in requests]
    assert len(ids) == FIRST_BATCH + KILLS * PER_KILL
    # One wave each, never two: the wave rows, the state, the events.
    assert set(MatchWave.objects.filter(request_id__in=ids).values_list("number", flat=True)) == {1}
    assert MatchWave.objects.filter(request_id__in=ids).count() == len(ids)
    assert set(MatchState.objects.filter(request_id__in=ids).values_list("waves_sent", flat=True)) == {1}
    per_request_events = (
        RequestEvent.objects.filter(request_id__in=ids, reason_code="wave_sent")
        .values("request_id")
        .annotate(n=Count("id"))
    )
    assert {row["n"] for row in per_request_events} == {1}
    assert per_request_events.count() == len(ids)
    # K offers each, no volunteer offered the same request twice, each told once.
    offers = Offer.objects.filter(request_id__in=ids)
    assert offers.count() == len(ids) * factor
    assert offers.values("request_id", "volunteer_id").distinct().count() == len(ids) * factor
    assert set(offers.values_list("wave", flat=True)) == {1}
    told = Notification.objects.filter(request_id__in=ids, kind=Kind.OFFERED)
    assert told.count() == len(ids) * factor
    assert told.values("request_id", "recipient_id").distinct().count() == len(ids) * factor
    # Every step's row is finished; none given up.
    steps = Job.objects.filter(task="matching.advance", subject_id__in=ids)
    assert not steps.exclude(state=JobState.DONE).exists(), list(steps.exclude(state=JobState.DONE).values())
    assert ServiceRequest.objects.filter(id__in=ids, status="offered").count() == len(ids)
