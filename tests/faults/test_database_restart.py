"""Restart PostgreSQL while a client sends scans with idempotency keys and retries: no 500, every scan
in the ledger exactly once, and verify_ledger passes.

The test runs its OWN throwaway PostgreSQL cluster (initdb in a temporary directory, as scripts/test.sh
does) on a free port: the cluster the other tests share is never stopped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from tests.faults.conftest import free_port, wait_until

pytestmark = [pytest.mark.postgis, pytest.mark.celery]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SCANS = 40

SETUP = """
import json
from knox.models import AuthToken
from tests.factories import persona
from waste.models import Role, SiteKind
from waste.services.batches import batch_create
from waste.services.catalogs import catalogs_load_shipped
from decimal import Decimal
catalogs_load_shipped()
user, org, site = persona("generator", roles=[Role.GENERATOR], site_kind=SiteKind.GENERATION)
codes = [batch_create(user=user, site=site, waste_code="900-249-08", quantity_kg=Decimal("5")).code for _ in range(%d)]
_, token = AuthToken.objects.create(user=user)
print(json.dumps({"token": token, "site": site.pk, "point": [site.location.x, site.location.y], "codes": codes}))
"""


class Cluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="zerowaste-fault-pg-", dir="/var/tmp"))
        self.data, self.run = self.root / "data", self.root / "run"
        self.port = free_port()
        self.url = f"postgis://zerowaste:zerowaste@127.0.0.1:{self.port}/zerowaste"

    def as_pg(self, *args, **kwargs):
        command = [str(a) for a in args]
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, cwd="/", **kwargs)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        self.run.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            for path in (self.data, self.run):
                shutil.chown(path, "postgres", "postgres")
        self.data.chmod(0o700)
        self.as_pg(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions",
        )  # fmt: skip
        self.start()
        sql = "CREATE ROLE zerowaste LOGIN SUPERUSER PASSWORD 'zerowaste';CREATE DATABASE zerowaste OWNER zerowaste;"
        for statement in sql.split(";")[:-1]:
            self.as_pg("psql", "-X", "-q", "-h", self.run, "-p", self.port, "-U", "postgres", "-c", statement)
        self.as_pg(
            "psql", "-X", "-q", "-h", self.run, "-p", self.port, "-U", "postgres", "-d", "zerowaste",
            "-c", "CREATE EXTENSION postgis",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.run} -c fsync=off -c full_page_writes=off"
        self.as_pg(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.run / "postgres.log",
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            options,
        )

    def stop(self) -> None:
        self.as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        try:
            self.as_pg(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 server binaries are needed at {PG_BIN} (scripts/bootstrap.sh installs them)")
    made = Cluster()
    try:
        made.init()
        yield made
    finally:
        made.destroy()


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        **kwargs,
    )


def test_it_records_every_retried_scan_once_across_a_database_restart(cluster, processes):
    env = processes.env
    env["DATABASE_URL"] = cluster.url
    migrated = manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    made = manage(env, "shell", "-c", SETUP % SCANS)
    assert made.returncode == 0, made.stderr[-3000:]
    world = json.loads(made.stdout.strip().splitlines()[-1])
    processes.redis_start()
    web = processes.web_start()

    statuses: list[int] = []
    answered: dict[str, int] = {}

    def client():
        headers = {"Authorization": f"Bearer {world['token']}"}
        for code in world["codes"]:
            key = str(uuid.uuid4())  # one key per scan, kept across its retries
            body = {
                "code": code,
                "action": "store_in",
                "site": world["site"],
                "location": {"type": "Point", "coordinates": world["point"]},
                "scanned_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            }
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    response = requests.post(
                        f"{web}/api/v1/scans/", json=body, headers={**headers, "Idempotency-Key": key}, timeout=10
                    )
                except requests.RequestException:
                    statuses.append(0)
                    time.sleep(0.2)
                    continue
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert response.headers.get("Retry-After"), response.text
                    assert response.json()["error"]["code"] == "database_unavailable"
                    time.sleep(0.2)  # a real client waits Retry-After; the test keeps it short
                    continue
                answered[code] = response.status_code
                break
            time.sleep(0.05)

    sender = threading.Thread(target=client, daemon=True)
    sender.start()
    wait_until(lambda: len(answered) >= 5, timeout=60, what="the first scans")
    cluster.stop()
    # A person opening a page meanwhile gets a page saying so in their language, not an error.
    page = requests.get(f"{web}/t/{world['codes'][0]}", headers={"Accept-Language": "zh-hans"}, timeout=10)
    time.sleep(1.5)  # scans arrive while the database is gone
    cluster.start()
    sender.join(timeout=150)

    assert not sender.is_alive(), "the client did not finish"
    assert page.status_code == 503 and page.headers.get("Retry-After"), (page.status_code, page.text[:500])
    assert "暂时无法使用" in page.text and "text/html" in page.headers["Content-Type"]
    assert 503 in statuses, "no request reached the database while it was down"
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    assert answered == dict.fromkeys(world["codes"], 201), answered
    with psycopg.connect(f"postgresql://zerowaste:zerowaste@127.0.0.1:{cluster.port}/zerowaste") as db:
        counts = dict(
            db.execute(
                "SELECT batch_code, count(*) FROM waste_ledgerentry WHERE event_type = 'stored' GROUP BY batch_code"
            ).fetchall()
        )
    assert counts == dict.fromkeys(world["codes"], 1)
    verified = manage(env, "verify_ledger")
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
