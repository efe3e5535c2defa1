"""Kill -9 the worker in the middle of an export: after a new worker starts, the export finishes,
once, with the same bytes as an undisturbed run of the same job. On PostgreSQL with Redis, and on the
embedded default: SpatiaLite with the SQLite broker `make run` uses (which never re-delivers the dead
worker's message: the sweep queues the job again once its lease has passed)."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.faults.conftest import request_over_http, wait_until
from tests.waste.chain_helpers import OIL
from waste.models import ExportJob, LedgerCheckpoint
from waste.services.batches import batch_create
from waste.services.exports import export_write

pytestmark = pytest.mark.celery

BATCHES = 500  # enough ledger rows for the export to take a noticeable while


def ledger_of(city, n: int) -> None:
    when = timezone.now() - timezone.timedelta(hours=2)
    for i in range(n):
        batch_create(
            user=city.generator,
            site=city.generation_site,
            waste_code=OIL,
            quantity_kg=Decimal("1.5") + i,
            generated_at=when,
        )


def test_it_finishes_an_export_once_after_its_worker_is_killed(city, catalogs, processes, tmp_path):
    ledger_of(city, BATCHES)
    if connection.vendor == "postgresql":
        processes.redis_start()
    else:
        processes.sqlite_broker()
    processes.beat_start()
    worker = processes.worker_start()
    web = processes.web_start()

    response = request_over_http(web, city.generator)
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]

    def running():
        return ExportJob.objects.filter(pk=job_id, status="running").exists()

    wait_until(running, timeout=60, every=0.02, what="the worker to start the export")
    os.kill(worker.pid, signal.SIGSTOP)  # freeze it, then make sure it is still mid-export
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == "running" and job.attempt == 1 and not job.file, "the export ended before the kill"
    processes.kill("worker", signal.SIGKILL)

    time.sleep(1)
    assert ExportJob.objects.get(pk=job_id).status == "running"  # nobody finishes it while no worker runs
    processes.worker_start("worker2")

    job = wait_until(
        lambda: ExportJob.objects.filter(pk=job_id, status__in=["done", "failed"]).first(),
        timeout=90,
        what="the export to finish after the restart",
    )
    assert job.status == "done", (job.error, processes.log("worker2"))
    assert job.attempt == 2 and job.rows >= BATCHES
    path = settings.MEDIA_ROOT / job.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == job.sha256
    assert not list(path.parent.glob(f"{job.pk}*.part"))  # the dead attempt's partial file is not left

    undisturbed = tmp_path / "undisturbed.csv"
    checkpoint = LedgerCheckpoint.objects.order_by("-id").first()  # the one the export sealed
    export_write(job=job, path=undisturbed, checkpoint=checkpoint)
    assert hashlib.sha256(undisturbed.read_bytes()).hexdigest() == job.sha256

    time.sleep(2)  # the dead attempt's message and the sweep's own, both delivered: still one run
    again = ExportJob.objects.get(pk=job_id)
    assert (again.status, again.attempt, again.finished_at) == ("done", 2, job.finished_at)
    assert ExportJob.objects.filter(fingerprint=job.fingerprint).count() == 1
