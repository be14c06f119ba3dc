"""What the Chromium tests share: how the browser starts, the phone and desktop they pretend to
be, a page that records its script errors, screenshots for a human to look at, and the check that
a phone page needs no sideways scrolling. The ``browser`` fixture is in tests/conftest.py."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


def new_page(browser: Browser, options: dict[str, Any]) -> tuple[BrowserContext, Page]:
    """A page in a fresh context; ``page.errors`` collects the page's uncaught script errors."""
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits_the_screen(page: Page) -> None:
    """Nothing on a phone page may force sideways scrolling."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0, f"{page.url} is {overflow}px wider than the screen"


def serious_axe_findings(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each (rule,
    impact, the first offending selectors): an empty list is a pass."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found
