"""Architecture rules that import contracts cannot express, checked on the syntax tree.

1. Background work is a job row (``apps.jobs.services.job_enqueue``), published only by the relay
   (``apps.core.tasks_util.task_publish``): no call to
   ``.delay()``, ``.apply_async()`` or ``.send_task()`` anywhere else under ``apps/`` or
   ``zhuozhou_civic/``.
2. No Django signals for business flow under ``apps/``: no import of ``django.dispatch``,
   ``django.db.models.signals`` or ``django.core.signals``, no ``@receiver`` decorator and no
   ``.connect()`` call.

Usage: ``python tools/check_rules.py [ROOT]`` (ROOT defaults to the repository). Prints one
``path:line: message`` per breach and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task"})
ENQUEUE_DIRS = ("apps", "zhuozhou_civic")
ENQUEUE_HELPER = "apps/core/tasks_util.py"

SIGNAL_MODULES = ("django.dispatch", "django.db.models.signals", "django.core.signals")
SIGNAL_DIRS = ("apps",)
NO_SIGNALS = "Django signals are forbidden for business flow"


def _is_signal_module(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in SIGNAL_MODULES)


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _enqueue_breaches(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ENQUEUE_METHODS:
            yield (
                node.lineno,
                f"`.{node.func.attr}()` enqueues a task directly; write a job row with apps.jobs.services.job_enqueue",
            )


def _signal_breaches(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_signal_module(alias.name):
                    yield node.lineno, f"imports `{alias.name}`: {NO_SIGNALS}"
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if _is_signal_module(node.module):
                yield node.lineno, f"imports from `{node.module}`: {NO_SIGNALS}"
            else:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if _is_signal_module(name):
                        yield node.lineno, f"imports `{name}`: {NO_SIGNALS}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                if _decorator_name(decorator) == "receiver":
                    yield decorator.lineno, f"`@receiver` connects a signal: {NO_SIGNALS}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect":
            yield node.lineno, f"`.connect()` connects a signal: {NO_SIGNALS}"


def _python_files(root: Path, directory: str) -> list[Path]:
    base = root / directory
    return sorted(base.rglob("*.py")) if base.is_dir() else []


def check(root: Path) -> list[str]:
    """Every breach under ``root`` as ``path:line: message`` (path relative to ``root``), in order."""
    found: set[tuple[str, int, str]] = set()
    for directory in dict.fromkeys(ENQUEUE_DIRS + SIGNAL_DIRS):
        for path in _python_files(root, directory):
            relative = path.relative_to(root).as_posix()
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            except SyntaxError as exc:
                found.add((relative, exc.lineno or 0, f"cannot be parsed: {exc.msg}"))
                continue
            if directory in ENQUEUE_DIRS and relative != ENQUEUE_HELPER:
                found.update((relative, line, message) for line, message in _enqueue_breaches(tree))
            if directory in SIGNAL_DIRS:
                found.update((relative, line, message) for line, message in _signal_breaches(tree))
    return [f"{path}:{line}: {message}" for path, line, message in sorted(found)]


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    breaches = check(root)
    for breach in breaches:
        print(breach)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
