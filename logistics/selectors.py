"""Reads for the logistics API; every queryset goes through waste.scoping.visible_to."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import HaulerLicence, Pickup, RoutePlan, Trip, Vehicle
from waste.errors import NotFound
from waste.models import MemberRole
from waste.scoping import visible_to


def vehicle_list(*, user):
    return visible_to(Vehicle.objects.select_related("depot", "default_driver", "organisation"), user)


def licence_list(*, user):
    return visible_to(HaulerLicence.objects.select_related("organisation"), user)


def pickup_list(*, user):
    return visible_to(Pickup.objects.select_related("site", "batch", "destination", "hauler"), user)


def plan_get(*, user, plan_id: int) -> RoutePlan:
    plan = visible_to(RoutePlan.objects.select_related("hauler"), user).filter(id=plan_id).first()
    if plan is None:
        raise NotFound(_("No such route plan."), code="not_found")
    return plan


def trip_get(*, user, trip_id: int) -> Trip:
    trip = visible_to(Trip.objects.select_related("vehicle__organisation", "driver"), user).filter(id=trip_id).first()
    if trip is None:
        raise NotFound(_("No such trip."), code="not_found")
    return trip


def trips_for_driver(*, user, on: datetime.date | None = None):
    on = on or timezone.localdate()
    return (
        visible_to(Trip.objects.all(), user)
        .filter(driver=user, date=on)
        .select_related("vehicle")
        .prefetch_related("stops__site", "stops__pickup__batch")
    )


def plan_list(*, user, hauler=None):
    plans = visible_to(RoutePlan.objects.select_related("hauler", "created_by"), user)
    return plans.filter(hauler=hauler) if hauler is not None else plans


def plan_trips(*, user, plan: RoutePlan):
    """The trips a plan became (empty until it is dispatched), with their vehicle and driver."""
    return visible_to(Trip.objects.filter(plan=plan), user).select_related("vehicle", "driver").order_by("id")


def pickups_by_id(*, user, ids) -> dict[int, Pickup]:
    return {p.id: p for p in pickup_list(user=user).filter(id__in=list(ids))}


def driver_list(*, organisation):
    """The hauler's drivers (members with the driver role), by username."""
    return (
        get_user_model()
        .objects.filter(memberships__organisation=organisation, memberships__role=MemberRole.DRIVER)
        .distinct()
        .order_by("username")
    )
