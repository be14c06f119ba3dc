"""Outside debug, nothing that serves or handles personal data starts without the secret, while
commands that need none (such as the migration check) still run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'zhuozhou_civic.settings'); django.setup(); "
)


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL"}}
    env.update(ZC_DATA_DIR=str(tmp_path), CELERY_BROKER_URL="filesystem://", REDIS_URL="")
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        [sys.executable, "-c", "import zhuozhou_civic.wsgi"],
        [sys.executable, "-c", "import zhuozhou_civic.asgi"],
        [sys.executable, "-m", "celery", "-A", "zhuozhou_civic", "worker", "--pool=solo"],
        [sys.executable, "-m", "celery", "-A", "zhuozhou_civic", "beat", "--schedule", "beat-schedule"],
        [sys.executable, "-c", SETUP + "from apps.accounts.phones import phone_digest; phone_digest('13900000001')"],
        [sys.executable, "-c", SETUP + "from apps.accounts.models import User; User._meta.get_field('phone').f"],
    ],
    ids=["wsgi", "asgi", "worker", "beat", "phone-lookup", "field-encryption"],
)
def test_web_worker_beat_and_personal_data_refuse_to_start_without_the_secret(args, tmp_path):
    if args[-1] == "beat-schedule":
        args = [*args[:-1], str(tmp_path / "beat-schedule")]
    result = _run(args, tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "SECRET_KEY" in output


def test_the_migration_check_runs_without_the_secret(tmp_path):
    result = _run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
