"""What a volunteer's phone downloads for their offers (/v/offers/) and tasks (/v/tasks/): under
50 KB on the first visit, compressed, and under 5 KB on the next, when the fingerprinted static
files come from the browser's cache without asking the server again.

Measured in headless Chromium (its DevTools ``encodedDataLength``: headers and body as they came
over the wire) against the site served as in production (settings/core.py with debug off):
collectstatic's fingerprinted, precompressed files, served by WhiteNoise with far-future caching.
The test live server's own static handler serves the plain files afresh on every request, so the
numbers are taken from a server of the test's own."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteConnection
from django.test import override_settings
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page

from apps.dispatch import services as dispatch_services
from apps.service_requests.services import request_review
from tests.accounts.factories import PASSWORD
from tests.browser import PHONE, new_page
from tests.service_requests.factories import submit_request

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"  # settings/core.py, debug off
FAR_FUTURE = "max-age=315360000, public, immutable"
COLD_BUDGET = 50_000
WARM_BUDGET = 5_000
# Each page, and the cards the volunteer of ``volunteer_with_work`` sees on it.
PAGES = {"/v/offers/": ("li.card.offer", 3), "/v/tasks/": ("li.card.task", 2)}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``manage.py collectstatic`` as the deployment runs it, once for the session."""
    root = tmp_path_factory.mktemp("staticfiles")
    storages = {**django_settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def production_server(settings, collected_static: Path) -> Iterator[str]:
    """The site on a free port of 127.0.0.1 with the production static files, served through the
    middleware (WhiteNoise) like every other request; the test's database."""
    settings.DEBUG = False
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE}}
    # An in-memory SQLite test database is reachable from the server's thread only through the
    # test's own connection (as in Django's LiveServerTestCase).
    shared = {c.alias: c for c in connections.all() if isinstance(c, SQLiteConnection) and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    # No static handler in front of the site: /static/ goes through the middleware, to WhiteNoise.
    server = LiveServerThread(
        "127.0.0.1",
        static_handler=lambda handler: handler,  # type: ignore[arg-type]  # the stubs expect a handler class
        connections_override=shared,  # type: ignore[arg-type]  # only SQLite connections, as Django's own
    )
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


@pytest.fixture
def volunteer_with_work(cast, org):
    """张小明 with three open offers and two tasks he has accepted and is on the way to."""
    volunteer = cast.volunteer
    for index in range(5):
        request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
        request_review(request=request, actor=cast.staff_a, accept=True)
        (offer,) = dispatch_services.dispatch_directed(request=request, actor=cast.staff_a, volunteers=[volunteer])
        if index < 2:
            dispatch_services.offer_accept(offer=offer, volunteer=volunteer)
            dispatch_services.offer_depart(offer=offer, volunteer=volunteer, eta_minutes=20)
    return volunteer


@dataclass
class Transfer:
    url: str
    status: int = 0
    bytes: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    from_cache: bool = False

    def __str__(self) -> str:
        encoding = self.headers.get("content-encoding", "-")
        cached = " (cache)" if self.from_cache else ""
        return f"{self.bytes:>7} B  {self.status} {encoding:<5} {self.url}{cached}"


class Traffic:
    """Every request a page makes, with what it cost on the wire, from Chromium's DevTools."""

    def __init__(self, page: Page) -> None:
        self.seen: dict[str, Transfer] = {}
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _sent(self, event: dict[str, Any]) -> None:
        self.seen.setdefault(event["requestId"], Transfer(url=event["request"]["url"]))

    def _received(self, event: dict[str, Any]) -> None:
        transfer = self.seen.setdefault(event["requestId"], Transfer(url=event["response"]["url"]))
        response = event["response"]
        transfer.status = response["status"]
        transfer.headers = {name.lower(): value for name, value in response["headers"].items()}
        transfer.from_cache |= bool(response.get("fromDiskCache") or response.get("fromMemoryCache"))

    def _from_cache(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.seen:
            self.seen[event["requestId"]].from_cache = True

    def _finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.seen:
            self.seen[event["requestId"]].bytes = int(event["encodedDataLength"])

    def reset(self) -> None:
        self.seen.clear()

    @property
    def total(self) -> int:
        return sum(transfer.bytes for transfer in self.seen.values())

    def report(self, title: str) -> str:
        lines = "\n".join(f"  {transfer}" for transfer in self.seen.values())
        return f"{title}: {self.total} bytes transferred\n{lines}"


def _log_in_without_a_page(context: BrowserContext, base: str, phone: str) -> None:
    """Log in through the log-in form's own POST, with the context's cookie jar but no page, so
    that nothing is downloaded into the browser's cache before the cold load."""
    form = context.request.get(f"{base}/login/").text()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert match, "no CSRF token on the log-in page"
    response = context.request.post(
        f"{base}/login/",
        form={"csrfmiddlewaretoken": match.group(1), "username": phone, "password": PASSWORD},
        max_redirects=0,
    )
    assert response.status == 302, f"log-in answered {response.status}"


def _load(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("networkidle")  # the unread-message badge asks for itself on load


@pytest.mark.parametrize("path", PAGES)
def test_a_volunteers_page_is_light_cold_and_nearly_free_warm(
    browser: Browser, production_server: str, volunteer_with_work, collected_static: Path, path: str
) -> None:
    base = production_server
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    hashed = {f"{base}/static/{name}" for name in manifest.values()}

    context, page = new_page(browser, PHONE)
    _log_in_without_a_page(context, base, volunteer_with_work.user.phone)
    traffic = Traffic(page)

    # (1) Cold: an empty cache.
    _load(page, f"{base}{path}")
    cold = traffic.report(f"cold {path}")
    cards, count = PAGES[path]
    assert page.locator(cards).count() == count, cold  # the page carries the volunteer's work
    assert traffic.total < COLD_BUDGET, cold
    (html,) = [t for t in traffic.seen.values() if t.url == f"{base}{path}"]
    assert html.headers.get("content-encoding") == "gzip", cold
    statics = [t for t in traffic.seen.values() if "/static/" in t.url]
    assert {t.url.removeprefix(f"{base}/static/").split("/")[0] for t in statics} >= {"css", "vendor"}, cold
    for transfer in statics:
        assert transfer.url in hashed, f"not a fingerprinted name: {transfer.url}\n{cold}"
        assert transfer.headers.get("cache-control") == FAR_FUTURE, f"{transfer.url}\n{cold}"
        assert transfer.headers.get("content-encoding") == "gzip", f"{transfer.url}\n{cold}"

    # (2) Warm: the same page again, in a new tab of the same browser (its HTTP cache, not the tab's memory).
    page.close()
    page = context.new_page()
    traffic = Traffic(page)
    _load(page, f"{base}{path}")
    warm = traffic.report(f"warm {path}")
    assert traffic.total < WARM_BUDGET, warm
    warm_statics = [t for t in traffic.seen.values() if "/static/" in t.url]
    assert {t.url for t in warm_statics} == {t.url for t in statics}, warm
    assert all(t.from_cache and t.bytes == 0 for t in warm_statics), f"revalidated or fetched again:\n{warm}"
    print(cold, warm, sep="\n")
    context.close()
