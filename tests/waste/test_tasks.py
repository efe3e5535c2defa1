import time

import pytest

from waste.models import LedgerCheckpoint
from waste.tasks import ledger_seal_task


@pytest.mark.celery
def test_it_seals_the_ledger_in_the_background_worker(celery_worker, city, catalogs):
    from tests.conftest import client_for

    created = client_for(city.generator).post(
        "/api/v1/batches/",
        {"waste_code": "900-249-08", "quantity_kg": "10", "site": city.generation_site.pk},
        format="json",
    )
    assert created.status_code == 201

    ledger_seal_task.delay()

    deadline = time.monotonic() + 30
    while not LedgerCheckpoint.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    checkpoint = LedgerCheckpoint.objects.get()
    assert checkpoint.size == 1
