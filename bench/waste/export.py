"""``manage.py bench export``: CSV export of N ledger rows, beside PostgreSQL's COPY and a naive loop.

PostgreSQL/PostGIS only. Builds its own database (``<name>_bench_export``, dropped afterwards unless
``--keep-db``), fills the ledger with N entries of one enterprise carrying a correct hash chain
(rows built in Python, loaded with COPY), seals it (the Merkle root over every entry) and measures,
in one run, over the same rows:

1. the product's export (``waste.services.exports.export_run``: seal, COPY-fed CSV, proof trailer);
2. ``COPY (SELECT …) TO STDOUT`` of the same rows with the same text rendering, to a file;
3. a naive server-side cursor + ``csv.writer`` loop over the same SELECT.

Memory: the peak resident set of this process during each step, above what it was before the step
(sampled every 20 ms from /proc/self/status).
"""

from __future__ import annotations

import csv
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bench.database import add_common_arguments, durability_line, durability_require

CHUNK = 50_000


def export_subcommand(parser):
    """CSV export of N ledger rows (rows/s, peak memory) beside PostgreSQL COPY and a cursor+csv loop."""
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db-name", default="", help="bench database (default: <configured name>_bench_export)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", dest="json_path", default="", help="also write the figures to this file")
    add_common_arguments(parser)
    return lambda options, stdout: run_export_bench(
        stdout=stdout,
        rows=options["rows"],
        db_name=options["db_name"],
        keep_db=options["keep_db"],
        json_path=options["json_path"],
        allow_unsafe=options["allow_unsafe"],
    )


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _Peak:
    """Peak RSS above the starting point while the block runs."""

    def __enter__(self):
        self.start = self.peak = _rss_kb()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        return self

    def _watch(self):
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, _rss_kb())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, _rss_kb())
        self.growth_mb = (self.peak - self.start) / 1024


def run_export_bench(
    *,
    stdout: TextIO,
    rows: int,
    db_name: str = "",
    keep_db: bool = False,
    json_path: str = "",
    allow_unsafe: bool = False,
) -> dict:
    from django.conf import settings
    from django.core.management.base import CommandError
    from django.db import connection

    from bench.database import database_create, database_drop, database_leave, database_use, pg
    from bench.waste.ledger_load import city_minimal, ledger_fill

    if connection.vendor != "postgresql":
        raise CommandError("bench export measures PostgreSQL/PostGIS only: set DATABASE_URL=postgis://…")
    db = dict(settings.DATABASES["default"])
    name = db_name or f"{db['NAME']}_bench_export"
    if name == db["NAME"]:
        raise CommandError("the bench database must not be the configured database")
    out_dir = Path(settings.VAR_DIR) / "bench-export"
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"rows": rows, "database": name, "durability": durability_require(db, allow_unsafe=allow_unsafe)}

    def say(message: str) -> None:
        stdout.write(message + "\n")
        stdout.flush()

    say(f"bench export: {rows:,} ledger rows in database {name}")
    database_create(db, name)
    try:
        database_use(name)
        settings.MEDIA_ROOT = out_dir / "media"
        user, org, site = city_minimal("bench-export")
        t0 = time.perf_counter()
        with pg(db, name, autocommit=False) as conn:
            ledger_fill(conn, rows=rows, org_id=org.pk, site_id=site.pk, shards=settings.LEDGER_SHARDS)
            conn.execute("ANALYZE waste_ledgerentry")
            conn.commit()
        report["generate_seconds"] = round(time.perf_counter() - t0, 2)
        say(f"generated and loaded {rows:,} rows with their hash chains in {report['generate_seconds']} s")

        from waste.models import ExportJob
        from waste.services.exports import export_run
        from waste.services.ledger import ledger_seal

        with _Peak() as seal:
            checkpoint = ledger_seal()
        report["seal"] = {
            "seconds": round(seal.seconds, 2),
            "rss_growth_mb": round(seal.growth_mb, 1),
            "size": checkpoint.size,
        }
        say(f"sealed (Merkle root over {checkpoint.size:,} entries) in {seal.seconds:.2f} s")

        year = datetime.now(UTC).year
        job = ExportJob.objects.create(
            requested_by=user,
            organisation=org,
            kind="events",
            format="csv",
            date_from=datetime(year, 1, 1).date(),
            date_to=datetime(year, 12, 31).date(),
            fingerprint=uuid.uuid4().hex,
        )
        with _Peak() as product:
            job = export_run(job_id=job.pk)
        path = settings.MEDIA_ROOT / job.file
        report["export"] = _figures(product, job.rows, path)

        from waste.exports import copy as export_copy
        from waste.exports.tables import Scope

        coverage_heads = [int(v[0]) for _, v in sorted(checkpoint.heads.items(), key=lambda kv: int(kv[0]))]
        where, params = export_copy.selection_sql(
            scope=Scope(organisation=org, areas=[]), job=job, heads=coverage_heads
        )
        select = (
            f"SELECT row_number() OVER (ORDER BY e.event_time, e.id), {export_copy.FIELDS_SQL} "
            f"FROM waste_ledgerentry e WHERE {where} ORDER BY e.event_time, e.id"
        )
        copy_path = out_dir / "copy.csv"
        with _Peak() as pg_copy, pg(db, name) as conn, open(copy_path, "wb") as f, conn.cursor() as cursor:
            with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)", params) as copy:
                for chunk in copy:
                    f.write(chunk)
        report["copy"] = _figures(pg_copy, rows, copy_path)

        naive_path = out_dir / "naive.csv"
        with _Peak() as naive, pg(db, name, autocommit=False) as conn, open(naive_path, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            with conn.cursor(name="naive") as cursor:
                cursor.itersize = 5000
                cursor.execute(select, params)
                for row in cursor:
                    writer.writerow(row)
        report["naive"] = _figures(naive, rows, naive_path)
        report["export_vs_copy"] = round(report["export"]["rows_per_s"] / report["copy"]["rows_per_s"], 3)
        for p in (copy_path, naive_path):
            p.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
    finally:
        database_leave(db)
        if not keep_db:
            database_drop(db, name)
    _print(stdout, report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2))
    return report


def _figures(peak: _Peak, rows: int, path: Path) -> dict:
    return {
        "seconds": round(peak.seconds, 3),
        "rows_per_s": round(rows / peak.seconds),
        "rss_growth_mb": round(peak.growth_mb, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def _print(out: TextIO, r: dict) -> None:
    out.write(f"\n{durability_line(r['durability'])}\n")
    out.write(f"\n{'step':<34}{'seconds':>10}{'rows/s':>12}{'peak RSS +MB':>14}{'file MB':>10}\n")
    for key, label in (
        ("export", "product export (CSV, with proof)"),
        ("copy", "PostgreSQL COPY TO STDOUT"),
        ("naive", "cursor + csv.writer loop"),
    ):
        f = r[key]
        out.write(
            f"{label:<34}{f['seconds']:>10.2f}{f['rows_per_s']:>12,}{f['rss_growth_mb']:>14.1f}{f['file_mb']:>10.1f}\n"
        )
    out.write(
        f"\nexport / COPY: {r['export_vs_copy']:.0%} (target ≥ 50 %); seal of {r['seal']['size']:,} entries: "
        f"{r['seal']['seconds']} s; generation: {r['generate_seconds']} s\n"
    )
