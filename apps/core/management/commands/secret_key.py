"""The secret key of a single-machine installation, kept in the data directory.

``make run`` exports ``DJANGO_SECRET_KEY`` from this command, so the first run needs no set-up
and every later run (and the worker and beat) signs and decrypts with the same key. Settings
never fall back to this file: a deployment that sets nothing still refuses to start."""

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

FILENAME = "secret_key"
MIN_LENGTH = 50


class SecretKeyFileError(CommandError):
    """The key file exists but cannot be trusted; it is left exactly as it is."""


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise SecretKeyFileError(f"{path} is not a regular file")
    if mode & 0o077:
        raise SecretKeyFileError(
            f"{path} is readable or writable by other users (mode {stat.S_IMODE(mode):o}): the key may have "
            "leaked. Replace it (delete the file and re-run; sessions end) or, if you are sure, chmod 600 it."
        )
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_LENGTH:
        raise SecretKeyFileError(f"{path} holds no usable key (fewer than {MIN_LENGTH} characters)")
    return key


def ensure_secret_key(data_dir: Path) -> str:
    """The key in ``data_dir/secret_key``, generated (mode 0600, directory 0700) when missing.

    A key file that other users can read, or that holds no usable key, is refused, never
    rewritten: replacing a key silently would end every session and orphan the encrypted
    phone numbers and addresses."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = data_dir.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.chmod(data_dir, 0o700)  # the database lives here too; nobody else has business in it
    path = data_dir / FILENAME
    if path.exists() or path.is_symlink():
        return _read(path)
    # Written in full to a private temporary file, then linked into place: a concurrent first
    # run never sees a half-written key, and the one that loses the race reads the winner's.
    tmp = data_dir / f".{FILENAME}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(MIN_LENGTH) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


class Command(BaseCommand):
    help = (
        "Print this installation's secret key, generating it on first use in the data directory "
        "(secret_key, mode 0600). Used by `make run`; a deployment sets DJANGO_SECRET_KEY itself."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--data-dir", type=Path, default=None, help="default: the data directory (var/)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(ensure_secret_key(options["data_dir"] or Path(settings.DATA_DIR)))
