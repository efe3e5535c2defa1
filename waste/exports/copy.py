"""The events CSV on PostgreSQL: the rows come straight from ``COPY (SELECT …) TO STDOUT``.

PostgreSQL renders each hashed field exactly as waste.ledger formats it (the same expressions as
waste.selectors.ledger), and its CSV quoting equals Python's csv module's once empty strings go out
as NULL, so the signed digest of the rows is the sha256 of the bytes COPY sends. Python only hashes
and counts those bytes: the export runs near COPY's own speed.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from waste.models import ExportJob, LedgerCheckpoint

from . import proofs, tables, writers

PROGRESS_EVERY = 50_000

FIELDS_SQL = """
NULLIF(e.shard::text, ''), e.seq::text, e.prev_hash, e.event_id::text, e.event_type, NULLIF(e.batch_code, ''),
e.organisation_id::text, e.user_id::text, e.site_id::text,
CASE WHEN e.location IS NULL THEN NULL
     ELSE round(ST_X(e.location)::numeric, 7)::text || ',' || round(ST_Y(e.location)::numeric, 7)::text END,
e.quantity_kg::text,
to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
NULLIF(e.flags, ''), NULLIF(e.data, ''), e.hash
"""


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
        from django.utils import timezone

        from waste import ledger

        statement = {
            "id": str(job.pk),
            "kind": job.kind,
            "format": job.format,
            "organisation": job.organisation_id,
            "from": job.date_from.isoformat(),
            "to": job.date_to.isoformat(),
            "created_at": ledger.text_time(timezone.now()),
            "columns": columns,
            "rows": statement_rows,
            "rows_digest": digest.hexdigest(),
            "checkpoint_size": checkpoint.size,
        }
        return proofs.proof_object(statement=statement, checkpoint=checkpoint), proofs.proof_nodes(coverage, checkpoint)

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
