"""Issue 12's "done means" in one run on PostGIS: a day of the demo fleet's positions with one loaded
truck standing 20 minutes in a field (warned once); a collection point's fill reading turned into a
pickup the next plan serves; a spill reported, the nearest licensed vehicle and permitted site ranked
first, and its dispatch put on that driver's round."""

from __future__ import annotations

import datetime
import random
from types import SimpleNamespace

import pytest

from logistics.models import Pickup, PickupStatus, Vehicle
from logistics.routing import haversine_m
from tests.conftest import client_for
from tests.logistics.ground_helpers import ago, east, fix, load_truck
from tests.logistics.test_ground_alerts import FIELD, _day
from tests.logistics.test_plans_api import planned
from waste.alerts.services import alerts_scan
from waste.demo import seed_demo_city
from waste.models import Alert, Permit

pytestmark = [pytest.mark.postgis, pytest.mark.django_db]


def test_it_does_what_ground_control_and_emergency_command_promise_in_one_day(catalogs, settings):
    settings.GROUND_STOP_MINUTES, settings.FILL_PICKUP_PCT, settings.ROUTING_SOLVER_SECONDS = 15, 80, 1
    demo = seed_demo_city(activity=False)
    jinhuan = SimpleNamespace(
        generator=demo.users["enterprise"],
        generation_site=demo.sites["haihe_plant"],
        transfer=demo.sites["ts_dongli"],
        hauler_org=demo.organisations["jinhuan"],
        hauler=demo.users["hauler"],
    )
    fleet = list(Vehicle.objects.select_related("depot", "organisation").order_by("plate"))
    loaded = Vehicle.objects.get(plate="津A·W1001")
    load_truck(jinhuan, loaded, quantity="800.000")

    # 1. A day of positions; the loaded truck stands 20 minutes in a field.
    plant = (jinhuan.generation_site.location.x, jinhuan.generation_site.location.y)
    station = (jinhuan.transfer.location.x, jinhuan.transfer.location.y)
    rng, start = random.Random(7), ago(hours=12, minutes=30)
    senders = {
        o: client_for(demo.users["driver" if o == jinhuan.hauler_org else "cc_driver"])
        for o in {v.organisation for v in fleet}
    }
    raised = 0
    days = {}
    for v in fleet:
        lunch = ((v.depot.location.x + 0.03, v.depot.location.y + 0.03), 40)
        days[v] = _day(
            v, start, rng, [(plant, 20), (FIELD, 20), (station, 30)] if v == loaded else [lunch, (station, 10)]
        )
    for hour in range(12):
        for v in fleet:
            sent = senders[v.organisation].post(
                "/api/v1/positions/bulk/", {"positions": days[v][hour * 60 : (hour + 1) * 60]}, format="json"
            )
            assert sent.json()["summary"]["created"] == 60, sent.json()["summary"]
        raised += alerts_scan(now=start + datetime.timedelta(hours=hour + 1), rules=["vehicle_stopped"])[
            "vehicle_stopped"
        ]
    assert raised == 1
    [dumping] = Alert.objects.filter(rule="vehicle_stopped")
    assert (
        dumping.params["plate"] == loaded.plate and haversine_m((dumping.location.x, dumping.location.y), FIELD) < 100
    )

    # 2. A collection point reads 90 % full: a pickup, which the next plan of a hauler serves.
    station_user = client_for(demo.users["station"])
    bin_site = demo.sites["cp_heping"]
    made = station_user.post(
        "/api/v1/devices/",
        {"identifier": "heping-bin-1", "site": bin_site.pk, "kind": "fill", "capacity_kg": "1000"},
        format="json",
    )
    assert made.status_code == 201, made.content
    read = station_user.post(
        "/api/v1/telemetry/",
        {"device": "heping-bin-1", "kind": "fill", "time": ago(minutes=5).isoformat(), "fill_pct": "90"},
        format="json",
    )
    assert read.status_code == 201 and read.json()["pickup"], read.content
    asked = Pickup.objects.get(pk=read.json()["pickup"])
    assert asked.site == bin_site and asked.status == PickupStatus.OPEN
    cityclean = SimpleNamespace(hauler=demo.users["cc_driver"], hauler_org=demo.organisations["cityclean"])
    plan = planned(cityclean)
    served = [s["pickup"] for r in plan["routes"] for s in r["stops"] if s["kind"] == "pickup"]
    assert asked.pk in served, plan

    # 3. A spill of waste oil: the licensed truck 1 km away comes before the unlicensed one 200 m away.
    spill_at = (117.1900, 39.1500)
    unlicensed = next(v for v in fleet if v.organisation != jinhuan.hauler_org)
    senders[unlicensed.organisation].post(
        "/api/v1/positions/", fix(unlicensed, ago(minutes=1), east(spill_at[0], 200), spill_at[1]), format="json"
    )
    senders[jinhuan.hauler_org].post(
        "/api/v1/positions/", fix(loaded, ago(minutes=1), east(spill_at[0], 1000), spill_at[1]), format="json"
    )
    reported = client_for(jinhuan.generator).post(
        "/api/v1/incidents/",
        {
            "kind": "spill",
            "point": {"type": "Point", "coordinates": list(spill_at)},
            "waste_code": "900-249-08",
            "quantity_kg": "300",
        },
        format="json",
    )
    assert reported.status_code == 201, reported.content
    incident = reported.json()["id"]
    regulator = client_for(demo.users["regulator"])
    ranked = regulator.get(f"/api/v1/incidents/{incident}/resources/").json()
    plates = [v["plate"] for v in ranked["vehicles"]]
    assert plates[0] == loaded.plate and unlicensed.plate not in plates
    permitted = {p.site_id for p in Permit.objects.filter(codes__contains=["HW08"])}
    first_site = ranked["sites"][0]
    assert first_site["id"] in permitted
    assert all(
        haversine_m(spill_at, tuple(first_site["point"])) <= haversine_m(spill_at, tuple(s["point"]))
        for s in ranked["sites"]
    )

    # 4. Dispatched: the incident is a stop on that truck's driver's round.
    sent = regulator.post(f"/api/v1/incidents/{incident}/dispatch/", {"vehicle": loaded.pk}, format="json")
    assert sent.status_code == 201, sent.content
    driver = demo.users[sent.json()["driver"]]
    round_ = client_for(driver).get("/api/v1/trips/today/").json()["results"]
    stops = [s for trip in round_ for s in trip["stops"] if s["kind"] == "incident"]
    assert [s["location"] for s in stops] == [pytest.approx(list(spill_at))]
