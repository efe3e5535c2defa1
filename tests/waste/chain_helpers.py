"""Shared steps of the chain tests: batches, manifests and scans through the HTTP API only."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import zxingcpp
from PIL import Image

from tests.factories import persona
from tests.waste.test_chain_e2e import decode_pdf_qr, now_iso, permit, point_of, ship
from waste.models import Batch, LedgerEntry, Role

__all__ = [
    "decode_pdf_qr",
    "now_iso",
    "permit",
    "point_of",
    "ship",
    "batch_new",
    "manifest_new",
    "scan",
    "counts",
    "second_hauler",
    "pdf_pages_qr",
    "pdf_page_sizes_mm",
    "store_in",
]

OIL = "900-249-08"  # HW08, traits T and I


def batch_new(client, site, *, waste_code=OIL, quantity="100.000", **extra) -> dict:
    body = {"waste_code": waste_code, "quantity_kg": quantity, "site": site.pk, "description": "test waste", **extra}
    created = client.post("/api/v1/batches/", body, format="json")
    assert created.status_code == 201, created.json()
    return created.json()


def manifest_new(client, *, from_site, to_site, carriers, codes, sign=True) -> str:
    created = client.post(
        "/api/v1/manifests/",
        {"from_site": from_site.pk, "to_site": to_site.pk, "carriers": [c.pk for c in carriers], "batches": codes},
        format="json",
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    if sign:
        signed = client.post(f"/api/v1/manifests/{number}/sign/", {"role": "consignor"}, format="json")
        assert signed.status_code == 200, signed.json()
    return number


def scan(client, code, action, *, site=None, location=None, key=None, **extra):
    body = {"code": code, "action": action, "scanned_at": extra.pop("scanned_at", None) or now_iso(), **extra}
    if site is not None:
        body["site"] = site.pk
    if location is not None:
        body["location"] = location
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/scans/", body, format="json", **headers)


def store_in(client, code, site):
    stored = scan(client, code, "store_in", site=site, location=point_of(site))
    assert stored.status_code == 201, stored.json()
    return stored.json()


def counts() -> tuple[int, int]:
    return Batch.objects.count(), LedgerEntry.objects.count()


def second_hauler(name="hauler2"):
    from tests.conftest import hazardous_licence

    user, org, _ = persona(name, roles=[Role.HAULER], site_kind=None)
    hazardous_licence(org, number=f"{name.upper()}-HW-1")
    return user, org


def pdf_pages_qr(pdf: bytes, tmp_path: Path) -> tuple[int, list[str]]:
    """(pages according to pdfinfo, every QR payload decoded from the rasterised pages)."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")], check=True)
    found = []
    for image in sorted(tmp_path.glob("page*.png")):
        found += [b.text for b in zxingcpp.read_barcodes(Image.open(image))]
    return pages, found


def pdf_page_sizes_mm(pdf: bytes, tmp_path: Path) -> list[tuple[Decimal, Decimal]]:
    path = tmp_path / "size.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(path)], check=True, capture_output=True, text=True
    ).stdout
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    return [(round(Decimal(w) * Decimal("25.4") / 72), round(Decimal(h) * Decimal("25.4") / 72)) for w, h in sizes]
