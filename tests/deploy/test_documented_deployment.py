"""The README's PostgreSQL + Redis steps, which CI runs as written (tools/deploy_check.py), are
complete, and every way of starting the web server uses the same documented gunicorn settings."""

import json
import runpy
import shlex
from pathlib import Path

import pytest
from gunicorn.config import Config

from apps.core.management.commands.serve import GUNICORN_CONFIG, gunicorn_command
from tools.deploy_check import CheckFailed, readme_block

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def block() -> str:
    return readme_block((ROOT / "README.md").read_text(encoding="utf-8"))


def _commands(block: str) -> list[list[str]]:
    lines = [line.split("#", 1)[0].strip().rstrip("&").strip() for line in block.splitlines()]
    return [shlex.split(part) for line in lines if line for part in line.split("&&")]


def test_the_readme_block_parses_into_the_deployment_steps_in_order(block):
    commands = _commands(block)
    manage = [command[2] for command in commands if command[:2] == [".venv/bin/python", "manage.py"]]
    assert manage[-5:] == ["migrate", "createcachetable", "load_places", "load_teams", "collectstatic"]
    assert [".venv/bin/python", "manage.py", "collectstatic", "--noinput"] in commands
    programs = [command[0] for command in commands]
    assert programs.index(".venv/bin/gunicorn") > max(i for i, c in enumerate(commands) if "collectstatic" in c)
    assert commands[-2][:4] == [".venv/bin/celery", "-A", "zhuozhou_civic", "worker"]
    assert commands[-1][:4] == [".venv/bin/celery", "-A", "zhuozhou_civic", "beat"]


def test_the_readme_starts_gunicorn_with_the_shared_config_in_the_background(block):
    (line,) = [line for line in block.splitlines() if line.startswith(".venv/bin/gunicorn")]
    assert line.rstrip().endswith("&")
    command = shlex.split(line.rstrip(" &"))
    assert command[command.index("-c") + 1] == "gunicorn.conf.py"
    assert command[command.index("-b") + 1] == "${ADDR:-127.0.0.1:8000}"
    assert command[-1] == "zhuozhou_civic.wsgi"


def test_the_readme_block_lets_ci_choose_database_redis_and_port(block):
    # Every setting the block exports keeps a value already in the environment.
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"):
        assert f"export {name}=${{{name}:-" in block
    assert "DJANGO_DEBUG" not in block  # debug stays off


def test_a_readme_without_the_section_or_its_block_is_refused():
    with pytest.raises(CheckFailed):
        readme_block("# Title\n\n## Something else\n\n```sh\nmake run\n```\n")
    with pytest.raises(CheckFailed):
        readme_block("# Title\n\n## Running on PostgreSQL and Redis\n\nNo block.\n\n## Next\n\n```sh\nls\n```\n")


def test_the_shared_config_keeps_idle_connections_longer_than_clients_reuse_them():
    config = Config()
    namespace = runpy.run_path(str(GUNICORN_CONFIG))  # as gunicorn reads it
    for name in ("bind", "worker_class", "workers", "threads", "keepalive", "accesslog", "control_socket_disable"):
        config.set(name, namespace[name])
    assert config.worker_class_str == "gthread"  # the sync worker ignores keep-alive
    assert (config.workers, config.threads) == (2, 4)
    assert config.keepalive > 60  # nginx keeps idle upstream connections 60 s
    assert config.accesslog == "-"
    assert config.bind == ["127.0.0.1:8000"]


def test_serve_docker_and_compose_use_the_shared_config():
    assert GUNICORN_CONFIG == ROOT / "gunicorn.conf.py"
    assert f"--config={GUNICORN_CONFIG}" in gunicorn_command("127.0.0.1:8000")

    (cmd,) = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    docker = json.loads(cmd.removeprefix("CMD "))
    assert docker[:2] == ["gunicorn", "--config=gunicorn.conf.py"]
    # The compose file repeats the image's command for the web service; JSON arrays are valid YAML flow.
    (line,) = [line for line in (ROOT / "docker-compose.yml").read_text().splitlines() if '"gunicorn"' in line]
    assert json.loads(line.split("command:", 1)[1]) == docker
