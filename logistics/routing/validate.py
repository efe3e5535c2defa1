"""Checks run before any solver sees a problem.

Each pickup that cannot possibly be served gets one reason (the first that applies), so the
dispatcher sees *why* and the solver only gets work it can do. Nothing here raises on bad input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .problem import Pickup, Problem, Unassigned, VehicleType, is_reachable

OUTSIDE_AREA = "outside_area"
INVALID_LOCATION = "invalid_location"
INVALID_DEMAND = "invalid_demand"
INVALID_TIME_WINDOW = "invalid_time_window"
NO_VEHICLE = "no_vehicle"
NO_LICENSED_VEHICLE = "no_licensed_vehicle"
DEMAND_EXCEEDS_CAPACITY = "demand_exceeds_capacity"
UNREACHABLE = "unreachable"
TIME_WINDOW_UNREACHABLE = "time_window_unreachable"
NOT_ROUTED = "not_routed"


@dataclass
class Checked:
    """The pickups a solver should route, and what was set aside."""

    routable: list[int] = field(default_factory=list)  # indices into problem.pickups
    vehicle_types: list[int] = field(default_factory=list)  # usable indices into vehicle_types
    unassigned: list[Unassigned] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_problem(problem: Problem) -> Checked:
    checked = Checked()
    checked.vehicle_types = _usable_vehicle_types(problem, checked.warnings)
    fleet = [problem.vehicle_types[i] for i in checked.vehicle_types]
    for index, pickup in enumerate(problem.pickups):
        code, reason = _first_problem(problem, pickup, fleet)
        if code:
            checked.unassigned.append(Unassigned(pickup.id, code, reason))
        else:
            checked.routable.append(index)
    return checked


def _usable_vehicle_types(problem: Problem, warnings: list[str]) -> list[int]:
    usable = []
    n_depots = len(problem.depots)
    for i, vt in enumerate(problem.vehicle_types):
        if vt.count <= 0:
            warnings.append(f"vehicle type {vt.name!r} has no vehicles; ignored")
        elif not vt.capacity_kg or vt.capacity_kg <= 0:
            warnings.append(f"vehicle type {vt.name!r} has zero capacity; ignored")
        elif vt.capacity_m3 is not None and vt.capacity_m3 <= 0:
            warnings.append(f"vehicle type {vt.name!r} has zero volume capacity; ignored")
        elif not (0 <= vt.depot < n_depots and 0 <= vt.return_depot < n_depots):
            warnings.append(f"vehicle type {vt.name!r} refers to a missing depot; ignored")
        elif vt.shift_end is not None and vt.shift_end < vt.shift_start:
            warnings.append(f"vehicle type {vt.name!r} has a shift that ends before it starts")
        else:
            usable.append(i)
    return usable


def _first_problem(problem: Problem, pickup: Pickup, fleet: list[VehicleType]) -> tuple[str | None, str]:
    if not 0 <= pickup.location < problem.size:
        return INVALID_LOCATION, "the pickup's location is not in the distance matrix"
    if _outside(problem, pickup.location):
        return OUTSIDE_AREA, "the pickup lies outside the planning area"
    if not _finite_non_negative(pickup.demand_kg, pickup.demand_m3):
        return INVALID_DEMAND, "the pickup's quantity is negative or not a number"
    if pickup.tw_end is not None and pickup.tw_end < pickup.tw_start:
        return INVALID_TIME_WINDOW, "the time window ends before it starts"
    if not fleet:
        return NO_VEHICLE, "no usable vehicle in the fleet"
    licensed = [vt for vt in fleet if pickup.waste_class in vt.classes]
    if not licensed:
        return NO_LICENSED_VEHICLE, f"no vehicle is licensed to carry {pickup.waste_class!r} waste"
    big_enough = [vt for vt in licensed if _fits(pickup, vt)]
    if not big_enough:
        biggest = max(vt.capacity_kg for vt in licensed)
        return (
            DEMAND_EXCEEDS_CAPACITY,
            f"{pickup.demand_kg:g} kg ({pickup.demand_m3:g} m³) is more than any licensed "
            f"vehicle carries (largest: {biggest:g} kg)",
        )
    reachable = [vt for vt in big_enough if _round_trip(problem, pickup, vt) is not None]
    if not reachable:
        return UNREACHABLE, "no road path between the pickup and a depot of a suitable vehicle"
    if not any(_in_time(problem, pickup, vt) for vt in reachable):
        return (
            TIME_WINDOW_UNREACHABLE,
            "no suitable vehicle can reach the pickup within its time window and be back before the end of its shift",
        )
    return None, ""


def _outside(problem: Problem, location: int) -> bool:
    if problem.bbox is None or problem.coordinates is None:
        return False
    lon, lat = problem.coordinates[location]
    min_lon, min_lat, max_lon, max_lat = problem.bbox
    if not _finite_non_negative(abs(lon), abs(lat)):
        return True
    return not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat)


def _finite_non_negative(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) and v >= 0 for v in values)


def _fits(pickup: Pickup, vt: VehicleType) -> bool:
    if pickup.demand_kg > vt.capacity_kg:
        return False
    return vt.capacity_m3 is None or pickup.demand_m3 <= vt.capacity_m3


def _round_trip(problem: Problem, pickup: Pickup, vt: VehicleType) -> tuple[float, float] | None:
    """Travel times depot → pickup and pickup → end depot, or None if either has no path."""
    start = problem.depots[vt.depot].location
    end = problem.depots[vt.return_depot].location
    for matrix in (problem.distances, problem.durations):
        if not (is_reachable(matrix[start][pickup.location]) and is_reachable(matrix[pickup.location][end])):
            return None
    return (
        problem.durations[start][pickup.location],
        problem.durations[pickup.location][end],
    )


def _in_time(problem: Problem, pickup: Pickup, vt: VehicleType) -> bool:
    there, back = _round_trip(problem, pickup, vt)
    start_depot = problem.depots[vt.depot]
    end_depot = problem.depots[vt.return_depot]
    leave = max(vt.shift_start, start_depot.opens)
    begin = max(leave + there, pickup.tw_start)
    if pickup.tw_end is not None and begin > pickup.tw_end:
        return False
    home = begin + pickup.service_seconds + back
    latest = min(t for t in (vt.shift_end, end_depot.closes, math.inf) if t is not None)
    if home > latest:
        return False
    return vt.max_duration is None or there + pickup.service_seconds + back <= vt.max_duration
