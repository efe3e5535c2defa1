"""Creating batches, reading them, and their QR codes and labels."""

from __future__ import annotations

import datetime
import io

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image

from tests.conftest import client_for
from tests.waste.chain_helpers import (
    OIL,
    batch_new,
    counts,
    now_iso,
    pdf_page_sizes_mm,
    pdf_pages_qr,
    permit,
)
from tests.waste.test_catalogs import sw_file
from waste.codes import ALPHABET, batch_code_valid
from waste.models import Batch
from waste.services.catalogs import catalog_import

pytestmark = pytest.mark.django_db


def post(client, default_site, **fields):
    body = {"waste_code": OIL, "quantity_kg": "100.000", "site": default_site.pk, "description": "x", **fields}
    return client.post("/api/v1/batches/", body, format="json")


def assert_refused(response, status, field, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert field in error["fields"], error
    assert error["message"]
    if code:
        assert error["code"] == code, error


# --- creation ------------------------------------------------------------------------------------


def test_it_creates_a_batch_with_a_checked_code_and_a_public_qr(city, catalogs):
    before = counts()
    batch = batch_new(client_for(city.generator), city.generation_site)

    assert batch_code_valid(batch["code"])
    assert batch["qr"] == f"{settings.PUBLIC_BASE_URL}/t/{batch['code']}"
    assert batch["status"] == "generated"
    assert counts() == (before[0] + 1, before[1] + 1)


def test_it_rejects_a_code_with_any_one_character_mistyped(city, catalogs):
    client = client_for(city.generator)
    code = batch_new(client, city.generation_site)["code"]

    for position in range(2, len(code)):
        for replacement in "0A7Z":
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            response = client.get(f"/api/v1/batches/{typo}/")
            assert_refused(response, 400, "code", "invalid_code")


def test_it_gives_consecutive_batches_codes_with_no_shared_pattern(city, catalogs):
    client = client_for(city.generator)
    codes = [batch_new(client, city.generation_site)["code"] for _ in range(6)]

    bodies = [c[2:-1] for c in codes]
    assert len(set(codes)) == 6
    for a, b in zip(bodies, bodies[1:], strict=False):
        differing = sum(x != y for x, y in zip(a, b, strict=True))
        assert differing >= 4, (a, b)  # random 55-bit bodies differ almost everywhere; a counter would not
    assert all(c in ALPHABET for body in bodies for c in body)


def test_it_accepts_exactly_60_tonnes(city, catalogs):
    response = post(client_for(city.generator), city.generation_site, quantity_kg="60000")
    assert response.status_code == 201, response.json()


def test_it_accepts_a_generation_time_within_the_clock_skew(city, catalogs):
    response = post(client_for(city.generator), city.generation_site, generated_at=now_iso(minutes=2))
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("fields", "status", "field", "code"),
    [
        ({"waste_code": "999-999-99"}, 400, "waste_code", None),
        ({"waste_code": "HW08"}, 400, "waste_code", None),  # a category, not a waste code
        ({"waste_code": "R1"}, 400, "waste_code", None),  # an operation
        ({"quantity_kg": "0"}, 400, "quantity_kg", None),
        ({"quantity_kg": "-5"}, 400, "quantity_kg", None),
        ({"quantity_kg": "60000.001"}, 400, "quantity_kg", None),
        ({"generated_at": "FUTURE"}, 400, "generated_at", "future_time"),
        ({"quantity_kg": "lots"}, 400, "quantity_kg", "invalid"),
        ({"site": "abc"}, 400, "site", "invalid"),
        ({"site": 999999}, 400, "site", "unknown_site"),
        ({"containers": [{"type": "drum", "count": "x"}]}, 400, "containers.0.count", "invalid"),
        ({"containers": {"type": "drum"}}, 400, "containers", "invalid"),
        ({"hazard_traits": ["X"]}, 400, "hazard_traits", None),
        ({"physical_form": "plasma"}, 400, "physical_form", "invalid"),
    ],
)
def test_it_rejects_bad_input_and_writes_nothing(city, catalogs, fields, status, field, code):
    if fields.get("generated_at") == "FUTURE":
        fields = {"generated_at": now_iso(minutes=60)}
    before = counts()

    response = post(client_for(city.generator), city.generation_site, **fields)

    assert_refused(response, status, field, code)
    assert counts() == before


def test_it_rejects_missing_fields_naming_each(city, catalogs):
    before = counts()

    response = client_for(city.generator).post("/api/v1/batches/", {}, format="json")

    assert_refused(response, 400, "waste_code", "invalid")
    assert {"waste_code", "quantity_kg", "site"} <= set(response.json()["error"]["fields"])
    assert counts() == before


