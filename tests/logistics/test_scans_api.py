"""Scans from haulers' and sites' devices: idempotent single scans, bulk offline uploads, refusals."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.conftest import client_for
from tests.factories import ELSEWHERE_BBOX, city_point
from tests.waste.chain_helpers import (
    batch_new,
    counts,
    manifest_new,
    now_iso,
    permit,
    point_of,
    scan,
    second_hauler,
)
from waste.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def trip(city, catalogs):
    """A batch of 100 kg on a manifest the consignor has signed: generator -> hauler -> transfer station."""
    permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site, quantity="100.000", generated_at=now_iso(-120))["code"]
    number = manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=[code]
    )
    return SimpleNamespace(
        code=code,
        number=number,
        hauler=client_for(city.hauler),
        operator=client_for(city.operator),
        generator=generator,
    )


def pickup_body(trip, city, **extra):
    return {
        "code": trip.code,
        "action": "pickup",
        "location": point_of(city.generation_site),
        "scanned_at": now_iso(),
        "device_id": "truck-7",
        **extra,
    }


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def events(code, event_type):
    return LedgerEntry.objects.filter(batch_code=code, event_type=event_type)


# --- idempotency --------------------------------------------------------------------------------


def test_it_answers_a_retry_with_the_first_result_and_writes_nothing(city, trip):
    body = pickup_body(trip, city)

    first = trip.hauler.post("/api/v1/scans/", body, format="json", HTTP_IDEMPOTENCY_KEY="scan-1")
    retry = trip.hauler.post("/api/v1/scans/", body, format="json", HTTP_IDEMPOTENCY_KEY="scan-1")

    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "created"
    assert retry.status_code == 200
    assert retry.json()["status"] == "duplicate"
    assert retry.json()["event"]["event_id"] == first.json()["event"]["event_id"]
    assert events(trip.code, "picked_up").count() == 1


def test_it_rejects_a_key_reused_with_another_body(city, trip):
    first = trip.hauler.post("/api/v1/scans/", pickup_body(trip, city), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    before = counts()

    other = trip.hauler.post(
        "/api/v1/scans/", pickup_body(trip, city, device_id="truck-8"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    error = error_of(other, 409)
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert counts() == before


# --- bulk uploads -------------------------------------------------------------------------------


def test_it_answers_each_bulk_item_and_commits_the_good_ones(city, trip):
    picked = pickup_body(trip, city, scanned_at=now_iso(-30))
    assert trip.hauler.post("/api/v1/scans/", picked, format="json", HTTP_IDEMPOTENCY_KEY="p1").status_code == 201
    dropoff = {
        "code": trip.code,
        "action": "dropoff",
        "location": point_of(city.transfer),
        "scanned_at": now_iso(-10),
        "idempotency_key": "d1",
    }
    scans = [
        {**picked, "idempotency_key": "p1"},  # already uploaded by the single scan
        {"code": trip.code, "action": "pickup", "idempotency_key": "x1"},  # no scanned_at
        # the hauler is not the receiver:
        {"code": trip.code, "action": "receive", "scanned_at": now_iso(-20), "idempotency_key": "r1"},
        dropoff,
    ]

    response = trip.hauler.post("/api/v1/scans/bulk/", {"scans": scans}, format="json")

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "rejected", "rejected", "created"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert "scanned_at" in results[1]["error"]["fields"]
    assert results[2]["error"]["code"] == "not_receiver"
    assert response.json()["summary"] == {"created": 1, "duplicate": 1, "rejected": 2}
    assert events(trip.code, "picked_up").count() == 1
    assert events(trip.code, "dropped_off").count() == 1
    assert events(trip.code, "received").count() == 0


def test_it_applies_bulk_scans_in_device_time_order(city, trip):
    scans = [
        {
            "code": trip.code,
            "action": "dropoff",
            "location": point_of(city.transfer),
            "scanned_at": now_iso(-5),
            "idempotency_key": "b2",
        },
        {**pickup_body(trip, city, scanned_at=now_iso(-50)), "idempotency_key": "b1"},
    ]

    response = trip.hauler.post("/api/v1/scans/bulk/", {"scans": scans}, format="json")

    assert [r["status"] for r in response.json()["results"]] == ["created", "created"]
    assert [r["event"]["event_type"] for r in response.json()["results"]] == ["dropped_off", "picked_up"]
    assert trip.hauler.get(f"/api/v1/batches/{trip.code}/").json()["status"] == "delivered"


def test_it_rejects_more_than_1000_bulk_scans(city, trip):
    before = counts()
    scans = [{**pickup_body(trip, city), "idempotency_key": f"k{i}"} for i in range(1001)]

    response = trip.hauler.post("/api/v1/scans/bulk/", {"scans": scans}, format="json")

    assert "scans" in error_of(response, 400)["fields"]
    assert counts() == before


# --- refusals -----------------------------------------------------------------------------------


def test_it_accepts_the_qr_payload_of_this_system(city, trip):
    qr = trip.generator.get(f"/api/v1/batches/{trip.code}/").json()["qr"]
    body = {**pickup_body(trip, city), "qr": qr}
    del body["code"]

    assert trip.hauler.post("/api/v1/scans/", body, format="json").status_code == 201


def test_it_rejects_a_qr_of_another_host(city, trip):
    body = {**pickup_body(trip, city), "qr": f"https://evil.example.com/t/{trip.code}"}
    del body["code"]
    before = counts()

    response = trip.hauler.post("/api/v1/scans/", body, format="json")

    assert "qr" in error_of(response, 400)["fields"]
    assert counts() == before


def test_it_rejects_a_mistyped_code(city, trip):
    typo = trip.code[:-1] + ("0" if trip.code[-1] != "0" else "1")

    response = scan(trip.hauler, typo, "pickup")

    assert error_of(response, 400)["code"] == "invalid_code"


def test_it_refuses_receipt_before_pickup_with_the_reason(city, trip):
    before = counts()

    response = scan(trip.operator, trip.code, "receive", site=city.transfer, location=point_of(city.transfer))

    error = error_of(response, 409)
    assert error["code"] == "not_allowed"
    assert "receive" in error["message"].lower() and "generated" in error["message"].lower()
    assert counts() == before


def test_it_refuses_pickup_by_a_hauler_not_on_the_manifest(city, trip):
    stranger, _ = second_hauler()
    before = counts()

    response = scan(client_for(stranger), trip.code, "pickup", location=point_of(city.generation_site))

    assert error_of(response, 403)["code"] == "not_carrier"
    assert counts() == before


def test_it_refuses_pickup_before_the_consignor_signed(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site)["code"]
    manifest_new(
        generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=[city.hauler_org],
        codes=[code],
        sign=False,
    )
    before = counts()

    response = scan(client_for(city.hauler), code, "pickup", location=point_of(city.generation_site))

    assert error_of(response, 409)["code"] == "not_signed"
    assert counts() == before


def test_it_accepts_and_flags_a_scan_drifting_near_its_site(city, trip):
    site = city.generation_site.location
    drift = {"type": "Point", "coordinates": [site.x, site.y + 0.009]}  # about 1 km north

    response = scan(trip.hauler, trip.code, "pickup", location=drift)

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["flags"] == ["off_site"]
    assert events(trip.code, "picked_up").get().flags == "off_site"


def test_it_refuses_a_scan_far_from_every_site_the_batch_could_be_at(city, trip):
    far = city_point(ELSEWHERE_BBOX)
    before = counts()

    response = scan(trip.hauler, trip.code, "pickup", location={"type": "Point", "coordinates": [far.x, far.y]})

    error = error_of(response, 409)
    assert error["code"] == "too_far"
    assert "location" in error["fields"] and city.generation_site.name in error["message"]
    assert counts() == before


# --- custody ------------------------------------------------------------------------------------


@pytest.fixture
def received(city, trip):
    """The trip's batch received at the transfer station, and shipped on to the plant by the station."""
    permit(city.plant, ["HW08"], ["R9"])
    assert scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site)).status_code == 201
    taken = scan(trip.operator, trip.code, "receive", site=city.transfer, location=point_of(city.transfer))
    assert taken.status_code == 201, taken.json()
    signed = trip.operator.post(
        f"/api/v1/manifests/{trip.number}/sign/", {"role": "receiver", "decision": "accept"}, format="json"
    )
    assert signed.status_code == 200, signed.json()
    manifest_new(
        trip.operator, from_site=city.transfer, to_site=city.plant, carriers=[city.hauler_org], codes=[trip.code]
    )
    return trip


