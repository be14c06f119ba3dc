"""Pages come gzip-compressed to clients that ask for it, and plain to those that do not."""

import gzip
import re

import pytest
from django.conf import settings


def _page(client, cast, **headers):
    client.force_login(cast.resident)
    response = client.get("/r/requests/", **headers)
    assert response.status_code == 200
    return response


def test_gzip_when_asked(client, cast):
    plain = _page(client, cast).content.decode()
    response = _page(client, cast, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    # The same page; only the CSRF token, masked afresh in every response, differs.
    assert _without_tokens(html) == _without_tokens(plain)
    assert len(response.content) < len(plain.encode())


def test_plain_when_not_asked(client, cast):
    response = _page(client, cast)
    assert not response.has_header("Content-Encoding")
    assert response.content.decode().lstrip().startswith("<!")


@pytest.mark.parametrize("before", ["django.middleware.security.SecurityMiddleware", "whitenoise.middleware."])
def test_compression_comes_after_security_and_static_files(before):
    order = settings.MIDDLEWARE
    gzip_at = order.index("apps.core.middleware.PageGZipMiddleware")
    assert any(name.startswith(before) for name in order[:gzip_at])
    # Everything that writes the body runs inside it.
    assert all("Security" not in name and "whitenoise" not in name for name in order[gzip_at + 1 :])


def _without_tokens(html: str) -> str:
    """The page with every masked CSRF token (64 letters and digits, in forms and headers) blanked."""
    masked = re.findall(r"\b[A-Za-z0-9]{64}\b", html)
    assert masked  # the page does carry the token
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "TOKEN", html)


def test_api_answers_are_not_compressed_even_when_asked(api, cast):
    response = api(cast.resident).get("/api/v1/me/", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert response.json()["id"] == cast.resident.id
