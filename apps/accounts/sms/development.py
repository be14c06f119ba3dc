"""Development backends: the message goes where a developer can read it, never to a phone.

The full number is written on purpose: these backends exist to let a developer (or a browser
test) read the code sent to a number. They are the default only where no provider is configured.
"""

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import SmsError

logger = logging.getLogger("apps.accounts.sms")

# One line per message even when two threads of one process write at once; processes append
# whole lines with one write each (O_APPEND), which the kernel keeps apart for short lines.
_file_lock = threading.Lock()


class ConsoleSmsBackend:
    """Logs each message (logger ``apps.accounts.sms``, level INFO: the console of `manage.py runserver`)."""

    def send(self, phone: str, text: str, *, params: Mapping[str, str]) -> None:
        logger.info("SMS to %s: %s", phone, text)


class FileSmsBackend:
    """Appends each message as one JSON line ``{"time", "phone", "text", "params"}`` to
    ``settings.SMS_FILE_PATH`` (default ``<data dir>/sms.log``)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path if path is not None else settings.SMS_FILE_PATH)

    def send(self, phone: str, text: str, *, params: Mapping[str, str]) -> None:
        line = json.dumps(
            {"time": timezone.now().isoformat(), "phone": phone, "text": text, "params": dict(params)},
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock, self.path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
        except OSError as exc:
            raise SmsError(f"cannot write {self.path}: {exc}") from exc


def read_sms_file(path: str | Path | None = None) -> list[dict[str, object]]:
    """The messages :class:`FileSmsBackend` wrote, oldest first (for developers and tests)."""
    file = Path(path if path is not None else settings.SMS_FILE_PATH)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
