"""The routing core on its own: no database, no Django models."""

import math

import pytest

from logistics.routing import matrix, validate
from logistics.routing.instances import DATA_DIR, read_instance
from logistics.routing.problem import HAZARDOUS, Depot, Pickup, Problem, VehicleType
from logistics.routing.solvers import get_solver

SOLVERS = ["pyvrp", "ortools"]
QUICK = 0.5  # seconds per solve: these problems are tiny


def plane(points):
    """Matrices for points in metres on a plane, driven at 10 m/s."""
    dist = [[round(math.dist(a, b)) for b in points] for a in points]
    return dist, [[round(d / 10) for d in row] for row in dist]


def make_problem(points, pickups, vehicle_types, depots=None, **extra):
    dist, dur = plane(points)
    depots = depots or [Depot("hq", 0)]
    return Problem(depots, vehicle_types, pickups, dist, dur, **extra)


def audit(problem, solution):
    """Everything a dispatcher relies on, recomputed from the problem."""
    types = {vt.name: vt for vt in problem.vehicle_types}
    pickups = {p.id: p for p in problem.pickups}
    used = {}
    for route in solution.routes:
        vt = types[route.vehicle_type]
        assert route.start_depot == problem.depots[vt.depot].id
        assert route.end_depot == problem.depots[vt.return_depot].id
        assert route.load_kg <= vt.capacity_kg
        assert route.start >= vt.shift_start
        if vt.shift_end is not None:
            assert route.end <= vt.shift_end
        if vt.max_duration is not None:
            assert route.duration <= vt.max_duration
        for stop in route.stops:
            p = pickups[stop.pickup_id]
            assert p.waste_class in vt.classes
            assert stop.start >= p.tw_start
            if p.tw_end is not None:
                assert stop.start <= p.tw_end
        used[route.vehicle_type] = used.get(route.vehicle_type, 0) + 1
    for name, n in used.items():
        assert n <= types[name].count
    served = [s.pickup_id for r in solution.routes for s in r.stops]
    assert len(served) == len(set(served))
    assert set(served) | {u.pickup_id for u in solution.unassigned} == set(pickups)
    assert not set(served) & {u.pickup_id for u in solution.unassigned}


def reasons(solution):
    return {u.pickup_id: u.code for u in solution.unassigned}


# -- capacities, time windows, depots, vehicle types --------------------------------------------


@pytest.mark.parametrize("name", SOLVERS)
def test_it_honours_capacities(name):
    points = [(0, 0)] + [(1000 * i, 500 * (i % 2)) for i in range(1, 7)]
    pickups = [Pickup(f"p{i}", i, demand_kg=40) for i in range(1, 7)]
    problem = make_problem(points, pickups, [VehicleType("truck", count=4, capacity_kg=100)])

    solution = get_solver(name).solve(problem, seconds=QUICK)

    audit(problem, solution)
    assert solution.unassigned == []
    assert len(solution.routes) == 3
    assert all(r.stops[-1].load_kg == r.load_kg <= 100 for r in solution.routes)


@pytest.mark.parametrize("name", SOLVERS)
def test_it_honours_time_windows_and_shifts(name):
    points = [(0, 0), (3000, 0), (0, 3000), (-3000, 0), (0, -3000)]
    windows = [(0, 600), (2000, 2600), (1000, 1400), (3000, 3600)]
    pickups = [
        Pickup(f"p{i}", i, demand_kg=10, tw_start=a, tw_end=b, service_seconds=120)
        for i, (a, b) in enumerate(windows, start=1)
    ]
    truck = VehicleType("truck", count=1, capacity_kg=100, shift_start=0, shift_end=4500)
    problem = make_problem(points, pickups, [truck])

    solution = get_solver(name).solve(problem, seconds=QUICK)

    audit(problem, solution)
    assert solution.unassigned == []
    order = [s.pickup_id for s in solution.routes[0].stops]
    assert order == ["p1", "p3", "p2", "p4"]
    assert solution.routes[0].stops[1].start >= 1000  # waited for the window


