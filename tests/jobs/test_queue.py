"""The job queue's rules on PostgreSQL, at fixed times: claims and leases, backoff, dead jobs,
the relay's budget and marks, the sweep, the drain, and SKIP LOCKED between concurrent claims."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.jobs.models import Job, JobState
from apps.jobs.runtime import Run, jobs_relay, jobs_run, run_time_limit
from apps.jobs.services import (
    job_backoff,
    job_claim,
    job_enqueue,
    job_fail,
    job_finish,
    jobs_enqueue_new,
    jobs_publish_failed,
    jobs_sweep,
    jobs_take_for_publishing,
)
from tests.jobs import sample_tasks

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
RECORD = "tests.jobs.record"


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def make_job(subject_id: int, *, task: str = RECORD, run_at: datetime = NOW, **fields: object) -> Job:
    return Job.objects.create(task=task, subject_id=subject_id, run_at=run_at, **fields)


def row(job: Job) -> Job:
    return Job.objects.get(id=job.id)


@pytest.fixture(autouse=True)
def _fresh_sample_tasks():
    sample_tasks.ran.clear()
    sample_tasks.clock.now, sample_tasks.clock.step = 0.0, 0.0
    yield
    sample_tasks.ran.clear()


# --- enqueue ---------------------------------------------------------------------------------------


def test_enqueue_twice_keeps_one_pending_row_brought_forward_to_the_sooner_time():
    job_enqueue(RECORD, 7, run_at=NOW + s(60))
    job_enqueue(RECORD, 7, run_at=NOW + s(10))
    job_enqueue(RECORD, 7, run_at=NOW + s(30))

    assert list(Job.objects.values_list("task", "subject_id", "state", "run_at")) == [
        (RECORD, 7, "pending", NOW + s(10))
    ]


def test_enqueue_new_for_many_subjects_adds_the_missing_and_brings_the_pending_forward():
    job_enqueue(RECORD, 2, run_at=NOW + s(60))
    done = make_job(3, state=JobState.DONE)

    jobs_enqueue_new(RECORD, [1, 2, 3], run_at=NOW)

    assert sorted(Job.objects.exclude(id=done.id).values_list("subject_id", "state", "run_at")) == [
        (1, "pending", NOW),
        (2, "pending", NOW),
        (3, "pending", NOW),
    ]


# --- backoff ---------------------------------------------------------------------------------------


def test_backoff_doubles_from_five_seconds_and_stops_at_ten_minutes():
    assert [job_backoff(n, jitter=0).total_seconds() for n in range(1, 11)] == [
        5, 10, 20, 40, 80, 160, 320, 600, 600, 600
    ]  # fmt: skip


def test_backoff_jitter_stretches_by_at_most_a_tenth_and_never_past_the_cap():
    assert job_backoff(1, jitter=0.5) == s(5.25)
    assert job_backoff(3, jitter=0.999) == s(20 * 1.0999)
    assert job_backoff(8, jitter=0.999) == s(600)
    assert job_backoff(7, jitter=0.999) == s(320 * 1.0999)


# --- claim, finish, fail ---------------------------------------------------------------------------


def test_claim_takes_the_named_due_job_and_holds_it_under_a_lease():
    job = make_job(1, run_at=NOW - s(3))

    claim = job_claim(now=NOW, lease_until=NOW + s(27), worker="host-a:101", job_id=job.id)

    assert claim is not None
    assert (claim.id, claim.task, claim.subject_id, claim.attempts, claim.max_attempts) == (job.id, RECORD, 1, 1, 12)
    stored = row(job)
    assert (stored.state, stored.attempts, stored.claimed_at, stored.lease_expires_at, stored.claimed_by) == (
        JobState.RUNNING, 1, NOW, NOW + s(27), "host-a:101"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "run_at"),
    [
        (JobState.RUNNING, NOW),
        (JobState.DONE, NOW),
        (JobState.DEAD, NOW),
        (JobState.PENDING, NOW + s(1)),  # a retry still waiting for its backoff
    ],
    ids=["running", "done", "dead", "not-due"],
)
def test_claim_of_a_job_that_is_not_due_and_pending_does_nothing(state, run_at):
    job = make_job(1, state=state, run_at=run_at, attempts=2)

    assert job_claim(now=NOW, lease_until=NOW + s(30), worker="host-a:101", job_id=job.id) is None
    stored = row(job)
    assert (stored.state, stored.attempts, stored.claimed_by) == (state, 2, "")


def test_claim_without_a_name_takes_the_oldest_due_job_of_the_given_tasks():
    make_job(1, run_at=NOW - s(5), task="tests.jobs.long")
    second = make_job(2, run_at=NOW - s(3))
    make_job(3, run_at=NOW - s(1))
    make_job(4, run_at=NOW + s(1))

    claim = job_claim(now=NOW, lease_until=NOW + s(30), worker="w", tasks=[RECORD])
    assert claim is not None and claim.id == second.id
    claim = job_claim(now=NOW, lease_until=NOW + s(30), worker="w", tasks=[RECORD])
    assert claim is not None and claim.subject_id == 3
    assert job_claim(now=NOW, lease_until=NOW + s(30), worker="w", tasks=[RECORD]) is None


def test_finish_marks_done_only_while_the_claim_still_holds():
    job = make_job(1)
    first = job_claim(now=NOW, lease_until=NOW + s(30), worker="a:1", job_id=job.id)
    assert first is not None
    # Its lease ran out, the sweep handed it back, and another run claimed it.
    jobs_sweep(now=NOW + s(31), budget=10)
    second = job_claim(now=NOW + s(32), lease_until=NOW + s(62), worker="b:2", job_id=job.id)
    assert second is not None and second.attempts == 2

    assert job_finish(claim=first, now=NOW + s(40)) is False
    assert (row(job).state, row(job).claimed_by) == (JobState.RUNNING, "b:2")
    assert job_finish(claim=second, now=NOW + s(41)) is True
    stored = row(job)
    assert (stored.state, stored.finished_at, stored.lease_expires_at) == (JobState.DONE, NOW + s(41), None)


def test_a_failed_attempt_goes_back_to_pending_due_after_the_backoff_and_unpublished():
    job = make_job(1, published_at=NOW - s(2))
    claim = job_claim(now=NOW, lease_until=NOW + s(30), worker="a:1", job_id=job.id)
    assert claim is not None

    assert job_fail(claim=claim, error="SMTPServerDisconnected: gone", now=NOW + s(1), jitter=0) == JobState.PENDING

    stored = row(job)
    assert (stored.state, stored.run_at, stored.published_at, stored.attempts) == (
        JobState.PENDING, NOW + s(6), None, 1
    )  # fmt: skip
    assert (stored.last_error, stored.claimed_by, stored.lease_expires_at) == ("SMTPServerDisconnected: gone", "", None)


def test_each_failure_waits_twice_as_long_and_the_last_attempt_makes_the_job_dead():
    job = make_job(1, max_attempts=4)
    now, due_times = NOW, []
    for _ in range(3):
        claim = job_claim(now=now, lease_until=now + s(30), worker="a:1", job_id=job.id)
        assert claim is not None
        assert job_fail(claim=claim, error="down", now=now, jitter=0) == JobState.PENDING
        due_times.append(row(job).run_at - now)
        assert job_claim(now=row(job).run_at - s(0.001), lease_until=now, worker="a:1", job_id=job.id) is None
        now = row(job).run_at
    claim = job_claim(now=now, lease_until=now + s(30), worker="a:1", job_id=job.id)
    assert claim is not None and claim.attempts == 4

    assert job_fail(claim=claim, error="still down", now=now, jitter=0) == JobState.DEAD

    assert due_times == [s(5), s(10), s(20)]
    stored = row(job)
    assert (stored.state, stored.attempts, stored.finished_at, stored.last_error) == (
        JobState.DEAD, 4, now, "still down"
    )  # fmt: skip
    assert job_claim(now=now + s(3600), lease_until=now, worker="a:1", job_id=job.id) is None


def test_a_failure_while_the_same_work_was_enqueued_again_leaves_the_retry_to_the_new_row():
    job = make_job(1)
    claim = job_claim(now=NOW, lease_until=NOW + s(30), worker="a:1", job_id=job.id)
    assert claim is not None
    job_enqueue(RECORD, 1, run_at=NOW + s(1))

    assert job_fail(claim=claim, error="down", now=NOW + s(2), jitter=0) == JobState.DONE

    assert sorted(Job.objects.values_list("id", "state", "run_at", "last_error")) == [
        (job.id, "done", NOW, "down"),
        (job.id + 1, "pending", NOW + s(7), ""),
    ]


# --- relay -----------------------------------------------------------------------------------------


def test_relay_takes_due_unpublished_jobs_oldest_first_within_its_budget_and_marks_them():
    jobs = [make_job(n, run_at=NOW - s(10 - n)) for n in range(7)]
    make_job(99, run_at=NOW + s(1))  # not due
    make_job(98, run_at=NOW - s(60), state=JobState.RUNNING)

    first = jobs_take_for_publishing(now=NOW, budget=5)
    second = jobs_take_for_publishing(now=NOW, budget=5)
    third = jobs_take_for_publishing(now=NOW, budget=5)

    assert first == [(job.id, RECORD) for job in jobs[:5]]
    assert second == [(job.id, RECORD) for job in jobs[5:]]
    assert third == []
    assert set(Job.objects.filter(id__in=[j.id for j in jobs]).values_list("published_at", flat=True)) == {NOW}


def test_relay_republishes_at_most_its_small_budget_a_tick_after_new_work_oldest_first(settings):
    assert settings.JOBS_REPUBLISH_BUDGET == 20
    stale = [make_job(n, run_at=NOW - s(100 - n), published_at=NOW - s(30)) for n in range(25)]
    fresh = [make_job(100 + n, run_at=NOW - s(1)) for n in range(3)]

    first = jobs_take_for_publishing(now=NOW, budget=500)
    second = jobs_take_for_publishing(now=NOW, budget=500)

    # New work first, whole; then the 20 oldest of the messages that may have been lost.
    assert first == [(job.id, RECORD) for job in fresh] + [(job.id, RECORD) for job in stale[:20]]
    # The next tick the rest of them; ten seconds later again the 20 oldest, whatever came first.
    assert second == [(job.id, RECORD) for job in stale[20:]]
    assert jobs_take_for_publishing(now=NOW, budget=500) == []
    assert jobs_take_for_publishing(now=NOW + s(10.001), budget=500) == [(job.id, RECORD) for job in stale[:20]]


def test_relay_publishes_again_a_job_whose_message_was_lost_after_ten_seconds():
    job = make_job(1, run_at=NOW - s(30))
    assert jobs_take_for_publishing(now=NOW, budget=10) == [(job.id, RECORD)]

    assert jobs_take_for_publishing(now=NOW + s(10), budget=10) == []
    assert jobs_take_for_publishing(now=NOW + s(10.001), budget=10) == [(job.id, RECORD)]
    assert row(job).published_at == NOW + s(10.001)


def test_a_publish_that_failed_is_unmarked_for_the_next_tick_but_a_newer_mark_is_kept():
    a, b = make_job(1), make_job(2)
    jobs_take_for_publishing(now=NOW, budget=10)
    Job.objects.filter(id=b.id).update(published_at=NOW + s(11))

    assert jobs_publish_failed(job_ids=[a.id, b.id], published_at=NOW) == 1

    assert (row(a).published_at, row(b).published_at) == (None, NOW + s(11))


def test_relay_task_stops_at_the_first_refused_message_and_unmarks_the_rest():
    jobs = [make_job(n, run_at=NOW - s(10 - n)) for n in range(4)]
    published: list[tuple] = []

    def broker(name, *args, producer, **options):
        if len(published) == 2:
            raise ConnectionError("Redis went away")
        published.append((name, args, options))

    assert jobs_relay(budget=10, publish=broker) == 2

    limit = run_time_limit(RECORD)
    assert published == [
        ("jobs.run", (jobs[0].id,), {"time_limit": limit, "soft_time_limit": limit - 1, "priority": 6}),
        ("jobs.run", (jobs[1].id,), {"time_limit": limit, "soft_time_limit": limit - 1, "priority": 6}),
    ]
    marks = [row(job).published_at for job in jobs]
    assert marks[0] is not None and marks[1] == marks[0]
    assert marks[2:] == [None, None]


def test_relay_publishes_a_run_message_per_due_job_to_the_real_broker_behind_beats_ticks(require_redis):
    broker = redis.Redis.from_url(require_redis)
    # Kombu keeps a list per priority step: "celery" (0, beat's ticks) is read before "celery\x06\x166".
    run_queue = "celery\x06\x166"
    broker.delete("celery", run_queue)
    jobs = [make_job(n, run_at=NOW - s(10 - n), task="notifications.deliver_email") for n in range(3)]

    assert jobs_relay(budget=2) == 2

    messages = [json.loads(raw) for raw in broker.lrange(run_queue, 0, -1)]
    assert broker.llen("celery") == 0
    broker.delete(run_queue)
    assert [(m["headers"]["task"], m["headers"]["argsrepr"], m["headers"]["timelimit"]) for m in messages] == [
        ("jobs.run", f"({jobs[1].id},)", [25.0, 24.0]),
        ("jobs.run", f"({jobs[0].id},)", [25.0, 24.0]),
    ]  # LPUSH: the newest message first


def test_the_time_limit_of_a_run_is_its_tasks_plus_the_drain_window():
    assert run_time_limit("notifications.deliver_email") == 25
    assert run_time_limit("matching.advance") == 25
    assert run_time_limit("roster.run_import") == 1805
    assert run_time_limit("no.such.task") == 30


# --- sweep -----------------------------------------------------------------------------------------


def running(subject_id: int, *, lease_ends: datetime, attempts: int = 1) -> Job:
    return make_job(
        subject_id,
        state=JobState.RUNNING,
        attempts=attempts,
        claimed_at=lease_ends - s(27),
        lease_expires_at=lease_ends,
        claimed_by=f"host:{subject_id}",
        published_at=NOW - s(40),
        run_at=NOW - s(100 - subject_id),
    )


def test_sweep_hands_back_expired_leases_at_once_and_leaves_live_ones():
    expired = running(1, lease_ends=NOW - s(0.001))
    live = running(2, lease_ends=NOW)

    result = jobs_sweep(now=NOW, budget=10)

    assert (result.requeued, result.dead, result.superseded, result.purged) == (1, 0, 0, 0)
    stored = row(expired)
    assert (stored.state, stored.run_at, stored.published_at, stored.lease_expires_at, stored.claimed_by) == (
        JobState.PENDING, NOW - s(99), None, None, ""
    )  # fmt: skip
    assert stored.last_error == "lease expired (host:1)"
    assert row(live).state == JobState.RUNNING
    # The relay publishes it at its next tick: its due time is long past and it is unpublished.
    assert jobs_take_for_publishing(now=NOW, budget=10) == [(expired.id, RECORD)]


def test_sweep_kills_an_expired_job_without_attempts_left_and_closes_one_enqueued_again():
    exhausted = running(1, lease_ends=NOW - s(1), attempts=12)
    twinned = running(2, lease_ends=NOW - s(1))
    twin = make_job(2, run_at=NOW + s(5))

    result = jobs_sweep(now=NOW, budget=10)

    assert (result.requeued, result.dead, result.superseded) == (0, 1, 1)
    assert (row(exhausted).state, row(exhausted).finished_at) == (JobState.DEAD, NOW)
    assert row(exhausted).last_error == "lease expired (host:1)"
    assert (row(twinned).state, row(twin).state, row(twin).run_at) == (JobState.DONE, JobState.PENDING, NOW + s(5))


def test_sweep_budget_takes_the_oldest_leases_first_and_the_next_sweep_the_rest():
    newest = running(1, lease_ends=NOW - s(1))
    oldest = running(2, lease_ends=NOW - s(300))
    middle = running(3, lease_ends=NOW - s(60))

    assert jobs_sweep(now=NOW, budget=2).requeued == 2
    assert [row(j).state for j in (oldest, middle, newest)] == [JobState.PENDING, JobState.PENDING, JobState.RUNNING]
    assert jobs_sweep(now=NOW, budget=2).requeued == 1
    assert row(newest).state == JobState.PENDING


def test_sweep_purges_done_jobs_older_than_a_day_within_its_budget():
    old = [make_job(n, state=JobState.DONE, finished_at=NOW - s(86400 + n + 1)) for n in range(3)]
    recent = make_job(10, state=JobState.DONE, finished_at=NOW - s(86399))
    dead = make_job(11, state=JobState.DEAD, finished_at=NOW - s(10 * 86400))

    assert jobs_sweep(now=NOW, budget=2).purged == 2
    assert jobs_sweep(now=NOW, budget=2).purged == 1
    assert not Job.objects.filter(id__in=[j.id for j in old]).exists()
    assert sorted(Job.objects.values_list("id", flat=True)) == [recent.id, dead.id]


# --- run and drain ---------------------------------------------------------------------------------


def test_a_run_claims_under_a_lease_that_ends_just_after_celery_would_kill_it():
    first, second = make_job(1, run_at=NOW), make_job(2, run_at=NOW)
    clock = sample_tasks.clock
    run = Run(worker="host:7", hard_limit=25, clock=clock)

    claim = run.claim(first.id)
    clock.now = 4.0
    drained = run.claim()

    assert claim is not None and drained is not None and drained.id == second.id
    a, b = row(first), row(second)
    assert a.claimed_at is not None and b.claimed_at is not None
    assert (a.lease_expires_at, b.lease_expires_at) == (a.claimed_at + s(27), b.claimed_at + s(23))
    assert (a.claimed_by, b.claimed_by) == ("host:7", "host:7")


def test_a_run_does_its_job_then_drains_due_jobs_oldest_first():
    own = make_job(5, run_at=NOW - s(1))
    make_job(3, run_at=NOW - s(30))
    make_job(4, run_at=NOW - s(20))
    later = make_job(6, run_at=timezone.now() + s(3600))  # a run claims at the real time

    assert jobs_run(own.id, worker="host:7", hard_limit=15, clock=sample_tasks.clock) == 3

    assert sample_tasks.ran == [5, 3, 4]
    assert dict(Job.objects.values_list("subject_id", "state")) == {5: "done", 3: "done", 4: "done", 6: "pending"}
    assert row(later).attempts == 0


def test_the_drain_stops_when_its_window_is_over():
    for n in range(1, 6):
        make_job(n, run_at=NOW - s(10 - n))
    sample_tasks.clock.step = 2.0  # each job takes two seconds; the window is five

    assert jobs_run(Job.objects.get(subject_id=1).id, worker="w", hard_limit=15, clock=sample_tasks.clock) == 3

    assert sample_tasks.ran == [1, 2, 3]
    assert dict(Job.objects.values_list("subject_id", "state")) == {
        1: "done", 2: "done", 3: "done", 4: "pending", 5: "pending"
    }  # fmt: skip


def test_the_drain_leaves_jobs_whose_time_limit_does_not_fit_in_the_run():
    own = make_job(1)
    long = make_job(2, task="tests.jobs.long", run_at=NOW - s(60))

    assert jobs_run(own.id, worker="w", hard_limit=15, clock=sample_tasks.clock) == 1

    assert sample_tasks.ran == [1]
    assert row(long).state == JobState.PENDING


def test_a_duplicate_message_runs_nothing_twice_but_still_drains_what_is_due():
    own = make_job(1, state=JobState.DONE, attempts=1)
    other = make_job(2)

    # The message's own job is done: it is not run again, but the run takes the due one instead
    # (a duplicate or re-sent message is one more hand on a backlog).
    assert jobs_run(own.id, worker="w", hard_limit=15, clock=sample_tasks.clock) == 1
    assert jobs_run(987654, worker="w", hard_limit=15, clock=sample_tasks.clock) == 0

    assert sample_tasks.ran == [2]
    assert (row(own).attempts, row(other).state) == (1, JobState.DONE)


def test_a_failing_job_is_retried_with_backoff_and_the_drain_goes_on():
    failing = make_job(1, task="tests.jobs.fail", run_at=NOW - s(2))
    after = make_job(2, run_at=NOW - s(1))

    assert jobs_run(failing.id, worker="w", hard_limit=15, clock=sample_tasks.clock) == 2
    returned = timezone.now()

    stored = row(failing)
    assert (stored.state, stored.attempts) == (JobState.PENDING, 1)
    assert stored.last_error == "ConnectionRefusedError: the mail server refused #1"
    assert stored.claimed_at is not None
    # Due 5 s after the failure, stretched by up to a tenth; the failure came after the claim and
    # before the run returned (however long the attempt took on a busy machine).
    assert stored.claimed_at + s(5) <= stored.run_at <= returned + s(5.5)
    assert row(after).state == JobState.DONE


def test_a_job_of_an_unknown_task_fails_and_is_retried_like_any_other():
    job = make_job(1, task="no.such.task")

    assert jobs_run(job.id, worker="w", hard_limit=15, clock=sample_tasks.clock) == 1

    stored = row(job)
    assert (stored.state, stored.last_error) == (
        JobState.PENDING,
        "LookupError: no task is registered as 'no.such.task'",
    )


# --- SKIP LOCKED -----------------------------------------------------------------------------------


def _in_thread(target, *args):
    """Run ``target`` on its own database connection; return its result or raise its error."""
    outcome: dict = {}

    def body():
        try:
            outcome["value"] = target(*args)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_take_disjoint_jobs_and_together_all(require_postgres):
    ids = {make_job(n, run_at=NOW - s(100 - n)).id for n in range(60)}
    start = threading.Barrier(2)

    def claim_all(worker: str) -> list[int]:
        start.wait()
        taken = []
        while (claim := job_claim(now=NOW, lease_until=NOW + s(30), worker=worker)) is not None:
            taken.append(claim.id)
        return taken

    (ta, a), (tb, b) = _in_thread(claim_all, "a:1"), _in_thread(claim_all, "b:2")
    ta.join(30)
    tb.join(30)

    assert "error" not in a and "error" not in b, (a, b)
    assert set(a["value"]).isdisjoint(b["value"])
    assert set(a["value"]) | set(b["value"]) == ids
    assert len(a["value"]) + len(b["value"]) == 60
    assert dict(Job.objects.values_list("claimed_by", "attempts").distinct()).keys() <= {"a:1", "b:2"}
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_a_row_another_transaction_holds_instead_of_waiting(require_postgres):
    held, free = make_job(1, run_at=NOW - s(10)), make_job(2, run_at=NOW - s(5))
    locked, release = threading.Event(), threading.Event()

    def hold_the_oldest() -> None:
        with transaction.atomic():
            list(Job.objects.select_for_update().filter(id=held.id))
            locked.set()
            release.wait(10)

    thread, outcome = _in_thread(hold_the_oldest)
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # waiting for the lock would fail the test, not hang it
        claim = job_claim(now=NOW, lease_until=NOW + s(30), worker="w")
        relayed = jobs_take_for_publishing(now=NOW, budget=10)
        by_id = job_claim(now=NOW, lease_until=NOW + s(30), worker="w", job_id=held.id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
        release.set()
        thread.join(10)

    assert "error" not in outcome, outcome
    assert claim is not None and claim.id == free.id
    assert relayed == []  # the held row is skipped; the free one is running now
    assert by_id is None
    assert row(held).state == JobState.PENDING


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_relays_never_publish_the_same_job(require_postgres):
    ids = {make_job(n, run_at=NOW - s(1000 - n)).id for n in range(300)}
    start = threading.Barrier(2)

    def relay() -> list[int]:
        start.wait()
        taken: list[int] = []
        while batch := jobs_take_for_publishing(now=NOW, budget=7):
            taken.extend(job_id for job_id, _ in batch)
        return taken

    (ta, a), (tb, b) = _in_thread(relay), _in_thread(relay)
    ta.join(30)
    tb.join(30)

    assert "error" not in a and "error" not in b, (a, b)
    assert set(a["value"]).isdisjoint(b["value"])
    assert sorted(a["value"] + b["value"]) == sorted(ids)
