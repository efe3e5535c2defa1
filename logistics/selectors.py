"""Reads for the logistics API; every queryset goes through waste.scoping.visible_to."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import HaulerLicence, Pickup, RoutePlan, StopStatus, Trip, TripStop, Vehicle
from logistics.services import roads
from waste.errors import NotFound
from waste.models import CatalogEntry, ManifestStatus, MemberRole
from waste.scoping import visible_to
from waste.selectors.batches import open_manifest_lines
from waste.selectors.manifests import manifest_list


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
        .select_related("vehicle__depot")
        .prefetch_related("stops__site", "stops__pickup__batch__waste")
    )


def trip_current_stop(trip: Trip) -> TripStop | None:
    """The stop the driver is heading for: the first one still pending, in round order."""
    return next((s for s in trip.stops.all() if s.status == StopStatus.PENDING), None)


def trip_stop_details(trips) -> dict[int, dict]:
    """Per stop id: what to collect (waste code and name) and the batch's open manifest; a handful
    of statements for a whole day, whatever the number of stops."""
    stops = [s for trip in trips for s in trip.stops.all()]
    batches = [s.pickup.batch for s in stops if s.pickup_id and s.pickup.batch_id]
    lines = open_manifest_lines([b.pk for b in batches], drafts=True) if batches else {}
    codes = {s.pickup.waste_code or s.pickup.waste_category for s in stops if s.pickup_id and not s.pickup.batch_id}
    names = {e.code: e for e in CatalogEntry.objects.filter(code__in=codes - {""}).order_by("catalog__effective_from")}
    out = {}
    for stop in stops:
        waste, manifest = None, None
        if stop.pickup_id and stop.pickup.batch_id:
            batch = stop.pickup.batch
            waste = {"code": batch.waste.display_code, "name": batch.waste.name, "hazardous": batch.is_hazardous}
            line = lines.get(batch.pk)
            if line is not None:
                carriers = line.manifest.carrier_rows
                manifest = {
                    "number": line.manifest.number,
                    "status": line.manifest.status,
                    "consignor_signed": line.manifest.consignor_signed_at is not None,
                    "carriers_signed": bool(carriers) and all(c.signed_at is not None for c in carriers),
                }
        elif stop.pickup_id:
            code = stop.pickup.waste_code or stop.pickup.waste_category
            entry = names.get(code)
            waste = {
                "code": entry.display_code if entry else code,
                "name": entry.name if entry else "",
                "hazardous": stop.pickup.waste_class == "hazardous",
            }
        out[stop.pk] = {"waste": waste, "manifest": manifest}
    return out


def _leg_feature(coords, *, leg: int, source: str, start, end) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {"kind": "leg", "leg": leg, "from": start, "to": end, "source": source},
    }


def trip_route_geojson(trip: Trip) -> dict:
    """The round as GeoJSON: one line per leg (depot → stops in order → depot), following the roads
    (pgr_dijkstra) where a road network is loaded and a path exists, else a straight segment, each
    leg saying which; and the stops as points. ``source`` sums it up: road, straight_line or mixed."""
    depot = trip.vehicle.depot.location
    waypoints = [(None, (depot.x, depot.y))]
    waypoints += [
        (s.sequence, (s.site.location.x, s.site.location.y))
        for s in trip.stops.all()
        if s.status != StopStatus.REPLANNED
    ]
    waypoints.append((None, (depot.x, depot.y)))
    network = roads.road_network_version() is not None
    features, sources = [], set()
    for i, ((start, a), (end, b)) in enumerate(zip(waypoints, waypoints[1:], strict=False)):
        path = roads.road_path(a, b) if network else None
        source = "road" if path else "straight_line"
        sources.add(source)
        features.append(_leg_feature(path or [list(a), list(b)], leg=i + 1, source=source, start=start, end=end))
    for stop in trip.stops.all():
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [stop.site.location.x, stop.site.location.y]},
                "properties": {
                    "kind": stop.kind,
                    "sequence": stop.sequence,
                    "site": stop.site.name,
                    "status": stop.status,
                },
            }
        )
    source = sources.pop() if len(sources) == 1 else "mixed"
    return {"type": "FeatureCollection", "source": source, "road_network": network, "features": features}


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


def manifests_on_board(*, user):
    """The load the driver has on board: current manifests whose carrier part he signed or drives,
    picked up and not yet received."""
    return (
        manifest_list(user=user)
        .filter(Q(carriers__driver=user) | Q(carriers__signed_by=user))
        .filter(status__in=(ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT))
        .distinct()
        .order_by("-consignor_signed_at", "-id")
    )
