from .env import DATA_DIR, env_str

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
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
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
# A web request must not hang on a broker outage: publish fails fast and the periodic sweeps
# pick the work up from the database later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "expire-offers": {"task": "dispatch.expire_offers", "schedule": 30.0},
    "sweep-matching-queue": {"task": "matching.sweep", "schedule": 30.0},
    "escalate-overdue-requests": {"task": "service_requests.escalate_overdue", "schedule": 300.0},
    "close-unrated-requests": {"task": "service_requests.close_unrated", "schedule": 3600.0},
    "redeliver-notifications": {"task": "notifications.redeliver_pending", "schedule": 120.0},
    "purge-idempotency-keys": {"task": "core.purge_idempotency_keys", "schedule": 3600.0},
    "resume-stalled-roster-imports": {"task": "roster.resume_stalled_imports", "schedule": 60.0},
}
