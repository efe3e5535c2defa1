"""Scans racing each other on PostgreSQL, with real threads and real row locks."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import client_for
from tests.logistics.scan_helpers import pickup_item, shipment
from waste.models import Batch, LedgerEntry

pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Runs the calls at the same instant, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which fails on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def single(client, item):
    body = {k: v for k, v in item.items() if k != "idempotency_key"}
    return lambda: client.post("/api/v1/scans/", body, format="json", HTTP_IDEMPOTENCY_KEY=item["idempotency_key"])


def picked_up(codes):
    return LedgerEntry.objects.filter(batch_code__in=codes, event_type="picked_up")


def test_it_lets_exactly_one_of_two_devices_pick_up_the_same_batch(city, catalogs):
    [code], _ = shipment(city, 1)
    first, second = client_for(city.hauler), client_for(city.hauler)

    responses = race(
        single(first, pickup_item(city, code, "truck-1", device_id="truck-1")),
        single(second, pickup_item(city, code, "truck-2", device_id="truck-2")),
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    [refused] = [r for r in responses if r.status_code == 409]
    assert refused.json()["error"]["code"] == "already_picked_up"
    assert picked_up([code]).count() == 1


def test_it_records_one_event_for_two_requests_racing_with_one_key(city, catalogs):
    [code], _ = shipment(city, 1)
    item = pickup_item(city, code, "retry-1")

    responses = race(single(client_for(city.hauler), item), single(client_for(city.hauler), item))

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert len({r.json()["event"]["event_id"] for r in responses}) == 1
    assert picked_up([code]).count() == 1


def test_it_keeps_one_shard_valid_under_many_concurrent_scans(city, catalogs, settings):
    settings.LEDGER_SHARDS = 1  # every entry on one chain: the worst contention there is
    codes, _ = shipment(city, 8)
    clients = [client_for(city.hauler) for _ in codes]

    responses = race(
        *[single(c, pickup_item(city, code, f"k{i}")) for i, (c, code) in enumerate(zip(clients, codes, strict=True))]
    )

    assert [r.status_code for r in responses] == [201] * len(codes)
    seqs = list(LedgerEntry.objects.filter(shard=0).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    call_command("verify_ledger")


def test_it_races_a_bulk_upload_against_single_scans_on_overlapping_batches(city, catalogs):
    codes, _ = shipment(city, 12)
    overlap = [codes[0], codes[5], codes[11]]
    uploader = client_for(city.hauler)
    scans = [pickup_item(city, code, f"bulk-{i}") for i, code in enumerate(codes)]

    def upload():
        return uploader.post("/api/v1/scans/bulk/", {"scans": scans}, format="json")

    results = race(
        upload,
        *[single(client_for(city.hauler), pickup_item(city, code, f"one-{i}")) for i, code in enumerate(overlap)],
    )

    bulk, singles = results[0].json(), results[1:]
    assert results[0].status_code == 200, bulk
    for response in singles:
        assert response.status_code in (201, 409), response.content
    won_singly = [code for code, r in zip(overlap, singles, strict=True) if r.status_code == 201]
    refused = [r for r in bulk["results"] if r["status"] == "rejected"]
    assert {r["error"]["code"] for r in refused} <= {"already_picked_up"}
    assert len(refused) == len(won_singly)
    assert bulk["summary"]["created"] + len(won_singly) == len(codes)
    assert picked_up(codes).count() == len(codes)  # one pickup per batch, whoever won it
    assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"in_transit"}
    call_command("verify_ledger")


def test_it_applies_an_upload_retried_while_the_first_is_running_once(city, catalogs):
    codes, _ = shipment(city, 6)
    scans = [pickup_item(city, code, f"offline-{i}") for i, code in enumerate(codes)]
    first, retry = client_for(city.hauler), client_for(city.hauler)

    responses = race(
        lambda: first.post("/api/v1/scans/bulk/", {"scans": scans}, format="json"),
        lambda: retry.post("/api/v1/scans/bulk/", {"scans": scans}, format="json"),
    )

    summaries = sorted((r.json()["summary"]["created"], r.json()["summary"]["duplicate"]) for r in responses)
    assert summaries == [(0, len(codes)), (len(codes), 0)]
    assert picked_up(codes).count() == len(codes)
