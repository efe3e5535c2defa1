"""Route plans: requested by a dispatcher, solved in the background, read back as routes and GeoJSON."""

from __future__ import annotations

import datetime
import logging
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import Pickup, PickupStatus, PlanStatus, RoutePlan, Vehicle
from logistics.routing import Depot, Problem, VehicleType, get_solver, haversine_m
from logistics.routing import Pickup as RoutingPickup
from logistics.routing.problem import is_reachable
from logistics.services.fleet import licensed_classes
from logistics.services.pickups import destination_resolve
from logistics.services.roads import matrices_for
from waste.errors import AppError
from waste.models import Organisation, Role, Site
from waste.permissions import membership_require
from waste.scoping import visible_to
from waste.services.jobs import JobLease, job_claim, job_holding, lease_end, outbox_enqueue

log = logging.getLogger(__name__)

NO_DESTINATION = "no_destination"
UNLOAD_SECONDS = 15 * 60
DAY = 24 * 3600
PLAN_TASK = "logistics.tasks.plan_run_task"


def solver_seconds() -> float:
    return float(getattr(settings, "ROUTING_SOLVER_SECONDS", 5.0))


def area_km() -> float:
    return float(getattr(settings, "ROUTING_AREA_KM", 60.0))


def planning_area(depots: list[Site]) -> tuple[float, float, float, float] | None:
    """The depots' bounding box grown by ROUTING_AREA_KM: pickups beyond it are off the map."""
    if not depots:
        return None
    lons = [d.location.x for d in depots]
    lats = [d.location.y for d in depots]
    dlat = area_km() / 111.0
    dlon = area_km() / (111.0 * max(0.1, math.cos(math.radians(sum(lats) / len(lats)))))
    return min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat


def _in_area(site: Site, area) -> bool:
    return area is not None and area[0] <= site.location.x <= area[2] and area[1] <= site.location.y <= area[3]


# --- Requesting a plan ---------------------------------------------------------------------------


def _vehicles_for(hauler: Organisation, ids: list[int] | None) -> list[int]:
    own = Vehicle.objects.filter(organisation=hauler)
    if ids is None:
        active = list(own.filter(active=True).values_list("id", flat=True))
        if not active:
            raise AppError.field(
                "vehicles", _("This hauler has no active vehicle: add one before planning."), code="no_vehicles"
            )
        return active
    if not ids:
        raise AppError.field("vehicles", _("Choose at least one vehicle."), code="no_vehicles")
    known = set(own.filter(id__in=ids).values_list("id", flat=True))
    errors = {f"vehicles.{i}": [_("No such vehicle of this hauler.")] for i, v in enumerate(ids) if v not in known}
    if errors:
        raise AppError(_("Unknown vehicles."), code="unknown", fields=errors)
    return list(ids)


def _pickups_for(
    user, hauler: Organisation, date: datetime.date, vehicle_ids: list[int], ids: list[int] | None
) -> list[int]:
    if ids is None:
        depots = [v.depot for v in Vehicle.objects.filter(id__in=vehicle_ids).select_related("depot")]
        area = planning_area(depots)
        candidates = Pickup.objects.filter(date=date, status=PickupStatus.OPEN).select_related("site")
        return [
            p.id for p in candidates if p.hauler_id == hauler.id or (p.hauler_id is None and _in_area(p.site, area))
        ]
    visible = visible_to(Pickup.objects.all(), user).filter(id__in=ids)
    found = {p.id: p for p in visible}
    errors = {}
    for i, pk in enumerate(ids):
        p = found.get(pk)
        if p is None or p.hauler_id not in (None, hauler.id):
            errors[f"pickups.{i}"] = [_("No such pickup for this hauler.")]
        elif p.status not in (PickupStatus.OPEN, PickupStatus.DISPATCHED):
            errors[f"pickups.{i}"] = [_("The pickup is %(status)s.") % {"status": p.get_status_display()}]
    if errors:
        raise AppError(_("Some pickups cannot be planned."), code="invalid", fields=errors)
    return list(dict.fromkeys(ids))


