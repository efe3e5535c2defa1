"""Shared steps of the ground-control tests: a hauler's truck, its positions, and a load on board."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from logistics.models import Pickup, PickupStatus, RoutePlan, StopKind, Trip, TripStop
from tests.logistics.helpers import depot, vehicle

BASE = (117.20, 39.12)


def truck(org, plate="津A·T0001", **extra):
    return vehicle(org, depot(org, *BASE), plate, **extra)


def fix(v, time, lon, lat, **extra) -> dict:
    return {
        "vehicle": v.pk,
        "time": time.isoformat(),
        "point": {"type": "Point", "coordinates": [lon, lat]},
        **extra,
    }


def ago(**delta) -> datetime.datetime:
    return timezone.now().replace(microsecond=0) - datetime.timedelta(**delta)


def east(lon: float, metres: float) -> float:
    """A longitude ``metres`` east of ``lon`` at Tianjin's latitude."""
    return lon + metres / (111_320 * 0.7760)


def trip_for(v, driver, pickups: list[Pickup], unload_site, *, path=None) -> Trip:
    """A dispatched trip collecting the pickups, then unloading (made directly: the plan is not the subject)."""
    plan = RoutePlan.objects.create(hauler=v.organisation, date=timezone.localdate(), status="done")
    route = {"path": path or []}
    trip = Trip.objects.create(plan=plan, vehicle=v, driver=driver, date=timezone.localdate(), route=route)
    for seq, p in enumerate(pickups, start=1):
        TripStop.objects.create(trip=trip, sequence=seq, pickup=p, site=p.site, eta=timezone.now())
        Pickup.objects.filter(pk=p.pk).update(status=PickupStatus.DISPATCHED)
    TripStop.objects.create(
        trip=trip, sequence=len(pickups) + 1, kind=StopKind.UNLOAD, site=unload_site, eta=timezone.now()
    )
    return trip


def kg(value) -> Decimal:
    return Decimal(str(value))


def load_truck(city, v, *, quantity="500.000", weight_kg=None) -> str:
    """A hazardous batch on a signed manifest, planned on a trip of ``v`` and picked up by its hauler:
    the truck now carries it (the batch in transit in the hauler's custody)."""
    from logistics.services.pickups import pickup_create_for_batches
    from tests.conftest import client_for
    from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, permit, point_of, scan
    from waste.models import Permit

    if not Permit.objects.filter(site=city.transfer).exists():
        permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site, quantity=quantity, generated_at=now_iso(-120))["code"]
    manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=[code]
    )
    [request] = pickup_create_for_batches(
        user=city.generator, codes=[code], date=timezone.localdate(), hauler=city.hauler_org
    )
    trip_for(v, city.hauler, [request], city.transfer)
    extra = {"weight_kg": weight_kg} if weight_kg is not None else {}
    picked = scan(client_for(city.hauler), code, "pickup", location=point_of(city.generation_site), **extra)
    assert picked.status_code == 201, picked.content
    return code
