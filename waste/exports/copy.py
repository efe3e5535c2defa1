"""The events CSV on PostgreSQL: the rows come straight from ``COPY (SELECT …) TO STDOUT``.

PostgreSQL renders each hashed field exactly as waste.ledger formats it (the same expressions as
waste.selectors.ledger), and its CSV quoting equals Python's csv module's once empty strings go out
as NULL, so the signed digest of the rows is the sha256 of the bytes COPY sends. Python only hashes
and counts those bytes: the export runs near COPY's own speed.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from waste import ledger
from waste.models import ExportJob, LedgerCheckpoint
from waste.selectors.ledger import HASHED_SQL

from . import proofs, tables, writers

PROGRESS_EVERY = 50_000

# Empty strings go out as NULL so that PostgreSQL's CSV quoting equals Python's csv module's.
FIELDS_SQL = ", ".join(f"NULLIF({HASHED_SQL[name]}, '')" for name in ledger.HASHED_FIELDS) + ", e.hash"


def selection_sql(*, scope, job, heads: list[int]) -> tuple[str, list]:
    """SQL and params of the exported entries (ids), with only those under the checkpoint."""
    queryset = tables.events_queryset(scope, job.date_from, job.date_to).order_by().values("pk")
    inner, params = queryset.query.sql_with_params()
    where = f"e.id IN ({inner}) AND e.seq <= (%s::bigint[])[e.shard + 1]"
    return where, [*params, heads]


def copy_events_csv(*, job: ExportJob, path, checkpoint: LedgerCheckpoint, scope, columns) -> int:
    coverage = proofs.Coverage(checkpoint)
    heads = [coverage.heads.get(s, 0) for s in range(max(coverage.heads) + 1)] if coverage.heads else [0]
    where, params = selection_sql(scope=scope, job=job, heads=heads)
    total = max(1, tables.events_queryset(scope, job.date_from, job.date_to).count())
    select = (
        f"SELECT row_number() OVER (ORDER BY e.event_time, e.id), {FIELDS_SQL} "
        f"FROM waste_ledgerentry e WHERE {where} ORDER BY e.event_time, e.id"
    )
    digest = hashlib.sha256()
    state = {"rows": 0}

    def chunks(cursor):
        with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)", params) as copy:
            pending = 0
            for chunk in copy:
                data = bytes(chunk)
                digest.update(data)
                lines = data.count(b"\n")
                state["rows"] += lines
                pending += lines
                if pending >= PROGRESS_EVERY:
                    pending = 0
                    progress(state["rows"])
                yield data

    def finish():
        statement_rows = state["rows"]
        if statement_rows < checkpoint.size:  # sparse: mark which leaves the export holds
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT e.shard, e.seq FROM waste_ledgerentry e WHERE {where}", params)
                for shard, seq in cursor:
                    coverage.add(shard, seq)
        else:
            coverage.distinct = coverage.size
        return proofs.export_proof(
            job=job, columns=columns, rows=statement_rows, rows_digest=digest.hexdigest(), coverage=coverage
        )

    # While COPY holds Django's connection, progress goes through a second one (autocommit).
    side = {}

    def progress(rows: int) -> None:
        if "conn" not in side:
            side["conn"] = connection.get_new_connection(connection.get_connection_params())
            side["conn"].autocommit = True
        side["conn"].execute(
            "UPDATE waste_exportjob SET rows = %s, progress = %s WHERE id = %s",
            (rows, min(99, rows * 100 // total), job.pk),
        )

    connection.ensure_connection()
    try:
        with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
            writers.write_csv_chunks(path, columns, chunks(cursor), finish)
    finally:
        if "conn" in side:
            side["conn"].close()
    return state["rows"]
