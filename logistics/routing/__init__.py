"""Collection routing core: problem data, pre-checks, matrices and solvers, free of Django.

Typical use::

    from logistics.routing import Depot, Pickup, Problem, VehicleType, build_matrices, get_solver

    m = build_matrices(points)  # straight-line; pass fetch=... for road matrices
    problem = Problem(depots, vehicle_types, pickups, m.distances, m.durations)
    solution = get_solver("pyvrp").solve(problem, seconds=5, seed=0, progress=callback)
"""

from .matrix import Matrices, MatrixCache, build_matrices, haversine_m
from .problem import (
    GENERAL,
    HAZARDOUS,
    RECYCLABLE,
    Depot,
    Pickup,
    Problem,
    Route,
    Solution,
    Stop,
    Unassigned,
    VehicleType,
)
from .solvers import ORToolsSolver, PyVRPSolver, Solver, get_solver
from .validate import check_problem

__all__ = [
    "GENERAL",
    "HAZARDOUS",
    "RECYCLABLE",
    "Depot",
    "Matrices",
    "MatrixCache",
    "ORToolsSolver",
    "Pickup",
    "Problem",
    "PyVRPSolver",
    "Route",
    "Solution",
    "Solver",
    "Stop",
    "Unassigned",
    "VehicleType",
    "build_matrices",
    "check_problem",
    "get_solver",
    "haversine_m",
]
