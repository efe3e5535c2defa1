"""Ground-control warnings: the fleet's and the sites' devices' rules, registered with waste's alert
scan through ``LogisticsConfig.alert_rules`` (waste does not import logistics). Each yields a Hit per
cause; ``alert_raise`` keeps one alert per rule and cause, so every scan may find them again."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator

from django.conf import settings
from django.contrib.gis.geos import LineString, Point
from django.utils import timezone
from django.utils.translation import gettext_noop

from logistics.models import (
    Reading,
    Trip,
    TripStatus,
    Vehicle,
    VehicleLastPosition,
    VehiclePosition,
    VehicleStop,
)
from logistics.selectors import LOAD_DAYS, vehicle_loads
from waste.alerts.rules import Hit
from waste.models import AlertRule


def alert_rules() -> dict:
    return {
        AlertRule.VEHICLE_STOPPED: vehicle_stopped,
        AlertRule.OFF_ROUTE: off_route,
        AlertRule.VEHICLE_SILENT: vehicle_silent,
        AlertRule.FILL_THRESHOLD: fill_threshold,
        AlertRule.WEIGHBRIDGE_MISMATCH: weighbridge_mismatch,
    }


def _since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=settings.ALERT_LOOKBACK_DAYS)


def _at(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def vehicle_stopped(now: datetime.datetime) -> Iterator[Hit]:
    """A loaded vehicle that stood still for GROUND_STOP_MINUTES or more away from every site
    (possible illegal dumping). One alert per dwell."""
    dwell = datetime.timedelta(minutes=settings.GROUND_STOP_MINUTES)
    stops = VehicleStop.objects.filter(site__isnull=True, load_kg__gt=0, ended_at__gte=_since(now)).select_related(
        "vehicle__organisation"
    )
    for stop in stops:
        if stop.ended_at - stop.started_at < dwell:
            continue
        minutes = int((stop.ended_at - stop.started_at).total_seconds() // 60)
        yield Hit(
            cause=f"stop:{stop.vehicle_id}:{stop.started_at.isoformat()}",
            organisation=stop.vehicle.organisation,
            location=stop.point,
            severity="critical",
            message=gettext_noop(
                "%(plate)s, carrying %(load_kg)s kg, stood still for %(minutes)s min from %(since)s at "
                "%(lon)s, %(lat)s, away from any site."
            ),
            params={
                "plate": stop.vehicle.plate,
                "load_kg": str(stop.load_kg),
                "minutes": minutes,
                "since": _at(stop.started_at),
                "lon": f"{stop.point.x:.5f}",
                "lat": f"{stop.point.y:.5f}",
            },
            data={"vehicle": stop.vehicle_id, "started_at": stop.started_at.isoformat(), "minutes": minutes},
        )


def _metres_to_path(lon: float, lat: float, path: list) -> float:
    """Distance from a point to a polyline. Projected by hand onto a plane tangent at the point
    (equirectangular): exact enough over a city, and no projection library or database trip."""
    scale_x = 111_320 * math.cos(math.radians(lat))
    coords = [((x - lon) * scale_x, (y - lat) * 110_574) for x, y in path]
    return LineString(coords).distance(Point(0, 0))


def _off_run(track: list, path: list) -> tuple | None:
    """The first run of GROUND_OFF_ROUTE_POINTS consecutive points all farther than GROUND_OFF_ROUTE_M
    from the path, as (its farthest point, metres); None when there is none."""
    need = max(1, settings.GROUND_OFF_ROUTE_POINTS)
    run: list = []
    for position in track:
        metres = _metres_to_path(position.point.x, position.point.y, path)
        run = [*run, (position, metres)] if metres > settings.GROUND_OFF_ROUTE_M else []
        if len(run) >= need:
            return max(run, key=lambda pm: pm[1])
    return None


def off_route(now: datetime.datetime) -> Iterator[Hit]:
    """A vehicle on a trip of the day whose recent track (the last GROUND_OFF_ROUTE_WINDOW_MINUTES)
    holds GROUND_OFF_ROUTE_POINTS points in a row farther than GROUND_OFF_ROUTE_M from the trip's
    planned path: one stray fix does not raise it, an excursion between two scans does. Points flagged
    as impossible jumps are left out. One alert per trip."""
    since = now - datetime.timedelta(minutes=settings.GROUND_OFF_ROUTE_WINDOW_MINUTES)
    today = (
        Trip.objects.filter(date=timezone.localdate(now))
        .exclude(status=TripStatus.REPLANNED)
        .select_related("vehicle__organisation")
        .order_by("-id")
    )
    trips = {}
    for trip in today:  # each vehicle's newest trip of the day
        if len((trip.route or {}).get("path") or []) >= 2:
            trips.setdefault(trip.vehicle_id, trip)
    tracks: dict[int, list] = {}
    recent = VehiclePosition.objects.filter(vehicle_id__in=list(trips), time__gt=since, time__lte=now)
    for position in recent.exclude(flags__contains="impossible_speed").order_by("vehicle", "time"):
        tracks.setdefault(position.vehicle_id, []).append(position)
    for trip in trips.values():
        found = _off_run(tracks.get(trip.vehicle_id, []), trip.route["path"])
        if found is None:
            continue
        position, metres = found
        yield Hit(
            cause=f"trip:{trip.pk}",
            organisation=trip.vehicle.organisation,
            location=position.point,
            message=gettext_noop("%(plate)s is %(metres)s m off the planned route of trip %(trip)s at %(at)s."),
            params={"plate": trip.vehicle.plate, "metres": round(metres), "trip": trip.pk, "at": _at(position.time)},
            data={"vehicle": trip.vehicle_id, "trip": trip.pk, "metres": round(metres)},
        )


def vehicle_silent(now: datetime.datetime) -> Iterator[Hit]:
    """A vehicle carrying waste whose newest position is older than GROUND_SILENT_MINUTES (or that has
    never sent one). One alert per silence."""
    recent = timezone.localdate(now) - datetime.timedelta(days=LOAD_DAYS)
    loads = vehicle_loads(vehicle_ids=Trip.objects.filter(date__gte=recent).values("vehicle"))
    limit = now - datetime.timedelta(minutes=settings.GROUND_SILENT_MINUTES)
    vehicles = Vehicle.objects.filter(pk__in=list(loads)).select_related("organisation")
    last = {p.vehicle_id: p for p in VehicleLastPosition.objects.filter(vehicle_id__in=list(loads))}
    for vehicle in vehicles:
        position = last.get(vehicle.pk)
        if position is not None and position.time >= limit:
            continue
        heard = _at(position.time) if position else "-"
        yield Hit(
            cause=f"silent:{vehicle.pk}:{position.time.isoformat() if position else 'never'}",
            organisation=vehicle.organisation,
            location=position.point if position else None,
            message=gettext_noop(
                "%(plate)s carries %(load_kg)s kg and has sent no position since %(heard)s (over %(minutes)s min)."
            ),
            params={
                "plate": vehicle.plate,
                "load_kg": str(loads[vehicle.pk].kg),
                "heard": heard,
                "minutes": settings.GROUND_SILENT_MINUTES,
            },
            data={"vehicle": vehicle.pk, "last_position_at": position.time.isoformat() if position else None},
        )


def fill_threshold(now: datetime.datetime) -> Iterator[Hit]:
    """A container read at or above its fill threshold (one alert per filling: per pickup it asked
    for), and a site whose sensors add up to more than its storage capacity (one per site and day)."""
    readings = (
        Reading.objects.filter(time__gte=_since(now), flags__contains="over_")
        .select_related("device__site__organisation")
        .order_by("time")
    )
    for r in readings:
        site = r.device.site
        if "over_threshold" in r.flags:
            yield Hit(
                cause=f"fill:{r.device_id}:{r.pickup_id or r.time.date().isoformat()}",
                site=site,
                organisation=site.organisation,
                message=gettext_noop("%(device)s at %(site)s is %(fill_pct)s%% full (threshold %(threshold)s%%)."),
                params={
                    "device": r.device.label or r.device.identifier,
                    "site": site.name,
                    "fill_pct": str(r.fill_pct),
                    "threshold": r.device.fill_threshold_pct or settings.FILL_PICKUP_PCT,
                },
                data={"reading": r.pk, "pickup": r.pickup_id},
            )
        if "over_capacity" in r.flags:
            yield Hit(
                cause=f"site:{site.pk}:{timezone.localdate(r.time).isoformat()}",
                site=site,
                organisation=site.organisation,
                severity="critical",
                message=gettext_noop(
                    "%(site)s holds %(held_kg)s kg by its sensors, beyond its capacity of %(capacity_kg)s kg."
                ),
                params={
                    "site": site.name,
                    "held_kg": r.data.get("site_kg", ""),
                    "capacity_kg": str(site.storage_capacity_kg),
                },
                data={"reading": r.pk},
            )


def weighbridge_mismatch(now: datetime.datetime) -> Iterator[Hit]:
    """A weighbridge net weight off what the vehicle's manifests carry by more than WEIGHT_TOLERANCE_PCT."""
    readings = Reading.objects.filter(time__gte=_since(now), flags__contains="weighbridge_mismatch").select_related(
        "device__site__organisation", "vehicle__organisation"
    )
    for r in readings:
        site = r.device.site
        yield Hit(
            cause=f"reading:{r.pk}",
            site=site,
            organisation=r.vehicle.organisation if r.vehicle else site.organisation,
            message=gettext_noop(
                "%(plate)s weighed %(net_kg)s kg net at %(site)s; its manifests %(manifests)s carry %(expected_kg)s kg "
                "(tolerance %(tolerance_pct)s%%)."
            ),
            params={
                "plate": r.plate,
                "net_kg": str(r.net_kg),
                "site": site.name,
                "manifests": ", ".join(r.data.get("manifests", [])) or "-",
                "expected_kg": str(r.expected_kg),
                "tolerance_pct": settings.WEIGHT_TOLERANCE_PCT,
            },
            data={"reading": r.pk, "batches": r.data.get("batches", [])},
        )
