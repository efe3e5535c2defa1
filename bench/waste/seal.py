"""``manage.py bench seal``: sealing and verifying the ledger as it grows, beside PostgreSQL.

PostgreSQL/PostGIS only, at production durability (see bench.database). Builds its own database
(``<name>_bench_seal``, dropped afterwards unless ``--keep-db``), loads hash-chained entries with COPY
(bench.waste.ledger_load) up to each of ``--sizes`` and, at each size:

1. seals once (catching up), then ``--repeat`` times appends ``--new`` entries and times
   ``ledger_seal()`` (the last one with the ledger at that size): seconds per 10,000 new entries.
   The target: the figure at the largest size is within 2x of the figure at the smallest (a seal
   costs what was added, not what is there);
2. times the full recomputation of the entries root (what every seal cost before the frontiers)
   and checks that it equals the root the incremental seal signed.

At the largest size it then times ``ledger_verify()`` (entries/s) against its baseline: PostgreSQL
streaming the same hashed columns with ``COPY (…) TO STDOUT`` (rows/s), the best of a run before
and a run after. Target: at least 75 % of it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import TextIO

from bench.database import (
    add_common_arguments,
    database_create,
    database_drop,
    database_leave,
    database_use,
    durability_line,
    durability_require,
    pg,
    print_targets,
    ratio_line,
)

SEAL_SPREAD_TARGET = 2.0
VERIFY_TARGET = 0.75


def seal_subcommand(parser):
    """Seal time per 10,000 new entries at 100 k and 1 M entries, and verify_ledger beside COPY TO STDOUT."""
    parser.add_argument(
        "--sizes", default="100000,1000000", help="ledger sizes at which to measure, comma-separated, increasing"
    )
    parser.add_argument("--new", type=int, default=10000, help="entries appended before each timed seal")
    parser.add_argument("--repeat", type=int, default=3, help="timed seals at each size (median reported)")
    parser.add_argument("--db-name", default="", help="bench database (default: <configured name>_bench_seal)")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--json", dest="json_path", default="", help="also write the figures to this file")
    add_common_arguments(parser)

    def handle(options, stdout):
        from django.core.management.base import CommandError

        try:
            sizes = [int(s.replace("_", "")) for s in options["sizes"].split(",") if s.strip()]
        except ValueError:
            raise CommandError("--sizes: whole numbers separated by commas, e.g. 100000,1000000") from None
        return run_seal_bench(
            stdout=stdout,
            sizes=sizes,
            new=options["new"],
            repeat=options["repeat"],
            db_name=options["db_name"],
            keep_db=options["keep_db"],
            json_path=options["json_path"],
            allow_unsafe=options["allow_unsafe"],
        )

    return handle


def run_seal_bench(
    *,
    stdout: TextIO = sys.stdout,
    sizes: list[int],
    new: int = 10000,
    repeat: int = 3,
    db_name: str = "",
    keep_db: bool = False,
    json_path: str = "",
    allow_unsafe: bool = False,
) -> dict:
    from django.conf import settings
    from django.core.management.base import CommandError
    from django.db import connection

    if connection.vendor != "postgresql":
        raise CommandError("bench seal measures PostgreSQL/PostGIS only: set DATABASE_URL=postgis://…")
    if not sizes or sizes != sorted(sizes) or new < 1 or repeat < 1 or sizes[0] <= new * repeat:
        raise CommandError("--sizes must increase, each above --new x --repeat; --new and --repeat must be positive")
    db = dict(settings.DATABASES["default"])
    name = db_name or f"{db['NAME']}_bench_seal"
    if name == db["NAME"]:
        raise CommandError("the bench database must not be the configured database: it is dropped and rebuilt")
    found = durability_require(db, allow_unsafe=allow_unsafe)
    report: dict = {"durability": found, "database": name, "new": new, "repeat": repeat, "sizes": []}
    start = time.monotonic()

    def say(message: str) -> None:
        stdout.write(f"[{time.monotonic() - start:6.1f}s] {message}\n")
        stdout.flush()

    say(f"bench seal: database {name} on {db['HOST']}:{db['PORT']}, sizes {sizes}, {new} new entries x {repeat}")
    database_create(db, name)
    try:
        database_use(name)
        from bench.waste.ledger_load import city_minimal, ledger_fill
        from waste.models import LedgerHead
        from waste.services.ledger import entries_root, ledger_seal

        _, org, site = city_minimal("bench-seal")
        loaded = 0

        def grow(rows: int) -> None:
            nonlocal loaded
            with pg(db, name, autocommit=False) as conn:
                ledger_fill(
                    conn, rows=rows, org_id=org.pk, site_id=site.pk, shards=settings.LEDGER_SHARDS, first=loaded
                )
            loaded += rows

        for size in sizes:
            start_at = max(size - new * repeat, loaded)  # the timed seals end with the ledger at ``size``
            if start_at > loaded:
                t0 = time.perf_counter()
                grow(start_at - loaded)
                with pg(db, name) as conn:
                    conn.execute("ANALYZE waste_ledgerentry")
                say(f"loaded the ledger to {loaded:,} entries in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            ledger_seal()
            catch_up = time.perf_counter() - t0
            timings = []
            for _ in range(repeat):
                grow(new)
                t0 = time.perf_counter()
                checkpoint = ledger_seal()
                timings.append(time.perf_counter() - t0)
            heads = {h.shard: (h.seq, h.hash) for h in LedgerHead.objects.all()}
            t0 = time.perf_counter()
            full = entries_root(heads)
            full_s = time.perf_counter() - t0
            per_10k = statistics.median(timings) * 10000 / new
            row = {
                "entries": checkpoint.size,
                "seal_s": [round(t, 4) for t in timings],
                "seal_s_per_10k": round(per_10k, 4),
                "catch_up_s": round(catch_up, 3),
                "full_recompute_s": round(full_s, 3),
                "same_root": full == checkpoint.entries_root,
            }
            report["sizes"].append(row)
            say(
                f"at {checkpoint.size:,} entries: seal {per_10k:.3f} s per 10k new (runs {row['seal_s']}), "
                f"full recomputation {full_s:.2f} s, same root: {row['same_root']}"
            )
        say("verification: COPY TO STDOUT of the hashed columns, ledger_verify(), COPY again")
        report["verify"] = _verify(db, name)
    finally:
        database_leave(db)
        if not keep_db:
            database_drop(db, name)
    report["targets"] = targets(report)
    _print(stdout, report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        stdout.write(f"wrote {json_path}\n")
    return report


def _copy_out(db: dict, name: str) -> dict:
    from waste.selectors.ledger import PG_FIELDS_SQL

    rows = 0
    with pg(db, name) as conn, conn.cursor() as cursor:
        t0 = time.perf_counter()
        with cursor.copy(f"COPY ({PG_FIELDS_SQL}) TO STDOUT") as copy:
            for chunk in copy:
                rows += bytes(chunk).count(b"\n")
        seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": round(seconds, 3), "per_s": round(rows / seconds, 1)}


def _verify(db: dict, name: str) -> dict:
    from waste.selectors.ledger import ledger_verify

    before = _copy_out(db, name)
    t0 = time.perf_counter()
    count, problems = ledger_verify()
    seconds = time.perf_counter() - t0
    after = _copy_out(db, name)
    best = max(before, after, key=lambda r: r["per_s"])
    return {
        "entries": count,
        "problems": [str(p) for p in problems[:3]],
        "seconds": round(seconds, 3),
        "per_s": round(count / seconds, 1),
        "copy_out": best,
        "copy_out_runs": [before["per_s"], after["per_s"]],
    }


def targets(r: dict) -> list[dict]:
    small, large = r["sizes"][0], r["sizes"][-1]
    spread = large["seal_s_per_10k"] / small["seal_s_per_10k"] if small["seal_s_per_10k"] else None
    verify = r["verify"]
    return [
        {
            "figure": f"seal s/10k new @ {large['entries']:,}",
            "value": large["seal_s_per_10k"],
            "unit": "s",
            "baseline": small["seal_s_per_10k"],
            "baseline_label": f"seal s/10k new @ {small['entries']:,}",
            "ratio": None if spread is None else round(spread, 2),
            "target": f"<= {SEAL_SPREAD_TARGET:.2f}",
            "met": spread is not None and spread <= SEAL_SPREAD_TARGET and large["same_root"] and small["same_root"],
        },
        ratio_line(
            f"verify_ledger @ {verify['entries']:,}",
            verify["per_s"],
            verify["copy_out"]["per_s"],
            VERIFY_TARGET,
            unit="entries/s",
            base_label="COPY TO STDOUT, same columns (rows/s)",
        )
        | {"met": verify["per_s"] >= VERIFY_TARGET * verify["copy_out"]["per_s"] and not verify["problems"]},
    ]


def _print(out: TextIO, r: dict) -> None:
    out.write(f"\n{durability_line(r['durability'])}\n\n")
    out.write(f"{'entries':>12} {'seal s/10k new':>15} {'runs (s)':<28} {'full recompute s':>17} {'same root':>10}\n")
    for row in r["sizes"]:
        out.write(
            f"{row['entries']:>12,} {row['seal_s_per_10k']:>15.3f} {str(row['seal_s']):<28} "
            f"{row['full_recompute_s']:>17.2f} {str(row['same_root']):>10}\n"
        )
    v = r["verify"]
    out.write(
        f"\nverify_ledger: {v['entries']:,} entries in {v['seconds']} s, {len(v['problems'])} problem(s); "
        f"COPY TO STDOUT of the same columns: {v['copy_out']['per_s']:,.0f} rows/s "
        f"(runs {v['copy_out_runs']})\n\n"
    )
    print_targets(out, r["targets"])
