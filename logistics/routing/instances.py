"""Readers for public benchmark instances, turned into :class:`Problem` objects.

* CVRPLIB / TSPLIB ``.vrp`` (sets A, E, P, X, ...): ``EDGE_WEIGHT_TYPE : EUC_2D`` distances are
  rounded to the nearest integer, ``nint(sqrt(dx² + dy²))``, as TSPLIB prescribes and as every
  published best-known value for those sets assumes.
* Solomon VRPTW ``.txt`` (C1, R1, RC1 ...): travel time equals distance. By default distances are
  Euclidean **truncated to one decimal** (``floor(10·d)/10``), the convention of the exact
  branch-and-price results (e.g. C101 = 827.3, R101 = 1637.7) that we ship as best-known values.
  The solver works on integers, so the whole instance (distances, times, windows) is scaled by 10
  and costs are divided by ``scale`` again when reported. ``convention="double"`` keeps three
  decimals instead, for comparing with heuristic papers that use double precision.

Best-known values come from, in order: the caller, a ``bks.csv`` next to the file, or the file's
``COMMENT`` ("Optimal value: 784", "Best value: 1764") or ``BEST_KNOWN`` line.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .problem import Depot, Pickup, Problem, VehicleType

DATA_DIR = Path(__file__).parent / "data"
BKS_FILE = "bks.csv"
_BKS_IN_COMMENT = re.compile(r"(?:optimal|best)\s*(?:known\s*)?value\s*:?\s*([0-9]+(?:\.[0-9]+)?)", re.I)


@dataclass
class Instance:
    name: str
    kind: str  # "cvrp" or "vrptw"
    problem: Problem
    bks: float | None
    scale: float = 1.0  # instance cost = solver distance / scale
    path: Path | None = None

    @property
    def size(self) -> int:
        return len(self.problem.pickups)


def shipped_instances() -> list[Path]:
    return sorted(p for p in DATA_DIR.iterdir() if p.suffix in (".vrp", ".txt"))


def read_instance(path: str | Path, *, bks: float | None = None) -> Instance:
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if re.search(r"^\s*NODE_COORD_SECTION", text, re.M):
        instance = parse_cvrplib(text, name=path.stem)
    elif re.search(r"^\s*CUSTOMER", text, re.M | re.I):
        instance = parse_solomon(text, name=path.stem)
    else:
        raise ValueError(f"{path.name}: neither a CVRPLIB nor a Solomon instance")
    instance.path = path
    sidecar = _sidecar_bks(path)
    instance.bks = bks if bks is not None else sidecar if sidecar is not None else instance.bks
    return instance


def _sidecar_bks(path: Path) -> float | None:
    table = path.parent / BKS_FILE
    if not table.exists():
        return None
    with table.open(encoding="utf-8") as fh:
        rows = csv.reader(line for line in fh if line.strip() and not line.startswith("#"))
        for row in rows:
            if row and row[0].strip() == path.stem:
                return float(row[1])
    return None


# -- CVRPLIB ----------------------------------------------------------------------------------


def parse_cvrplib(text: str, *, name: str = "") -> Instance:
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        key = line.split(":", 1)[0].strip().upper()
        if ":" in line and not line.split(":", 1)[0].strip().lstrip("-").isdigit():
            header[key] = line.split(":", 1)[1].strip()
            current = None
        elif line.upper().endswith("_SECTION"):
            current = line.upper()
            sections[current] = []
        elif current:
            sections[current].append(line.split())

    weight_type = header.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper()
    if weight_type != "EUC_2D":
        raise ValueError(f"{name}: EDGE_WEIGHT_TYPE {weight_type} is not supported (EUC_2D only)")
    dimension = int(header["DIMENSION"])
    capacity = float(header["CAPACITY"])
    coords = {int(r[0]): (float(r[1]), float(r[2])) for r in sections["NODE_COORD_SECTION"]}
    demands = {int(r[0]): float(r[1]) for r in sections.get("DEMAND_SECTION", [])}
    depot_nodes = []
    for row in sections.get("DEPOT_SECTION", [["1"]]):
        node = int(row[0])
        if node == -1:
            break
        depot_nodes.append(node)
    nodes = sorted(coords)
    if len(nodes) != dimension:
        raise ValueError(f"{name}: DIMENSION {dimension} but {len(nodes)} coordinates")
    index = {node: i for i, node in enumerate(nodes)}
    points = [coords[n] for n in nodes]
    dist = [[_nint(math.dist(a, b)) for b in points] for a in points]

    depots = [Depot(id=str(n), location=index[n]) for n in depot_nodes]
    customers = [n for n in nodes if n not in depot_nodes]
    count = int(header.get("VEHICLES", len(customers)))
    fleet = [
        VehicleType(name=f"truck@{d.id}", count=count, capacity_kg=capacity, depot=i) for i, d in enumerate(depots)
    ]
    pickups = [Pickup(id=str(n), location=index[n], demand_kg=demands.get(n, 0)) for n in customers]
    problem = Problem(depots, fleet, pickups, distances=dist, durations=dist)
    return Instance(
        name=header.get("NAME", name) or name,
        kind="cvrp",
        problem=problem,
        bks=_bks_from_header(header),
    )


def _nint(x: float) -> int:
    return int(x + 0.5)


def _bks_from_header(header: dict[str, str]) -> float | None:
    for key in ("BEST_KNOWN", "OPTIMAL_VALUE"):
        if key in header:
            return float(header[key])
    match = _BKS_IN_COMMENT.search(header.get("COMMENT", ""))
    return float(match.group(1)) if match else None


# -- Solomon ----------------------------------------------------------------------------------


def parse_solomon(text: str, *, name: str = "", convention: str = "trunc1") -> Instance:
    if convention not in ("trunc1", "double"):
        raise ValueError(f"unknown Solomon distance convention {convention!r}")
    scale = 10 if convention == "trunc1" else 1000
    lines = [line.split() for line in text.splitlines() if line.strip()]
    title = " ".join(lines[0]) if lines and not lines[0][0].isdigit() else name
    numeric = [row for row in lines if all(_is_number(tok) for tok in row)]
    vehicles, capacity = (int(float(v)) for v in numeric[0][:2])
    rows = [[float(v) for v in row] for row in numeric[1:] if len(row) >= 7]
    points = [(r[1], r[2]) for r in rows]

    def length(a, b) -> int:
        d = math.dist(a, b)
        return math.floor(d * 10 + 1e-9) if convention == "trunc1" else round(d * scale)

    dist = [[length(a, b) for b in points] for a in points]
    depot_row = rows[0]
    closes = round(depot_row[5] * scale)
    depot = Depot(id=str(int(depot_row[0])), location=0, opens=round(depot_row[4] * scale), closes=closes)
    fleet = [
        VehicleType(
            name="vehicle",
            count=vehicles,
            capacity_kg=capacity,
            shift_start=depot.opens,
            shift_end=closes,
        )
    ]
    pickups = [
        Pickup(
            id=str(int(r[0])),
            location=i,
            demand_kg=r[3],
            tw_start=round(r[4] * scale),
            tw_end=round(r[5] * scale),
            service_seconds=round(r[6] * scale),
        )
        for i, r in enumerate(rows)
        if i > 0
    ]
    problem = Problem([depot], fleet, pickups, distances=dist, durations=dist)
    return Instance(name=title or name, kind="vrptw", problem=problem, bks=None, scale=scale)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
