"""Fixtures of the one-time-code tests: the development SMS file as the outbox, a movable clock."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from apps.accounts import verification
from apps.accounts.sms.development import read_sms_file

# 2027-01-15 16:00 in Zhuozhou
START = datetime(2027, 1, 15, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Clock:
    def __init__(self) -> None:
        self.value = START

    def __call__(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(verification, "now", fake)
    return fake


class Outbox:
    """The messages the development file backend wrote, read back as a developer would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[dict]:
        return read_sms_file(self.path)

    def codes(self, phone: str) -> list[str]:
        return [str(m["params"]["code"]) for m in self.messages() if m["phone"] == phone]

    def last_code(self, phone: str) -> str:
        codes = self.codes(phone)
        assert codes, f"no code was sent to {phone}"
        return codes[-1]


@pytest.fixture
def outbox(settings, tmp_path) -> Outbox:
    settings.SMS_BACKENDS = ["apps.accounts.sms.development.FileSmsBackend"]
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    settings.SMS_CODE_TTL = 300
    settings.SMS_CODE_MAX_ATTEMPTS = 5
    settings.SMS_CODE_RESEND_SECONDS = 60
    settings.SMS_CODE_PHONE_HOURLY_LIMIT = 5
    settings.SMS_CODE_ADDRESS_HOURLY_LIMIT = 20
    settings.BEHIND_PROXY = False
    return Outbox(tmp_path / "sms.log")
