"""Settings, split by concern. Every value comes from the environment; the absence of
``DATABASE_URL`` and ``CELERY_BROKER_URL``/``REDIS_URL`` selects the embedded default
(SQLite file and a filesystem broker) — the same code path production runs."""

from .api import *  # noqa: F403
from .cache import *  # noqa: F403
from .core import *  # noqa: F403
from .dashboard import *  # noqa: F403
from .database import *  # noqa: F403
from .domain import *  # noqa: F403
from .email import *  # noqa: F403
from .i18n import *  # noqa: F403
from .matching import *  # noqa: F403
from .privacy import *  # noqa: F403
from .sms import *  # noqa: F403
from .tasks import *  # noqa: F403
