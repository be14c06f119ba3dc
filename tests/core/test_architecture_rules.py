"""The architecture checks of CI: the syntax-tree rules (tools/check_rules.py) and the import
contracts (import-linter, configured in pyproject.toml) pass on the code and catch a breach."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_RULES = ROOT / "tools" / "check_rules.py"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
NO_SIGNALS = "Django signals are forbidden for business flow"


def _check_rules(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK_RULES), str(root)], capture_output=True, text=True, timeout=60, check=False
    )


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        # A wide terminal, so that an import chain is printed on one line.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_code_keeps_the_rules() -> None:
    result = _check_rules(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("path", "source", "line", "message"),
    [
        (
            "apps/dispatch/services.py",
            "def offer(task, offer_id):\n    task.delay(offer_id)\n",
            2,
            "`.delay()` enqueues a task directly; write a job row with apps.jobs.services.job_enqueue",
        ),
        (
            "apps/core/api.py",
            "from x import t\n\nt.apply_async(args=(1,))\n",
            3,
            "`.apply_async()` enqueues a task directly; write a job row with apps.jobs.services.job_enqueue",
        ),
        (
            "zhuozhou_civic/celery.py",
            "app = object()\napp.send_task('apps.dispatch.tasks.expire_offers')\n",
            2,
            "`.send_task()` enqueues a task directly; write a job row with apps.jobs.services.job_enqueue",
        ),
        (
            "apps/ratings/services.py",
            "import django.dispatch\n",
            1,
            f"imports `django.dispatch`: {NO_SIGNALS}",
        ),
        (
            "apps/ratings/services.py",
            "from django.db.models.signals import post_save\n",
            1,
            f"imports from `django.db.models.signals`: {NO_SIGNALS}",
        ),
        (
            "apps/ratings/services.py",
            "from django.db.models import signals\n",
            1,
            f"imports `django.db.models.signals`: {NO_SIGNALS}",
        ),
        (
            "apps/ratings/services.py",
            "from django.core import signals\n",
            1,
            f"imports `django.core.signals`: {NO_SIGNALS}",
        ),
        (
            "apps/ratings/services.py",
            "from x import receiver, saved\n\n\n@receiver(saved)\ndef on_save(sender, **kwargs):\n    pass\n",
            4,
            f"`@receiver` connects a signal: {NO_SIGNALS}",
        ),
        (
            "apps/ratings/services.py",
            "from x import saved\n\n\ndef on_save(sender, **kwargs):\n    pass\n\n\nsaved.connect(on_save)\n",
            8,
            f"`.connect()` connects a signal: {NO_SIGNALS}",
        ),
    ],
    ids=[
        "delay",
        "apply_async",
        "send_task-in-project",
        "import-dispatch",
        "from-model-signals",
        "from-models-import-signals",
        "from-core-import-signals",
        "receiver",
        "connect",
    ],
)
def test_each_rule_names_the_breach(tmp_path: Path, path: str, source: str, line: int, message: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(source, encoding="utf-8")
    result = _check_rules(tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{path}:{line}: {message}"]


def test_the_enqueue_helper_and_signals_outside_apps_are_allowed(tmp_path: Path) -> None:
    allowed = {
        "apps/core/tasks_util.py": "def publish(task):\n    task.apply_async(args=())\n",
        "zhuozhou_civic/celery.py": "from celery.signals import worker_init\n\nworker_init.connect(print)\n",
    }
    for path, source in allowed.items():
        (tmp_path / path).parent.mkdir(parents=True)
        (tmp_path / path).write_text(source, encoding="utf-8")
    result = _check_rules(tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


def test_the_code_keeps_the_import_contracts() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("path", "planted", "contract", "names"),
    [
        (
            "apps/core/errors.py",
            "from apps.workflow import services",
            "Apps are layered",
            "apps.core is not allowed to import apps.workflow",
        ),
        (
            "apps/ratings/selectors.py",
            "from apps.dispatch import selectors",
            "Apps are layered",
            "apps.ratings is not allowed to import apps.dispatch",
        ),
        (
            "apps/service_requests/selectors.py",
            "import apps.demo.services",
            "Nothing imports the demo seeding app",
            "apps.service_requests is not allowed to import apps.demo",
        ),
    ],
    ids=["core-imports-workflow", "ratings-imports-dispatch", "service-requests-imports-demo"],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, path: str, planted: str, contract: str, names: str
) -> None:
    # A copy of the code and of the contracts, with one import that the contracts forbid.
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in ("apps", "zhuozhou_civic"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = tmp_path / path
    source = target.read_text(encoding="utf-8")
    target.write_text(source + f"\n{planted}\n", encoding="utf-8")
    line = source.count("\n") + 2

    result = _lint_imports(tmp_path)

    assert result.returncode == 1
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    assert names in result.stdout
    importer = path.removesuffix(".py").replace("/", ".")
    imported = planted.split()[1] + ("" if planted.startswith("import") else "." + planted.split()[3])
    assert f"{importer} -> {imported} (l.{line})" in result.stdout
