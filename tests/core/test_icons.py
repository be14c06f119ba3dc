"""Every page names the site's icon and its web app manifest, so a phone can add the site to its
home screen with its name and icon; the manifest and the icon are the site's own files."""

import json
import zlib

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_every_page_names_the_icon_and_the_manifest(client) -> None:
    page = client.get("/login/").content.decode()
    assert '<link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">' in page
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/static/img/apple-touch-icon.png">' in page
    assert '<meta name="theme-color" content="#b3261e">' in page


def test_the_manifest_names_the_site_and_an_icon_it_ships() -> None:
    path = finders.find("manifest.webmanifest")
    assert path is not None
    with open(path, encoding="utf-8") as file:
        manifest = json.load(file)
    assert (manifest["name"], manifest["short_name"], manifest["start_url"], manifest["display"]) == (
        "涿州i志愿",
        "i志愿",
        "/",
        "standalone",
    )
    icons = [(icon["src"], icon["type"], icon["sizes"], icon["purpose"]) for icon in manifest["icons"]]
    # Chrome on Android asks for 192 and 512 px PNGs to offer installing; a maskable one fills
    # the launcher's own shape.
    assert icons == [
        ("img/icon.svg", "image/svg+xml", "any", "any"),
        ("img/icon-192.png", "image/png", "192x192", "any"),
        ("img/icon-512.png", "image/png", "512x512", "any"),
        ("img/icon-maskable-512.png", "image/png", "512x512", "maskable"),
    ]
    for src, kind, sizes, _purpose in icons:
        found = finders.find(src)
        assert found is not None, src
        if kind == "image/png":
            assert "{}x{}".format(*_png_size(found)) == sizes, src


def _png_size(path: str) -> tuple[int, int]:
    """Width and height from the PNG's header (its IHDR chunk comes first)."""
    with open(path, "rb") as file:
        head = file.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_ios_gets_a_square_180_px_icon() -> None:
    # iOS takes the home-screen icon from this link (not the manifest), rounds it itself and
    # shows a transparent corner as black: a full square, 180 px.
    path = finders.find("img/apple-touch-icon.png")
    assert path is not None
    assert _png_size(path) == (180, 180)
    assert _top_left_pixel(path) == (0xB3, 0x26, 0x1E, 255)  # the brand red, opaque, to the corner
    rounded = finders.find("img/icon-192.png")
    assert rounded is not None
    assert _top_left_pixel(rounded)[3] == 0  # the manifest's own icon keeps its rounded corners


def _top_left_pixel(path: str) -> tuple[int, ...]:
    """The first pixel as RGBA. Whatever the first row's filter, its first pixel is stored as it
    is (there is nothing to its left or above it to predict from)."""
    with open(path, "rb") as file:
        data = file.read()
    colour_type = data[25]
    idat, at = b"", 8
    while at < len(data):
        length, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        if kind == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(idat)
    channels = {6: 4, 2: 3}[colour_type]
    pixel = tuple(raw[1 : 1 + channels])
    return pixel if channels == 4 else (*pixel, 255)
