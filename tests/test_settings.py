"""Production settings: `check --deploy` is clean, and inconsistent settings stop the process at start
with a message naming the setting (each case runs the settings in a fresh interpreter; no database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-" + "x" * 50,
    "LEDGER_SIGNING_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "ALLOWED_HOSTS": "zerowaste.example.cn",
    "DATABASE_URL": "postgis://zerowaste_app:app-secret@db:5432/zerowaste",
    "DATABASE_OWNER_URL": "postgis://zerowaste_owner:owner-secret@db:5432/zerowaste",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "REDIS_URL": "redis://redis:6379/1",
}
# Settings-only environment: what the shell running the tests has set must not leak in.
# DJANGO_ALLOW_ASYNC_UNSAFE is set for the whole session by tests/web/conftest.py (Playwright); production
# never sets it, and `check --deploy` rightly refuses it (async.E001).
DROPPED = {
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "HTTPS",
    "ROUTING_SOLVER",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run(*args: str, env: dict[str, str], code: str | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in DROPPED} | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=REPO, env=base | env, capture_output=True, text=True, timeout=120)


def load_settings(env: dict[str, str], before: str = "") -> subprocess.CompletedProcess:
    code = (
        "import os, sys\n" + before + "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "from django.conf import settings\nsettings.INSTALLED_APPS\nprint('loaded')\n"
    )
    return run(env=env, code=code)


def test_it_passes_the_deployment_checks_with_the_production_settings():
    result = run("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_turns_on_https_cookies_and_hsts_in_production_and_names_the_proxy_header():
    code = (
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        " s.SECURE_PROXY_SSL_HEADER)\n"
    )
    result = run(env=PRODUCTION | {"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, code=code)

    assert result.stdout.split() == ["True", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"]


def test_it_warns_on_deploy_when_the_application_would_own_the_tables():
    env = PRODUCTION | {"DATABASE_OWNER_URL": ""}

    result = run("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "zerowaste.W001" in result.stderr and "DATABASE_OWNER_URL" in result.stderr


@pytest.mark.parametrize(
    ("owner_url", "message"),
    [
        ("postgis://zerowaste_owner:x@db:5432/other", "must name the same server and database"),
        ("postgis://zerowaste_owner:x@elsewhere:5432/zerowaste", "must name the same server and database"),
        ("postgis://zerowaste_app:x@db:5432/zerowaste", "a different role"),
    ],
)
def test_it_refuses_an_owner_url_that_does_not_match_the_application_database(owner_url, message):
    result = load_settings(PRODUCTION | {"DATABASE_OWNER_URL": owner_url})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_it_refuses_an_owner_url_for_the_embedded_database():
    result = load_settings(
        {"DATABASE_URL": "spatialite:////tmp/x.sqlite3", **{"DATABASE_OWNER_URL": "postgis://o:x@db/z"}}
    )

    assert result.returncode != 0
    assert "DATABASE_OWNER_URL is for PostgreSQL" in result.stderr


def test_it_names_the_extra_to_install_when_or_tools_is_chosen_but_absent():
    hidden = "sys.modules['ortools'] = None  # as if the extra were not installed\n"

    result = load_settings({"ROUTING_SOLVER": "ortools"}, before=hidden)

    assert result.returncode != 0
    assert "pip install 'zerowaste[ortools]'" in result.stderr


def test_it_starts_with_or_tools_when_it_is_installed():
    result = load_settings({"ROUTING_SOLVER": "ortools"})

    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout


def test_it_refuses_an_unknown_solver():
    result = load_settings({"ROUTING_SOLVER": "guess"})

    assert result.returncode != 0
    assert "ROUTING_SOLVER must be pyvrp or ortools" in result.stderr


def test_it_sends_jobs_through_the_embedded_default_broker(tmp_path):
    # The embedded default queues jobs in SQLite through kombu's SQLAlchemy transport, which refuses
    # Redis's transport options: a job sent there must reach the queue.
    broker = tmp_path / "broker.sqlite3"
    code = (
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django\ndjango.setup()\nfrom config.celery import app\n"
        "app.send_task('waste.tasks.outbox_send_task')\nprint('sent')\n"
    )
    result = run(env={"CELERY_BROKER_URL": f"sqla+sqlite:///{broker}"}, code=code)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "sent" in result.stdout
    assert broker.stat().st_size > 0
