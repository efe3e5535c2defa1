"""Loading many ledger entries fast for the benchmarks: hash-chained per shard, written with COPY.

The benchmarks need a million realistic rows in a minute; going through ``ledger_append`` would
take most of an hour. The rows are chained exactly as ``waste.services.ledger`` chains them, so
``verify_ledger`` accepts them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from waste import ledger

COLUMNS = (
    "shard", "seq", "prev_hash", "hash", "event_id", "event_type", "batch_id", "batch_code", "organisation_id",
    "site_id", "quantity_kg", "event_time", "recorded_at", "flags", "data",
)  # fmt: skip
CHUNK = 100_000


@dataclass
class Row:
    shard: int
    event_id: str
    event_type: str
    organisation_id: int
    event_time: datetime
    recorded_at: datetime
    batch_id: int | None = None
    batch_code: str = ""
    site_id: int | None = None
    quantity_kg: Decimal | None = None
    data: dict = field(default_factory=dict)


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def ledger_copy(cursor, rows: Iterable[Row], shards: int) -> int:
    """COPYs ``rows`` (in the order given) into the ledger and sets the shard heads. Returns the count."""
    heads = {s: (0, ledger.GENESIS) for s in range(shards)}
    count = 0
    buffer = io.StringIO()

    def flush():
        with cursor.copy(f"COPY waste_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        seq, prev = heads[row.shard]
        seq += 1
        quantity = ledger.text_decimal(row.quantity_kg)
        when, recorded = ledger.text_time(row.event_time), ledger.text_time(row.recorded_at)
        data = ledger.canonical_json(row.data)
        site = "" if row.site_id is None else str(row.site_id)
        fields = [str(row.shard), str(seq), prev, row.event_id, row.event_type, row.batch_code,
                  str(row.organisation_id), "", site, "", quantity, when, recorded, "", data]  # fmt: skip
        digest = ledger.entry_hash(fields)
        heads[row.shard] = (seq, digest)
        values = [str(row.shard), str(seq), prev, digest, row.event_id, row.event_type,
                  "\\N" if row.batch_id is None else str(row.batch_id), row.batch_code, str(row.organisation_id),
                  site or "\\N", quantity or "\\N", when, recorded, "", _copy_text(data)]  # fmt: skip
        buffer.write("\t".join(values) + "\n")
        count += 1
        if count % CHUNK == 0:
            flush()
    if buffer.tell():
        flush()
    cursor.execute("DELETE FROM waste_ledgerhead")
    with cursor.copy("COPY waste_ledgerhead (shard, seq, hash) FROM STDIN") as copy:
        for shard, (seq, digest) in heads.items():
            copy.write_row((shard, seq, digest))
    return count
