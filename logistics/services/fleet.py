"""Vehicles and hauler licences."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from logistics.models import HaulerLicence, Trip, TripStatus, Vehicle, WasteClass
from waste.errors import AppError
from waste.models import MemberRole, Membership, Organisation, Role, Site
from waste.permissions import membership_require


def licensed_classes(*, organisation: Organisation, on: datetime.date) -> set[str]:
    """Classes the hauler holds a licence for on ``on``; general and recyclable need none."""
    licensed = {WasteClass.GENERAL.value, WasteClass.RECYCLABLE.value}
    for licence in HaulerLicence.objects.filter(organisation=organisation, valid_from__lte=on, valid_until__gte=on):
        licensed |= set(licence.classes)
    return licensed


def vehicle_classes_on(vehicle: Vehicle, on: datetime.date, licensed: set[str] | None = None) -> set[str]:
    licensed = licensed if licensed is not None else licensed_classes(organisation=vehicle.organisation, on=on)
    return set(vehicle.classes) & licensed


def carrier_licence_check(*, carrier: Organisation, batches, on: datetime.date, field: str) -> None:
    """A hazardous batch travels only with a carrier holding a licence in force for its code or category."""
    hazardous = [b for b in batches if b.is_hazardous]
    if not hazardous:
        return
    licences = list(HaulerLicence.objects.filter(organisation=carrier, valid_from__lte=on, valid_until__gte=on))
    for batch in hazardous:
        if not any(licence.covers(batch.waste) for licence in licences):
            raise AppError.field(
                field,
                _("%(name)s holds no hazardous-waste transport licence in force for %(code)s.")
                % {"name": carrier.name, "code": batch.waste.display_code},
                code="no_licence",
            )


def carrier_vehicle_for_signature(*, manifest, organisation: Organisation, user, plate: str | None, on: datetime.date):
    """(plate, driver) named by a carrier's signature: the vehicle given, else the one of the signer's
    trip today. A hazardous load needs a vehicle allowed to carry it and a licence still in force."""
    batches = [line.batch for line in manifest.lines.select_related("batch__waste")]
    hazardous = any(b.is_hazardous for b in batches)
    trip = None
    if plate:
        vehicle = Vehicle.objects.filter(plate=plate.strip(), organisation=organisation).first()
        if vehicle is None:
            raise AppError.field(
                "vehicle",
                _("%(name)s has no vehicle with the plate %(plate)s.") % {"name": organisation.name, "plate": plate},
                code="unknown_vehicle",
            )
    else:
        trip = (
            Trip.objects.filter(driver=user, date=on, vehicle__organisation=organisation, status=TripStatus.PLANNED)
            .select_related("vehicle")
            .order_by("id")
            .first()
        )
        vehicle = trip.vehicle if trip else None
    if vehicle is None:
        if hazardous:
            raise AppError.field(
                "vehicle",
                _("Name the vehicle: hazardous waste travels only in a vehicle allowed to carry it."),
                code="vehicle_required",
            )
        return "", None
    if hazardous:
        carrier_licence_check(carrier=organisation, batches=batches, on=on, field="role")
        if WasteClass.HAZARDOUS not in vehicle.classes or not vehicle.active:
            raise AppError.field(
                "vehicle",
                _("%(plate)s may not carry hazardous waste.") % {"plate": vehicle.plate},
                code="vehicle_not_hazardous",
            )
    is_driver = Membership.objects.filter(user=user, organisation=organisation, role=MemberRole.DRIVER).exists()
    return vehicle.plate, user if is_driver else (trip.driver if trip else vehicle.default_driver)


def driver_check(*, organisation: Organisation, user, field: str) -> None:
    if not Membership.objects.filter(user=user, organisation=organisation, role=MemberRole.DRIVER).exists():
        raise AppError.field(
            field,
            _("%(user)s is not a driver of %(organisation)s.") % {"user": user, "organisation": organisation},
            code="not_driver",
        )


def driver_by_username(*, organisation: Organisation, username: str, field: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise AppError.field(field, _("No user %(username)s.") % {"username": repr(username)}, code="unknown")
    driver_check(organisation=organisation, user=user, field=field)
    return user


@transaction.atomic
def licence_create(
    *,
    user,
    organisation: Organisation,
    number: str,
    classes: list[str],
    valid_from: datetime.date,
    valid_until: datetime.date,
) -> HaulerLicence:
    membership_require(user=user, organisation=organisation, roles=(Role.HAULER,), admin=True)
    if valid_until < valid_from:
        raise AppError.field("valid_until", _("The licence ends before it starts."))
    if HaulerLicence.objects.filter(organisation=organisation, number=number).exists():
        raise AppError.field("number", _("This licence is already registered."), code="duplicate", status=409)
    return HaulerLicence.objects.create(
        organisation=organisation,
        number=number,
        classes=sorted(set(classes)),
        valid_from=valid_from,
        valid_until=valid_until,
    )


@transaction.atomic
def vehicle_create(
    *,
    user,
    organisation: Organisation,
    plate: str,
    capacity_kg: Decimal,
    depot: Site,
    shift_start: datetime.time,
    shift_end: datetime.time,
    classes: list[str],
    capacity_m3: Decimal | None = None,
    name: str = "",
    cost_per_km: Decimal = Decimal(1),
    cost_per_hour: Decimal = Decimal(0),
    default_driver=None,
) -> Vehicle:
    membership_require(user=user, organisation=organisation, roles=(Role.HAULER,), admin=True)
    if depot.organisation_id != organisation.id:
        raise AppError.field("depot", _("The depot must be a site of the hauler."))
    if shift_end <= shift_start:
        raise AppError.field("shift_end", _("The shift ends before it starts."))
    if WasteClass.HAZARDOUS in classes and WasteClass.HAZARDOUS not in licensed_classes(
        organisation=organisation, on=datetime.date.today()
    ):
        raise AppError.field(
            "classes", _("Carrying hazardous waste needs a hauler licence in force."), code="no_licence"
        )
    if Vehicle.objects.filter(plate=plate).exists():
        raise AppError.field(
            "plate", _("A vehicle with this plate is already registered."), code="duplicate", status=409
        )
    if default_driver is not None:
        driver_check(organisation=organisation, user=default_driver, field="default_driver")
    return Vehicle.objects.create(
        organisation=organisation,
        plate=plate,
        name=name,
        capacity_kg=capacity_kg,
        capacity_m3=capacity_m3,
        classes=sorted(set(classes)),
        depot=depot,
        shift_start=shift_start,
        shift_end=shift_end,
        cost_per_km=cost_per_km,
        cost_per_hour=cost_per_hour,
        default_driver=default_driver,
    )
