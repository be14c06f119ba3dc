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


# 长辈版 (MIIT 适老化): the smallest text, line height and touch target a page may show.
ELDER_MIN_FONT_PX = 18
ELDER_MIN_LINE_HEIGHT = 1.3
ELDER_MIN_TARGET_PX = 60
_ELDER_MEASURE = """([minFont, minLine, minTarget]) => {
  const name = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + '#' + e.id); break; }
      const classes = typeof e.className === 'string' ? e.className.trim() : '';
      if (classes) part += '.' + classes.split(/\\s+/).join('.');
      parts.unshift(part);
    }
    return parts.join(' > ');
  };
  const shown = (el) => {
    if (el.closest('.visually-hidden, [hidden], [aria-hidden=true]')) return false;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const el = text.parentElement;
    if (!text.textContent.trim() || !el || !shown(el)) continue;
    if (['SCRIPT', 'STYLE', 'OPTION', 'OPTGROUP'].includes(el.tagName)) continue;
    const cs = getComputedStyle(el);
    const size = parseFloat(cs.fontSize);
    if (size < minFont) found.push(`font ${size}px: ${name(el)} «${text.textContent.trim().slice(0, 20)}»`);
    const line = cs.lineHeight === 'normal' ? 1.2 : parseFloat(cs.lineHeight) / size;
    if (line < minLine - 0.005) found.push(`line-height ${line.toFixed(2)}: ${name(el)}`);
  }
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    let box = el;
    if (['radio', 'checkbox'].includes(el.type)) {
      box = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    if (!shown(box)) continue;
    const r = box.getBoundingClientRect();
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      found.push(`target ${Math.round(r.width)}×${Math.round(r.height)}: ${name(el)}`);
    }
  }
  // A button's words keep clear of its border (a link made to look like a button too).
  for (const el of document.querySelectorAll('a.button, button:not(.link), summary.button')) {
    if (!shown(el)) continue;
    const cs = getComputedStyle(el);
    const padding = Math.min(parseFloat(cs.paddingLeft), parseFloat(cs.paddingRight));
    if (padding < 8) found.push(`padding ${padding}px: ${name(el)}`);
  }
  return found;
}"""


def elder_offenders(page: Page) -> list[str]:
    """What on the page breaks the 长辈版 numbers, one line each: text under 18 px, a line
    height under 1.3, a visible link, button, field or disclosure (or a radio's or checkbox's
    label, its hit area) under 60 × 60 px, a button whose words touch its border (side padding
    under 8 px). An empty list is a pass."""
    return page.evaluate(_ELDER_MEASURE, [ELDER_MIN_FONT_PX, ELDER_MIN_LINE_HEIGHT, ELDER_MIN_TARGET_PX])
