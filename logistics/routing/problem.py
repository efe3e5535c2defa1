"""Plain data for a collection-routing problem and its solution.

Nothing here knows about Django or about a particular solver. Locations are indices into the
problem's distance and duration matrices; times are seconds from the start of the planning day;
quantities are kilograms (and optionally cubic metres). A matrix cell that is ``None`` or
``math.inf`` means "no road path" and is never travelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

GENERAL = "general"
HAZARDOUS = "hazardous"
RECYCLABLE = "recyclable"

Cell = float | int | None
Matrix = Sequence[Sequence[Cell]]


def is_reachable(cell: Cell) -> bool:
    return cell is not None and math.isfinite(cell) and cell >= 0


@dataclass(frozen=True)
class Depot:
    id: str
    location: int
    opens: int = 0
    closes: int | None = None


@dataclass(frozen=True)
class VehicleType:
    name: str
    count: int
    capacity_kg: float
    depot: int = 0  # index into Problem.depots where shifts start
    end_depot: int | None = None  # defaults to ``depot``
    capacity_m3: float | None = None  # None: volume is not limiting for this type
    shift_start: int = 0
    shift_end: int | None = None
    max_duration: int | None = None
    cost_per_km: float = 1.0
    cost_per_hour: float = 0.0
    fixed_cost: float = 0.0
    classes: frozenset[str] = frozenset({GENERAL})

    @property
    def return_depot(self) -> int:
        return self.depot if self.end_depot is None else self.end_depot


@dataclass(frozen=True)
class Pickup:
    id: str
    location: int
    demand_kg: float
    demand_m3: float = 0.0
    tw_start: int = 0
    tw_end: int | None = None
    service_seconds: int = 0
    waste_class: str = GENERAL


@dataclass
class Problem:
    depots: list[Depot]
    vehicle_types: list[VehicleType]
    pickups: list[Pickup]
    distances: Matrix  # metres (or instance units for benchmarks)
    durations: Matrix  # seconds
    # (lon, lat) per matrix location, only needed for the bounding-area check
    coordinates: Sequence[tuple[float, float]] | None = None
    # (min_lon, min_lat, max_lon, max_lat)
    bbox: tuple[float, float, float, float] | None = None

    @property
    def size(self) -> int:
        return len(self.distances)


@dataclass(frozen=True)
class Stop:
    pickup_id: str
    location: int
    arrival: int  # when the vehicle gets there
    start: int  # when service begins (after any wait for the time window)
    departure: int
    load_kg: float  # on board after this stop
    load_m3: float
    distance_from_previous: float


@dataclass
class Route:
    vehicle_type: str
    vehicle_number: int  # 0-based among vehicles of that type
    start_depot: str
    end_depot: str
    start: int  # departure from the depot
    end: int  # arrival back at the depot
    stops: list[Stop]
    distance: float
    duration: int
    load_kg: float
    load_m3: float
    cost: float


@dataclass(frozen=True)
class Unassigned:
    pickup_id: str
    code: str
    reason: str


@dataclass
class Solution:
    solver: str
    routes: list[Route] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def distance(self) -> float:
        return sum(r.distance for r in self.routes)

    @property
    def duration(self) -> int:
        return sum(r.duration for r in self.routes)

    @property
    def cost(self) -> float:
        return sum(r.cost for r in self.routes)

    @property
    def assigned_ids(self) -> set[str]:
        return {s.pickup_id for r in self.routes for s in r.stops}
