"""The deployment files agree with each other and with the settings (no database, no Docker)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
SECRETS = {
    "SECRET_KEY": "test-secret",
    "LEDGER_SIGNING_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return env | extra


@pytest.fixture(scope="module")
def compose(tmp_path_factory):
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: `make test` installs the Debian package"
    # An empty --env-file: a developer's .env must not change what these tests see.
    empty = tmp_path_factory.mktemp("compose") / "empty.env"
    empty.touch()

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [binary, "--project-directory", str(REPO), "--env-file", str(empty), *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture(scope="module")
def config(compose) -> dict:
    result = compose("config", env=clean_env(**SECRETS))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_it_validates_with_the_secrets_set(compose):
    result = compose("config", "-q", env=clean_env(**SECRETS))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_it_refuses_to_start_without_a_secret(compose, missing):
    present = {k: v for k, v in SECRETS.items() if k != missing}

    result = compose("config", "-q", env=clean_env(**present))

    assert result.returncode != 0
    assert missing in result.stderr


def test_it_has_the_five_services(config):
    assert set(config["services"]) >= {"db", "redis", "web", "worker", "beat"}


def test_it_migrates_as_the_owner_before_web_starts_and_never_makes_migrations(config):
    services = config["services"]
    commands = {name: str(services[name].get("command", "")) for name in (*APP_SERVICES, "migrate")}

    assert "migrate --noinput" in commands["migrate"]
    assert "load_catalogs" in commands["migrate"]
    assert services["migrate"]["environment"]["DATABASE_OWNER_URL"].startswith("postgis://zerowaste_owner:")
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert all("makemigrations" not in command for command in commands.values())
    assert all("migrate" not in commands[name] for name in APP_SERVICES)


def test_it_runs_web_worker_and_beat_as_the_application_role_only(config):
    for name in APP_SERVICES:
        env = config["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgis://zerowaste_app:")
        assert "DATABASE_OWNER_URL" not in env


def test_it_makes_the_two_roles_when_the_database_is_created(config):
    volumes = [str(v) for v in config["services"]["db"]["volumes"]]
    script = (REPO / "docker" / "initdb-roles.sh").read_text()

    assert any("/docker-entrypoint-initdb.d/" in v and "initdb-roles.sh" in v for v in volumes)
    assert "CREATE ROLE zerowaste_owner" in script and "CREATE ROLE zerowaste_app" in script
    assert "SUPERUSER" not in script


def test_it_runs_celery_worker_and_beat(config):
    assert "celery -A config worker" in str(config["services"]["worker"]["command"])
    assert "celery -A config beat" in str(config["services"]["beat"]["command"])


def test_it_checks_postgis_before_starting_the_app(config):
    db = config["services"]["db"]
    assert "postgis" in " ".join(db["healthcheck"]["test"])
    assert "healthcheck" in config["services"]["redis"]
    for name in APP_SERVICES:
        depends_on = config["services"][name]["depends_on"]
        assert depends_on["db"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_it_points_the_app_at_postgis_and_redis_in_production(config):
    for name in APP_SERVICES:
        env = config["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgis://")
        assert env["DATABASE_URL"].endswith("@db:5432/zerowaste")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["DEBUG"] == "false"
        assert env["SECRET_KEY"] == SECRETS["SECRET_KEY"]


def test_it_only_sets_variables_the_settings_read(config):
    settings = (REPO / "config" / "settings.py").read_text()
    names = {name for svc in APP_SERVICES for name in config["services"][svc]["environment"]}

    unread = sorted(n for n in names if not re.search(rf"[\"']{n}[\"']", settings))

    assert names
    assert unread == []


def test_it_runs_the_readme_test_command_in_ci():
    ci = (REPO / ".ci" / "run").read_text()

    assert ci.startswith("#!/usr/bin/env bash")
    assert "exec make test" in ci
    assert os.access(REPO / ".ci" / "run", os.X_OK)


def test_it_documents_the_two_commands_in_the_readme():
    readme = REPO / "README.md"
    assert readme.exists(), "README.md is missing"

    text = readme.read_text()

    assert "make run" in text
    assert "make test" in text


def test_it_builds_the_image_without_root_or_makemigrations():
    dockerfile = (REPO / "Dockerfile").read_text()

    assert "FROM python:3.11-slim-bookworm" in dockerfile
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile
    assert "makemigrations" not in dockerfile
