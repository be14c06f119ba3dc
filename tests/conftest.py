"""The named cast every test draws from, and guards for tests that need real services.

In CI (``CI=true``) a test whose service is missing fails instead of skipping."""

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.volunteers.models import VolunteerProfile
from tests.accounts.factories import make_user
from tests.organisation.factories import build_org_tree
from tests.volunteers.factories import make_volunteer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)  # only outside CI, where the service may genuinely be absent


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:
    # The cast has a dozen users; the production password hasher would spend seconds creating them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production hashes static files with a manifest built by collectstatic; tests serve them as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Log-in lockouts and throttle counters live in the shared cache, which outlives a test
    # (and a run, on Redis or the file cache): every test starts and ends with it empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def require_postgres() -> None:
    require(connection.vendor == "postgresql", "needs PostgreSQL: run with DATABASE_URL=postgres://...")


@pytest.fixture
def require_redis(settings) -> str:
    broker = settings.CELERY_BROKER_URL
    require(broker.startswith("redis://") and _reachable(broker), "needs Redis: run with REDIS_URL=redis://...")
    return broker


@pytest.fixture
def require_chromium() -> str:
    require(bool(shutil.which(CHROMIUM)), f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def browser(require_chromium: str) -> Iterator["Browser"]:
    """Headless Chromium (Debian's; never a downloaded one), for the tests in tests/browser.py's style."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Django keeps connections per context, and the sync API runs the test in its own
            # context: close the connection the test opened there, or it outlives the test and
            # PostgreSQL refuses to drop the test database at the end of the session.
            connections.close_all()


@pytest.fixture
def org(db) -> dict:
    return build_org_tree()


@dataclass
class Cast:
    resident: User
    other_resident: User
    volunteer: VolunteerProfile
    other_volunteer: VolunteerProfile
    staff_a: User  # township office A (owns the requests of the resident's village)
    station_staff_a1: User  # village station A1, inside township A
    staff_b: User  # township office B
    dispatcher: User  # staff of the centre: the whole city
    admin: User
    sub_centre_staff: User  # 健康推进分中心: requests and volunteers of "convenience", in every township
    centre_office_staff: User  # the centre's office: the whole city


@pytest.fixture
def cast(org) -> Cast:
    return Cast(
        resident=make_user(name="王秀兰"),
        other_resident=make_user(name="周建国"),
        volunteer=make_volunteer(
            township=org["township_a"], village=org["village_a1"], categories=[org["category"]], name="张小明"
        ),
        other_volunteer=make_volunteer(
            township=org["township_a"], village=org["village_a2"], categories=[org["category"]], name="刘芳"
        ),
        staff_a=make_user(name="钱所长", staff_node=org["office_a"]),
        station_staff_a1=make_user(name="孙站长", staff_node=org["station_a1"]),
        staff_b=make_user(name="李所长", staff_node=org["office_b"]),
        dispatcher=make_user(name="赵调度", staff_node=org["centre"]),
        admin=make_user(name="管理员", is_superuser=True, is_staff=True),
        sub_centre_staff=make_user(name="郑主任", staff_node=org["sub_centre"]),
        centre_office_staff=make_user(name="吴主任", staff_node=org["centre_office"]),
    )


@pytest.fixture
def api():
    """``api(user)`` → a DRF client authenticated as ``user`` (anonymous for None)."""

    def make(user: User | VolunteerProfile | None = None) -> APIClient:
        client = APIClient()
        if isinstance(user, VolunteerProfile):
            user = user.user
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
