from celery.schedules import crontab

from .env import DATA_DIR, env_int, env_str
from .matching import MATCHABLE_REFRESH_SECONDS, MATCHING_HISTORY_REFRESH_SECONDS

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL") or "filesystem://"

if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded default: a real broker on disk, shared by the web process, the worker and beat.
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    BROKER_DIRECTORIES = [_broker_dir / "queue", _broker_dir / "control"]
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # A hung Redis (accepting connections, never answering) must fail a call in seconds, not
        # block it forever; the worker then reconnects, and beat's next tick tries again.
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
        "retry_on_timeout": True,
        "health_check_interval": 10,
    }
    BROKER_DIRECTORIES = []

CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker keeps reconnecting for as long as the broker is away, instead of exiting.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Only the job relay (and beat) publish, never a web request: a publish fails fast and the relay
# puts the row back for its next tick.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # The job queue (apps/jobs): the relay publishes due rows, the sweep hands back expired leases.
    # A tick that waited in the queue longer than its period is dropped: the next one does its work.
    "jobs-relay": {"task": "jobs.relay", "schedule": 1.0, "options": {"expires": 5.0}},
    "jobs-sweep": {"task": "jobs.sweep", "schedule": 5.0, "options": {"expires": 10.0}},
    "expire-offers": {"task": "dispatch.expire_offers", "schedule": 30.0},
    "sweep-matching-queue": {"task": "matching.sweep", "schedule": 30.0},
    # What the ranking reads of every volunteer, for what changed outside the services.
    "refresh-matchable-volunteers": {
        "task": "volunteers.refresh_matchable",
        "schedule": float(MATCHABLE_REFRESH_SECONDS),
        "options": {"expires": float(MATCHABLE_REFRESH_SECONDS)},
    },
    # Everyone's history as the ranking's windows slide (a change recounts its volunteers at once).
    "recount-matching-history": {
        "task": "matching.history_all",
        "schedule": float(MATCHING_HISTORY_REFRESH_SECONDS),
        "options": {"expires": float(MATCHING_HISTORY_REFRESH_SECONDS)},
    },
    # The dashboard's facts, rewritten whole every night (each change rewrites its own at once).
    "rewrite-dashboard-facts": {"task": "dashboard.facts_all", "schedule": crontab(hour=3, minute=10)},
    # 每月调度: last month's workbook for the city, at 02:00 on the first.
    "monthly-report": {"task": "dashboard.monthly_report", "schedule": crontab(hour=2, minute=0, day_of_month=1)},
    "escalate-overdue-requests": {"task": "service_requests.escalate_overdue", "schedule": 300.0},
    "close-unrated-requests": {"task": "service_requests.close_unrated", "schedule": 3600.0},
    "escalate-overdue-follow-ups": {"task": "ratings.escalate_overdue_follow_ups", "schedule": 300.0},
    "purge-idempotency-keys": {"task": "core.purge_idempotency_keys", "schedule": 3600.0},
    "resume-stalled-roster-imports": {"task": "roster.resume_stalled_imports", "schedule": 60.0},
}

# The job queue (apps/jobs). A lease is the claimed task's time limit plus the drain window plus
# this grace: by then Celery has surely killed the run, so the sweep may hand the job on.
JOBS_LEASE_GRACE_SECONDS = env_int("JOBS_LEASE_GRACE_SECONDS", 2)
# The time limit of a task that states none (with the grace: a 30 s lease at the least).
JOBS_DEFAULT_TIME_LIMIT = env_int("JOBS_DEFAULT_TIME_LIMIT", 25)
# After its own job, a run keeps claiming due jobs for this long, so work moves on lost messages.
JOBS_DRAIN_SECONDS = env_int("JOBS_DRAIN_SECONDS", 5)
# A pending job published this long ago and still not claimed lost its message: publish it again.
JOBS_REPUBLISH_AFTER_SECONDS = env_int("JOBS_REPUBLISH_AFTER_SECONDS", 10)
# At most this many such messages per relay tick: most are only queued behind a backlog, and each
# run drains whatever is due, so a few re-sent messages recover a lost queue without a storm.
JOBS_REPUBLISH_BUDGET = env_int("JOBS_REPUBLISH_BUDGET", 20)
JOBS_RELAY_BUDGET = env_int("JOBS_RELAY_BUDGET", 500)
JOBS_SWEEP_BUDGET = env_int("JOBS_SWEEP_BUDGET", 500)
# Retries: 5 s after the first failure, doubling, at most 10 minutes, up to a tenth more at random.
JOBS_BACKOFF_BASE_SECONDS = env_int("JOBS_BACKOFF_BASE_SECONDS", 5)
JOBS_BACKOFF_MAX_SECONDS = env_int("JOBS_BACKOFF_MAX_SECONDS", 600)
JOBS_BACKOFF_JITTER = 0.1
JOBS_KEEP_DONE_SECONDS = env_int("JOBS_KEEP_DONE_SECONDS", 24 * 3600)
JOBS_HEARTBEAT_SECONDS = 5
# The health view: unhealthy when no worker was seen this long, or the oldest due job waits longer.
JOBS_HEALTH_WORKER_SEEN_SECONDS = 60
JOBS_HEALTH_MAX_WAIT_SECONDS = 60
