"""A dispatched round for today, built directly: a depot, a vehicle, a driver, a trip and its stops."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from logistics.models import Pickup, PlanStatus, RoutePlan, StopKind, Trip, TripStop
from tests.factories import SiteFactory
from tests.logistics.helpers import TODAY, depot, driver, vehicle
from waste.geo import point
from waste.models import Batch, SiteKind


def eta(hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(hour, minute)))


def round_today(
    city,
    *,
    depot_at=(117.20, 39.12),
    stops_at=(),
    batches: list[str] = (),
    unload_at=None,
    plate="津A·R0001",
    username="driver",
    classes=("general", "hazardous"),
):
    """A trip for today (the city's hauler is licensed for hazardous waste): one pickup stop per batch
    code (at the batch's site), then one per extra point in ``stops_at`` (a collection point's fill,
    no batch), then an unload at ``unload_at``."""
    base = depot(city.hauler_org, *depot_at)
    user = driver(city.hauler_org, username=username)
    van = vehicle(city.hauler_org, base, plate, kg=5000, classes=classes, default_driver=user)
    plan = RoutePlan.objects.create(hauler=city.hauler_org, date=TODAY, status=PlanStatus.DONE, result={"routes": []})
    trip = Trip.objects.create(plan=plan, vehicle=van, driver=user, date=TODAY)
    sequence = 0
    for code in batches:
        batch = Batch.objects.get(code=code)
        pickup = Pickup.objects.create(
            hauler=city.hauler_org,
            requested_by=batch.organisation,
            site=batch.current_site,
            batch=batch,
            waste_code=batch.waste.code,
            waste_category=batch.waste.parent_code,
            waste_class="hazardous" if batch.is_hazardous else "general",
            quantity_kg=batch.quantity_kg,
            date=TODAY,
            window_start=datetime.time(9, 0),
            window_end=datetime.time(11, 30),
            destination=city.transfer,
        )
        sequence += 1
        TripStop.objects.create(
            trip=trip,
            sequence=sequence,
            pickup=pickup,
            site=batch.current_site,
            eta=eta(9, 10 * sequence),
            load_kg_after=batch.quantity_kg,
        )
    for lon, lat in stops_at:
        site = SiteFactory(organisation=city.generator_org, kind=SiteKind.COLLECTION_POINT, location=point(lon, lat))
        pickup = Pickup.objects.create(
            hauler=city.hauler_org,
            requested_by=city.generator_org,
            site=site,
            waste_code="SW59",
            waste_class="general",
            quantity_kg=Decimal("300"),
            date=TODAY,
        )
        sequence += 1
        TripStop.objects.create(trip=trip, sequence=sequence, pickup=pickup, site=site, eta=eta(10, sequence))
    if unload_at is not None:
        sequence += 1
        TripStop.objects.create(trip=trip, sequence=sequence, kind=StopKind.UNLOAD, site=unload_at, eta=eta(12))
    return trip
