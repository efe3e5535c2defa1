"""``manage.py bench routing``: our solver against the OR-Tools baseline on public instances."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from logistics.routing.instances import read_instance, shipped_instances

SOLVER_NAMES = ("pyvrp", "ortools")


def run_routing_bench(
    instances: Sequence[str | Path] | None = None,
    seconds: float = 5.0,
    json_path: str | Path | None = None,
    stdout: TextIO = sys.stdout,
    *,
    bks: Sequence[float] | None = None,
    solvers: Sequence[str] = SOLVER_NAMES,
    seed: int = 0,
) -> list[dict]:
    """Solve each instance with each solver; print a table; return (and optionally save) rows.

    ``bks`` overrides best-known values, one per instance in order (a single value may be given
    for a single instance).
    """
    from logistics.routing.solvers import get_solver

    paths = [Path(p) for p in instances] if instances else shipped_instances()
    rows: list[dict] = []
    _print_header(stdout)
    for i, path in enumerate(paths):
        given = bks[i] if bks and i < len(bks) else None
        try:
            instance = read_instance(path, bks=given)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            stdout.write(f"{path.name}: cannot read ({exc})\n")
            continue
        for name in solvers:
            solution = get_solver(name).solve(instance.problem, seconds=seconds, seed=seed)
            cost = round(solution.distance / instance.scale, 2)
            gap = round(100 * (cost - instance.bks) / instance.bks, 2) if instance.bks else None
            row = {
                "instance": instance.name,
                "solver": name,
                "cost": cost,
                "bks": instance.bks,
                "gap_pct": gap,
                "seconds": round(solution.seconds, 2),
                "clients": instance.size,
                "routes": len(solution.routes),
                "unassigned": len(solution.unassigned),
            }
            rows.append(row)
            _print_row(stdout, row)
    _print_summary(stdout, rows, solvers)
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        stdout.write(f"wrote {json_path}\n")
    return rows


_COLUMNS = "{:<12} {:>5} {:<8} {:>10} {:>10} {:>7} {:>7} {:>6} {:>5}\n"


def _print_header(out: TextIO) -> None:
    out.write(_COLUMNS.format("instance", "n", "solver", "cost", "bks", "gap%", "sec", "routes", "unas"))


def _print_row(out: TextIO, row: dict) -> None:
    out.write(
        _COLUMNS.format(
            row["instance"],
            row["clients"],
            row["solver"],
            f"{row['cost']:.2f}",
            "-" if row["bks"] is None else f"{row['bks']:g}",
            "-" if row["gap_pct"] is None else f"{row['gap_pct']:.2f}",
            f"{row['seconds']:.2f}",
            row["routes"],
            row["unassigned"],
        )
    )
    out.flush()


def _print_summary(out: TextIO, rows: list[dict], solvers: Sequence[str]) -> None:
    for name in solvers:
        gaps = [r["gap_pct"] for r in rows if r["solver"] == name and r["gap_pct"] is not None]
        if gaps:
            out.write(f"mean gap {name}: {statistics.mean(gaps):.2f}% over {len(gaps)} instances\n")
    if {"pyvrp", "ortools"} <= set(solvers):
        cost = {(r["instance"], r["solver"]): r for r in rows}
        worse = [
            r["instance"]
            for r in rows
            if r["solver"] == "pyvrp"
            and (r["instance"], "ortools") in cost
            and (r["unassigned"], r["cost"])
            > (
                cost[(r["instance"], "ortools")]["unassigned"],
                cost[(r["instance"], "ortools")]["cost"],
            )
        ]
        out.write("pyvrp worse than baseline on: " + (", ".join(worse) or "none") + "\n")


# -- the `bench routing` subcommand -------------------------------------------------------------


def routing_subcommand(parser: argparse.ArgumentParser) -> Callable[[dict, TextIO], None]:
    """Add the arguments of ``bench routing`` to ``parser``; return its handler."""
    parser.add_argument(
        "--instance",
        action="append",
        dest="instances",
        metavar="FILE",
        help="CVRPLIB .vrp or Solomon .txt file (repeatable); default: the shipped instances",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit per solver run")
    parser.add_argument("--bks", type=float, action="append", help="best-known cost, one per --instance, in order")
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="also write rows as JSON")
    parser.add_argument("--solver", action="append", dest="solvers", choices=SOLVER_NAMES)
    parser.add_argument("--seed", type=int, default=0)

    def handle(options: dict, stdout: TextIO) -> None:
        run_routing_bench(
            options.get("instances"),
            options["seconds"],
            options.get("json_path"),
            stdout,
            bks=options.get("bks"),
            solvers=options.get("solvers") or SOLVER_NAMES,
            seed=options.get("seed", 0),
        )

    return handle
