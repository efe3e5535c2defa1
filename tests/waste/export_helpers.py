"""A small scripted history for the export tests, and helpers to run and fetch exports."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone

from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new, permit, ship, store_in
from waste.models import ExportJob
from waste.services.exports import export_run


def history(city) -> SimpleNamespace:
    """Generator: A (100 kg) stored, released, shipped to the recycler who treats it (R9);
    B (50 kg) stored and incinerated by the generator itself (D10, 50 kg weighed)."""
    permit(city.plant, ["HW08"], ["R9"])
    generator, hauler, recycler = client_for(city.generator), client_for(city.hauler), client_for(city.recycler)
    a = batch_new(generator, city.generation_site, quantity="100.000")["code"]
    b = batch_new(generator, city.generation_site, quantity="50.000")["code"]
    store_in(generator, a, city.generation_site)
    store_in(generator, b, city.generation_site)
    released = generator.post(
        "/api/v1/scans/", {"code": a, "action": "store_out", "scanned_at": timezone.now().isoformat()}, format="json"
    )
    assert released.status_code == 201, released.json()
    manifest = ship(
        generator,
        hauler,
        recycler,
        from_site=city.generation_site,
        to_site=city.plant,
        codes=[a],
        carriers=[city.hauler_org.pk],
    )
    treated = recycler.post(f"/api/v1/batches/{a}/treat/", {"operation": "R9"}, format="json")
    assert treated.status_code == 200, treated.json()
    own = generator.post(f"/api/v1/batches/{b}/treat/", {"operation": "D10", "quantity_kg": "50.000"}, format="json")
    assert own.status_code == 200, own.json()
    return SimpleNamespace(a=a, b=b, manifest=manifest, generator=generator, recycler=recycler)


def today() -> str:
    return timezone.localdate().isoformat()


def request(client, kind="hj1259", format="csv", organisation=None, **extra):
    body = {
        "kind": kind,
        "format": format,
        "from": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        "to": today(),
        **extra,
    }
    if organisation is not None:
        body["organisation"] = organisation
    return client.post("/api/v1/exports/", body, format="json")


def export_file(client, **kwargs) -> Path:
    """Requests an export, runs its job here, downloads it through the expiring link."""
    response = request(client, **kwargs)
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    export_run(job_id=job_id)
    status = client.get(f"/api/v1/exports/{job_id}/").json()
    assert status["status"] == "done", status
    assert status["progress"] == 100 and status["rows"] > 0
    download = client.get(status["download_url"])
    assert download.status_code == 200
    job = ExportJob.objects.get(pk=job_id)
    path = settings.MEDIA_ROOT / job.file
    assert b"".join(download.streaming_content) == path.read_bytes()
    return path


def run_verifier(path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.run(
        [sys.executable, "-m", "waste.verify", str(path)], env=env, capture_output=True, text=True, cwd="/"
    )
