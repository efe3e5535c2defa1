"""Stop Redis while scans and export requests arrive: no 5xx, nothing lost, the jobs run after it returns."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.utils import timezone

from tests.faults.conftest import bearer, request_over_http, wait_until
from tests.waste.chain_helpers import OIL, point_of
from waste.models import Batch, ExportJob, LedgerEntry, OutboxMessage

pytestmark = pytest.mark.celery


def test_it_answers_and_keeps_every_job_while_the_broker_is_down(city, catalogs, processes):
    port = processes.redis_start()
    web = processes.web_start()
    processes.beat_start()
    processes.worker_start()
    headers = bearer(city.generator)

    processes.redis_stop()
    codes, exports = [], []
    for i in range(3):
        made = requests.post(
            f"{web}/api/v1/batches/",
            json={"waste_code": OIL, "quantity_kg": "10", "site": city.generation_site.pk},
            headers=headers,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        stored = requests.post(
            f"{web}/api/v1/scans/",
            json={
                "code": code,
                "action": "store_in",
                "site": city.generation_site.pk,
                "location": point_of(city.generation_site),
                "scanned_at": timezone.now().isoformat(),
            },
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
        assert stored.status_code == 201, stored.text
        codes.append(code)
        kind = ["events", "hj1259", "register"][i]
        asked = request_over_http(web, city.generator, kind=kind, headers=headers)
        assert asked.status_code == 202, asked.text  # the write answers, the job waits in the outbox
        exports.append(asked.json()["id"])

    assert Batch.objects.filter(code__in=codes).count() == 3
    assert LedgerEntry.objects.filter(batch_code__in=codes).count() == 6  # created and stored in, each
    assert ExportJob.objects.filter(pk__in=exports, status="queued").count() == 3
    assert pending(exports) == set(exports), list(OutboxMessage.objects.values("task", "args", "sent_at", "last_error"))

    processes.redis_start(port)  # the same broker comes back, empty
    # A worker can exit on losing its broker at an unlucky moment (kombu's restore of unacknowledged
    # messages fails): production restarts it (docker-compose `restart: unless-stopped`); so does this.
    processes.supervise("worker")

    wait_until(
        lambda: ExportJob.objects.filter(pk__in=exports, status="done").count() == 3,
        timeout=90,
        what=f"the exports to run after the broker returned: {processes.log('worker')[-1500:]}",
    )
    assert not pending(exports)


def pending(exports) -> set[str]:
    unsent = OutboxMessage.objects.filter(task="waste.tasks.export_run_task", sent_at__isnull=True)
    return {m.args[0] for m in unsent} & set(exports)
