"""Consolidation, splitting and treatment: lineage, balances, fates flowing back, EPCIS export."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.conf import settings

from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new, counts, now_iso, permit, ship, store_in
from waste.models import Batch, BatchLink, LedgerEntry

pytestmark = pytest.mark.django_db

PAPER = "200101"  # EU LoW, paper and cardboard: not hazardous
OIL = "900-249-08"  # HW08
PACKAGING = "900-041-49"  # HW49


@pytest.fixture
def station(city, catalogs):
    """The transfer station's operator, with batches it forms and stores on site."""
    permit(city.transfer, ["HW08", "HW49", PAPER], ["R13", "R9", "D10"])
    operator = client_for(city.operator)

    def stored(waste_code=OIL, quantity="100.000"):
        code = batch_new(operator, city.transfer, waste_code=waste_code, quantity=quantity, generated_at=now_iso(-60))[
            "code"
        ]
        store_in(operator, code, city.transfer)
        return code

    return SimpleNamespace(operator=operator, stored=stored)


def consolidate(client, codes, site, **extra):
    return client.post("/api/v1/batches/consolidate/", {"batches": codes, "site": site.pk, **extra}, format="json")


def split(client, code, parts):
    return client.post(f"/api/v1/batches/{code}/split/", {"parts": parts}, format="json")


def treat(client, code, operation, **extra):
    return client.post(f"/api/v1/batches/{code}/treat/", {"operation": operation, **extra}, format="json")


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def epc(code):
    return f"{settings.PUBLIC_BASE_URL}/t/{code}"


def origin_of(trace, code):
    return {o["batch"]: o for o in trace["origins"]}[code]


# --- consolidation ------------------------------------------------------------------------------


def test_it_never_mixes_hazardous_with_non_hazardous_waste(city, station):
    codes = [station.stored(OIL), station.stored(PAPER)]
    before = counts()

    response = consolidate(station.operator, codes, city.transfer, waste_code=OIL)

    assert error_of(response, 400)["code"] == "incompatible"
    assert counts() == before
    assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"stored"}


def test_it_refuses_to_consolidate_different_hw_categories(city, station):
    codes = [station.stored(OIL), station.stored(PACKAGING)]
    before = counts()

    response = consolidate(station.operator, codes, city.transfer, waste_code=OIL)

    assert error_of(response, 400)["code"] == "incompatible"
    assert counts() == before


def test_it_consolidates_batches_balancing_the_quantities(city, station):
    codes = [station.stored(quantity="120.500"), station.stored(quantity="80.250"), station.stored(quantity="0.250")]

    response = consolidate(station.operator, codes, city.transfer)

    assert response.status_code == 201, response.json()
    child = response.json()
    assert child["quantity_kg"] == "201.000"
    assert child["status"] == "received"
    links = BatchLink.objects.filter(child__code=child["code"]).order_by("id")
    expected = list(zip(codes, ["120.500", "80.250", "0.250"], strict=True))
    assert [(lk.parent.code, str(lk.quantity_kg)) for lk in links] == expected
    assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"consolidated"}
    lineage = station.operator.get(f"/api/v1/batches/{child['code']}/").json()["lineage"]
    assert [p["code"] for p in lineage["parents"]] == codes


def test_it_refuses_to_consolidate_a_batch_held_elsewhere(city, station, catalogs):
    here = station.stored()
    elsewhere = batch_new(client_for(city.generator), city.generation_site)["code"]

    response = consolidate(station.operator, [here, elsewhere], city.transfer)

    assert error_of(response, 400)["code"] == "not_here"
    assert "batches.1" in response.json()["error"]["fields"]


def test_it_refuses_to_consolidate_one_batch_or_the_same_twice(city, station):
    code = station.stored()

    assert consolidate(station.operator, [code], city.transfer).status_code == 400
    assert error_of(consolidate(station.operator, [code, code], city.transfer), 400)["code"] == "duplicate"


