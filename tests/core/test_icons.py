"""Every page names the site's icon and its web app manifest, so a phone can add the site to its
home screen with its name and icon; the manifest and the icon are the site's own files."""

import json

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_every_page_names_the_icon_and_the_manifest(client) -> None:
    page = client.get("/login/").content.decode()
    assert '<link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">' in page
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
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
    (icon,) = manifest["icons"]
    assert (icon["src"], icon["type"], icon["sizes"]) == ("img/icon.svg", "image/svg+xml", "any")
    assert finders.find(icon["src"]) is not None
