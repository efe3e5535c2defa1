"""Dispatch: a finished plan becomes trips; drivers complete or fail stops; failures are re-planned."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from logistics.models import (
    Pickup,
    PickupStatus,
    PlanStatus,
    RoutePlan,
    StopKind,
    StopStatus,
    Trip,
    TripStatus,
    TripStop,
    Vehicle,
)
from logistics.services.fleet import driver_by_username
from logistics.services.plans import plan_request
from waste.errors import AppError, Conflict
from waste.models import Role
from waste.permissions import membership_require


@transaction.atomic
def plan_dispatch(*, user, plan: RoutePlan, drivers: dict[str, str] | None = None) -> list[Trip]:
    """One trip per route, to the named driver or the vehicle's default driver."""
    membership_require(user=user, organisation=plan.hauler, roles=(Role.HAULER,), field="plan")
    plan = RoutePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.DONE:
        raise Conflict(
            _("The plan is %(status)s; only a finished plan can be dispatched.")
            % {"status": plan.get_status_display()},
            code="not_done",
        )
    if plan.trips.exists():
        raise Conflict(_("The plan has already been dispatched."), code="dispatched")
    drivers = {str(k): v for k, v in (drivers or {}).items()}
    routes = plan.result["routes"]
    planned = {str(r["vehicle"]["id"]) for r in routes}
    errors = {f"drivers.{k}": [_("This vehicle has no route in the plan.")] for k in drivers if k not in planned}
    vehicles = {str(v.id): v for v in Vehicle.objects.filter(id__in=planned).select_related("default_driver")}
    chosen = {}
    for vid in planned:
        if vid in drivers:
            try:
                chosen[vid] = driver_by_username(
                    organisation=plan.hauler, username=drivers[vid], field=f"drivers.{vid}"
                )
            except AppError as exc:
                errors.update(exc.fields)
        elif vehicles[vid].default_driver is not None:
            chosen[vid] = vehicles[vid].default_driver
        else:
            errors[f"drivers.{vid}"] = [_("Name a driver: the vehicle has no default driver.")]
    if errors:
        raise AppError(_("Some routes cannot be dispatched."), fields=errors)
    trips = [
        _trip_create(plan, route, vehicles[str(route["vehicle"]["id"])], chosen[str(route["vehicle"]["id"])])
        for route in routes
    ]
    return trips


def _trip_create(plan: RoutePlan, route: dict, vehicle: Vehicle, driver) -> Trip:
    trip = Trip.objects.create(plan=plan, vehicle=vehicle, driver=driver, date=plan.date, route=route)
    pickup_ids = [s["pickup"] for s in route["stops"] if s["kind"] == StopKind.PICKUP]
    pickups = {p.id: p for p in Pickup.objects.select_for_update().filter(id__in=pickup_ids)}
    stops = []
    for s in route["stops"]:
        pickup = pickups.get(s["pickup"]) if s["pickup"] else None
        if pickup is not None and pickup.status in (PickupStatus.DONE, PickupStatus.CANCELLED):
            continue  # collected or withdrawn since the plan was made
        stops.append(
            TripStop(
                trip=trip,
                sequence=len(stops) + 1,
                kind=s["kind"],
                pickup=pickup,
                site_id=s["site"]["id"],
                eta=parse_datetime(s["eta"]),
                load_kg_after=Decimal(str(s["load_kg"])),
            )
        )
    TripStop.objects.bulk_create(stops)
    # A pickup moved here from an earlier trip (a re-plan) leaves that trip.
    moved = TripStop.objects.filter(pickup_id__in=pickup_ids, status=StopStatus.PENDING).exclude(trip=trip)
    earlier = set(moved.values_list("trip_id", flat=True))
    moved.update(status=StopStatus.REPLANNED)
    for old in Trip.objects.filter(id__in=earlier):
        if not old.stops.filter(kind=StopKind.PICKUP, status=StopStatus.PENDING).exists():
            Trip.objects.filter(pk=old.pk, status=TripStatus.PLANNED).update(status=TripStatus.REPLANNED)
    Pickup.objects.filter(id__in=pickup_ids, status=PickupStatus.OPEN).update(
        status=PickupStatus.DISPATCHED, hauler=plan.hauler
    )
    Pickup.objects.filter(id__in=pickup_ids, hauler__isnull=True).update(hauler=plan.hauler)
    return trip