# --- splitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("parts", [["30.000", "60.000"], ["30.000", "70.001"], ["100.000", "0.000"]])
def test_it_refuses_a_split_whose_parts_do_not_add_up(city, station, parts):
    code = station.stored()
    before = counts()

    response = split(station.operator, code, parts)

    assert response.status_code == 400
    assert counts() == before
    assert Batch.objects.get(code=code).status == "stored"


def test_it_names_an_unbalanced_split(city, station):
    code = station.stored()
    assert error_of(split(station.operator, code, ["30", "60"]), 400)["code"] == "unbalanced"


def test_it_splits_a_batch_keeping_lineage(city, station):
    code = station.stored(quantity="100.000")

    response = split(station.operator, code, ["30.000", "70.000"])

    assert response.status_code == 201, response.json()
    parts = response.json()
    assert [p["quantity_kg"] for p in parts] == ["30.000", "70.000"]
    assert {p["status"] for p in parts} == {"stored"}
    parent = station.operator.get(f"/api/v1/batches/{code}/").json()
    assert parent["status"] == "split"
    assert [c["code"] for c in parent["lineage"]["children"]] == [p["code"] for p in parts]
    child = station.operator.get(f"/api/v1/batches/{parts[0]['code']}/").json()
    assert child["lineage"]["parents"] == [{"code": code, "kind": "split", "quantity_kg": "30.000"}]


def test_it_refuses_to_split_a_batch_another_organisation_holds(city, station):
    code = station.stored()
    response = split(client_for(city.generator), code, ["50", "50"])
    assert response.status_code in (403, 404)
    assert Batch.objects.get(code=code).status == "stored"


# --- fates --------------------------------------------------------------------------------------


@pytest.fixture
def consolidated(city, catalogs):
    """Two generator batches shipped to the transfer station and consolidated there."""
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator, hauler = client_for(city.generator), client_for(city.hauler)
    operator = client_for(city.operator)
    origins = [
        batch_new(generator, city.generation_site, quantity=q, generated_at=now_iso(-60))["code"]
        for q in ("100.000", "50.000")
    ]
    ship(
        generator,
        hauler,
        operator,
        from_site=city.generation_site,
        to_site=city.transfer,
        codes=origins,
        carriers=[city.hauler_org.pk],
    )
    big = consolidate(operator, origins, city.transfer).json()["code"]
    return SimpleNamespace(origins=origins, big=big, operator=operator, generator=generator)


def test_it_flows_the_fate_of_a_consolidated_batch_back_to_every_origin(city, consolidated):
    assert treat(consolidated.operator, consolidated.big, "R9").status_code == 200

    trace = consolidated.operator.get(f"/api/v1/batches/{consolidated.big}/trace/").json()
    from_origin = consolidated.generator.get(f"/api/v1/batches/{consolidated.origins[1]}/trace/").json()

    first, second = (origin_of(trace, c) for c in consolidated.origins)
    assert first["fates"] == [{"batch": consolidated.big, "operation": "R9", "quantity_kg": "100.000"}]
    assert second["fates"] == [{"batch": consolidated.big, "operation": "R9", "quantity_kg": "50.000"}]
    assert first["pending_kg"] == second["pending_kg"] == "0.000"
    assert {e["from"] for e in trace["edges"]} == set(consolidated.origins)
    assert from_origin["origins"] == [second]


def test_it_divides_fates_in_proportion_after_a_split(city, consolidated):
    parts = split(consolidated.operator, consolidated.big, ["90.000", "60.000"]).json()
    assert treat(consolidated.operator, parts[0]["code"], "R9").status_code == 200

    trace = consolidated.operator.get(f"/api/v1/batches/{parts[1]['code']}/trace/").json()

    first, second = (origin_of(trace, c) for c in consolidated.origins)
    assert first["fates"] == [{"batch": parts[0]["code"], "operation": "R9", "quantity_kg": "60.000"}]
    assert first["pending_kg"] == "40.000"
    assert second["fates"] == [{"batch": parts[0]["code"], "operation": "R9", "quantity_kg": "30.000"}]
    assert second["pending_kg"] == "20.000"


