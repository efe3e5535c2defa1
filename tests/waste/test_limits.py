"""Limits: writes rate-limited per token (429 with Retry-After, in the error shape), request bodies
larger than accepted refused with 413 before they are read, nothing written on any refusal."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat

from tests.conftest import client_for
from tests.waste.chain_helpers import OIL
from tests.waste.test_errors import assert_error_shape
from waste.models import Batch, LedgerEntry

pytestmark = pytest.mark.django_db


def new_batch(client, site):
    body = {"waste_code": OIL, "quantity_kg": "100.000", "site": site.pk, "description": "test waste"}
    return client.post("/api/v1/batches/", body, format="json")


def test_it_limits_writes_per_token_with_a_429_that_says_when_to_retry(city, catalogs, settings):
    settings.WRITE_THROTTLE_RATE = "3/min"
    client = client_for(city.generator)
    assert [new_batch(client, city.generation_site).status_code for _ in range(3)] == [201, 201, 201]

    refused = new_batch(client, city.generation_site)

    error = assert_error_shape(refused, 429)
    assert error["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Batch.objects.count() == 3


def test_it_counts_neither_reads_nor_another_tokens_writes(city, catalogs, settings):
    settings.WRITE_THROTTLE_RATE = "2/min"
    phone, tablet = client_for(city.generator), client_for(city.generator)  # two tokens, one person
    for _ in range(5):
        assert phone.get("/api/v1/batches/").status_code == 200
    assert [new_batch(phone, city.generation_site).status_code for _ in range(3)] == [201, 201, 429]

    assert new_batch(tablet, city.generation_site).status_code == 201


def test_it_says_throttled_in_chinese(city, catalogs, settings):
    settings.WRITE_THROTTLE_RATE = "1/min"
    client = client_for(city.generator)
    new_batch(client, city.generation_site)

    refused = client.post(
        "/api/v1/batches/", {"site": city.generation_site.pk}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert refused.status_code == 429
    assert "限" in refused.json()["error"]["message"]


def test_it_refuses_a_json_body_over_the_limit_with_413_before_reading_it(city, catalogs, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    client = client_for(city.hauler)
    scans = [{"code": f"ZW{i:012d}", "action": "pickup", "idempotency_key": f"k{i}"} for i in range(40)]
    body = json.dumps({"scans": scans})
    assert len(body) > 2000

    response = client.post("/api/v1/scans/bulk/", body, content_type="application/json")

    error = assert_error_shape(response, 413)
    assert error["code"] == "too_large"
    assert f"at most {filesizeformat(2000)} is accepted" in error["message"]
    assert LedgerEntry.objects.count() == 0


def test_it_refuses_a_413_in_chinese(city, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client = client_for(city.hauler)

    response = client.post(
        "/api/v1/scans/bulk/",
        json.dumps({"scans": ["x" * 200]}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 413
    assert "最多" in response.json()["error"]["message"]


def test_it_refuses_an_upload_over_the_limit_with_a_framed_413(client, city, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    client.force_login(city.regulator)

    response = client.post("/regulator/verify/", {"file": SimpleUploadedFile("big.csv", b"x" * 20_000)})

    assert response.status_code == 413
    assert "text/html" in response["Content-Type"]
    assert "Too large" in response.content.decode()


def test_it_accepts_an_upload_under_the_limit(client, city, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    client.force_login(city.regulator)

    response = client.post("/regulator/verify/", {"file": SimpleUploadedFile("small.csv", b"x" * 2_000)})

    assert response.status_code in (200, 400)  # read and judged by the form, not refused for its size
    assert "Too large" not in response.content.decode()


def test_it_refuses_a_content_length_that_is_not_a_number(city):
    client = client_for(city.hauler)

    response = client.post("/api/v1/scans/bulk/", "{}", content_type="application/json", CONTENT_LENGTH="lots")

    assert_error_shape(response, 400)