def test_it_refuses_a_pickup_at_the_generator_after_receipt_at_the_station(city, received):
    before = counts()

    response = scan(
        received.hauler,
        received.code,
        "pickup",
        site=city.generation_site,
        location={"type": "Point", "coordinates": [0, 0]},
    )

    error = error_of(response, 409)
    assert error["code"] == "not_here"
    assert city.transfer.name in error["message"] and "site" in error["fields"]
    assert counts() == before
    assert received.hauler.get(f"/api/v1/batches/{received.code}/").json()["status"] == "received"


def test_it_refuses_a_pickup_at_0_0_for_a_batch_at_the_station(city, received):
    before = counts()

    response = scan(received.hauler, received.code, "pickup", location={"type": "Point", "coordinates": [0, 0]})

    assert error_of(response, 409)["code"] == "too_far"
    assert counts() == before


def test_it_takes_the_batch_on_from_where_it_is(city, received):
    response = scan(received.hauler, received.code, "pickup", site=city.transfer, location=point_of(city.transfer))

    assert response.status_code == 201, response.json()
    assert events(received.code, "picked_up").last().site_id == city.transfer.pk


def test_it_refuses_a_dropoff_at_another_site_than_the_destination(city, trip):
    assert scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site)).status_code == 201
    before = counts()

    response = scan(trip.hauler, trip.code, "dropoff", site=city.plant, location=point_of(city.plant))

    error = error_of(response, 409)
    assert error["code"] == "not_here" and city.transfer.name in error["message"]
    assert counts() == before


