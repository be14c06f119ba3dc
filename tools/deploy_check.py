"""Run the README's PostgreSQL + Redis deployment steps exactly as written, then check the result.

The shell block under "## Running on PostgreSQL and Redis" is taken from README.md and run unchanged
by bash in its own process group, with debug off and, through the variables it reads, a database,
a Redis database, a data directory and a port of its own. Once the web server answers, the check
asks for the log-in page, the static CSS it links, the API docs and, logged in as a user created
for the purpose, a resident's page (all must be 200), and pings the Celery worker; beat must still
be running. Everything is bounded in time, and the processes, the database and the Redis database
are removed at the end, whatever happened.

Usage: ``python tools/deploy_check.py`` from the repository, with PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Running on PostgreSQL and Redis"

DATABASE = "zhuozhou_civic_deploy"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_DB = 13
REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
START_TIMEOUT = 240.0  # migrate, load_places, collectstatic and the first answer of the web server
HTTP_TIMEOUT = 30.0

USER_PHONE = "13812345678"
USER_PASSWORD = "deploy-check-Passw0rd"  # noqa: S105 — a throwaway account in a throwaway database


class CheckFailed(Exception):
    pass


def readme_block(readme: str) -> str:
    """The first fenced ``sh`` block of the README section on PostgreSQL and Redis."""
    start = readme.find(f"\n{SECTION}\n")
    if start < 0:
        raise CheckFailed(f"README.md has no section {SECTION!r}")
    body = readme[start + len(SECTION) + 2 :]
    following = re.search(r"^## ", body, flags=re.MULTILINE)
    if following:
        body = body[: following.start()]
    block = re.search(r"^```sh\n(.*?)^```$", body, flags=re.MULTILINE | re.DOTALL)
    if block is None:
        raise CheckFailed(f"the README section {SECTION!r} has no ```sh block")
    return block.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(command: list[str], env: dict[str, str] | None = None, timeout: float = 60.0) -> str:
    done = subprocess.run(  # noqa: S603 — fixed commands, no shell
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def _reset_stores() -> None:
    _run(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", DATABASE])
    _run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(REDIS_DB), "flushdb"])


class Client:
    """A browser's minimum: cookies, redirects, the CSRF token of the form it last fetched."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), urllib.request.ProxyHandler({})
        )

    def fetch(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str, str]:
        """Status, final path, content type and body of ``path`` (a POST when ``data`` is given)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 — http://127.0.0.1 only
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                final = urllib.parse.urlsplit(response.geturl()).path
                content = response.read().decode("utf-8", "replace")
                return response.status, final, response.headers.get("Content-Type", ""), content
        except urllib.error.HTTPError as error:
            return error.code, path, error.headers.get("Content-Type", ""), error.read().decode("utf-8", "replace")

    def expect(self, path: str, data: dict[str, str] | None = None, *, at: str | None = None) -> tuple[str, str]:
        status, final, content_type, content = self.fetch(path, data)
        if status != 200 or final != (at or path):
            raise CheckFailed(f"{path}: expected 200 at {at or path}, got {status} at {final}\n{content[:2000]}")
        print(f"   {'POST' if data is not None else 'GET '} {path} -> 200 {content_type}", flush=True)
        return content_type, content


def _wait_for_web(client: Client, stack: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise CheckFailed(f"the README's steps stopped (exit {stack.returncode}) before the web server answered")
        with contextlib.suppress(OSError):
            if client.fetch("/login/")[0] == 200:
                return
        time.sleep(1)
    raise CheckFailed(f"no answer from the web server within {START_TIMEOUT:.0f} s")


def _check(base: str, env: dict[str, str], stack: subprocess.Popen[bytes], log: Path) -> None:
    client = Client(base)
    _wait_for_web(client, stack, log)
    # The key the steps use (kept in the data directory by then), for the commands run beside them.
    env["DJANGO_SECRET_KEY"] = _run([sys.executable, "manage.py", "secret_key"], env=env).strip()

    _content_type, login_page = client.expect("/login/")
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+\.css)"', login_page)
    if not stylesheets:
        raise CheckFailed("the log-in page links no stylesheet")
    for href in stylesheets:
        content_type, _css = client.expect(href)
        if not content_type.startswith("text/css"):
            raise CheckFailed(f"{href} is served as {content_type!r}, not text/css")

    client.expect("/api/docs/")

    # An account, as an administrator would add one; then a resident's page behind the log-in form.
    create = (
        "from apps.accounts.models import User; "
        f"User.objects.create_user(phone={USER_PHONE!r}, password={USER_PASSWORD!r}, name='部署检查')"
    )
    _run([sys.executable, "manage.py", "shell", "-c", create], env=env)
    _content_type, form = client.expect("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if token is None:
        raise CheckFailed("the log-in page has no CSRF token")
    fields = {"csrfmiddlewaretoken": token.group(1), "username": USER_PHONE, "password": USER_PASSWORD}
    client.expect("/login/?next=/r/requests/", fields, at="/r/requests/")
    client.expect("/r/requests/")

    celery = [sys.executable, "-m", "celery", "-A", "zhuozhou_civic"]
    print("   " + _run([*celery, "inspect", "ping", "--timeout=10"], env=env, timeout=60).strip().splitlines()[-1])
    if stack.poll() is not None:
        raise CheckFailed(f"the README's steps stopped (exit {stack.returncode}): Celery beat is not running")


def _stop(stack: subprocess.Popen[bytes]) -> None:
    """End the whole process group of the steps: gunicorn and its workers, the worker, beat."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(stack.pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(stack.pid, 0)
            except ProcessLookupError:
                stack.wait()
                return
            stack.poll()  # reap the leader, so that only live members keep the group
            time.sleep(0.2)
    raise CheckFailed("processes of the README's steps outlived SIGKILL")


@contextlib.contextmanager
def _terminated_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the check like Ctrl+C does: through the clean-up."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> int:
    block = readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="zc-deploy-"))
    log = workdir / "steps.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"{POSTGRES}/{DATABASE}",
        REDIS_URL=REDIS,
        ZC_DATA_DIR=str(workdir / "data"),
        ADDR=f"127.0.0.1:{port}",
        PYTHONUNBUFFERED="1",
    )
    for name in ("PHONE_LOOKUP_KEY", "CACHE_URL"):
        env.pop(name, None)
    print(f"   the README's steps ({DATABASE}, Redis db {REDIS_DB}, {env['ADDR']}, debug off):", flush=True)
    print("   " + block.rstrip().replace("\n", "\n   "), flush=True)
    started = time.monotonic()
    stack: subprocess.Popen[bytes] | None = None
    with _terminated_by_signals():
        try:
            _reset_stores()
            _run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE])
            with log.open("wb") as output:
                stack = subprocess.Popen(  # noqa: S603 — the README's own steps
                    ["bash", "-e", "-c", block],  # noqa: S607
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            _check(base, env, stack, log)
        except (CheckFailed, subprocess.TimeoutExpired) as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            if log.exists():
                print("-- output of the steps --", file=sys.stderr)
                print(log.read_text(encoding="utf-8", errors="replace")[-6000:], file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: stopping the README's steps and removing their data", file=sys.stderr)
            return 130
        finally:
            if stack is not None:
                _stop(stack)
            with contextlib.suppress(CheckFailed, subprocess.TimeoutExpired):
                _reset_stores()
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"   deployment as written works ({time.monotonic() - started:.0f} s); all stopped and removed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
