"""Fleet and pickups: create and list with scoping; hazardous needs a licence; destinations resolved."""

from __future__ import annotations

import pytest

from logistics.models import Vehicle
from tests.conftest import client_for
from tests.logistics.helpers import TODAY, depot, licence, permit, pickup
from tests.waste.chain_helpers import batch_new, now_iso
from waste.models import SiteKind

pytestmark = pytest.mark.django_db


def vehicle_body(org, site, **extra):
    return {
        "organisation": org.pk,
        "plate": "津C·12345",
        "capacity_kg": "3000",
        "classes": ["general"],
        "depot": site.pk,
        "shift_start": "07:00",
        "shift_end": "15:00",
        **extra,
    }


def test_it_creates_and_lists_vehicles_only_for_their_hauler(city):
    site = depot(city.hauler_org)
    hauler = client_for(city.hauler)
    created = hauler.post("/api/v1/vehicles/", vehicle_body(city.hauler_org, site), format="json")
    assert created.status_code == 201, created.content
    assert [v["plate"] for v in hauler.get("/api/v1/vehicles/").json()["results"]] == ["津C·12345"]
    assert client_for(city.outsider).get("/api/v1/vehicles/").json()["results"] == []


def test_it_rejects_hazardous_vehicles_without_a_licence(city):
    city.hauler_org.licences.all().delete()  # the city's hauler starts licensed
    site = depot(city.hauler_org)
    hauler = client_for(city.hauler)
    refused = hauler.post(
        "/api/v1/vehicles/", vehicle_body(city.hauler_org, site, classes=["hazardous"]), format="json"
    )
    assert refused.status_code == 400
    assert "classes" in refused.json()["error"]["fields"]
    licence(city.hauler_org)
    accepted = hauler.post(
        "/api/v1/vehicles/", vehicle_body(city.hauler_org, site, classes=["hazardous"]), format="json"
    )
    assert accepted.status_code == 201, accepted.content


def test_it_rejects_vehicles_for_another_hauler(city):
    site = depot(city.hauler_org)
    refused = client_for(city.outsider).post("/api/v1/vehicles/", vehicle_body(city.hauler_org, site), format="json")
    assert refused.status_code == 400  # the outsider cannot even see the organisation
    assert not Vehicle.objects.exists()


def test_it_rejects_malformed_vehicles_with_field_paths(city):
    refused = client_for(city.hauler).post("/api/v1/vehicles/", {"plate": "", "classes": ["rocks"]}, format="json")
    assert refused.status_code == 400
    fields = refused.json()["error"]["fields"]
    assert {"plate", "classes.0", "capacity_kg", "depot"} <= set(fields)


def test_it_creates_pickups_from_batches_with_a_permitted_destination(city, catalogs):
    permit(city.transfer, ["HW08"])
    code = batch_new(client_for(city.generator), city.generation_site, generated_at=now_iso(-60))["code"]
    made = client_for(city.generator).post(
        "/api/v1/pickups/from-batches/",
        {
            "codes": [code],
            "date": TODAY.isoformat(),
            "hauler": city.hauler_org.pk,
            "window_start": "08:00",
            "window_end": "12:00",
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    [p] = made.json()
    assert (p["waste_class"], p["destination"], p["batch"]) == ("hazardous", city.transfer.pk, code)
    assert [x["id"] for x in client_for(city.hauler).get("/api/v1/pickups/").json()["results"]] == [p["id"]]
    assert client_for(city.outsider).get("/api/v1/pickups/").json()["results"] == []


def test_it_reports_field_paths_for_batches_that_cannot_be_picked_up(city, catalogs):
    refused = client_for(city.generator).post(
        "/api/v1/pickups/from-batches/", {"codes": ["NOPE"], "date": TODAY.isoformat()}, format="json"
    )
    assert refused.status_code == 400
    assert "codes.0" in refused.json()["error"]["fields"]


def test_it_says_why_a_pickup_has_no_destination(city):
    p = pickup(city.hauler_org, city.generation_site, klass="hazardous", code="900-041-49", category="HW49")
    assert p.destination is None and "HW49" in p.destination_problem
    recyclable = pickup(city.hauler_org, city.generation_site, klass="recyclable")
    assert recyclable.destination == city.plant and city.plant.kind == SiteKind.TREATMENT


def test_it_creates_a_collection_point_pickup(city):
    cp = city.transfer
    made = client_for(city.operator).post(
        "/api/v1/pickups/",
        {
            "site": cp.pk,
            "quantity_kg": "1200",
            "waste_class": "general",
            "date": TODAY.isoformat(),
            "hauler": city.hauler_org.pk,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["destination"] == city.plant.pk
