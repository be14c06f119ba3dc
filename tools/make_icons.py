"""Draws the home-screen icons from ``static/img/icon.svg`` with Chromium, into ``static/img/``:

- ``icon-192.png`` and ``icon-512.png``: the icon as drawn, rounded corners on a transparent ground
  (the manifest's ``any``; Android's launcher shows them as they are);
- ``icon-maskable-512.png``: the same mark on a full square of the brand red, the mark inside the
  middle 80 % (the manifest's ``maskable``: the launcher cuts its own shape out of it);
- ``apple-touch-icon.png``: 180 × 180, full square (iOS rounds the corners itself and shows
  transparency as black).

The PNGs are committed; run this again after a change to the SVG:
    .venv/bin/python tools/make_icons.py
It needs Debian's chromium (see the README); nothing is downloaded."""

import re
from pathlib import Path

from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parents[1] / "static" / "img"


def _full_bleed(svg: str) -> str:
    """The square without rounded corners, the mark shrunk to 80 % about the centre."""
    svg = svg.replace(' rx="14"', "")
    head, rest = svg.split("\n", 1)
    rect, marks = rest.split("\n", 1)
    marks = marks.rsplit("</svg>", 1)[0]
    return f'{head}\n{rect}\n  <g transform="translate(32 32) scale(0.8) translate(-32 -32)">\n{marks}  </g>\n</svg>\n'


def _sized(svg: str, size: int) -> str:
    return re.sub(r"<svg ", f'<svg width="{size}" height="{size}" ', svg, count=1)


def main() -> None:
    svg = (IMG / "icon.svg").read_text(encoding="utf-8")
    jobs = [
        ("icon-192.png", svg, 192),
        ("icon-512.png", svg, 512),
        ("icon-maskable-512.png", _full_bleed(svg), 512),
        ("apple-touch-icon.png", _full_bleed(svg), 180),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for name, source, size in jobs:
            page = browser.new_page(viewport={"width": size, "height": size}, device_scale_factor=1)
            page.set_content(
                f'<html><body style="margin:0;background:transparent">{_sized(source, size)}</body></html>'
            )
            page.screenshot(path=str(IMG / name), omit_background=True)
            page.close()
            print(f"{name}: {size}×{size}")
        browser.close()


if __name__ == "__main__":
    main()
