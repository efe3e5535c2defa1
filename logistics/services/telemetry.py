"""Readings of sites' devices: fill levels and weighbridge weighings, once per (device, time).

A fill reading at or above its threshold becomes an open pickup with the expected quantity (one per
filling: later readings update it until it is planned), so the next route plan collects it. A
weighbridge reading with a plate is reconciled against what that vehicle carries on its open trips
(the batches' scanned weights and their manifests).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import Device, DeviceKind, Pickup, PickupStatus, Reading, Vehicle
from logistics.selectors import vehicle_loads
from logistics.services.pickups import pickup_create_at_site
from waste.errors import AppError
from waste.models import Site, SiteKind
from waste.permissions import membership_require
from waste.scoping import user_organisation_ids
from waste.services.batches import event_time_check

MAX_FILL_PCT = Decimal(200)  # an overfull container can read above 100 %; beyond this the sensor is broken
ONE_GRAM = Decimal("0.001")
# Sites whose fill is collected by a route (a store or a station empties itself into its own trucks).
COLLECTED_KINDS = (SiteKind.COLLECTION_POINT, SiteKind.STORAGE, SiteKind.GENERATION)


@dataclass
class ReadingIn:
    device: str
    kind: str
    time: datetime.datetime
    fill_pct: Decimal | None = None
    fill_kg: Decimal | None = None
    gross_kg: Decimal | None = None
    tare_kg: Decimal | None = None
    net_kg: Decimal | None = None
    plate: str = ""


@transaction.atomic
def device_register(
    *,
    user,
    site: Site,
    identifier: str,
    kind: str,
    label: str = "",
    capacity_kg: Decimal | None = None,
    fill_threshold_pct: int | None = None,
    waste_class: str = "general",
    waste_code: str = "",
) -> Device:
    """A site's operator registers a device; only registered devices may send readings."""
    membership_require(user=user, organisation=site.organisation, field="site")
    if kind == DeviceKind.FILL and not capacity_kg:
        raise AppError.field("capacity_kg", _("A fill sensor needs its container's capacity in kg."))
    if Device.objects.filter(identifier=identifier).exists():
        raise AppError.field("identifier", _("A device with this id is already registered."), code="duplicate")
    return Device.objects.create(
        site=site,
        identifier=identifier,
        kind=kind,
        label=label,
        capacity_kg=capacity_kg,
        fill_threshold_pct=fill_threshold_pct,
        waste_class=waste_class,
        waste_code=waste_code,
    )


@transaction.atomic
def reading_record(*, user, reading: ReadingIn) -> tuple[Reading, bool]:
    """(reading, created). A retry of the same (device, time) answers the first reading, not created."""
    device = _device(user, reading.device)
    if reading.kind != device.kind:
        raise AppError.field(
            "kind", _("This device sends %(kind)s readings.") % {"kind": device.get_kind_display()}, code="wrong_kind"
        )
    time = event_time_check(reading.time, "time")
    existing = Reading.objects.filter(device=device, time=time).first()
    if existing is not None:
        return existing, False
    row = Reading(device=device, kind=device.kind, time=time)
    if device.kind == DeviceKind.FILL:
        _fill(device, reading, row)
    else:
        _weighing(reading, row)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same reading, sent twice at once
        return Reading.objects.get(device=device, time=time), False
    if "over_threshold" in row.flags and device.site.kind in COLLECTED_KINDS:
        row.pickup = _pickup_for(user, device, row)
        row.save(update_fields=["pickup"])
    return row, True


def _device(user, identifier: str) -> Device:
    device = Device.objects.select_related("site").filter(identifier=identifier, active=True).first()
    if device is None or not (user.is_superuser or device.site.organisation_id in user_organisation_ids(user)):
        raise AppError.field("device", _("No registered device with this id at your sites."), code="unknown_device")
    return device


def _flags(row: Reading, *flags: str) -> None:
    row.flags = ",".join([f for f in row.flags.split(",") if f] + list(flags))