@pytest.mark.parametrize("name", SOLVERS)
def test_it_starts_each_vehicle_type_at_its_own_depot(name):
    west, east = (0, 0), (50_000, 0)
    points = [west, east] + [(1000 * i, 200) for i in range(1, 4)]
    points += [(50_000 - 1000 * i, 200) for i in range(1, 4)]
    pickups = [Pickup(f"w{i}", 1 + i, demand_kg=10) for i in range(1, 4)]
    pickups += [Pickup(f"e{i}", 4 + i, demand_kg=10) for i in range(1, 4)]
    fleet = [
        VehicleType("west-truck", count=2, capacity_kg=30, depot=0),
        VehicleType("east-truck", count=2, capacity_kg=30, depot=1),
    ]
    depots = [Depot("west", 0), Depot("east", 1)]
    problem = make_problem(points, pickups, fleet, depots=depots)

    solution = get_solver(name).solve(problem, seconds=QUICK)

    audit(problem, solution)
    assert solution.unassigned == []
    for route in solution.routes:
        prefix = route.vehicle_type[0]
        assert route.start_depot.startswith(prefix)
        assert {s.pickup_id[0] for s in route.stops} == {prefix}


@pytest.mark.parametrize("name", SOLVERS)
def test_it_puts_hazardous_waste_only_on_licensed_vehicles(name):
    points = [(0, 0)] + [(1000 * i, 0) for i in range(1, 7)]
    pickups = [Pickup(f"p{i}", i, demand_kg=10, waste_class=HAZARDOUS if i % 2 else "general") for i in range(1, 7)]
    fleet = [
        VehicleType("compactor", count=2, capacity_kg=1000, cost_per_km=1),
        VehicleType("hazmat", count=1, capacity_kg=100, cost_per_km=3, classes=frozenset({HAZARDOUS})),
    ]
    problem = make_problem(points, pickups, fleet)

    solution = get_solver(name).solve(problem, seconds=QUICK)

    audit(problem, solution)
    assert solution.unassigned == []
    hazmat = [r for r in solution.routes if r.vehicle_type == "hazmat"]
    assert {s.pickup_id for s in hazmat[0].stops} == {"p1", "p3", "p5"}


@pytest.mark.parametrize("name", SOLVERS)
def test_it_prefers_the_cheaper_vehicle_type(name):
    points = [(0, 0)] + [(2000 * i, 300) for i in range(1, 4)]
    pickups = [Pickup(f"p{i}", i, demand_kg=10) for i in range(1, 4)]
    fleet = [
        VehicleType("rental", count=1, capacity_kg=100, cost_per_km=2.5, fixed_cost=50),
        VehicleType("own", count=1, capacity_kg=100, cost_per_km=1.0, cost_per_hour=20),
    ]
    problem = make_problem(points, pickups, fleet)

    solution = get_solver(name).solve(problem, seconds=QUICK)

    assert [r.vehicle_type for r in solution.routes] == ["own"]
    route = solution.routes[0]
    assert route.cost == pytest.approx(route.distance / 1000 + route.duration / 3600 * 20)


def test_it_uses_a_second_capacity_dimension():
    points = [(0, 0)] + [(1000 * i, 0) for i in range(1, 5)]
    pickups = [Pickup(f"p{i}", i, demand_kg=1, demand_m3=5) for i in range(1, 5)]
    truck = VehicleType("truck", count=4, capacity_kg=1000, capacity_m3=10)
    problem = make_problem(points, pickups, [truck])

    solution = get_solver("pyvrp").solve(problem, seconds=QUICK)

    assert solution.unassigned == []
    assert len(solution.routes) == 2
    assert all(r.load_m3 <= 10 for r in solution.routes)


# -- bad input is reported per pickup, never raised ----------------------------------------------


def bad_problem():
    lonlat = [(116.40, 39.90), (116.41, 39.91), (116.42, 39.90), (121.47, 31.23)]
    lonlat += [(116.40, 39.92)] * 6
    dist, dur = matrix.straight_line(lonlat).distances, matrix.straight_line(lonlat).durations
    # location 9 has no road at all
    for i in range(len(lonlat)):
        if i != 9:
            dist[i][9] = dist[9][i] = None
            dur[i][9] = dur[9][i] = None
    pickups = [
        Pickup("ok", 1, demand_kg=100),
        Pickup("ok-too", 2, demand_kg=100, tw_start=0, tw_end=30_000),
        Pickup("shanghai", 3, demand_kg=10),
        Pickup("backwards-window", 4, demand_kg=10, tw_start=5000, tw_end=4000),
        Pickup("too-heavy", 5, demand_kg=50_000),
        Pickup("acid", 6, demand_kg=10, waste_class=HAZARDOUS),
        Pickup("too-early", 7, demand_kg=10, tw_start=0, tw_end=10),
        Pickup("after-shift", 8, demand_kg=10, tw_start=40_000, tw_end=50_000),
        Pickup("island", 9, demand_kg=10),
        Pickup("nowhere", 42, demand_kg=10),
        Pickup("negative", 1, demand_kg=-5),
    ]
    fleet = [
        VehicleType("broken", count=3, capacity_kg=0),
        VehicleType("truck", count=2, capacity_kg=8000, shift_start=3600, shift_end=36_000),
    ]
    return Problem(
        [Depot("hq", 0)],
        fleet,
        pickups,
        dist,
        dur,
        coordinates=lonlat,
        bbox=(115.4, 39.4, 117.5, 41.1),
    )