def test_it_shows_a_fate_and_the_pending_remainder_after_split_and_treatment(city, station):
    code = station.stored(quantity="100.000")
    parts = split(station.operator, code, ["30.000", "70.000"]).json()

    assert treat(station.operator, parts[0]["code"], "D10").json()["status"] == "treated"

    trace = station.operator.get(f"/api/v1/batches/{parts[1]['code']}/trace/").json()
    origin = origin_of(trace, code)
    assert origin["fates"] == [{"batch": parts[0]["code"], "operation": "D10", "quantity_kg": "30.000"}]
    assert origin["pending_kg"] == "70.000"
    assert {n["code"]: n["origin"] for n in trace["nodes"]} == {
        code: True,
        parts[0]["code"]: False,
        parts[1]["code"]: False,
    }


def test_it_does_not_count_an_interim_operation_as_a_fate(city, station):
    code = station.stored(quantity="100.000")

    interim = treat(station.operator, code, "R13")

    assert interim.status_code == 200, interim.json()
    assert interim.json()["status"] == "stored"
    assert interim.json()["final_operation"] == ""
    trace = station.operator.get(f"/api/v1/batches/{code}/trace/").json()
    assert origin_of(trace, code) == {"batch": code, "quantity_kg": "100.000", "fates": [], "pending_kg": "100.000"}
    entry = LedgerEntry.objects.get(batch_code=code, event_type="treated")
    assert json.loads(entry.data)["final"] is False
    assert treat(station.operator, code, "R9").json()["status"] == "treated"


def test_it_refuses_an_operation_the_site_is_not_permitted_for(city, station):
    code = station.stored()
    before = counts()

    response = treat(station.operator, code, "R1")

    assert error_of(response, 400)["code"] == "not_permitted"
    assert counts() == before


def test_it_refuses_to_treat_a_batch_twice(city, station):
    code = station.stored()
    treat(station.operator, code, "R9")

    assert error_of(treat(station.operator, code, "D10"), 409)["code"] == "not_allowed"


# --- EPCIS --------------------------------------------------------------------------------------


def test_it_exports_the_events_as_an_epcis_document(city, consolidated):
    parts = split(consolidated.operator, consolidated.big, ["100.000", "50.000"]).json()
    treat(consolidated.operator, parts[0]["code"], "R9")

    origin = consolidated.generator.get(f"/api/v1/batches/{consolidated.origins[0]}/events.jsonld")
    big = consolidated.operator.get(f"/api/v1/batches/{consolidated.big}/events.jsonld").json()
    part = consolidated.operator.get(f"/api/v1/batches/{parts[0]['code']}/events.jsonld").json()

    assert origin["Content-Type"].startswith("application/ld+json")
    doc = origin.json()
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    assert "epcis-context.jsonld" in json.dumps(doc["@context"])
    events = doc["epcisBody"]["eventList"]
    generated = events[0]
    assert generated["type"] == "ObjectEvent" and generated["action"] == "ADD"
    assert generated["epcList"] == [epc(consolidated.origins[0])]
    for event in events + big["epcisBody"]["eventList"] + part["epcisBody"]["eventList"]:
        assert event["eventTime"].endswith("Z")
        assert event["eventTimeZoneOffset"] == "+08:00"
    aggregation = [e for e in events if e["type"] == "AggregationEvent"]
    assert [(a["parentID"], a["childEPCs"]) for a in aggregation] == [
        (epc(consolidated.big), [epc(consolidated.origins[0])])
    ]
    big_events = big["epcisBody"]["eventList"]
    [own] = [e for e in big_events if e["type"] == "AggregationEvent"]
    assert (own["parentID"], own["childEPCs"]) == (epc(consolidated.big), [epc(c) for c in consolidated.origins])
    [split_event] = [e for e in big_events if e["type"] == "TransformationEvent"]
    assert split_event["inputEPCList"] == [epc(consolidated.big)]
    assert split_event["outputEPCList"] == [epc(p["code"]) for p in parts]
    [treated] = [e for e in part["epcisBody"]["eventList"] if e.get("zw:eventType") == "treated"]
    assert treated["type"] == "TransformationEvent"
    assert treated["inputEPCList"] == [epc(parts[0]["code"])]
    assert treated["outputEPCList"] == []
    assert treated["zw:operation"] == "R9"