def _fill(device: Device, reading: ReadingIn, row: Reading) -> None:
    if (reading.fill_pct is None) == (reading.fill_kg is None):
        raise AppError.field("fill_pct", _("Give either fill_pct or fill_kg."))
    if reading.fill_pct is not None and not 0 <= reading.fill_pct <= MAX_FILL_PCT:
        raise AppError.field("fill_pct", _("Must be between 0 and %(max)s %%.") % {"max": MAX_FILL_PCT})
    if reading.fill_kg is not None and reading.fill_kg < 0:
        raise AppError.field("fill_kg", _("Must not be negative."))
    capacity = device.capacity_kg
    if reading.fill_pct is not None:
        row.fill_pct = reading.fill_pct
        row.fill_kg = (capacity * reading.fill_pct / 100).quantize(ONE_GRAM) if capacity else None
    else:
        row.fill_kg = reading.fill_kg
        row.fill_pct = (reading.fill_kg * 100 / capacity).quantize(Decimal("0.01")) if capacity else None
    threshold = device.fill_threshold_pct or settings.FILL_PICKUP_PCT
    if row.fill_pct is not None and row.fill_pct >= threshold:
        _flags(row, "over_threshold")
    site = device.site
    if site.storage_capacity_kg is not None and row.fill_kg is not None:
        # The site holds what each of its fill sensors read last (this one: now).
        others = Decimal(0)
        for other in Device.objects.filter(site=site, kind=DeviceKind.FILL).exclude(pk=device.pk):
            latest = other.readings.order_by("-time").values_list("fill_kg", flat=True).first()
            others += latest or 0
        if others + row.fill_kg > site.storage_capacity_kg:
            _flags(row, "over_capacity")
            row.data = {"site_kg": str(others + row.fill_kg), "capacity_kg": str(site.storage_capacity_kg)}


def _weighing(reading: ReadingIn, row: Reading) -> None:
    for name in ("gross_kg", "tare_kg", "net_kg"):
        value = getattr(reading, name)
        if value is not None and value < 0:
            raise AppError.field(name, _("Must not be negative."))
    gross, tare, net = reading.gross_kg, reading.tare_kg, reading.net_kg
    if gross is not None and tare is not None:
        if tare > gross:
            raise AppError.field("tare_kg", _("The tare is heavier than the gross weight."))
        if net is not None and abs(net - (gross - tare)) > ONE_GRAM:
            raise AppError.field("net_kg", _("Net weight must be gross minus tare."))
        net = gross - tare
    if net is None:
        raise AppError.field("net_kg", _("Give the net weight, or the gross and tare weights."))
    row.gross_kg, row.tare_kg, row.net_kg = gross, tare, net
    plate = "".join(reading.plate.split()).upper()
    row.plate = plate
    if not plate:
        return
    vehicle = Vehicle.objects.filter(plate__iexact=plate).first()
    if vehicle is None:
        _flags(row, "unknown_plate")
        return
    row.vehicle = vehicle
    load = vehicle_loads(vehicle_ids=[vehicle.pk]).get(vehicle.pk)
    if load is None or not load.batches:
        _flags(row, "nothing_on_board")
        return
    row.expected_kg = load.kg
    row.data = {"batches": load.batches, "manifests": load.manifests}
    if abs(net - load.kg) > load.kg * Decimal(settings.WEIGHT_TOLERANCE_PCT) / 100:
        _flags(row, "weighbridge_mismatch")


def _pickup_for(user, device: Device, row: Reading) -> Pickup:
    """The open pickup this filling already asked for (updated to the newest expected quantity), or a new one."""
    quantity = row.fill_kg if row.fill_kg is not None else Decimal(0)
    asked = (
        Pickup.objects.select_for_update()
        .filter(pk__in=device.readings.filter(pickup__isnull=False).values("pickup"), status=PickupStatus.OPEN)
        .order_by("-id")
        .first()
    )
    if asked is not None:
        if quantity > asked.quantity_kg:
            asked.quantity_kg = quantity
            asked.save(update_fields=["quantity_kg"])
        return asked
    return pickup_create_at_site(
        user=user,
        site=device.site,
        quantity_kg=quantity,
        date=timezone.localdate(),
        waste_class=device.waste_class,
        waste_code=device.waste_code,
    )
