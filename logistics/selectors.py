"""Reads for the logistics API; every queryset goes through waste.scoping.visible_to."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, FloatField, Func, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    HaulerLicence,
    Pickup,
    RoutePlan,
    StopKind,
    StopStatus,
    Trip,
    TripStatus,
    TripStop,
    Vehicle,
    VehicleLastPosition,
    VehiclePosition,
)
from logistics.routing import haversine_m
from logistics.services import roads
from waste.errors import NotFound
from waste.geo import bbox_polygon, point
from waste.models import BatchStatus, CatalogEntry, ManifestLine, ManifestStatus, MemberRole, Site
from waste.scoping import user_jurisdictions, user_organisation_ids, visible_to
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
    incidents = _incidents_of(stops)
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
        out[stop.pk] = {"waste": waste, "manifest": manifest, "incident": incidents.get(stop.trip_id)}
    return out


def _incidents_of(stops) -> dict[int, dict]:
    """Per trip id with an incident stop: what the driver is sent to answer (kind, description, the
    waste if known) and whether the arrival on site is recorded."""
    # emergency builds on logistics (it dispatches trips), so it is imported here, not at the top.
    from emergency.models import Dispatch, EntryKind, IncidentEntry

    trip_ids = {s.trip_id for s in stops if s.kind == StopKind.INCIDENT}
    if not trip_ids:
        return {}
    arrived = {
        e["data"].get("trip")
        for e in IncidentEntry.objects.filter(kind=EntryKind.ARRIVED, incident__dispatches__trip_id__in=trip_ids)
        .values("data")
        .distinct()
    }
    out = {}
    for dispatch in Dispatch.objects.filter(trip_id__in=trip_ids).select_related("incident"):
        incident = dispatch.incident
        out[dispatch.trip_id] = {
            "id": incident.pk,
            "kind": incident.kind,
            "kind_label": str(incident.get_kind_display()),
            "status": incident.status,
            "status_label": str(incident.get_status_display()),
            "description": incident.description,
            "waste_code": incident.waste_code,
            "quantity_kg": str(incident.quantity_kg) if incident.quantity_kg is not None else None,
            "occurred_at": incident.occurred_at.isoformat(),
            "arrived": dispatch.trip_id in arrived,
        }
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
    waypoints += [(s.sequence, (s.place.x, s.place.y)) for s in trip.stops.all() if s.status != StopStatus.REPLANNED]
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
                "geometry": {"type": "Point", "coordinates": [stop.place.x, stop.place.y]},
                "properties": {
                    "kind": stop.kind,
                    "sequence": stop.sequence,
                    "site": stop.place_name,
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


# --- Ground control ---------------------------------------------------------------------------------


LOAD_DAYS = 2  # a trip's load is looked for on its day and the next (a round past midnight)


@dataclass
class Load:
    """What a vehicle carries: batches in its carrier's custody that one of its open trips picked up,
    and collection-point pickups (no batch) picked up and not yet unloaded."""

    kg: Decimal = Decimal(0)
    batches: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)


def _load_stops(vehicle_ids):
    """The done pickup stops of the vehicles' trips of the last LOAD_DAYS days, as the rows a load is
    counted from: (trip, sequence, vehicle, organisation, asked kg, batch code, status, carrier,
    weighed kg, batch kg). ``vehicle_ids`` may be a list or a subquery (the live fleet's one statement)."""
    # A trip closes once its last pickup is done, before it unloads: so trips of the last days in any
    # state, and what is still in transit in the carrier's custody.
    recent = timezone.localdate() - datetime.timedelta(days=LOAD_DAYS)
    return (
        TripStop.objects.filter(
            trip__vehicle_id__in=vehicle_ids, trip__date__gte=recent, kind=StopKind.PICKUP, status=StopStatus.DONE
        )
        .exclude(trip__status=TripStatus.REPLANNED)
        .values_list(
            "trip_id",
            "sequence",
            "trip__vehicle_id",
            "trip__vehicle__organisation_id",
            "pickup__quantity_kg",
            "pickup__batch__code",
            "pickup__batch__status",
            "pickup__batch__carrier_id",
            "pickup__batch__last_weight_kg",
            "pickup__batch__quantity_kg",
        )
    )


def vehicle_loads(*, vehicle_ids) -> dict[int, Load]:
    """Load on board per vehicle (vehicles carrying nothing are absent). Plain rows, no model objects:
    the live fleet asks this for every vehicle of a city."""
    stops = list(_load_stops(vehicle_ids))
    if not stops:
        return {}
    unloads: dict[int, list[int]] = {}
    for trip_id, sequence in TripStop.objects.filter(
        trip_id__in={s[0] for s in stops}, kind=StopKind.UNLOAD, status=StopStatus.PENDING
    ).values_list("trip_id", "sequence"):
        unloads.setdefault(trip_id, []).append(sequence)
    loads: dict[int, Load] = {}
    codes: dict[str, int] = {}
    for trip_id, sequence, vehicle_id, org_id, asked_kg, code, status, carrier_id, weighed_kg, batch_kg in stops:
        if code is not None:
            on_board = status == BatchStatus.IN_TRANSIT and carrier_id == org_id
            kg = weighed_kg or batch_kg
        else:  # a collection point's fill: on board until the trip unloads
            on_board = asked_kg is not None and any(seq > sequence for seq in unloads.get(trip_id, ()))
            kg = asked_kg
        if not on_board:
            continue
        load = loads.setdefault(vehicle_id, Load())
        load.kg += kg
        if code is not None:
            load.batches.append(code)
            codes[code] = vehicle_id
    if codes:
        lines = ManifestLine.objects.filter(
            batch__code__in=list(codes),
            manifest__correction__isnull=True,
            manifest__status__in=[ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT],
        ).values_list("batch__code", "manifest__number")
        for code, number in lines:
            manifests = loads[codes[code]].manifests
            if number not in manifests:
                manifests.append(number)
    return loads


def site_at(*, lon: float, lat: float) -> Site | None:
    """The site a point is at: inside its area, or within GEOFENCE_RADIUS_M of its location."""
    radius = settings.GEOFENCE_RADIUS_M
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    here = point(lon, lat)
    near = Site.objects.filter(
        Q(location__intersects=bbox_polygon(lon - dlon, lat - dlat, lon + dlon, lat + dlat)) | Q(area__intersects=here)
    )
    best = None
    for site in near:
        metres = (
            0.0
            if site.area is not None and site.area.intersects(here)
            else haversine_m((lon, lat), (site.location.x, site.location.y))
        )
        if metres <= radius and (best is None or metres < best[0]):
            best = (metres, site)
    return best[1] if best else None


def vehicle_get(*, user, vehicle_id: int) -> Vehicle:
    vehicle = vehicle_list(user=user).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise NotFound(_("No such vehicle."), code="not_found")
    return vehicle


def vehicle_track(*, vehicle: Vehicle, start: datetime.datetime, end: datetime.datetime) -> dict:
    """The plausible points between start and end in time order, and how many were left out as jumps."""
    rows = VehiclePosition.objects.filter(vehicle_id=vehicle.pk, time__gte=start, time__lte=end).order_by("time")
    points, flagged = [], 0
    for time, geom, flags in rows.values_list("time", "point", "flags").iterator(chunk_size=5000):
        if flags:
            flagged += 1
        else:
            points.append((time, geom.x, geom.y))
    return {"points": points, "flagged": flagged}


def vehicle_last_positions(*, user, vehicle_ids=None):
    """The newest plausible point of each visible vehicle (vehicles that never sent one are absent)."""
    rows = visible_to(VehicleLastPosition.objects.select_related("vehicle"), user)
    return rows.filter(vehicle_id__in=list(vehicle_ids)) if vehicle_ids is not None else rows


def trip_progress(*, vehicle_ids, on: datetime.date) -> dict[int, dict]:
    """Per vehicle, its newest trip of the day: stops done of all, and the next stop. Counted by the
    database (one row per trip), then the next stops fetched: the live fleet asks for a whole city."""
    newest: dict[int, int] = {}
    trips = (
        Trip.objects.filter(vehicle_id__in=vehicle_ids, date=on)
        .exclude(status=TripStatus.REPLANNED)
        .order_by("-id")
        .values_list("id", "vehicle_id")
    )
    for trip_id, vehicle_id in trips:
        newest.setdefault(vehicle_id, trip_id)
    pending = Q(status=StopStatus.PENDING)
    counts = {
        row["trip_id"]: row
        for row in TripStop.objects.filter(trip_id__in=list(newest.values()))
        .values("trip_id")
        .annotate(total=Count("id"), open=Count("id", filter=pending), following=Min("sequence", filter=pending))
        .order_by()
    }
    following: dict[int, tuple] = {}
    rows = (
        TripStop.objects.filter(pending, trip_id__in=[t for t, row in counts.items() if row["following"] is not None])
        .order_by("trip_id", "sequence")
        .values_list("trip_id", "sequence", "kind", "site_id", "site__name", "eta")
    )
    for row in rows:
        following.setdefault(row[0], row)
    progress = {}
    for vehicle_id, trip_id in newest.items():
        row = counts.get(trip_id, {"total": 0, "open": 0})
        stop = following.get(trip_id)
        progress[vehicle_id] = {
            "trip": trip_id,
            "stops_done": row["total"] - row["open"],
            "stops_total": row["total"],
            "next_stop": None
            if stop is None
            else {
                "sequence": stop[1],
                "kind": stop[2],
                "site": {"id": stop[3], "name": stop[4]},
                "eta": stop[5].isoformat(),
            },
        }
    return progress


@dataclass
class LiveVehicle:
    id: int
    plate: str
    organisation_id: int
    capacity_kg: Decimal
    time: datetime.datetime | None
    lon: float | None
    lat: float | None
    speed_kmh: float | None
    heading: float | None
    stopped_since: datetime.datetime | None
    age_seconds: int | None
    load: Load
    trip: dict | None


def _live_rows(user):
    return (
        visible_to(Vehicle.objects.filter(active=True), user)
        .order_by("organisation_id", "plate")
        # Coordinates as numbers from the database: no geometry object per vehicle.
        .annotate(
            lon=Func("last_position__point", function="ST_X", output_field=FloatField()),
            lat=Func("last_position__point", function="ST_Y", output_field=FloatField()),
        )
        .values_list(
            "id",
            "plate",
            "organisation_id",
            "capacity_kg",
            "last_position__time",
            "lon",
            "lat",
            "last_position__speed_kmh",
            "last_position__heading",
            "last_position__stopped_since",
        )
    )


def fleet_live(*, user, now: datetime.datetime | None = None) -> list[LiveVehicle]:
    """Every visible active vehicle: its newest point (or none), load on board and trip progress.
    One row per vehicle from VehicleLastPosition, however long the history; plain rows throughout."""
    now = now or timezone.now()
    rows = list(_live_rows(user))
    ids = [r[0] for r in rows]
    loads = vehicle_loads(vehicle_ids=ids)
    progress = trip_progress(vehicle_ids=ids, on=timezone.localdate(now))
    return [
        LiveVehicle(
            id=pk,
            plate=plate,
            organisation_id=org_id,
            capacity_kg=capacity,
            time=time,
            lon=lon,
            lat=lat,
            speed_kmh=speed,
            heading=heading,
            stopped_since=since,
            age_seconds=int((now - time).total_seconds()) if time else None,
            load=loads.get(pk, Load()),
            trip=progress.get(pk),
        )
        for pk, plate, org_id, capacity, time, lon, lat, speed, heading, since in rows
    ]


def fleet_scope_key(user) -> str:
    """The cache key of what a user may see of the fleet: every member of the same organisations
    (and regulators' jurisdictions) sees the same vehicles, so they share one answer."""
    if user.is_superuser:
        scope = b"all"
    else:
        parts = [",".join(str(pk) for pk in sorted(user_organisation_ids(user)))]
        parts += sorted(f"{bytes(area.ewkb).hex()}/{prefix}" for area, prefix in user_jurisdictions(user))
        scope = "|".join(parts).encode()
    return "fleet-live:" + hashlib.sha256(scope).hexdigest()


def fleet_live_json(*, user) -> bytes:
    """The live fleet as the API answers it (a GeoJSON FeatureCollection, UTF-8 JSON), from the cache
    for FLEET_LIVE_CACHE_SECONDS per scope: one dispatcher's map refreshing every few seconds is many."""
    seconds = settings.FLEET_LIVE_CACHE_SECONDS
    key = fleet_scope_key(user) if seconds > 0 else None
    if key is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    if connection.vendor == "postgresql":
        answer = fleet_live_sql(user=user).encode()
    else:  # the embedded default: the same answer put together in Python
        answer = json.dumps(fleet_live_collection(user=user), ensure_ascii=False, separators=(",", ":")).encode()
    if key is not None:
        cache.set(key, answer, seconds)
    return answer


def fleet_live_collection(*, user, now: datetime.datetime | None = None) -> dict:
    features = []
    for v in fleet_live(user=user, now=now):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [v.lon, v.lat]} if v.time else None,
                "properties": {
                    "vehicle": v.id,
                    "plate": v.plate,
                    "organisation": v.organisation_id,
                    "time": v.time.isoformat() if v.time else None,
                    "age_seconds": v.age_seconds,
                    "speed": v.speed_kmh,
                    "heading": v.heading,
                    "stopped_since": v.stopped_since.isoformat() if v.stopped_since else None,
                    "load_kg": str(v.load.kg),
                    "capacity_kg": str(v.capacity_kg),
                    "batches": v.load.batches,
                    "manifests": v.load.manifests,
                    "trip": v.trip,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _iso(column: str) -> str:
    """A timestamp as Python's isoformat() writes it in UTC (microseconds only when there are any, six
    digits), so both paths of the live fleet answer the same text."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    micro = f"(extract(microseconds FROM {utc})::int %% 1000000)"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN {micro} = 0 THEN '' ELSE '.' || lpad({micro}::text, 6, '0') END || '+00:00' END"
    )


def _sql(queryset) -> tuple[str, tuple]:
    return queryset.query.sql_with_params()


def fleet_live_sql(*, user, now: datetime.datetime | None = None) -> str:
    """The live fleet's FeatureCollection as JSON text, in one statement (PostgreSQL): the vehicles'
    newest points, their loads (as vehicle_loads counts them) and trips (as trip_progress does) joined
    and aggregated by the database, and the JSON rendered by it, so Python carries no row per vehicle.
    The parts that say which rows count are the ORM's own queries, compiled; only the joining is SQL."""
    now = now or timezone.now()
    visible = visible_to(Vehicle.objects.filter(active=True), user).values("pk")
    parts = [
        ("veh(id, plate, org, capacity, time, lon, lat, speed, heading, since)", _live_rows(user).order_by()),
        (
            "stops(trip, seq, vehicle, org, asked, code, status, carrier, weighed, batch_kg)",
            _load_stops(visible),
        ),
        (
            "unloads(trip, seq)",
            TripStop.objects.filter(kind=StopKind.UNLOAD, status=StopStatus.PENDING).values_list("trip_id", "sequence"),
        ),
        (
            "lines(code, number)",
            ManifestLine.objects.filter(
                manifest__correction__isnull=True,
                manifest__status__in=[ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT],
            ).values_list("batch__code", "manifest__number"),
        ),
        (
            "trips(id, vehicle)",
            Trip.objects.filter(vehicle_id__in=visible, date=timezone.localdate(now))
            .exclude(status=TripStatus.REPLANNED)
            .values_list("id", "vehicle_id"),
        ),
        (
            "allstops(trip, seq, kind, status, site, site_name, eta)",
            TripStop.objects.values_list("trip_id", "sequence", "kind", "status", "site_id", "site__name", "eta"),
        ),
    ]
    ctes, params = [], []
    for name, queryset in parts:
        sql, args = _sql(queryset)
        ctes.append(f"{name} AS ({sql})")
        params.extend(args)
    sql = (
        "WITH "
        + ", ".join(ctes)
        + """,
aboard AS (
    SELECT s.vehicle, s.code,
           CASE WHEN s.code IS NOT NULL THEN COALESCE(NULLIF(s.weighed, 0), s.batch_kg) ELSE s.asked END AS kg
    FROM stops s
    WHERE CASE WHEN s.code IS NOT NULL THEN s.status = %s AND s.carrier = s.org
               ELSE s.asked IS NOT NULL
                    AND EXISTS (SELECT 1 FROM unloads u WHERE u.trip = s.trip AND u.seq > s.seq) END
), loads AS MATERIALIZED (
    SELECT vehicle, sum(kg) AS kg, json_agg(code) FILTER (WHERE code IS NOT NULL) AS batches
    FROM aboard GROUP BY vehicle
), mans AS MATERIALIZED (
    SELECT a.vehicle, json_agg(DISTINCT l.number) AS manifests
    FROM aboard a JOIN lines l ON l.code = a.code GROUP BY a.vehicle
), newest AS (
    SELECT DISTINCT ON (vehicle) id, vehicle FROM trips ORDER BY vehicle, id DESC
), ts AS (
    SELECT * FROM allstops WHERE trip IN (SELECT id FROM newest)
), nxt AS MATERIALIZED (
    SELECT DISTINCT ON (trip) * FROM ts WHERE status = %s ORDER BY trip, seq
), progress AS MATERIALIZED (
    SELECT n.vehicle, json_build_object(
        'trip', n.id,
        'stops_done', count(ts.trip) - count(ts.trip) FILTER (WHERE ts.status = %s),
        'stops_total', count(ts.trip),
        'next_stop', CASE WHEN x.trip IS NULL THEN NULL ELSE json_build_object(
            'sequence', x.seq, 'kind', x.kind, 'site', json_build_object('id', x.site, 'name', x.site_name),
            'eta', {iso_eta}) END
    ) AS trip
    FROM newest n LEFT JOIN ts ON ts.trip = n.id LEFT JOIN nxt x ON x.trip = n.id
    GROUP BY n.vehicle, n.id, x.trip, x.seq, x.kind, x.site, x.site_name, x.eta
)
SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
    'type', 'Feature',
    'geometry', CASE WHEN v.time IS NULL THEN NULL
                     ELSE json_build_object('type', 'Point', 'coordinates', json_build_array(v.lon, v.lat)) END,
    'properties', json_build_object(
        'vehicle', v.id, 'plate', v.plate, 'organisation', v.org, 'time', {iso_time},
        'age_seconds', trunc(extract(epoch FROM (%s::timestamptz - v.time)))::int,
        'speed', v.speed, 'heading', v.heading, 'stopped_since', {iso_since},
        'load_kg', COALESCE(l.kg, 0)::text, 'capacity_kg', v.capacity::text,
        'batches', COALESCE(l.batches, '[]'::json), 'manifests', COALESCE(m.manifests, '[]'::json),
        'trip', p.trip)
) ORDER BY v.org, v.plate), '[]'::json))::text
FROM veh v LEFT JOIN loads l ON l.vehicle = v.id LEFT JOIN mans m ON m.vehicle = v.id
LEFT JOIN progress p ON p.vehicle = v.id
""".format(iso_eta=_iso("x.eta"), iso_time=_iso("v.time"), iso_since=_iso("v.since"))
    )
    params += [BatchStatus.IN_TRANSIT.value, StopStatus.PENDING.value, StopStatus.PENDING.value, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]