EXPECTED = {
    "shanghai": validate.OUTSIDE_AREA,
    "backwards-window": validate.INVALID_TIME_WINDOW,
    "too-heavy": validate.DEMAND_EXCEEDS_CAPACITY,
    "acid": validate.NO_LICENSED_VEHICLE,
    "too-early": validate.TIME_WINDOW_UNREACHABLE,
    "after-shift": validate.TIME_WINDOW_UNREACHABLE,
    "island": validate.UNREACHABLE,
    "nowhere": validate.INVALID_LOCATION,
    "negative": validate.INVALID_DEMAND,
}


def test_it_gives_each_bad_pickup_its_reason_before_solving():
    checked = validate.check_problem(bad_problem())

    assert {u.pickup_id: u.code for u in checked.unassigned} == EXPECTED
    assert all(u.reason for u in checked.unassigned)
    assert any("zero capacity" in w for w in checked.warnings)


@pytest.mark.parametrize("name", SOLVERS)
def test_it_routes_what_it_can_and_reports_the_rest(name):
    problem = bad_problem()

    solution = get_solver(name).solve(problem, seconds=QUICK)

    assert reasons(solution) == EXPECTED
    assert solution.assigned_ids == {"ok", "ok-too"}
    assert all(r.vehicle_type == "truck" for r in solution.routes)
    assert any("zero capacity" in w for w in solution.warnings)


@pytest.mark.parametrize("name", SOLVERS)
def test_it_reports_pickups_the_fleet_cannot_fit(name):
    points = [(0, 0), (1000, 0), (2000, 0), (3000, 0)]
    pickups = [Pickup(f"p{i}", i, demand_kg=60) for i in range(1, 4)]
    problem = make_problem(points, pickups, [VehicleType("truck", count=2, capacity_kg=100)])

    solution = get_solver(name).solve(problem, seconds=QUICK)

    audit(problem, solution)
    assert len(solution.assigned_ids) == 2
    assert [u.code for u in solution.unassigned] == [validate.NOT_ROUTED]


@pytest.mark.parametrize("name", SOLVERS)
def test_it_never_travels_a_missing_matrix_cell(name):
    points = [(0, 0), (1000, 0), (1000, 100), (2000, 0)]
    dist, dur = plane(points)
    for m in (dist, dur):
        m[1][2] = m[2][1] = None  # a river between two neighbours
        m[1][3] = math.inf
    pickups = [Pickup(f"p{i}", i, demand_kg=1) for i in range(1, 4)]
    problem = Problem([Depot("hq", 0)], [VehicleType("t", 3, 100)], pickups, dist, dur)

    solution = get_solver(name).solve(problem, seconds=QUICK)

    assert solution.unassigned == []
    for route in solution.routes:
        path = [0] + [s.location for s in route.stops] + [0]
        assert all(dist[a][b] is not None and math.isfinite(dist[a][b]) for a, b in zip(path, path[1:], strict=False))


def test_it_survives_an_empty_fleet_and_no_pickups():
    problem = make_problem([(0, 0), (10, 0)], [Pickup("p", 1, 1)], [])
    assert reasons(get_solver("pyvrp").solve(problem, seconds=QUICK)) == {"p": validate.NO_VEHICLE}
    empty = make_problem([(0, 0)], [], [VehicleType("t", 1, 10)])
    assert get_solver("pyvrp").solve(empty, seconds=QUICK).routes == []


def test_it_reports_progress():
    points = [(0, 0)] + [(100 * i, 50 * i) for i in range(1, 10)]
    pickups = [Pickup(f"p{i}", i, demand_kg=1) for i in range(1, 10)]
    problem = make_problem(points, pickups, [VehicleType("t", 2, 5)])
    seen = []

    get_solver("pyvrp").solve(problem, seconds=1.0, progress=lambda f, m: seen.append(f))

    assert seen[-1] == 1.0
    assert all(0 <= f <= 1 for f in seen)


