import dj_database_url

from .env import DATA_DIR, env_int, env_str

DATABASE_URL = env_str("DATABASE_URL")

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: the ranking of candidates (apps.matching.selectors) is estimated costly enough
        # for PostgreSQL to compile it, which takes seconds for a query that runs in milliseconds.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    # The embedded default. WAL lets the web process read while the worker writes, and
    # IMMEDIATE transactions take the write lock up front so concurrent writers queue on
    # the busy timeout instead of failing with "database is locked" mid-transaction.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "zhuozhou_civic.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, so a worker process in the tests sees the same data.
            "TEST": {"NAME": str(DATA_DIR / "test_zhuozhou_civic.sqlite3")},
        }
    }

DATABASES["default"]["ATOMIC_REQUESTS"] = False
