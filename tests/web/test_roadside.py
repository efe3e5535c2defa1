"""Roadside control: the driver's load with a signed QR link; the read-only page an inspector opens
without login; expired or altered links refused with a clear page; the manifest as a Chinese PDF."""

from __future__ import annotations

import base64
import io
import subprocess
import time
from unittest import mock

import pytest
import zxingcpp
from django.test import Client
from PIL import Image

from tests.conftest import client_for
from tests.logistics.round_helpers import round_today
from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, permit
from waste.models import Manifest
from waste.roadside import roadside_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_board(city, catalogs):
    """A hazardous batch picked up by the city's driver: consignor signed, carrier signed with the plate."""
    permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site, quantity="240.000", generated_at=now_iso(-60))["code"]
    number = manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=[code]
    )
    trip = round_today(city, batches=[code], plate="津A·K0001")
    driver = client_for(trip.driver)
    signed = driver.post(f"/api/v1/manifests/{number}/sign/", {"role": "carrier"}, format="json")
    assert signed.status_code == 200, signed.content
    return driver, number, code


def test_it_gives_the_driver_a_qr_that_opens_the_control_page_without_login(city, on_board):
    driver, number, code = on_board

    [load] = driver.get("/api/v1/trips/today/load/").json()["results"]

    assert load["number"] == number and load["plates"] == ["津A·K0001"]
    png = base64.b64decode(load["qr"].split(",", 1)[1])
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded.text == load["control_url"]
    page = Client().get(load["control_url"].split("127.0.0.1:8000", 1)[1])
    assert page.status_code == 200
    html = page.content.decode()
    for fact in (number, code, "津A·K0001", "driver", city.generator_org.name, city.transfer.name, "240.000"):
        assert fact in html, fact
    assert page["Cache-Control"].startswith("max-age=0")


def test_it_refuses_an_expired_link_with_a_clear_page(on_board):
    _driver, number, _code = on_board
    manifest = Manifest.objects.get(number=number)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 60):
        old, _until = roadside_token(manifest)
    fresh, _until = roadside_token(manifest)

    expired = Client().get(f"/r/{old}/")
    pdf = Client().get(f"/r/{old}/manifest.pdf")

    assert expired.status_code == 410 and pdf.status_code == 410
    assert "expired" in expired.content.decode() and number not in expired.content.decode()
    assert Client().get(f"/r/{fresh}/").status_code == 200


def test_it_refuses_an_altered_link_in_chinese(on_board):
    _driver, number, _code = on_board
    token, _until = roadside_token(Manifest.objects.get(number=number))
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    page = Client().get(f"/r/{altered}/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert page.status_code == 400
    assert "检查链接无效" in page.content.decode()


def test_it_prints_the_manifest_as_a_chinese_pdf(city, on_board, tmp_path):
    _driver, number, code = on_board
    token, _until = roadside_token(Manifest.objects.get(number=number))

    response = Client().get(f"/r/{token}/manifest.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "manifest.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for fact in ("危险废物转移联单", "联单编号", number, "移出单位", city.generator_org.name, "车牌号", "津A·K0001"):
        assert fact in text, fact
    for fact in ("驾驶员", "driver", code, "900-249-08", "240.000", "接受单位", city.transfer.name):
        assert fact in text, fact
