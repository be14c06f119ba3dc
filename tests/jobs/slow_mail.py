"""An e-mail backend for the worker subprocesses of the job queue's drills: each send takes
``ZC_TEST_MAIL_DELAY`` seconds (a slow mail server, so a kill finds sends in flight), then appends
one line per message to ``ZC_TEST_MAIL_LOG``: the request number the message is about. The line
is one ``write`` on a file opened for appending, so the lines of concurrent processes never mix.
The first send of each request number in ``ZC_TEST_MAIL_FAIL_ONCE`` (comma-separated) fails as a
mail server that went away would."""

import os
import re
import smtplib
import time
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class SlowMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        delay = float(os.environ.get("ZC_TEST_MAIL_DELAY", "0"))
        for message in email_messages:
            time.sleep(delay)
            found = re.search(r"#(\d+)", str(message.body))
            number = found.group(1) if found else "-"
            if number in os.environ.get("ZC_TEST_MAIL_FAIL_ONCE", "").split(","):
                marker = f"{os.environ['ZC_TEST_MAIL_LOG']}.failed-{number}"
                if not os.path.exists(marker):
                    open(marker, "w").close()
                    raise smtplib.SMTPServerDisconnected("the mail server went away")
            line = f"{number} {','.join(message.to)}\n".encode()
            descriptor = os.open(os.environ["ZC_TEST_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
        return len(email_messages)


def sends(log: str) -> dict[int, int]:
    """How many times each request number's mail was sent, from the log."""
    counts: dict[int, int] = {}
    if not os.path.exists(log):
        return counts
    with open(log, encoding="utf-8") as lines:
        for line in lines:
            number = line.split(" ", 1)[0]
            if number.isdigit():
                counts[int(number)] = counts.get(int(number), 0) + 1
    return counts
