"""The set-based scan path: bulk uploads answered per item in a constant number of statements,
single scans in a bounded one, and a scan written whole or not at all."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from logistics.services import scans as scan_services
from logistics.services.scans import Scan, scan_record, scans_record
from tests.conftest import client_for
from tests.logistics.scan_helpers import pickup_item, shipment
from tests.waste.chain_helpers import batch_new, counts
from waste.api.tokens import token_cache_shared
from waste.models import Batch, LedgerEntry, Manifest, ManifestCarrier

pytestmark = pytest.mark.django_db

# Statements for one pickup through HTTP on PostgreSQL, 11: the token comes from the cache once used
# (waste.api.tokens); two reads: the idempotency record, then the batch locked with its site, open
# manifest line, manifest, destination, carriers, the named site and the user's organisations
# (waste.selectors.acts); the writes: batch and party (one statement), the carrier's signature and the
# manifest in transit (first pickup of a manifest only), the shard head locked, then the entry with the
# new head (one statement), the trip stops (one statement), the idempotency record; and 2 savepoint
# statements that exist only because the test holds a transaction.
# SpatiaLite reads the batch, the manifest line, the carriers and the memberships in 4 ORM statements,
# and writes batch, party, trip stops and the head apart.
SINGLE_PICKUP_MAX = {"postgresql": 11, "sqlite": 19}
# Statements for a bulk upload, whatever its size: the same for 3, 120 or 1,000 scans. The sites
# (where the batches are, their destinations, the named ones) are one statement of their own, one row
# per site, rather than joined to every batch and line (which parsed a geometry per row).
BULK_MAX = {"postgresql": 17, "sqlite": 21}
# Without a shared cache (no REDIS_URL) knox reads the token on every request: 2 statements.
TOKEN_READS = 0 if token_cache_shared() else 2


def bulk(client, scans):
    response = client.post("/api/v1/scans/bulk/", {"scans": scans}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_counts_the_statements_of_a_single_pickup(city, catalogs, django_assert_max_num_queries):
    [code], number = shipment(city, 1)
    hauler = client_for(city.hauler)
    body = pickup_item(city, code, "k")
    del body["idempotency_key"]

    hauler.get("/api/v1/me/")  # the token's first use reads it; a device's later scans find it cached

    with django_assert_max_num_queries(SINGLE_PICKUP_MAX[connection.vendor] + TOKEN_READS) as captured:
        response = hauler.post("/api/v1/scans/", body, format="json", HTTP_IDEMPOTENCY_KEY="single-1")
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    # The reads of a scan: the idempotency record, then the batch locked with everything deciding it;
    # the other SELECT locks what is written next (the ledger shard's head).
    reads = [sql for sql in selects if "waste_ledgerhead" not in sql and "logistics_tripstop" not in sql]
    if connection.vendor == "postgresql":
        assert len(reads) == 2, reads
        assert len(selects) == 3, selects

    assert response.status_code == 201, response.json()
    assert Batch.objects.get(code=code).carrier_id == city.hauler_org.pk
    assert Manifest.objects.get(number=number).status == "in_transit"


def test_it_applies_a_bulk_upload_in_the_same_statements_for_3_or_120_scans(
    city, catalogs, django_assert_max_num_queries
):
    hauler = client_for(city.hauler)
    statements = {}
    for n in (3, 120):
        codes, number = shipment(city, n)
        scans = [pickup_item(city, code, f"{n}-{i}") for i, code in enumerate(codes)]
        hauler.get("/api/v1/me/")  # the token's first use reads it; later uses (for a minute) find it cached

        with django_assert_max_num_queries(BULK_MAX[connection.vendor] + TOKEN_READS) as captured:
            answer = bulk(hauler, scans)

        statements[n] = len(captured)
        assert answer["summary"] == {"created": n, "duplicate": 0, "rejected": 0}
        assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"in_transit"}
        assert Manifest.objects.get(number=number).status == "in_transit"
        assert ManifestCarrier.objects.get(manifest__number=number).signed_at is not None
        assert LedgerEntry.objects.filter(batch_code__in=codes, event_type="picked_up").count() == n
    if connection.vendor == "postgresql":  # SQLite's limit on parameters splits the 120 batches' update
        assert statements[3] == statements[120]


def test_it_answers_duplicate_keys_inside_one_upload_item_by_item(city, catalogs):
    codes, _ = shipment(city, 2)
    first = pickup_item(city, codes[0], "same")
    scans = [
        first,
        dict(first),  # a device that queued the same scan twice
        pickup_item(city, codes[1], "same"),  # the key reused for another scan
    ]

    answer = bulk(client_for(city.hauler), scans)

    assert [r["status"] for r in answer["results"]] == ["created", "duplicate", "rejected"]
    assert answer["results"][1]["event"]["event_id"] == answer["results"][0]["event"]["event_id"]
    assert answer["results"][2]["error"]["code"] == "idempotency_key_reused"
    assert LedgerEntry.objects.filter(event_type="picked_up").count() == 1


def test_it_refuses_other_organisations_batches_item_by_item(city, catalogs):
    codes, _ = shipment(city, 2)
    theirs = batch_new(client_for(city.outsider), city.outsider_site)["code"]
    scans = [
        pickup_item(city, codes[0], "a"),
        pickup_item(city, theirs, "b", minutes_ago=0),
        pickup_item(city, codes[1], "c"),
    ]

    answer = bulk(client_for(city.hauler), scans)

    assert [r["status"] for r in answer["results"]] == ["created", "rejected", "created"]
    assert answer["results"][1]["error"]["code"] == "no_manifest"
    assert Batch.objects.get(code=theirs).status == "generated"


def test_it_applies_each_batch_in_device_time_order_and_refuses_only_what_cannot_be(city, catalogs):
    codes, _ = shipment(city, 2)
    at = city.transfer.location
    dropoff = {
        "code": codes[0],
        "action": "dropoff",
        "location": {"type": "Point", "coordinates": [at.x, at.y]},
        "idempotency_key": "d",
    }
    scans = [
        {**dropoff, "scanned_at": pickup_item(city, codes[0], "x", minutes_ago=1)["scanned_at"]},
        pickup_item(city, codes[0], "p", minutes_ago=20),
        # the second batch is dropped off before it was picked up: refused, and it blocks nothing
        {
            **dropoff,
            "code": codes[1],
            "idempotency_key": "d2",
            "scanned_at": pickup_item(city, codes[1], "y", minutes_ago=30)["scanned_at"],
        },
        pickup_item(city, codes[1], "p2", minutes_ago=5),
    ]

    answer = bulk(client_for(city.hauler), scans)

    assert [r["status"] for r in answer["results"]] == ["created", "created", "rejected", "created"]
    assert answer["results"][2]["error"]["code"] == "not_allowed"
    assert Batch.objects.get(code=codes[0]).status == "delivered"
    assert Batch.objects.get(code=codes[1]).status == "in_transit"


def test_it_writes_nothing_of_a_scan_whose_trip_stop_fails(city, catalogs, monkeypatch):
    [code], _ = shipment(city, 1)
    before = counts()

    def broken(**kwargs):
        raise RuntimeError("the trip-stop write failed")

    monkeypatch.setattr(scan_services, "trip_stops_complete_for_pickups", broken)
    at = city.generation_site.location
    with pytest.raises(RuntimeError), transaction.atomic():  # the caller's transaction, as a request's
        scan_record(
            user=city.hauler,
            scan=Scan(code=code, action="pickup", event_time=Batch.objects.get(code=code).generated_at, location=at),
        )

    assert counts() == before
    assert Batch.objects.get(code=code).status == "generated"
    assert ManifestCarrier.objects.get(manifest__lines__batch__code=code).signed_at is None


def test_it_refuses_more_than_1000_scans_in_the_service_too(city):
    with pytest.raises(Exception) as refused:
        scans_record(user=city.hauler, scans=[Scan(code="x", action="pickup", event_time=None)] * 1001)
    assert "scans" in refused.value.fields


WELL_FORMED = {
    "code": "ABCD-EFGH-JKMN",
    "action": "pickup",
    "location": {"type": "Point", "coordinates": [117.2, 39.12]},
    "scanned_at": "2026-03-01T08:30:00+08:00",
    "idempotency_key": "k-1",
}


@pytest.mark.parametrize(
    "item",
    [
        WELL_FORMED,
        {**WELL_FORMED, "scanned_at": "2026-03-01T00:30:00Z", "device_id": "truck-7", "reason": "破损的桶"},
        {**WELL_FORMED, "scanned_at": "2026-03-01T08:30:00", "site": 3, "organisation": 2, "weight_kg": "12.5"},
        {**WELL_FORMED, "weight_kg": 99.25, "device_id": "", "unknown": "ignored, as the serializer ignores it"},
        {**{k: v for k, v in WELL_FORMED.items() if k != "code"}, "qr": "http://127.0.0.1:8000/t/ABCDEFGHJKMN"},
    ],
)
def test_it_reads_a_well_formed_bulk_item_as_the_serializer_does(item, settings):
    from logistics.api.scans import BulkItemInput, bulk_item_fast

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    fast = bulk_item_fast(item)

    assert fast is not None
    assert fast == BulkItemInput().run_validation(item)


@pytest.mark.parametrize(
    "change",
    [
        {"code": " ABCD-EFGH-JKMN"},  # DRF trims
        {"code": ""},
        {"code": "A" * 21},
        {"site": "3"},
        {"site": 0},
        {"site": None},
        {"organisation": True},
        {"action": "teleport"},
        {"scanned_at": "yesterday"},
        {"scanned_at": 1767225600},
        {"weight_kg": "-"},
        {"weight_kg": None},
        {"location": {"type": "Point", "coordinates": [200, 0]}},
        {"location": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
        {"device_id": "a\x00b"},
        {"reason": "x" * 301},
        {"qr": "http://127.0.0.1:8000/t/ABCDEFGHJKMN"},  # with a code too
        {"idempotency_key": ""},
    ],
)
def test_it_leaves_every_unusual_bulk_item_to_the_serializer(change, settings):
    """Whatever the fast pass does not take, the serializer judges, so a refusal names its field as
    DRF words it (and a value DRF would normalise, such as a padded code, comes out as DRF has it)."""
    from logistics.api.scans import bulk_item_fast

    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert bulk_item_fast({**WELL_FORMED, **change}) is None
    assert bulk_item_fast({k: v for k, v in WELL_FORMED.items() if k != "scanned_at"}) is None


def test_it_names_the_field_and_index_of_a_bad_bulk_item_among_good_ones(city, catalogs):
    codes, _ = shipment(city, 2)
    scans = [pickup_item(city, codes[0], "a"), {**pickup_item(city, codes[1], "b"), "site": "here"}]

    answer = bulk(client_for(city.hauler), scans)

    assert [r["status"] for r in answer["results"]] == ["created", "rejected"]
    assert answer["results"][1]["index"] == 1
    assert list(answer["results"][1]["error"]["fields"]) == ["site"]