@transaction.atomic
def plan_request(
    *,
    user,
    hauler: Organisation,
    date: datetime.date,
    vehicle_ids: list[int] | None = None,
    pickup_ids: list[int] | None = None,
    start_seconds: int = 0,
    replan_of=None,
) -> RoutePlan:
    """Queue a plan. Omitted vehicles: the hauler's active ones. Omitted pickups: the open pickups of
    that date assigned to the hauler, plus unassigned ones inside its planning area. Refused: a day
    already past (in the city's time zone) and a plan without any vehicle."""
    membership_require(user=user, organisation=hauler, roles=(Role.HAULER,), field="hauler")
    if date < timezone.localdate():
        raise AppError.field("date", _("The date is in the past: plan today or a later day."), code="past_date")
    vehicles = _vehicles_for(hauler, vehicle_ids)
    pickups = _pickups_for(user, hauler, date, vehicles, pickup_ids)
    plan = RoutePlan.objects.create(
        hauler=hauler,
        date=date,
        created_by=user,
        replan_of=replan_of,
        message="queued",
        request={
            "vehicles": vehicles,
            "pickups": pickups,
            "seconds": solver_seconds(),
            "start_seconds": start_seconds,
            "solver": getattr(settings, "ROUTING_SOLVER", "pyvrp"),
        },
    )
    outbox_enqueue(task=PLAN_TASK, args=[plan.id])
    return plan


# --- Running a plan (in the worker) ---------------------------------------------------------------


def plan_progress(plan_id: int, percent: int, message: str) -> None:
    RoutePlan.objects.filter(id=plan_id, status=PlanStatus.RUNNING).update(
        progress=max(0, min(100, percent)), message=message[:300], leased_until=lease_end()
    )


def plan_run(*, plan_id: int) -> bool:
    """Claim a queued plan (compare-and-set with a lease) and solve it. False if another worker has it
    (or it is finished). The outcome is written only while this attempt still holds the plan."""
    attempt = job_claim(RoutePlan, plan_id, started_at=timezone.now(), progress=1, message="loading")
    if attempt is None:
        return False
    plan = RoutePlan.objects.select_related("hauler").get(id=plan_id)
    with JobLease(RoutePlan, plan_id, attempt):
        try:
            result = plan_solve(plan)
        except Exception as exc:  # the job must end in a state, whatever went wrong
            log.exception("route plan %s failed", plan_id)
            job_holding(RoutePlan, plan_id, attempt).update(
                status=PlanStatus.FAILED,
                leased_until=None,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                message="failed",
                finished_at=timezone.now(),
            )
            return True
        job_holding(RoutePlan, plan_id, attempt).update(
            status=PlanStatus.DONE,
            leased_until=None,
            progress=100,
            message="done",
            result=result,
            finished_at=timezone.now(),
        )
    return True


def _seconds(t: datetime.time | None, default: int | None) -> int | None:
    return default if t is None else t.hour * 3600 + t.minute * 60 + t.second


@dataclass
class Built:
    problem: Problem
    points: list[tuple[float, float]]
    vehicles: dict[str, Vehicle]
    pickups: dict[str, Pickup]
    destinations: dict[str, Site]  # pickup id -> site
    location_of: dict[int, int]  # site id -> matrix index
    sites: dict[int, Site]
    unassigned: list[dict] = field(default_factory=list)
    source: str = ""