def test_it_refuses_a_dropoff_by_a_carrier_that_does_not_hold_the_batch(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    second_user, second_org = second_hauler()
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site)["code"]
    manifest_new(
        generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=[city.hauler_org, second_org],
        codes=[code],
    )
    assert scan(client_for(city.hauler), code, "pickup", location=point_of(city.generation_site)).status_code == 201
    before = counts()

    response = scan(client_for(second_user), code, "dropoff", location=point_of(city.transfer))

    assert error_of(response, 403)["code"] == "not_holder"
    assert counts() == before


def test_it_refuses_a_second_pickup_of_a_batch_already_in_the_vehicle(city, trip):
    assert scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site)).status_code == 201
    before = counts()

    again = scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site), device_id="truck-8")

    assert error_of(again, 409)["code"] == "already_picked_up"
    assert counts() == before


def test_it_names_the_unknown_site(city, trip):
    response = scan(trip.hauler, trip.code, "pickup", site=SimpleNamespace(pk=999999))
    assert "site" in error_of(response, 400)["fields"]


def test_it_does_not_flag_a_scan_at_its_site(city, trip):
    response = scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site))
    assert response.json()["event"]["flags"] == []


@pytest.mark.parametrize(
    ("weight", "flags"),
    [("103.000", ["weight_mismatch"]), ("97.000", ["weight_mismatch"]), ("101.500", []), ("100.000", [])],
)
def test_it_flags_a_weight_beyond_the_tolerance(city, trip, weight, flags):
    response = scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site), weight_kg=weight)

    assert response.status_code == 201, response.json()
    assert response.json()["event"]["flags"] == flags
    assert events(trip.code, "picked_up").get().quantity_kg == Decimal(weight)


def test_it_reconciles_weights_along_the_chain(city, trip):
    scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site), weight_kg="110.000")

    dropped = scan(trip.hauler, trip.code, "dropoff", location=point_of(city.transfer), weight_kg="110.500")

    assert dropped.json()["event"]["flags"] == []  # compared with the pickup weight, not the declared one


def test_it_rejects_a_scan_time_in_the_future(city, trip):
    before = counts()

    response = scan(trip.hauler, trip.code, "pickup", scanned_at=now_iso(minutes=30))

    error = error_of(response, 400)
    assert "scanned_at" in error["fields"]
    assert counts() == before


def test_it_rejects_a_location_outside_the_world(city, trip):
    response = scan(trip.hauler, trip.code, "pickup", location={"type": "Point", "coordinates": [200, 95]})
    assert "location" in error_of(response, 400)["fields"]


def test_it_rejects_acting_for_an_organisation_not_yours(city, trip):
    before = counts()

    response = scan(trip.hauler, trip.code, "pickup", organisation=city.generator_org.pk)

    error = error_of(response, 403)
    assert "organisation" in error["fields"]
    assert counts() == before


def test_it_takes_a_batch_through_pickup_dropoff_and_receipt(city, trip):
    assert scan(trip.hauler, trip.code, "pickup", location=point_of(city.generation_site)).status_code == 201
    assert scan(trip.hauler, trip.code, "dropoff", location=point_of(city.transfer)).status_code == 201

    received = scan(trip.operator, trip.code, "receive", site=city.transfer, location=point_of(city.transfer))

    assert received.status_code == 201, received.json()
    assert received.json()["batch"]["status"] == "received"
    manifest = trip.generator.get(f"/api/v1/manifests/{trip.number}/").json()
    assert manifest["status"] == "in_transit"
    assert manifest["carriers"][0]["signed_at"] is not None  # the carrier signs by scanning at pickup
