"""The shared cache, and the log-in throttles that count in it.

Every process (each web worker, on every server) must see the same counters, so the cache is
never per-process memory:

* ``CACHE_URL`` (or else ``REDIS_URL``) ``redis://…``/``rediss://…`` — Redis, through Django's
  built-in backend made to answer as a miss during an outage (``apps.core.cache``). Give the cache
  its own database number in ``CACHE_URL`` where the broker shares the server.
* ``CACHE_URL=db://`` (``db://<table>`` to name the table) — a table in the main database,
  created by ``manage.py createcachetable`` (``make run`` runs it after ``migrate``).
* neither — the embedded default: files under the data directory, shared by every process on
  the machine.
"""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from .env import DATA_DIR, env_bool, env_int, env_str

CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
_cache_url = urlparse(CACHE_URL)

if _cache_url.scheme in {"redis", "rediss"}:
    CACHES = {
        "default": {
            # Django's Redis cache, answering as a miss while Redis is stopped or frozen (apps/core/cache.py):
            # a call gives up after these timeouts, and the process leaves Redis alone for a few
            # seconds, so an outage never fails or holds up a request; the counters fail open meanwhile.
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
elif _cache_url.scheme == "db":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": (_cache_url.netloc + _cache_url.path).strip("/") or "zc_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
elif _cache_url.scheme in {"", "file"}:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            # Culling drops entries at random; keep it for a cache grown far beyond normal use.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL must be redis://, rediss:// or db://, got {_cache_url.scheme}://")

# Log-in lockout (page, admin and API token alike; apps.accounts.throttling). Within a window,
# this many wrong passwords for one account (from anywhere), or from one client address (for
# any accounts), lock further attempts — even with the right password — until a full window
# has passed. The address limit is higher: a township office or village station signs in from
# behind one shared address.
LOGIN_LOCKOUT_WINDOW = env_int("LOGIN_LOCKOUT_WINDOW_SECONDS", 15 * 60)
LOGIN_LOCKOUT_ACCOUNT_FAILURES = env_int("LOGIN_LOCKOUT_ACCOUNT_FAILURES", 10)
LOGIN_LOCKOUT_ADDRESS_FAILURES = env_int("LOGIN_LOCKOUT_ADDRESS_FAILURES", 30)
# Behind a reverse proxy that appends the client's address to X-Forwarded-For (the same switch
# as SECURE_PROXY_SSL_HEADER), the last address in that header is the client's; otherwise the
# header is the client's own claim and is ignored.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