def test_it_rejects_an_unknown_solver_name():
    with pytest.raises(ValueError):
        get_solver("simplex")


# -- matrices -----------------------------------------------------------------------------------


def test_it_measures_great_circle_distance():
    assert matrix.haversine_m((0, 0), (0, 1)) == pytest.approx(111_195, rel=1e-3)


def test_it_applies_detour_and_speed_to_straight_lines():
    m = matrix.straight_line([(116.4, 39.9), (116.4, 40.0)], detour=1.3, speed_kmh=36)
    assert m.distances[0][1] == pytest.approx(1.3 * 11_119.5, rel=1e-3)
    assert m.durations[0][1] == pytest.approx(m.distances[0][1] / 10, abs=1)


def test_it_fills_holes_in_road_matrices_or_marks_them_unreachable():
    points = [(116.40, 39.90), (116.41, 39.91), (116.42, 39.92)]

    def fetch(pts):
        d = [[0, 1500, None], [1500, 0, 1400], [None, 1400, 0]]
        t = [[0, 200, None], [200, 0, 190], [None, 190, 0]]
        return d, t

    filled = matrix.road(points, fetch)
    holes = matrix.road(points, fetch, fallback=matrix.FALLBACK_UNREACHABLE)

    assert filled.filled == 2 and filled.distances[0][1] == 1500
    assert filled.distances[0][2] == matrix.straight_line(points).distances[0][2]
    assert holes.unreachable == 2 and holes.distances[0][2] is None and holes.durations[2][0] is None


def test_it_caches_matrices_by_point_set():
    cache = matrix.MatrixCache(maxsize=2)
    calls = []

    def fetch(pts):
        calls.append(1)
        return [[0, 5], [5, 0]], [[0, 1], [1, 0]]

    pts = [(116.4, 39.9), (116.5, 39.9)]
    a = matrix.build_matrices(pts, fetch=fetch, cache=cache, cache_tag="net1")
    b = matrix.build_matrices(list(pts), fetch=fetch, cache=cache, cache_tag="net1")
    matrix.build_matrices(pts, fetch=fetch, cache=cache, cache_tag="net2")

    assert a is b and len(calls) == 2 and cache.hits == 1


# -- benchmark instances ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, pickups, capacity, vehicles, bks, scale",
    [
        ("A-n32-k5.vrp", 31, 100, 31, 784, 1),
        ("E-n51-k5.vrp", 50, 160, 50, 521, 1),
        ("C101.txt", 100, 200, 25, 827.3, 10),
        ("R101.txt", 100, 200, 25, 1637.7, 10),
        ("RC101.25.txt", 25, 200, 25, 461.1, 10),
    ],
)
def test_it_reads_the_shipped_instances(filename, pickups, capacity, vehicles, bks, scale):
    instance = read_instance(DATA_DIR / filename)

    assert len(instance.problem.pickups) == pickups
    assert instance.problem.vehicle_types[0].capacity_kg == capacity
    assert instance.problem.vehicle_types[0].count == vehicles
    assert instance.bks == bks
    assert instance.scale == scale


def test_it_rounds_cvrplib_and_truncates_solomon_distances():
    cvrp = read_instance(DATA_DIR / "A-n32-k5.vrp").problem
    assert cvrp.distances[0][1] == round(math.dist((82, 76), (96, 44)))  # 34.93 -> 35
    solomon = read_instance(DATA_DIR / "C101.txt").problem
    assert solomon.distances[0][1] == math.floor(10 * math.dist((40, 50), (45, 68)))  # 18.68 -> 186
    assert solomon.pickups[0].tw_start == 9120 and solomon.pickups[0].service_seconds == 900


def test_it_lets_the_caller_override_the_best_known_value():
    assert read_instance(DATA_DIR / "A-n32-k5.vrp", bks=800).bks == 800


@pytest.mark.parametrize("filename, limit", [("A-n32-k5.vrp", 1.0), ("RC101.25.txt", 1.0)])
def test_it_gets_close_to_the_best_known_value(filename, limit):
    instance = read_instance(DATA_DIR / filename)

    solution = get_solver("pyvrp").solve(instance.problem, seconds=limit)

    assert solution.unassigned == []
    assert solution.distance / instance.scale <= instance.bks * 1.02
