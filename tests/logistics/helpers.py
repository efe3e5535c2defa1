"""Shared steps of the routing tests: a small fleet around the test city's hauler, and polling a plan."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

from logistics.models import HaulerLicence, Pickup, RoutePlan, Vehicle
from logistics.services.plans import plan_run
from tests.factories import MembershipFactory, SiteFactory, UserFactory
from waste.geo import point
from waste.models import MemberRole, Permit, SiteKind

TODAY = datetime.date.today()


def licence(org, classes=("hazardous",)):
    return HaulerLicence.objects.create(
        organisation=org,
        number=f"L-{org.pk}-{len(classes)}",
        classes=list(classes),
        valid_from=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY + datetime.timedelta(days=300),
    )


def depot(org, lon=117.20, lat=39.12):
    return SiteFactory(organisation=org, kind=SiteKind.STORAGE, location=point(lon, lat))


def driver(org, username="driver"):
    user = UserFactory(username=username)
    MembershipFactory(user=user, organisation=org, role=MemberRole.DRIVER)
    return user


def vehicle(org, site, plate, kg=2000, classes=("general",), shift=("07:00", "17:00"), default_driver=None):
    return Vehicle.objects.create(
        organisation=org,
        plate=plate,
        capacity_kg=Decimal(kg),
        capacity_m3=None,
        classes=list(classes),
        depot=site,
        shift_start=datetime.time.fromisoformat(shift[0]),
        shift_end=datetime.time.fromisoformat(shift[1]),
        cost_per_km=Decimal("2.0"),
        cost_per_hour=Decimal("40"),
        default_driver=default_driver,
    )


def permit(site, codes):
    return Permit.objects.create(
        site=site,
        number=f"P-{site.pk}",
        codes=list(codes),
        operations=["R13"],
        annual_quantity_kg=Decimal(10**6),
        valid_from=TODAY - datetime.timedelta(days=1),
        valid_until=TODAY + datetime.timedelta(days=365),
    )


def pickup(hauler, site, kg=100, klass="general", window=None, code="", category="", **extra):
    from logistics.services.pickups import destination_resolve

    p = Pickup(
        hauler=hauler,
        requested_by=site.organisation,
        site=site,
        waste_class=klass,
        waste_code=code,
        waste_category=category,
        quantity_kg=Decimal(kg),
        date=extra.pop("date", TODAY),
        window_start=datetime.time.fromisoformat(window[0]) if window else None,
        window_end=datetime.time.fromisoformat(window[1]) if window else None,
        service_minutes=5,
        **extra,
    )
    p.destination, p.destination_problem = destination_resolve(p)
    p.save()
    return p


def run_inline(plan_id: int) -> RoutePlan:
    """What the worker does, in this process (tests not marked celery)."""
    plan_run(plan_id=plan_id)
    return RoutePlan.objects.get(id=plan_id)


def poll(client, plan_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/routes/plans/{plan_id}/").json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def check_routes(body: dict, *, capacity: dict[int, float] | None = None) -> None:
    """Every route's load stays within its vehicle; ETAs are ordered; GeoJSON is well formed."""
    geo = body["geojson"]
    assert geo["type"] == "FeatureCollection"
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(body["routes"])
    for feature in geo["features"]:
        coords = feature["geometry"]["coordinates"]
        flat = coords if feature["geometry"]["type"] == "LineString" else [coords]
        assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in flat)
    for route in body["routes"]:
        etas = [s["eta"] for s in route["stops"]]
        assert etas == sorted(etas)
        assert route["stops"][-1]["kind"] == "unload" and route["stops"][-1]["load_kg"] == 0
        assert max(s["load_kg"] for s in route["stops"]) <= route["capacity_kg"] + 1e-6
        assert route["distance_m"] > 0 and route["duration_s"] > 0
