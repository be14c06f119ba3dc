"""`make run` on an office machine: debug off, house error pages, a private secret key kept in the
data directory, and gunicorn serving compressed, fingerprinted, far-future-cached static files."""

import contextlib
import gzip
import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.core.management import call_command
from django.template import loader
from django.utils import translation

from apps.core.management.commands.secret_key import SecretKeyFileError, ensure_secret_key
from apps.core.management.commands.serve import gunicorn_command
from tests.servers import free_port, manage, start_server, stop_server, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
FAR_FUTURE = "max-age=315360000, public, immutable"
DEBUG_LISTING = "Using the URLconf defined in"

# ------------------------------------------------------------------ (a) error pages, in process


@pytest.mark.django_db
def test_an_unknown_url_gets_the_house_404_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>页面不存在</h1>" in html
    assert '<a class="button primary" href="/">返回首页</a>' in html
    assert '<span class="brand-name">涿州i志愿</span></a>' in html  # the site's header: it is the house page
    assert DEBUG_LISTING not in html
    assert "Page not found" not in html


@pytest.fixture
def english(settings, tmp_path):
    """English from the committed .po, compiled here, not from whatever .mo is on disk."""
    po = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with po.open("rb") as source, (target / "django.mo").open("wb") as mo:
        write_mo(mo, read_po(source, abort_invalid=True))
    settings.LOCALE_PATHS = [tmp_path / "locale"]


@pytest.mark.django_db
def test_the_404_page_speaks_english(client, settings, english):
    settings.DEBUG = False
    html = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "Back to the home page" in html
    assert "页面不存在" not in html


def test_the_500_page_speaks_english(english):
    with translation.override("en"):
        html = loader.get_template("500.html").render()
    assert "<h1>Something went wrong</h1>" in html
    assert "contact your New Era Civilization Practice station" in html


@pytest.mark.django_db
def test_an_unknown_api_url_still_gets_json(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_a_failing_page_gets_the_house_500_page(client, settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.core.urls_office"
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>服务器出错了</h1>" in html
    assert '<a class="button" href="/">返回首页</a>' in html
    assert "a page that fails" not in html
    assert "Traceback" not in html


def test_the_500_page_needs_no_request_and_no_database():
    # Exactly what django.views.defaults.server_error does; no `db` fixture, so a query would fail.
    html = loader.get_template("500.html").render()
    assert "<h1>服务器出错了</h1>" in html
    assert '<html lang="zh-Hans">' in html


# ------------------------------------------------------------------ (b) the generated secret key


def test_the_secret_key_is_generated_private_and_kept(tmp_path):
    data_dir = tmp_path / "var"
    first = ensure_secret_key(data_dir)
    path = data_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert len(first) >= 50
    assert path.read_text().strip() == first
    assert ensure_secret_key(data_dir) == first
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key"]  # no temporary file left behind


def test_an_open_data_directory_is_closed(tmp_path):
    tmp_path.chmod(0o755)
    ensure_secret_key(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


def test_a_key_file_others_can_read_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("k" * 60)
    path.chmod(0o644)
    with pytest.raises(SecretKeyFileError, match="readable or writable by other users"):
        ensure_secret_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text() == "k" * 60


def test_a_key_file_without_a_usable_key_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(SecretKeyFileError, match="no usable key"):
        ensure_secret_key(tmp_path)
    assert path.read_text() == "short\n"


def test_the_command_prints_the_key_of_the_data_directory(tmp_path, capsys):
    call_command("secret_key", data_dir=tmp_path)
    assert capsys.readouterr().out.strip() == (tmp_path / "secret_key").read_text().strip()


# ------------------------------------------------------------------ (c) gunicorn, end to end


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DATABASE_URL", "PHONE_LOOKUP_KEY"}}
    env.update(
        DJANGO_SECRET_KEY="office-server-test-secret-key-" + "x" * 40,
        ZC_DATA_DIR=str(data_dir),
        CELERY_BROKER_URL="filesystem://",
        REDIS_URL="",
    )
    return env


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> Fetched:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return Fetched(response.status, response.headers, response.read())
    finally:
        conn.close()


def test_gunicorn_serves_the_house_404_and_compressed_far_future_static_files(tmp_path):
    env = _env(tmp_path)
    manage(["migrate", "--noinput"], env)
    manage(["collectstatic", "--noinput"], env)
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/site.css"]
    assert hashed_css != "css/site.css"  # fingerprinted
    original_css = (ROOT / "static" / "css" / "site.css").read_bytes()

    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = start_server(gunicorn_command(f"127.0.0.1:{port}"), env, port, log)
    try:
        missing = _get(port, "/no-such-page/")
        assert missing.status == 404
        html = missing.body.decode()
        assert "<h1>页面不存在</h1>" in html
        assert DEBUG_LISTING not in html
        assert f'href="/static/{hashed_css}"' in html  # pages link the fingerprinted file

        css = _get(port, f"/static/{hashed_css}", {"Accept-Encoding": "gzip"})
        assert css.status == 200
        assert css.headers["Content-Encoding"] == "gzip"
        assert css.headers["Cache-Control"] == FAR_FUTURE
        assert "Accept-Encoding" in css.headers["Vary"]
        assert gzip.decompress(css.body) == original_css

        plain = _get(port, f"/static/{hashed_css}")
        assert plain.status == 200
        assert plain.headers["Content-Encoding"] is None
        assert plain.body == original_css
    finally:
        stop_server(process)
    access_log = log.read_text()
    assert f'"GET /static/{hashed_css} HTTP/1.1" 200' in access_log  # access log on stdout


def test_serve_stops_its_web_server_worker_and_beat_on_sigterm(tmp_path):
    env = _env(tmp_path)
    manage(["migrate", "--noinput"], env)
    manage(["collectstatic", "--noinput", "--verbosity=0"], env)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the children are the group's other members
        )
    try:
        wait_until_serving(process, port, log, timeout=60)
        assert _get(port, "/no-such-page/").status == 404
        process.send_signal(signal.SIGTERM)  # to serve alone, not to its children
        assert process.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while True:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break  # no process of the group is left
            assert time.monotonic() < deadline, "a child of serve outlived it:\n" + log.read_text()
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=5)
    output = log.read_text()
    assert "Booting worker with pid" in output  # gunicorn, not the development server
    assert "Starting development server" not in output