def plan_build(plan: RoutePlan) -> Built:
    request = plan.request
    start = int(request.get("start_seconds") or 0)
    vehicles = list(
        Vehicle.objects.filter(id__in=request["vehicles"]).select_related("depot", "default_driver", "organisation")
    )
    pickups = list(Pickup.objects.filter(id__in=request["pickups"]).select_related("site", "batch"))
    sites: dict[int, Site] = {}
    destinations: dict[str, Site] = {}
    unassigned = []
    routable = []
    for p in pickups:
        site, problem = destination_resolve(p)
        if site is None:
            unassigned.append({"pickup": p.id, "code": NO_DESTINATION, "message": problem})
            continue
        destinations[str(p.id)] = site
        sites[site.id] = site
        routable.append(p)
    for v in vehicles:
        sites[v.depot_id] = v.depot
    for p in routable:
        sites[p.site_id] = p.site
    order = list(sites)
    location_of = {site_id: i for i, site_id in enumerate(order)}
    points = [(sites[s].location.x, sites[s].location.y) for s in order]
    matrices = matrices_for(points)
    dur = matrices.durations
    depot_ids = list(dict.fromkeys(v.depot_id for v in vehicles))
    depots = [Depot(id=str(s), location=location_of[s]) for s in depot_ids]
    licensed = licensed_classes(organisation=plan.hauler, on=plan.date)
    class_of = {str(p.id): p.waste_class for p in routable}
    types = []
    for v in vehicles:
        home = location_of[v.depot_id]
        classes = frozenset(set(v.classes) & licensed)
        # Keep time at the end of the shift for the unload: the worst trip via a destination it may serve.
        reserve = max(
            (_round_trip(dur, home, location_of[d.id]) for pid, d in destinations.items() if class_of[pid] in classes),
            default=0,
        )
        shift_start = max(_seconds(v.shift_start, 0), start)
        shift_end = max(shift_start, _seconds(v.shift_end, DAY) - reserve - UNLOAD_SECONDS)
        types.append(
            VehicleType(
                name=str(v.id),
                count=1,
                capacity_kg=float(v.capacity_kg),
                capacity_m3=None if v.capacity_m3 is None else float(v.capacity_m3),
                depot=depot_ids.index(v.depot_id),
                shift_start=shift_start,
                shift_end=shift_end,
                cost_per_km=float(v.cost_per_km),
                cost_per_hour=float(v.cost_per_hour),
                classes=classes,
            )
        )
    routing_pickups = [
        RoutingPickup(
            id=str(p.id),
            location=location_of[p.site_id],
            demand_kg=float(p.quantity_kg),
            demand_m3=float(p.volume_m3),
            tw_start=_seconds(p.window_start, 0),
            tw_end=_seconds(p.window_end, None),
            service_seconds=p.service_minutes * 60,
            waste_class=p.waste_class,
        )
        for p in routable
    ]
    problem = Problem(
        depots=depots,
        vehicle_types=types,
        pickups=routing_pickups,
        distances=matrices.distances,
        durations=dur,
        coordinates=points,
        bbox=planning_area([v.depot for v in vehicles]),
    )
    return Built(
        problem,
        points,
        {str(v.id): v for v in vehicles},
        {str(p.id): p for p in pickups},
        destinations,
        location_of,
        sites,
        unassigned,
        matrices.source,
    )


def _round_trip(dur, a: int, b: int) -> int:
    there, back = dur[a][b], dur[b][a]
    if not (is_reachable(there) and is_reachable(back)):
        return 0
    return int(there + back)


def plan_solve(plan: RoutePlan) -> dict:
    plan_progress(plan.id, 2, "building distance matrices")
    built = plan_build(plan)
    plan_progress(plan.id, 10, "solving pickups")
    request = plan.request
    solver = get_solver(request.get("solver", "pyvrp"))

    def progress(fraction: float, message: str) -> None:
        plan_progress(plan.id, 10 + int(fraction * 85), message)

    solution = solver.solve(built.problem, seconds=float(request.get("seconds", 5)), seed=0, progress=progress)
    plan_progress(plan.id, 96, "writing routes")
    return plan_render(plan, built, solution)


# --- Rendering a solution ------------------------------------------------------------------------


def _at(plan: RoutePlan, seconds: float) -> str:
    midnight = timezone.make_aware(datetime.datetime.combine(plan.date, datetime.time()))
    return (midnight + datetime.timedelta(seconds=int(seconds))).isoformat()


def _leg(built: Built, a: int, b: int) -> tuple[float, int]:
    d, t = built.problem.distances[a][b], built.problem.durations[a][b]
    if is_reachable(d) and is_reachable(t):
        return float(d), int(t)
    metres = haversine_m(built.points[a], built.points[b]) * 1.3
    return metres, int(metres / (30 / 3.6))  # no road leg: estimate, flagged in warnings


def _site(site: Site) -> dict:
    return {"id": site.id, "name": site.name, "kind": site.kind}


