"""The demo city's fleet and open pickups (called through LogisticsConfig.seed_demo). Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model

from logistics.models import HaulerLicence, Pickup, PickupStatus, Vehicle, WasteClass
from logistics.services.pickups import destination_resolve
from waste.models import MemberRole, Membership

DEMO_PASSWORD = "zerowaste-demo"

# (hauler key, username)
DRIVERS = [("jinhuan", "driver"), ("cityclean", "cc_driver")]
# (hauler key, plate, name, kg, m3, classes, depot key, shift, cost/km, cost/h, driver)
VEHICLES = [
    (
        "jinhuan",
        "津A·W1001",
        "Hazmat box truck 1",
        5000,
        20,
        ["hazardous", "general"],
        "jinhuan_depot",
        ("07:00", "17:00"),
        "3.5",
        "60",
        "driver",
    ),
    (
        "jinhuan",
        "津A·W1002",
        "Hazmat box truck 2",
        3000,
        12,
        ["hazardous", "general"],
        "jinhuan_depot",
        ("08:00", "16:00"),
        "3.0",
        "55",
        None,
    ),
    (
        "cityclean",
        "津B·Q2001",
        "Compactor 1",
        8000,
        30,
        ["general", "recyclable"],
        "cityclean_depot",
        ("06:00", "14:00"),
        "2.5",
        "45",
        "cc_driver",
    ),
    (
        "cityclean",
        "津B·Q2002",
        "Compactor 2",
        8000,
        30,
        ["general", "recyclable"],
        "cityclean_depot",
        ("06:00", "14:00"),
        "2.5",
        "45",
        None,
    ),
]
# (hauler key, site key, class, code, category, kg, window)
PICKUPS = [
    ("jinhuan", "haihe_plant", "hazardous", "900-249-08", "HW08", 800, ("08:00", "12:00")),
    ("jinhuan", "nankai_garage", "hazardous", "900-214-08", "HW08", 300, ("09:00", "15:00")),
    ("jinhuan", "xiqing_fab", "hazardous", "900-041-49", "HW49", 450, None),
    ("jinhuan", "binhai_chem_plant", "hazardous", "900-404-06", "HW06", 1200, ("08:00", "16:00")),
    ("cityclean", "cp_heping", "recyclable", "", "", 1500, ("06:30", "10:00")),
    ("cityclean", "cp_nankai", "recyclable", "", "", 1200, None),
    ("cityclean", "cp_hexi", "general", "", "", 2500, ("07:00", "11:00")),
    ("cityclean", "beichen_factory", "general", "", "", 3000, None),
]


def _time(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


def seed_demo(city) -> None:
    today = datetime.date.today()
    orgs, sites = city.organisations, city.sites
    HaulerLicence.objects.get_or_create(
        organisation=orgs["jinhuan"],
        number="津危运字 120000-2026-017",
        defaults={
            "classes": ["hazardous"],
            "valid_from": datetime.date(today.year - 1, 1, 1),
            "valid_until": datetime.date(today.year + 3, 12, 31),
        },
    )
    drivers = {}
    for org_key, username in DRIVERS:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, organisation=orgs[org_key], defaults={"role": MemberRole.DRIVER})
        city.users[username] = user
        drivers[username] = user
    for org_key, plate, name, kg, m3, classes, depot, shift, per_km, per_h, driver in VEHICLES:
        Vehicle.objects.get_or_create(
            plate=plate,
            defaults={
                "organisation": orgs[org_key],
                "name": name,
                "capacity_kg": Decimal(kg),
                "capacity_m3": Decimal(m3),
                "classes": classes,
                "depot": sites[depot],
                "shift_start": _time(shift[0]),
                "shift_end": _time(shift[1]),
                "cost_per_km": Decimal(per_km),
                "cost_per_hour": Decimal(per_h),
                "default_driver": drivers.get(driver),
            },
        )
    for org_key, site_key, klass, code, category, kg, window in PICKUPS:
        site = sites[site_key]
        if Pickup.objects.filter(
            site=site, date=today, hauler=orgs[org_key], batch__isnull=True, status=PickupStatus.OPEN
        ).exists():
            continue
        pickup = Pickup(
            hauler=orgs[org_key],
            requested_by=site.organisation,
            site=site,
            waste_class=klass,
            waste_code=code,
            waste_category=category,
            quantity_kg=Decimal(kg),
            date=today,
            window_start=_time(window[0]) if window else None,
            window_end=_time(window[1]) if window else None,
            service_minutes=15,
        )
        assert klass in WasteClass.values
        pickup.destination, pickup.destination_problem = destination_resolve(pickup)
        pickup.save()


def round_today(city) -> list:
    """The demo driver's round of today, so that the phone app (/m/) has stops and a label to scan:
    Haihe Machinery's batch signed and waiting for its carrier becomes a pickup, and Jinhuan's open
    pickups of today are planned on the driver's truck (the solver runs here, in process) and
    dispatched to him. Once a day: nothing when he already has a trip today, or without the city's
    activity (no such batch)."""
    from django.utils import timezone

    from logistics.models import Trip
    from logistics.services.pickups import AWAITING_PICKUP, pickup_create_for_batches
    from logistics.services.plans import plan_request, plan_run
    from logistics.services.trips import plan_dispatch
    from waste.demo import OIL_SEALED
    from waste.models import Batch

    today = timezone.localdate()
    driver, dispatcher = city.users.get("driver"), city.users.get("hauler")
    if driver is None or dispatcher is None or Trip.objects.filter(driver=driver, date=today).exists():
        return []
    hauler = city.organisations["jinhuan"]
    waiting = Batch.objects.filter(
        origin_site=city.sites["haihe_plant"], description=OIL_SEALED, status__in=AWAITING_PICKUP
    ).first()
    if waiting is None:
        return []
    if not Pickup.objects.filter(batch=waiting).exists():
        pickup_create_for_batches(user=city.users["enterprise"], codes=[waiting.code], date=today, hauler=hauler)
    truck = Vehicle.objects.get(plate="津A·W1001")
    plan = plan_request(user=dispatcher, hauler=hauler, date=today, vehicle_ids=[truck.pk])
    plan_run(plan_id=plan.pk)  # the queued job later finds it done and does nothing
    plan.refresh_from_db()
    if plan.status != "done" or not (plan.result or {}).get("routes"):
        return []
    return plan_dispatch(user=dispatcher, plan=plan, drivers={str(truck.pk): driver.username})
