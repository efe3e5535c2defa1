"""A batch from the enterprise to its final fate, through the HTTP API only."""

from __future__ import annotations

import datetime
import subprocess
from decimal import Decimal

import pytest
import zxingcpp
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from tests.conftest import client_for
from waste.models import LedgerEntry, Permit

pytestmark = pytest.mark.django_db(transaction=True)


def now_iso(minutes: int = 0) -> str:
    return (timezone.now() + datetime.timedelta(minutes=minutes)).isoformat()


def point_of(site) -> dict:
    return {"type": "Point", "coordinates": [site.location.x, site.location.y]}


def permit(site, codes, operations):
    today = datetime.date.today()
    Permit.objects.create(
        site=site,
        number=f"P-{site.pk}",
        codes=codes,
        operations=operations,
        annual_quantity_kg=Decimal("1000000"),
        valid_from=today.replace(month=1, day=1),
        valid_until=today.replace(year=today.year + 1),
    )


def decode_pdf_qr(pdf: bytes, tmp_path) -> str:
    (tmp_path / "label.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(tmp_path / "label.pdf"), str(tmp_path / "label")],
        check=True,
    )
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "label.png"))
    assert len(found) == 1
    return found[0].text


def ship(consignor, hauler, receiver, *, from_site, to_site, codes, carriers):
    created = consignor.post(
        "/api/v1/manifests/",
        {"from_site": from_site.pk, "to_site": to_site.pk, "carriers": carriers, "batches": codes},
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    signed = consignor.post(f"/api/v1/manifests/{number}/sign/", {"role": "consignor"}, format="json")
    assert signed.json()["status"] == "sealed"
    for code in codes:
        picked = hauler.post(
            "/api/v1/scans/",
            {
                "code": code,
                "action": "pickup",
                "location": point_of(from_site),
                "scanned_at": now_iso(),
                "device_id": "truck-1",
            },
            format="json",
        )
        assert picked.status_code == 201, picked.json()
        dropped = hauler.post(
            "/api/v1/scans/",
            {"code": code, "action": "dropoff", "location": point_of(to_site), "scanned_at": now_iso()},
            format="json",
        )
        assert dropped.status_code == 201, dropped.json()
        received = receiver.post(
            "/api/v1/scans/",
            {
                "code": code,
                "action": "receive",
                "site": to_site.pk,
                "location": point_of(to_site),
                "scanned_at": now_iso(),
            },
            format="json",
        )
        assert received.status_code == 201, received.json()
        assert received.json()["batch"]["status"] == "received"
    accepted = receiver.post(
        f"/api/v1/manifests/{number}/sign/", {"role": "receiver", "decision": "accept"}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "received"
    return number


def test_it_follows_a_batch_from_enterprise_to_treatment(city, catalogs, tmp_path):
    permit(city.transfer, ["HW08"], ["R13"])
    permit(city.plant, ["HW08"], ["R9"])
    generator, hauler = client_for(city.generator), client_for(city.hauler)
    operator, recycler = client_for(city.operator), client_for(city.recycler)

    codes = []
    for quantity in ("120.500", "80.000"):
        created = generator.post(
            "/api/v1/batches/",
            {
                "waste_code": "900-249-08",
                "quantity_kg": quantity,
                "site": city.generation_site.pk,
                "description": "Spent hydraulic oil",
                "physical_form": "liquid",
                "containers": [{"type": "drum", "count": 1, "volume_l": "200"}],
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        assert created.json()["status"] == "generated"
        assert sorted(created.json()["hazard_traits"]) == ["I", "T"]
        codes.append(created.json()["code"])
    first = generator.get(f"/api/v1/batches/{codes[0]}/").json()
    label = generator.get(f"/api/v1/batches/{codes[0]}/label.pdf")
    assert label["Content-Type"] == "application/pdf"
    assert decode_pdf_qr(label.content, tmp_path) == first["qr"]

    ship(
        generator,
        hauler,
        operator,
        from_site=city.generation_site,
        to_site=city.transfer,
        codes=codes,
        carriers=[city.hauler_org.pk],
    )

    consolidated = operator.post(
        "/api/v1/batches/consolidate/", {"batches": codes, "site": city.transfer.pk}, format="json"
    )
    assert consolidated.status_code == 201, consolidated.json()
    big = consolidated.json()["code"]
    assert Decimal(consolidated.json()["quantity_kg"]) == Decimal("200.500")

    ship(
        operator,
        hauler,
        recycler,
        from_site=city.transfer,
        to_site=city.plant,
        codes=[big],
        carriers=[city.hauler_org.pk],
    )
    treated = recycler.post(f"/api/v1/batches/{big}/treat/", {"operation": "R9"}, format="json")
    assert treated.status_code == 200, treated.json()
    assert treated.json()["status"] == "treated"

    trace = generator.get(f"/api/v1/batches/{codes[0]}/trace/").json()
    origin = {o["batch"]: o for o in trace["origins"]}[codes[0]]
    assert origin["fates"] == [{"batch": big, "operation": "R9", "quantity_kg": "120.500"}]
    assert origin["pending_kg"] == "0.000"
    events = generator.get(f"/api/v1/batches/{codes[0]}/events.jsonld").json()
    types = [e["type"] for e in events["epcisBody"]["eventList"]]
    assert types[0] == "ObjectEvent" and "AggregationEvent" in types

    call_command("seal_ledger")
    call_command("verify_ledger")
    assert LedgerEntry.objects.filter(batch__code=big, event_type="treated").count() == 1
