"""The keyboard focus ring stands out at 3:1 or more (WCAG 2.2, 1.4.11 and 2.4.13) on every
background of the site: the red header, a white card, the grey page, a red button. The ring is two
colours, a dark outline with a white gap inside it; on each background at least one of them must
reach 3:1 against what is around it."""

import re

import pytest
from playwright.sync_api import Page

from tests.browser import PHONE, new_page

pytestmark = pytest.mark.django_db(transaction=True)


def _rgb(css: str) -> tuple[float, float, float]:
    red, green, blue = (float(part) for part in re.findall(r"[\d.]+", css)[:3])
    return red, green, blue


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _background_behind(page: Page, selector: str) -> str:
    """The first opaque background colour of the element's ancestors (what the ring is drawn on)."""
    return page.evaluate(
        """(selector) => {
          for (let el = document.querySelector(selector).parentElement; el; el = el.parentElement) {
            const colour = getComputedStyle(el).backgroundColor;
            if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
          }
          return 'rgb(255, 255, 255)';
        }""",
        selector,
    )


def _ring_contrast(page: Page, selector: str) -> float:
    page.focus(selector)
    style = page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          const cs = getComputedStyle(el);
          return {outline: cs.outlineColor, width: cs.outlineWidth, style: cs.outlineStyle, shadow: cs.boxShadow,
                  focusVisible: el.matches(':focus-visible')};
        }""",
        selector,
    )
    assert style["focusVisible"], selector
    assert (style["style"], style["width"]) == ("solid", "3px"), style
    background = _rgb(_background_behind(page, selector))
    halo = _rgb(style["shadow"])
    return max(contrast(_rgb(style["outline"]), background), contrast(halo, background))


def test_the_focus_ring_stands_out_on_every_background(live_server, browser) -> None:
    context, page = new_page(browser, PHONE)
    page.goto(f"{live_server.url}/login/")
    # Keyboard focus (so :focus-visible applies as for a keyboard user).
    page.keyboard.press("Tab")
    rings = {
        "the 长辈版 switch on the red header": _ring_contrast(page, "form.elder-switch button"),
        "a link on the red header": _ring_contrast(page, "header.top nav a"),
        "the red log-in button in a white form": _ring_contrast(page, "main button[type=submit]"),
        "a field on white": _ring_contrast(page, "#id_username"),
        "a link on the grey page": _ring_contrast(page, "main a[href]"),
    }
    assert {where: ratio >= 3 for where, ratio in rings.items()} == dict.fromkeys(rings, True), rings
    # The red header: the white gap is what shows, at the brand colour's contrast with white.
    assert round(rings["the 长辈版 switch on the red header"], 2) == 6.54
    context.close()
