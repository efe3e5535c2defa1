"""The demo city's open pickups planned by a real worker, dispatched, scanned, failed and re-planned."""

from __future__ import annotations

import pytest

from logistics.models import Pickup, Trip, TripStop, Vehicle
from tests.conftest import client_for
from tests.logistics.helpers import TODAY, check_routes, poll
from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, point_of, scan
from waste.demo import seed_demo_city


@pytest.fixture
def demo(transactional_db, catalogs, settings):
    settings.ROUTING_SOLVER_SECONDS = 1
    return seed_demo_city()


def _batch_pickup(demo) -> str:
    """A real batch at Haihe's plant on a manifest carried by Jinhuan, requested for pickup."""
    enterprise = client_for(demo.users["enterprise"])
    code = batch_new(enterprise, demo.sites["haihe_plant"], quantity="200.000", generated_at=now_iso(-60))["code"]
    manifest_new(
        enterprise,
        from_site=demo.sites["haihe_plant"],
        to_site=demo.sites["ts_dongli"],
        carriers=[demo.organisations["jinhuan"]],
        codes=[code],
    )
    made = enterprise.post(
        "/api/v1/pickups/from-batches/",
        {"codes": [code], "date": TODAY.isoformat(), "hauler": demo.organisations["jinhuan"].pk},
        format="json",
    )
    assert made.status_code == 201, made.content
    return code


def _plan(client, demo, **body) -> dict:
    made = client.post(
        "/api/v1/routes/plans/",
        {"date": TODAY.isoformat(), "hauler": demo.organisations["jinhuan"].pk, **body},
        format="json",
    )
    assert made.status_code == 202, made.content
    result = poll(client, made.json()["id"])
    assert result["status"] == "done", result
    return result


@pytest.mark.celery
def test_it_plans_dispatches_and_completes_the_demo_round(demo, celery_worker):
    code = _batch_pickup(demo)
    dispatcher = client_for(demo.users["hauler"])
    body = _plan(dispatcher, demo)
    check_routes(body)
    jinhuan_pickups = set(Pickup.objects.filter(hauler=demo.organisations["jinhuan"]).values_list("id", flat=True))
    served = {s["pickup"]: (r, s) for r in body["routes"] for s in r["stops"] if s["kind"] == "pickup"}
    assert set(served) | {u["pickup"] for u in body["unassigned"]} == jinhuan_pickups
    assert len(served) >= 3
    for route, stop in served.values():
        vehicle = Vehicle.objects.get(pk=route["vehicle"]["id"])
        assert "hazardous" in vehicle.classes
        assert stop["destination"]["id"] in {
            demo.sites[k].pk for k in ("ts_dongli", "ts_xiqing", "incinerator", "renew_plant")
        }
        unloads = [s["site"]["id"] for s in route["stops"] if s["kind"] == "unload"]
        assert stop["destination"]["id"] in unloads
    # Dispatch every route to the demo driver.
    drivers = {str(r["vehicle"]["id"]): "driver" for r in body["routes"]}
    dispatched = dispatcher.post(f"/api/v1/routes/plans/{body['id']}/dispatch/", {"drivers": drivers}, format="json")
    assert dispatched.status_code == 201, dispatched.content
    again = dispatcher.post(f"/api/v1/routes/plans/{body['id']}/dispatch/", {"drivers": drivers}, format="json")
    assert again.status_code == 409
    # The driver sees his stops in order; another hauler's user sees nothing.
    driver = client_for(demo.users["driver"])
    today = driver.get("/api/v1/trips/today/").json()["results"]
    assert len(today) == len(body["routes"])
    for trip in today:
        assert [s["sequence"] for s in trip["stops"]] == list(range(1, len(trip["stops"]) + 1))
    assert client_for(demo.users["cc_driver"]).get("/api/v1/trips/today/").json()["results"] == []
    assert client_for(demo.users["cc_driver"]).get(f"/api/v1/trips/{today[0]['id']}/").status_code == 404
    # Scanning the batch at pickup completes its stop.
    picked = scan(
        driver,
        code,
        "pickup",
        location=point_of(demo.sites["haihe_plant"]),
        organisation=demo.organisations["jinhuan"].pk,
    )
    assert picked.status_code == 201, picked.content
    stop = TripStop.objects.get(pickup__batch__code=code)
    assert stop.status == "done" and Pickup.objects.get(batch__code=code).status == "done"
    # Another stop fails and is re-planned into the rest of the day.
    trip = Trip.objects.get(pk=stop.trip_id)
    other = (
        trip.stops.filter(kind="pickup", status="pending").first()
        or TripStop.objects.filter(kind="pickup", status="pending").first()
    )
    trip = other.trip
    failed = driver.post(
        f"/api/v1/trips/{trip.pk}/stops/{other.sequence}/fail/", {"reason": "gate closed"}, format="json"
    )
    assert failed.status_code == 200, failed.content
    assert failed.json()["status"] == "failed"
    assert (
        driver.post(f"/api/v1/trips/{trip.pk}/stops/{other.sequence}/fail/", {"reason": "x"}, format="json").status_code
        == 409
    )
    replan = dispatcher.post(f"/api/v1/trips/{trip.pk}/replan/", {}, format="json")
    assert replan.status_code == 202, replan.content
    second = poll(dispatcher, replan.json()["id"])
    assert second["status"] == "done", second
    assert other.pickup_id in second["request"]["pickups"]
    outcome = {s["pickup"] for r in second["routes"] for s in r["stops"]} | {u["pickup"] for u in second["unassigned"]}
    assert other.pickup_id in outcome
    if second["routes"]:
        moved = dispatcher.post(
            f"/api/v1/routes/plans/{second['id']}/dispatch/",
            {"drivers": {str(r["vehicle"]["id"]): "driver" for r in second["routes"]}},
            format="json",
        )
        assert moved.status_code == 201, moved.content
        assert (
            TripStop.objects.filter(trip=trip, status="replanned").exists()
            or not trip.stops.filter(status="pending").exists()
        )