def _stop_for_update(*, user, trip: Trip, sequence: int) -> TripStop:
    if trip.driver_id != user.id:
        membership_require(user=user, organisation=trip.vehicle.organisation, field="trip")
    stop = TripStop.objects.select_for_update().filter(trip=trip, sequence=sequence).first()
    if stop is None:
        raise AppError.field("sequence", _("No such stop on this trip."), status=404)
    if stop.kind != StopKind.PICKUP:
        raise AppError.field("sequence", _("Only pickup stops can be completed or failed."))
    if stop.status != StopStatus.PENDING:
        raise Conflict(_("The stop is already %(status)s.") % {"status": stop.get_status_display()}, code="stop_closed")
    return stop


def _trip_close_if_finished(trip: Trip) -> None:
    if not trip.stops.filter(kind=StopKind.PICKUP, status=StopStatus.PENDING).exists():
        Trip.objects.filter(pk=trip.pk, status=TripStatus.PLANNED).update(status=TripStatus.DONE)


def _complete(stop: TripStop) -> None:
    stop.status, stop.completed_at = StopStatus.DONE, timezone.now()
    stop.save(update_fields=["status", "completed_at"])
    Pickup.objects.filter(pk=stop.pickup_id).update(status=PickupStatus.DONE)
    _trip_close_if_finished(stop.trip)


@transaction.atomic
def trip_stop_complete(*, user, trip: Trip, sequence: int) -> TripStop:
    """For pickups without a batch (a collection point's fill); batches complete by their scan."""
    stop = _stop_for_update(user=user, trip=trip, sequence=sequence)
    if stop.pickup.batch_id:
        raise AppError.field("sequence", _("Scan the batch's label to complete this stop."), code="scan_required")
    _complete(stop)
    return stop


@transaction.atomic
def trip_stop_fail(*, user, trip: Trip, sequence: int, reason: str) -> TripStop:
    stop = _stop_for_update(user=user, trip=trip, sequence=sequence)
    stop.status, stop.reason, stop.completed_at = StopStatus.FAILED, reason, timezone.now()
    stop.save(update_fields=["status", "reason", "completed_at"])
    Pickup.objects.filter(pk=stop.pickup_id).update(status=PickupStatus.OPEN)  # plannable again
    return stop


def trip_stops_complete_for_pickups(*, picked: set[tuple[int, int]]) -> int:
    """After pickup scans (the caller's transaction): completes each pending stop for a picked-up
    batch on a trip of the carrier that picked it up, with its pickup, and closes trips left with
    nothing to collect. ``picked`` holds (batch id, carrier organisation id). Set-based: the same
    handful of statements for one scan or a thousand."""
    if not picked:
        return 0
    if connection.vendor == "postgresql":
        return _trip_stops_complete_sql(sorted(picked))
    which = Q()
    for batch_id, organisation_id in sorted(picked):
        which |= Q(pickup__batch_id=batch_id, trip__vehicle__organisation_id=organisation_id)
    stops = list(
        TripStop.objects.select_for_update(of=("self",))
        .filter(which, kind=StopKind.PICKUP, status=StopStatus.PENDING)
        .order_by("pk")
        .values_list("pk", "pickup_id", "trip_id")
    )
    if not stops:
        return 0
    TripStop.objects.filter(pk__in=[pk for pk, _p, _t in stops]).update(
        status=StopStatus.DONE, completed_at=timezone.now()
    )
    Pickup.objects.filter(pk__in=[p for _s, p, _t in stops]).update(status=PickupStatus.DONE)
    pending = TripStop.objects.filter(trip=OuterRef("pk"), kind=StopKind.PICKUP, status=StopStatus.PENDING)
    Trip.objects.filter(pk__in={t for _s, _p, t in stops}, status=TripStatus.PLANNED).exclude(Exists(pending)).update(
        status=TripStatus.DONE
    )
    return len(stops)