def test_it_rejects_a_code_that_a_newer_catalog_version_dropped(city, catalogs, tmp_path):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    catalog_import(
        key="cn-sw", version="test-next", effective_from=yesterday, path=sw_file(tmp_path, [["SW01", "冶炼废渣"]])
    )
    client = client_for(city.generator)
    before = counts()

    dropped = post(client, city.generation_site, waste_code="SW02")

    assert_refused(dropped, 400, "waste_code", "expired_code")
    assert counts() == before
    kept = post(client, city.generation_site, waste_code="SW01")
    assert kept.status_code == 201, kept.json()
    assert kept.json()["catalog"] == "cn-sw@test-next"


def test_it_rejects_a_code_the_sites_permits_do_not_cover(city, catalogs):
    permit(city.generation_site, ["HW08"], [])
    client = client_for(city.generator)
    before = counts()

    response = post(client, city.generation_site, waste_code="200101")

    assert_refused(response, 400, "waste_code", "not_permitted")
    assert counts() == before
    assert post(client, city.generation_site).status_code == 201  # HW08 is covered


def test_it_rejects_a_site_of_another_organisation(city, catalogs):
    before = counts()

    response = post(client_for(city.generator), city.outsider_site)

    assert_refused(response, 403, "site")
    assert counts() == before


def test_it_rejects_a_hauler_creating_a_batch_at_a_site_not_its_own(city, catalogs):
    response = post(client_for(city.hauler), city.generation_site)
    assert_refused(response, 403, "site")


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_it_rejects_changing_a_batch_status_directly(city, catalogs, method):
    client = client_for(city.generator)
    code = batch_new(client, city.generation_site)["code"]

    response = getattr(client, method)(f"/api/v1/batches/{code}/", {"status": "treated"}, format="json")

    assert response.status_code == 405
    assert Batch.objects.get(code=code).status == "generated"


def test_it_reads_a_batch_with_its_lineage_and_events(city, catalogs):
    client = client_for(city.generator)
    code = batch_new(client, city.generation_site)["code"]

    detail = client.get(f"/api/v1/batches/{code.lower()}/")

    assert detail.status_code == 200
    body = detail.json()
    assert body["code"] == code
    assert body["lineage"] == {"parents": [], "children": []}
    assert [e["event_type"] for e in body["events"]] == ["generated"]
    assert "pickup" in body["allowed_actions"] and "treat" not in body["allowed_actions"]


# --- QR codes and labels ------------------------------------------------------------------------


def test_it_serves_a_png_qr_that_decodes_to_the_payload(city, catalogs):
    client = client_for(city.generator)
    batch = batch_new(client, city.generation_site)

    response = client.get(f"/api/v1/batches/{batch['code']}/qr.png")

    assert response["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [b.text for b in found] == [batch["qr"]]


def test_it_serves_an_svg_qr(city, catalogs):
    client = client_for(city.generator)
    code = batch_new(client, city.generation_site)["code"]

    response = client.get(f"/api/v1/batches/{code}/qr.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content[:500]


@pytest.mark.parametrize(("volume_l", "side_mm"), [("30", 100), ("200", 150), ("1000", 200), (None, 100)])
def test_it_sizes_the_label_by_container_volume(city, catalogs, tmp_path, volume_l, side_mm):
    client = client_for(city.generator)
    container = {"type": "drum", "count": 1, **({"volume_l": volume_l} if volume_l else {})}
    code = batch_new(client, city.generation_site, containers=[container])["code"]

    response = client.get(f"/api/v1/batches/{code}/label.pdf")

    assert response["Content-Type"] == "application/pdf"
    assert pdf_page_sizes_mm(response.content, tmp_path) == [(side_mm, side_mm)]


def test_it_prints_a_sheet_of_five_labels_that_all_scan(city, catalogs, tmp_path):
    client = client_for(city.generator)
    batches = [
        batch_new(client, city.generation_site, containers=[{"type": "drum", "count": 1, "volume_l": "30"}])
        for _ in range(5)
    ]

    response = client.post("/api/v1/labels/sheet.pdf", {"batches": [b["code"] for b in batches]}, format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages, payloads = pdf_pages_qr(response.content, tmp_path)
    assert pages == 2  # 100 mm labels, four to an A4 page
    assert sorted(payloads) == sorted(b["qr"] for b in batches)


def test_it_rejects_a_label_sheet_with_a_batch_the_user_cannot_see(city, catalogs):
    own = batch_new(client_for(city.generator), city.generation_site)["code"]
    foreign = batch_new(client_for(city.outsider), city.outsider_site)["code"]

    response = client_for(city.generator).post("/api/v1/labels/sheet.pdf", {"batches": [own, foreign]}, format="json")

    assert_refused(response, 404, "batches.1", "unknown_batch")