def plan_render(plan: RoutePlan, built: Built, solution) -> dict:
    routes = []
    warnings = list(solution.warnings)
    for route in solution.routes:
        vehicle = built.vehicles[route.vehicle_type]
        depot_loc = built.location_of[vehicle.depot_id]
        stops, coords = [], [list(built.points[depot_loc])]
        distance = 0.0
        here = depot_loc
        for s in route.stops:
            p = built.pickups[s.pickup_id]
            distance += float(s.distance_from_previous)
            stops.append(
                {
                    "sequence": len(stops) + 1,
                    "kind": "pickup",
                    "pickup": p.id,
                    "site": _site(p.site),
                    "batch": p.batch.code if p.batch_id else None,
                    "waste_class": p.waste_class,
                    "quantity_kg": float(p.quantity_kg),
                    "eta": _at(plan, s.arrival),
                    "service_start": _at(plan, s.start),
                    "departure": _at(plan, s.departure),
                    "load_kg": round(s.load_kg, 3),
                    "destination": _site(built.destinations[s.pickup_id]),
                    "location": list(built.points[s.location]),
                }
            )
            coords.append(list(built.points[s.location]))
            here = s.location
        clock = route.stops[-1].departure if route.stops else route.start
        load = route.stops[-1].load_kg if route.stops else 0.0
        # Unload: each destination of the load in turn, nearest first, then back to the depot.
        todo: dict[int, float] = {}
        for s in route.stops:
            dest = built.destinations[s.pickup_id]
            todo[dest.id] = todo.get(dest.id, 0.0) + float(built.pickups[s.pickup_id].quantity_kg)
        while todo:
            site_id = min(todo, key=lambda sid: _leg(built, here, built.location_of[sid])[1])
            loc = built.location_of[site_id]
            metres, seconds = _leg(built, here, loc)
            distance += metres
            arrival = clock + seconds
            clock = arrival + UNLOAD_SECONDS
            load = max(0.0, load - todo.pop(site_id))
            stops.append(
                {
                    "sequence": len(stops) + 1,
                    "kind": "unload",
                    "pickup": None,
                    "site": _site(built.sites[site_id]),
                    "eta": _at(plan, arrival),
                    "service_start": _at(plan, arrival),
                    "departure": _at(plan, clock),
                    "load_kg": round(load, 3),
                    "location": list(built.points[loc]),
                }
            )
            coords.append(list(built.points[loc]))
            here = loc
        metres, seconds = _leg(built, here, depot_loc)
        distance += metres
        end = clock + seconds
        coords.append(list(built.points[depot_loc]))
        if end > _seconds(vehicle.shift_end, DAY):
            warnings.append(f"vehicle {vehicle.plate} returns after the end of its shift")
        routes.append(
            {
                "vehicle": {
                    "id": vehicle.id,
                    "plate": vehicle.plate,
                    "default_driver": vehicle.default_driver.username if vehicle.default_driver else None,
                },
                "depot": _site(vehicle.depot),
                "start": _at(plan, route.start),
                "end": _at(plan, end),
                "distance_m": round(distance),
                "duration_s": int(end - route.start),
                "load_kg": round(route.load_kg, 3),
                "capacity_kg": float(vehicle.capacity_kg),
                "stops": stops,
                "path": coords,
            }
        )
    unassigned = list(built.unassigned) + [
        {"pickup": int(u.pickup_id), "code": u.code, "message": u.reason} for u in solution.unassigned
    ]
    return {
        "solver": solution.solver,
        "matrix": built.source,
        "seconds": round(solution.seconds, 2),
        "distance_m": sum(r["distance_m"] for r in routes),
        "duration_s": sum(r["duration_s"] for r in routes),
        "routes": routes,
        "unassigned": unassigned,
        "warnings": warnings,
        "geojson": plan_geojson(routes, unassigned, built),
    }


def plan_geojson(routes: list[dict], unassigned: list[dict], built: Built) -> dict:
    features = []
    for r in routes:
        props = {"vehicle": r["vehicle"]["id"], "plate": r["vehicle"]["plate"]}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": r["path"]},
                "properties": {**props, "kind": "route", "distance_m": r["distance_m"], "duration_s": r["duration_s"]},
            }
        )
        for s in r["stops"]:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": s["location"]},
                    "properties": {
                        **props,
                        "kind": s["kind"],
                        "sequence": s["sequence"],
                        "pickup": s["pickup"],
                        "site": s["site"]["name"],
                        "eta": s["eta"],
                        "load_kg": s["load_kg"],
                    },
                }
            )
    for u in unassigned:
        pickup = built.pickups.get(str(u["pickup"]))
        if pickup is not None:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [pickup.site.location.x, pickup.site.location.y]},
                    "properties": {
                        "kind": "unassigned",
                        "pickup": pickup.id,
                        "code": u["code"],
                        "message": u["message"],
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