def _trip_stops_complete_sql(picked: list[tuple[int, int]]) -> int:
    """``trip_stops_complete_for_pickups`` in ONE raw statement: a pickup scan runs it every time, and
    mostly it finds nothing, so its four ORM statements were a fixed cost on the hot path. The CTEs
    all see the rows as they were, so the trip closes when its only pending stops are those done here."""
    values = ", ".join(["(%s::bigint, %s::bigint)"] + ["(%s, %s)"] * (len(picked) - 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH picked(batch_id, organisation_id) AS (VALUES {values}),
            s AS (
              SELECT st.id, st.pickup_id, st.trip_id FROM logistics_tripstop st
              JOIN logistics_pickup p ON p.id = st.pickup_id
              JOIN logistics_trip t ON t.id = st.trip_id
              JOIN logistics_vehicle v ON v.id = t.vehicle_id
              JOIN picked ON picked.batch_id = p.batch_id AND picked.organisation_id = v.organisation_id
              WHERE st.kind = %s AND st.status = %s
              ORDER BY st.id FOR UPDATE OF st
            ),
            done AS (
              UPDATE logistics_tripstop SET status = %s, completed_at = %s WHERE id IN (SELECT id FROM s) RETURNING id
            ),
            pickups AS (UPDATE logistics_pickup SET status = %s WHERE id IN (SELECT pickup_id FROM s)),
            trips AS (
              UPDATE logistics_trip t SET status = %s
              WHERE t.id IN (SELECT trip_id FROM s) AND t.status = %s AND NOT EXISTS (
                SELECT 1 FROM logistics_tripstop o WHERE o.trip_id = t.id AND o.kind = %s AND o.status = %s
                AND o.id NOT IN (SELECT id FROM s))
            )
            SELECT count(*) FROM done
            """,
            [value for pair in picked for value in pair]
            + [StopKind.PICKUP, StopStatus.PENDING, StopStatus.DONE, timezone.now(), PickupStatus.DONE]
            + [TripStatus.DONE, TripStatus.PLANNED, StopKind.PICKUP, StopStatus.PENDING],
        )
        return cursor.fetchone()[0]


def _seconds_now(on: datetime.date) -> int:
    now = timezone.localtime()
    if now.date() != on:
        return 0 if now.date() < on else 24 * 3600
    return now.hour * 3600 + now.minute * 60 + now.second


@transaction.atomic
def trip_replan(*, user, trip: Trip, vehicle_ids: list[int] | None = None) -> RoutePlan:
    """A new plan from now for the trip's failed and remaining pickups (with the trip's vehicle by default)."""
    hauler = trip.vehicle.organisation
    membership_require(user=user, organisation=hauler, roles=(Role.HAULER,), field="trip")
    remaining = list(
        trip.stops.filter(kind=StopKind.PICKUP, status__in=(StopStatus.PENDING, StopStatus.FAILED))
        .exclude(pickup__status__in=(PickupStatus.DONE, PickupStatus.CANCELLED))
        .values_list("pickup_id", flat=True)
    )
    if not remaining:
        raise Conflict(_("Nothing is left to re-plan on this trip."), code="nothing_left")
    return plan_request(
        user=user,
        hauler=hauler,
        date=trip.date,
        vehicle_ids=vehicle_ids or [trip.vehicle_id],
        pickup_ids=remaining,
        start_seconds=_seconds_now(trip.date),
        replan_of=trip,
    )
