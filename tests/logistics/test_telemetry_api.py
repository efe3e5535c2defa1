"""Sites' devices: registration, fill readings that become pickups the next plan serves, weighbridge
weighings reconciled against what the truck carries, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from logistics.models import Pickup, PickupStatus, Reading
from tests.conftest import client_for
from tests.factories import SiteFactory
from tests.logistics.ground_helpers import BASE, ago, east, load_truck, truck
from tests.logistics.test_plans_api import planned
from waste.alerts.services import alerts_scan
from waste.geo import point
from waste.models import Alert, SiteKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.ROUTING_SOLVER_SECONDS = 1


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def register(client, site, identifier, kind="fill", **extra):
    made = client.post(
        "/api/v1/devices/", {"identifier": identifier, "site": site.pk, "kind": kind, **extra}, format="json"
    )
    assert made.status_code == 201, made.content
    return made.json()


def read(client, device, kind="fill", time=None, **values):
    body = {"device": device, "kind": kind, "time": (time or ago(minutes=1)).isoformat(), **values}
    return client.post("/api/v1/telemetry/", body, format="json")


@pytest.fixture
def bin_site(city):
    return SiteFactory(
        organisation=city.operator_org, kind=SiteKind.COLLECTION_POINT, location=point(east(BASE[0], 2000), BASE[1])
    )


def test_it_refuses_readings_from_unregistered_devices_and_other_sites_devices(city, bin_site):
    operator = client_for(city.operator)
    register(operator, bin_site, "bin-1", capacity_kg="400")

    unknown = error_of(read(operator, "bin-404", fill_pct="50"), 400)
    not_theirs = error_of(read(client_for(city.outsider), "bin-1", fill_pct="50"), 400)
    wrong_kind = error_of(read(operator, "bin-1", kind="weighbridge", net_kg="100"), 400)
    both = error_of(read(operator, "bin-1", fill_pct="50", fill_kg="10"), 400)
    future = error_of(read(operator, "bin-1", time=ago(minutes=-30), fill_pct="50"), 400)

    assert unknown["code"] == "unknown_device" and list(unknown["fields"]) == ["device"]
    assert not_theirs["code"] == "unknown_device"
    assert wrong_kind["code"] == "wrong_kind"
    assert "fill_pct" in both["fields"]
    assert future["code"] == "future_time" and "time" in future["fields"]
    assert Reading.objects.count() == 0


def test_it_registers_devices_only_at_the_operators_sites(city, bin_site):
    outsider = client_for(city.outsider)
    refused = outsider.post(
        "/api/v1/devices/", {"identifier": "x", "site": bin_site.pk, "kind": "fill", "capacity_kg": "9"}, format="json"
    )
    no_capacity = client_for(city.operator).post(
        "/api/v1/devices/", {"identifier": "x", "site": bin_site.pk, "kind": "fill"}, format="json"
    )

    assert refused.status_code in (400, 403) and "site" in refused.json()["error"]["fields"]
    assert "capacity_kg" in error_of(no_capacity, 400)["fields"]


def test_it_turns_a_full_collection_point_into_a_pickup_the_next_plan_serves(city, bin_site, settings):
    settings.FILL_PICKUP_PCT = 80
    truck(city.hauler_org)
    operator = client_for(city.operator)
    register(operator, bin_site, "bin-1", capacity_kg="400", label="Bin A")

    half = read(operator, "bin-1", time=ago(minutes=30), fill_pct="50")
    full = read(operator, "bin-1", time=ago(minutes=10), fill_pct="85")
    retry = read(operator, "bin-1", time=ago(minutes=10), fill_pct="85")
    fuller = read(operator, "bin-1", time=ago(minutes=5), fill_kg="360")

    assert half.status_code == 201 and half.json()["pickup"] is None
    assert full.status_code == 201 and full.json()["flags"] == ["over_threshold"]
    assert full.json()["fill_kg"] == "340.000"
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    assert fuller.json()["pickup"] == full.json()["pickup"]
    [asked] = Pickup.objects.filter(site=bin_site)
    assert asked.status == PickupStatus.OPEN and asked.quantity_kg == Decimal("360.000")
    assert asked.date == timezone.localdate() and asked.destination == city.plant
    # The next plan of a hauler working the area collects it.
    body = planned(city)
    served = [s for r in body["routes"] for s in r["stops"] if s["kind"] == "pickup"]
    assert [s["pickup"] for s in served] == [asked.pk]
    # And the warning is raised once for this filling.
    assert alerts_scan(rules=["fill_threshold"]) == {"fill_threshold": 1}
    assert alerts_scan(rules=["fill_threshold"]) == {"fill_threshold": 0}
    [alert] = Alert.objects.filter(rule="fill_threshold")
    assert alert.site == bin_site and "85.00% full" in alert.message


def test_it_warns_of_a_site_whose_sensors_add_up_beyond_its_capacity(city):
    store = SiteFactory(
        organisation=city.operator_org, kind=SiteKind.TRANSFER_STATION, storage_capacity_kg=Decimal("1000")
    )
    operator = client_for(city.operator)
    register(operator, store, "pit-1", capacity_kg="800", fill_threshold_pct=101)
    register(operator, store, "pit-2", capacity_kg="800", fill_threshold_pct=101)

    read(operator, "pit-1", time=ago(minutes=20), fill_kg="600")
    second = read(operator, "pit-2", time=ago(minutes=10), fill_kg="500").json()

    assert second["flags"] == ["over_capacity"] and second["data"]["site_kg"] == "1100.000"
    assert second["pickup"] is None  # a station is emptied by its own trucks, not a route
    assert alerts_scan(rules=["fill_threshold"]) == {"fill_threshold": 1}


def test_it_reconciles_a_weighbridge_weighing_with_the_trucks_manifest(city, catalogs, settings):
    settings.WEIGHT_TOLERANCE_PCT = 2.0
    v = truck(city.hauler_org)
    code = load_truck(city, v, quantity="500.000", weight_kg="510.000")  # scanned at 510 kg on pickup
    operator = client_for(city.operator)
    register(operator, city.transfer, "bridge-1", kind="weighbridge")

    close = read(
        operator,
        "bridge-1",
        kind="weighbridge",
        time=ago(minutes=9),
        gross_kg="9512",
        tare_kg="9000",
        plate="津a·t0001",
    )
    off = read(
        operator,
        "bridge-1",
        kind="weighbridge",
        time=ago(minutes=5),
        gross_kg="9400",
        tare_kg="9000",
        plate="津A·T0001",
    )
    stranger = read(operator, "bridge-1", kind="weighbridge", time=ago(minutes=4), net_kg="300", plate="京B·00000")
    bad = read(operator, "bridge-1", kind="weighbridge", time=ago(minutes=3), gross_kg="100", tare_kg="900")
    mismatch = read(
        operator, "bridge-1", kind="weighbridge", time=ago(minutes=2), gross_kg="9500", tare_kg="9000", net_kg="400"
    )

    assert close.status_code == 201 and close.json()["flags"] == []
    assert close.json()["vehicle"] == v.pk and close.json()["expected_kg"] == "510.000"
    assert close.json()["data"]["batches"] == [code] and len(close.json()["data"]["manifests"]) == 1
    assert off.json()["net_kg"] == "400.000" and off.json()["flags"] == ["weighbridge_mismatch"]
    assert stranger.json()["flags"] == ["unknown_plate"]
    assert "tare_kg" in error_of(bad, 400)["fields"]
    assert "net_kg" in error_of(mismatch, 400)["fields"]
    assert alerts_scan(rules=["weighbridge_mismatch"]) == {"weighbridge_mismatch": 1}
    assert alerts_scan(rules=["weighbridge_mismatch"]) == {"weighbridge_mismatch": 0}
    [alert] = Alert.objects.filter(rule="weighbridge_mismatch")
    assert alert.organisation == city.hauler_org and alert.site == city.transfer
    assert "400.000 kg net" in alert.message and "510.000 kg" in alert.message
