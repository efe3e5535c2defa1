"""The web and worker processes write the same database at the same time without "database is
locked": real gunicorn workers take batches over HTTP while a real Celery worker seals the ledger
over and over. It matters most on the embedded SpatiaLite default (WAL, a busy timeout, IMMEDIATE
write transactions: config/settings.py); the PostGIS pass runs it too."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from knox.models import AuthToken

from tests.waste.chain_helpers import OIL
from waste.models import Batch, LedgerCheckpoint, LedgerEntry
from waste.tasks import ledger_seal_task

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
http = requests.Session()
http.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names

REQUESTS = 60
SEALS = 40


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"spatialite:///{db['NAME']}"


@pytest.fixture
def web_process():
    """gunicorn with two worker processes on the test database, as `make run` serves the product."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    env.pop("DATABASE_OWNER_URL", None)
    log = open(Path(settings.VAR_DIR) / "test-web.log", "ab")  # noqa: SIM115 - closed below
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            http.get(base + "/api/v1/", timeout=10)
            break
        except requests.RequestException:
            if web.poll() is not None or time.monotonic() > deadline:
                web.kill()
                pytest.fail(f"gunicorn did not start; see {log.name}")
            time.sleep(0.2)
    yield base
    web.terminate()
    web.wait(timeout=20)
    log.close()


def test_it_lets_the_web_and_the_worker_write_at_the_same_time(city, catalogs, celery_worker, web_process):
    worker_log = Path(settings.VAR_DIR) / "test-worker.log"
    log_start = worker_log.stat().st_size
    _, token = AuthToken.objects.create(user=city.generator)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"waste_code": OIL, "quantity_kg": "10.000", "site": city.generation_site.pk, "description": "drum"}

    def post(_):
        return http.post(f"{web_process}/api/v1/batches/", json=body, headers=headers, timeout=60).status_code

    seals = [ledger_seal_task.delay() for _ in range(SEALS // 2)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(post, range(REQUESTS)))
        seals += [ledger_seal_task.delay() for _ in range(SEALS // 2)]

    assert statuses == [201] * REQUESTS
    wait_for_seals(worker_log, log_start, len(seals))
    worker_output = worker_log.read_bytes()[log_start:].decode(errors="replace")
    assert "database is locked" not in worker_output
    assert "OperationalError" not in worker_output
    assert Batch.objects.count() == REQUESTS
    assert LedgerEntry.objects.count() == REQUESTS
    assert LedgerCheckpoint.objects.exists()
    call_command("verify_ledger")


def wait_for_seals(log: Path, start: int, count: int) -> None:
    """Every seal task has finished, well or badly (the worker logs each one); none failed."""
    finished = re.compile(r"ledger_seal_task\[[0-9a-f-]+\] (succeeded|raised|retry)")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        outcomes = [m.group(1) for m in finished.finditer(log.read_bytes()[start:].decode(errors="replace"))]
        if len(outcomes) >= count:
            assert outcomes == ["succeeded"] * len(outcomes), outcomes
            return
        time.sleep(0.3)
    pytest.fail(f"the worker did not finish {count} seals in time; see {log}")
