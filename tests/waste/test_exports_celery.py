"""A real Celery worker runs an export requested over the API, to 100 %."""

from __future__ import annotations

import time

import pytest

from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new  # noqa: F401
from tests.waste.export_helpers import request, run_verifier

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_it_runs_an_export_in_a_worker(city, catalogs, celery_worker, settings):
    generator = client_for(city.generator)
    for _ in range(3):
        batch_new(generator, city.generation_site, quantity="10.000")
    response = request(generator, kind="events", format="csv")
    assert response.status_code == 202
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    status = {}
    while time.monotonic() < deadline:
        status = generator.get(f"/api/v1/exports/{job_id}/").json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert status["status"] == "done", status
    assert status["progress"] == 100 and status["rows"] == 3
    download = generator.get(status["download_url"])
    assert download.status_code == 200
    path = settings.MEDIA_ROOT / "exports" / "downloaded.csv"
    path.write_bytes(b"".join(download.streaming_content))
    assert run_verifier(path).returncode == 0
