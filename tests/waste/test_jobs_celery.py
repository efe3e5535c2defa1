"""A real worker given the same export twice (the sweep sent it again while the first message was
still on its way): one run, one result."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.celery import app
from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new
from tests.waste.export_helpers import request
from waste.models import ExportJob
from waste.services.exports import EXPORT_TASK

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_it_runs_an_export_delivered_twice_once(city, catalogs, celery_worker):
    log = Path(django_settings.VAR_DIR) / "test-worker.log"
    start = log.stat().st_size
    generator = client_for(city.generator)
    batch_new(generator, city.generation_site, quantity="10.000")
    response = request(generator, kind="events", format="csv")  # delivery 1, sent after commit
    assert response.status_code == 202
    job_id = response.json()["id"]
    app.send_task(EXPORT_TASK, args=[job_id])  # delivery 2: what the sweep's resend puts on the queue

    def outcomes() -> list[str]:
        text = log.read_text(errors="replace")[start:]
        return re.findall(r"export_run_task\[[^\]]+\] succeeded in [^:]+: (\S+)", text)

    deadline = time.monotonic() + 60
    while len(outcomes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)

    assert sorted(outcomes()) == ["'done'", "None"]  # one delivery ran it, the other found it claimed
    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.attempt, job.rows) == ("done", 1, 1)
    assert ExportJob.objects.filter(fingerprint=job.fingerprint).count() == 1
