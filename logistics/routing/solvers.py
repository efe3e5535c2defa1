"""Solvers behind one small interface.

``PyVRPSolver`` is the default (hybrid iterated local search, near best-known results in
seconds); ``ORToolsSolver`` is the guided-local-search baseline. Both route only the pickups that
passed :func:`validate.check_problem`; whatever they still cannot serve is reported unassigned.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .problem import Pickup, Problem, Route, Solution, Stop, Unassigned, VehicleType, is_reachable
from .validate import NOT_ROUTED, Checked, check_problem

try:  # the default solver; imported lazily by callers that only want the data classes
    from pyvrp import Model
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxRuntime
except ImportError:  # pragma: no cover - pyvrp is a hard dependency of the project
    Model = MaxRuntime = PenaltyBoundWarning = None

ProgressFn = Callable[[float, str], None]

INFEASIBLE_COST = 2**62  # pyvrp reports the cost of an infeasible best solution as huge
NO_LIMIT = 2**40  # seconds/metres "unbounded" that stay far from int64 overflow
NOT_ROUTED_REASON = "the fleet could not fit this pickup into any feasible route"


class Solver(Protocol):
    name: str

    def solve(
        self,
        problem: Problem,
        *,
        seconds: float = 5.0,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Solution: ...


# -- what both solvers share ------------------------------------------------------------------


@dataclass
class Prepared:
    """An integer view of the routable part of a problem."""

    problem: Problem
    checked: Checked
    pickups: list[int]  # indices into problem.pickups, in solver client order
    fleet: list[int]  # indices into problem.vehicle_types
    load_scale: int  # solver load units per kg
    weights: dict[int, tuple[int, int]] = field(default_factory=dict)  # vt -> (per m, per s)
    uses_volume: bool = False
    money_per_unit: float = 1 / 1000  # what one integer cost unit is worth

    def fixed_cost(self, vt: VehicleType) -> int:
        return round(vt.fixed_cost / self.money_per_unit)

    def pickup(self, client: int) -> Pickup:
        return self.problem.pickups[self.pickups[client]]

    def vehicle_type(self, vt_index: int) -> VehicleType:
        return self.problem.vehicle_types[vt_index]

    def loads(self, pickup: Pickup) -> list[int]:
        loads = [round(pickup.demand_kg * self.load_scale)]
        if self.uses_volume:
            loads.append(round(pickup.demand_m3 * 1000))  # litres
        return loads

    def capacities(self, vt: VehicleType) -> list[int]:
        caps = [math.floor(vt.capacity_kg * self.load_scale + 1e-9)]
        if self.uses_volume:
            caps.append(NO_LIMIT if vt.capacity_m3 is None else math.floor(vt.capacity_m3 * 1000))
        return caps

    def arc_cost(self, vt_index: int, i: int, j: int) -> int | None:
        d, t = self.problem.distances[i][j], self.problem.durations[i][j]
        if not (is_reachable(d) and is_reachable(t)):
            return None
        per_m, per_s = self.weights[vt_index]
        return per_m * round(d) + per_s * round(t)

    def fleet_overloaded(self) -> bool:
        demand = sum(self.loads(self.pickup(c))[0] for c in range(len(self.pickups)))
        supply = sum(self.capacities(self.vehicle_type(v))[0] * self.vehicle_type(v).count for v in self.fleet)
        return demand > supply


def prepare(problem: Problem) -> Prepared:
    checked = check_problem(problem)
    prep = Prepared(
        problem,
        checked,
        pickups=list(checked.routable),
        fleet=list(checked.vehicle_types),
        load_scale=_load_scale(problem, checked),
    )
    prep.uses_volume = any(problem.pickups[i].demand_m3 > 0 for i in prep.pickups) and any(
        problem.vehicle_types[v].capacity_m3 is not None for v in prep.fleet
    )
    prep.weights, prep.money_per_unit = _integer_weights([problem.vehicle_types[v] for v in prep.fleet], prep.fleet)
    return prep


def _load_scale(problem: Problem, checked: Checked) -> int:
    values = [problem.pickups[i].demand_kg for i in checked.routable]
    values += [problem.vehicle_types[v].capacity_kg for v in checked.vehicle_types]
    return 1 if all(float(v).is_integer() for v in values) else 1000  # kg or grams


def _integer_weights(fleet: list[VehicleType], indices: list[int]) -> tuple[dict[int, tuple[int, int]], float]:
    """Integer cost per metre and per second for each type, and the money one unit is worth.

    Solvers want integer arc costs; when every type has the same rates this is simply (1, 0),
    so benchmark costs are plain distances.
    """
    per_m = [vt.cost_per_km / 1000 for vt in fleet]
    per_s = [vt.cost_per_hour / 3600 for vt in fleet]
    nonzero = [w for w in per_m + per_s if w > 0]
    if not nonzero:
        return {i: (1, 0) for i in indices}, 1 / 1000
    base = min(nonzero)
    ratios = [w / base for w in per_m + per_s]
    scale = 1 if all(abs(r - round(r)) < 1e-9 for r in ratios) else 100
    weights = {
        i: (round(m / base * scale), round(s / base * scale)) for i, m, s in zip(indices, per_m, per_s, strict=True)
    }
    return weights, base / scale


def build_route(problem: Problem, vt_index: int, number: int, stops: list[int], start: int) -> tuple[Route, list[int]]:
    """Schedule ``stops`` (pickup indices) forward from ``start``.

    Returns the route and the stops that had to be left out because no road leads to them from
    the previous stop (solvers are told such legs cost a fortune, but never trust that blindly).
    """
    vt = problem.vehicle_types[vt_index]
    start_depot = problem.depots[vt.depot]
    end_depot = problem.depots[vt.return_depot]
    dist, dur = problem.distances, problem.durations
    dropped: list[int] = []
    here, clock, kg, m3, metres = start_depot.location, start, 0.0, 0.0, 0.0
    scheduled: list[Stop] = []
    for index in stops:
        pickup = problem.pickups[index]
        leg_d, leg_t = dist[here][pickup.location], dur[here][pickup.location]
        back_ok = is_reachable(dist[pickup.location][end_depot.location])
        if not (is_reachable(leg_d) and is_reachable(leg_t) and back_ok):
            dropped.append(index)
            continue
        arrival = clock + round(leg_t)
        begin = max(arrival, pickup.tw_start)
        clock = begin + pickup.service_seconds
        kg += pickup.demand_kg
        m3 += pickup.demand_m3
        metres += leg_d
        scheduled.append(Stop(pickup.id, pickup.location, arrival, begin, clock, kg, m3, leg_d))
        here = pickup.location
    metres += dist[here][end_depot.location]
    end = clock + round(dur[here][end_depot.location])
    duration = end - start
    cost = metres / 1000 * vt.cost_per_km + duration / 3600 * vt.cost_per_hour + vt.fixed_cost
    route = Route(
        vehicle_type=vt.name,
        vehicle_number=number,
        start_depot=start_depot.id,
        end_depot=end_depot.id,
        start=start,
        end=end,
        stops=scheduled,
        distance=metres,
        duration=duration,
        load_kg=kg,
        load_m3=m3,
        cost=cost,
    )
    return route, dropped


def _finish(
    prep: Prepared,
    name: str,
    raw_routes: list[tuple[int, list[int], int]],  # (vt index, pickup indices, start)
    started: float,
) -> Solution:
    problem = prep.problem
    solution = Solution(
        solver=name,
        unassigned=list(prep.checked.unassigned),
        warnings=list(prep.checked.warnings),
    )
    numbers: dict[int, int] = {}
    for vt_index, stops, start in raw_routes:
        if not stops:
            continue
        number = numbers.get(vt_index, 0)
        numbers[vt_index] = number + 1
        route, dropped = build_route(problem, vt_index, number, stops, start)
        for index in dropped:
            solution.unassigned.append(
                Unassigned(problem.pickups[index].id, NOT_ROUTED, "no road path from the stop before it")
            )
        if route.stops:
            solution.routes.append(route)
    served = solution.assigned_ids | {u.pickup_id for u in solution.unassigned}
    for index in prep.pickups:
        pickup = problem.pickups[index]
        if pickup.id not in served:
            solution.unassigned.append(Unassigned(pickup.id, NOT_ROUTED, NOT_ROUTED_REASON))
    solution.seconds = time.perf_counter() - started
    return solution


class _Reporter:
    def __init__(self, progress: ProgressFn | None, seconds: float, every: float = 0.5):
        self.progress, self.seconds, self.every = progress, max(seconds, 1e-6), every
        self.started = time.perf_counter()
        self.last = -math.inf

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        if self.progress is not None and now - self.last >= self.every:
            self.last = now
            self.progress(min(1.0, (now - self.started) / self.seconds), message)


# -- PyVRP ------------------------------------------------------------------------------------


class PyVRPSolver:
    name = "pyvrp"

    def solve(
        self,
        problem: Problem,
        *,
        seconds: float = 5.0,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Solution:
        started = time.perf_counter()
        prep = prepare(problem)
        if not prep.pickups or not prep.fleet:
            return _finish(prep, self.name, [], started)
        report = _Reporter(progress, seconds)
        routes = None
        if not prep.fleet_overloaded():
            routes = self._run(prep, seconds, seed, report, required=True)
        if routes is None:
            # Not everything fits: let the solver leave out what it must, at a high price.
            remaining = max(0.5, seconds - (time.perf_counter() - started))
            routes = self._run(prep, remaining, seed, report, required=False) or []
        if progress:
            progress(1.0, "done")
        return _finish(prep, self.name, routes, started)

    def _run(self, prep, seconds, seed, report, *, required):
        """Solve once; None when a required-only model found no clean feasible plan."""
        model, forbidden = _pyvrp_model(prep, required=required)
        limit = MaxRuntime(seconds)
        started = time.perf_counter()

        def stop(best_cost: float) -> bool:
            feasible = best_cost < INFEASIBLE_COST
            report(f"best cost {best_cost:.0f}" if feasible else "searching for a feasible plan")
            if required and not feasible and time.perf_counter() - started > seconds * 0.4:
                return True  # leave time for the run that may drop pickups
            return limit(best_cost)

        with warnings.catch_warnings():
            # Expected when not everything fits; we then fall back to optional pickups.
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            best = model.solve(stop, seed=seed, display=False, collect_stats=False).best
        if not best.is_feasible():
            return None
        routes = []
        for route in best.routes():
            vt_index = prep.fleet[route.vehicle_type()]
            clients = [a.idx for a in route if a.is_client()]
            allowed = [c for c in clients if (vt_index, c) not in forbidden]
            if required and len(allowed) < len(clients):
                return None
            routes.append((vt_index, [prep.pickups[c] for c in allowed], route.start_time()))
        if required and _uses_missing_leg(prep, routes):
            return None
        return routes


def _uses_missing_leg(prep: Prepared, routes) -> bool:
    problem = prep.problem
    for vt_index, stops, _ in routes:
        vt = problem.vehicle_types[vt_index]
        path = [problem.depots[vt.depot].location]
        path += [problem.pickups[s].location for s in stops]
        path.append(problem.depots[vt.return_depot].location)
        for a, b in zip(path, path[1:], strict=False):
            if not (is_reachable(problem.distances[a][b]) and is_reachable(problem.durations[a][b])):
                return True
    return False


def _pyvrp_model(prep: Prepared, *, required: bool):
    """Build a pyvrp Model; returns it with the (vehicle type, client) pairs that are forbidden."""
    problem = prep.problem
    model = Model()
    coords = problem.coordinates

    def location(matrix_index: int):
        x, y = coords[matrix_index] if coords is not None else (0.0, 0.0)
        return model.add_location(x=x, y=y)

    depots = [
        model.add_depot(
            location(d.location),
            tw_early=d.opens,
            tw_late=NO_LIMIT if d.closes is None else d.closes,
            name=d.id,
        )
        for d in problem.depots
    ]
    prize = _prize(prep) if not required else 0
    clients = []
    for c in range(len(prep.pickups)):
        p = prep.pickup(c)
        clients.append(
            model.add_client(
                location(p.location),
                pickup=prep.loads(p),
                service_duration=p.service_seconds,
                tw_early=p.tw_start,
                tw_late=NO_LIMIT if p.tw_end is None else p.tw_end,
                prize=prize,
                required=required,
                name=p.id,
            )
        )
    matrix_index = [d.location for d in problem.depots] + [prep.pickup(c).location for c in range(len(clients))]
    # Missing and forbidden edges get large but modest values: pyvrp's own MAX_VALUE makes the
    # penalised costs saturate, and its search then crawls on time-windowed instances.
    big_d, big_t = _far(prep)
    locations = model.locations
    for a, i in zip(locations, matrix_index, strict=True):
        for b, j in zip(locations, matrix_index, strict=True):
            d, t = problem.distances[i][j], problem.durations[i][j]
            if a is b:
                continue
            if is_reachable(d) and is_reachable(t):
                model.add_edge(a, b, distance=round(d), duration=round(t))
            else:
                model.add_edge(a, b, distance=big_d, duration=big_t)

    # One routing profile per distinct licence set: edges into pickups the type may not carry
    # are made prohibitively long, the way pyvrp itself models "allowed clients".
    forbidden: set[tuple[int, int]] = set()
    profiles = {}
    classes_needed = {prep.pickup(c).waste_class for c in range(len(clients))}
    for vt_index in prep.fleet:
        licence = frozenset(prep.vehicle_type(vt_index).classes & classes_needed)
        if licence == classes_needed:
            continue
        if licence not in profiles:
            profile = model.add_profile(name=",".join(sorted(licence)))
            for c, client_loc in enumerate(locations[len(depots) :]):
                if prep.pickup(c).waste_class not in licence:
                    for a in locations:
                        if a is not client_loc:
                            model.add_edge(a, client_loc, big_d, big_t, profile=profile)
            profiles[licence] = profile
        for c in range(len(clients)):
            if prep.pickup(c).waste_class not in licence:
                forbidden.add((vt_index, c))
    if profiles:
        base = model.add_profile(name="all")  # types licensed for everything
    for vt_index in prep.fleet:
        vt = prep.vehicle_type(vt_index)
        licence = frozenset(vt.classes & classes_needed)
        per_m, per_s = prep.weights[vt_index]
        model.add_vehicle_type(
            num_available=vt.count,
            capacity=prep.capacities(vt),
            start_depot=depots[vt.depot],
            end_depot=depots[vt.return_depot],
            fixed_cost=prep.fixed_cost(vt),
            tw_early=vt.shift_start,
            tw_late=NO_LIMIT if vt.shift_end is None else vt.shift_end,
            shift_duration=NO_LIMIT if vt.max_duration is None else vt.max_duration,
            unit_distance_cost=per_m,
            unit_duration_cost=per_s,
            profile=profiles.get(licence, base) if profiles else None,
            name=vt.name,
        )
    return model, forbidden


def _far(prep: Prepared) -> tuple[int, int]:
    """Distance and duration standing in for an edge that must not be used."""
    problem = prep.problem
    dists = [d for row in problem.distances for d in row if is_reachable(d)]
    return 1000 * int(max(dists, default=1)) + 1_000_000, 2 * _horizon(prep)


def _prize(prep: Prepared) -> int:
    """Worth more than any detour to serve one pickup, far less than a missing edge."""
    biggest = 0
    problem = prep.problem
    for vt_index in prep.fleet:
        for row_i in range(problem.size):
            for j in range(problem.size):
                cost = prep.arc_cost(vt_index, row_i, j)
                if cost is not None and cost > biggest:
                    biggest = cost
    return 20 * biggest + 1_000


# -- OR-Tools -------------------------------------------------------------------------------


class ORToolsSolver:
    """OR-Tools routing with guided local search: the baseline PyVRP is measured against."""

    name = "ortools"

    def solve(
        self,
        problem: Problem,
        *,
        seconds: float = 5.0,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> Solution:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2

        started = time.perf_counter()
        prep = prepare(problem)
        if not prep.pickups or not prep.fleet:
            return _finish(prep, self.name, [], started)
        report = _Reporter(progress, seconds)

        n_depots = len(problem.depots)
        nodes = [d.location for d in problem.depots] + [prep.pickup(c).location for c in range(len(prep.pickups))]
        vehicles: list[int] = [v for v in prep.fleet for _ in range(prep.vehicle_type(v).count)]
        starts = [prep.vehicle_type(v).depot for v in vehicles]
        ends = [prep.vehicle_type(v).return_depot for v in vehicles]
        manager = pywrapcp.RoutingIndexManager(len(nodes), len(vehicles), starts, ends)
        routing = pywrapcp.RoutingModel(manager)

        horizon = _horizon(prep)
        unreachable_cost = _prize(prep) * 100

        def node_of(index: int) -> int:
            return manager.IndexToNode(index)

        cost_callbacks: dict[tuple[int, int], int] = {}
        for v, vt_index in enumerate(vehicles):
            weights = prep.weights[vt_index]
            if weights not in cost_callbacks:
                matrix = [
                    [c if (c := prep.arc_cost(vt_index, i, j)) is not None else unreachable_cost for j in nodes]
                    for i in nodes
                ]
                cost_callbacks[weights] = routing.RegisterTransitMatrix(matrix)
            routing.SetArcCostEvaluatorOfVehicle(cost_callbacks[weights], v)
            if prep.vehicle_type(vt_index).fixed_cost:
                routing.SetFixedCostOfVehicle(prep.fixed_cost(prep.vehicle_type(vt_index)), v)

        service = [0] * n_depots + [prep.pickup(c).service_seconds for c in range(len(prep.pickups))]
        time_matrix = []
        for a, i in enumerate(nodes):
            row = []
            for j in nodes:
                t = problem.durations[i][j]
                row.append(round(t) + service[a] if is_reachable(t) else horizon + 1)
            time_matrix.append(row)
        time_cb = routing.RegisterTransitMatrix(time_matrix)
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")

        loads = [[0] * n_depots for _ in range(2 if prep.uses_volume else 1)]
        for c in range(len(prep.pickups)):
            for k, q in enumerate(prep.loads(prep.pickup(c))):
                loads[k].append(q)
        for k, vector in enumerate(loads):
            caps = [min(prep.capacities(prep.vehicle_type(v))[k], 2**62) for v in vehicles]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(vector), 0, caps, True, f"load{k}"
            )

        for c in range(len(prep.pickups)):
            p = prep.pickup(c)
            index = manager.NodeToIndex(n_depots + c)
            time_dim.CumulVar(index).SetRange(p.tw_start, horizon if p.tw_end is None else p.tw_end)
            barred = [
                v for v, vt_index in enumerate(vehicles) if p.waste_class not in prep.vehicle_type(vt_index).classes
            ]
            if barred:
                routing.VehicleVar(index).RemoveValues(barred)
            routing.AddDisjunction([index], unreachable_cost)
        for v, vt_index in enumerate(vehicles):
            vt = prep.vehicle_type(vt_index)
            depot_open = problem.depots[vt.depot].opens
            depot_close = problem.depots[vt.return_depot].closes
            shift_end = min(x for x in (vt.shift_end, depot_close, horizon) if x is not None)
            time_dim.CumulVar(routing.Start(v)).SetRange(max(vt.shift_start, depot_open), shift_end)
            time_dim.CumulVar(routing.End(v)).SetRange(max(vt.shift_start, depot_open), shift_end)
            if vt.max_duration is not None:
                time_dim.SetSpanUpperBoundForVehicle(vt.max_duration, v)
            per_s = prep.weights[vt_index][1]
            if per_s:
                time_dim.SetSpanCostCoefficientForVehicle(per_s, v)
            routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))

        routing.AddAtSolutionCallback(lambda: report(f"solution cost {routing.CostVar().Max()}"))
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        params.time_limit.FromMilliseconds(max(100, int(seconds * 1000)))
        assignment = routing.SolveWithParameters(params)

        routes: list[tuple[int, list[int], int]] = []
        if assignment is not None:
            for v, vt_index in enumerate(vehicles):
                index = routing.Start(v)
                start = assignment.Value(time_dim.CumulVar(index))
                stops = []
                index = assignment.Value(routing.NextVar(index))
                while not routing.IsEnd(index):
                    stops.append(prep.pickups[node_of(index) - n_depots])
                    index = assignment.Value(routing.NextVar(index))
                routes.append((vt_index, stops, start))
        if progress:
            progress(1.0, "done")
        return _finish(prep, self.name, routes, started)


def _horizon(prep: Prepared) -> int:
    problem = prep.problem
    ends = [p.tw_end for p in problem.pickups if p.tw_end is not None]
    ends += [vt.shift_end for vt in problem.vehicle_types if vt.shift_end is not None]
    ends += [d.closes for d in problem.depots if d.closes is not None]
    finite = [x for row in problem.durations for x in row if is_reachable(x)]
    travel = (max(finite) if finite else 0) * (len(prep.pickups) + 2)
    service = sum(p.service_seconds for p in problem.pickups)
    return int(max(ends + [0]) + travel + service + 1)


SOLVERS: dict[str, type] = {"pyvrp": PyVRPSolver, "ortools": ORToolsSolver}


def get_solver(name: str = "pyvrp") -> Solver:
    try:
        return SOLVERS[name]()
    except KeyError:
        raise ValueError(f"unknown solver {name!r}; choose from {sorted(SOLVERS)}") from None
