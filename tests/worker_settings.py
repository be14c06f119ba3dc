"""Settings for a Celery worker that a test starts as a subprocess: the project's own settings,
pointed at the database the test session created. Its name exists only at run time
(``test_<name>`` on PostgreSQL, a file under ZC_DATA_DIR on SQLite), so the test passes it in
``ZC_TEST_DATABASE_NAME``; everything else (engine, options, broker) is the ordinary env-driven
configuration."""

import os

from zhuozhou_civic.settings import *  # noqa: F403
from zhuozhou_civic.settings import DATABASES, EMAIL_FILE_PATH

DATABASES["default"]["NAME"] = os.environ["ZC_TEST_DATABASE_NAME"]
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", EMAIL_FILE_PATH)
