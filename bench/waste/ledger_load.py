"""Loading many ledger entries fast for the benchmarks: hash-chained per shard, written with COPY.

The benchmarks need a million realistic rows in a minute; going through ``ledger_append`` would
take most of an hour. The rows are chained exactly as ``waste.services.ledger`` chains them (their
hashed fields are written by ``waste.ledger.fields_text``, the one definition of their order), so
``verify_ledger`` accepts them and ``ledger_seal`` seals them.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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


def _null(text: str) -> str:
    return text or "\\N"


def ledger_copy(cursor, rows: Iterable[Row], shards: int) -> int:
    """COPYs ``rows`` (in the order given) after the entries already in the ledger, chaining each
    onto its shard's head, and moves the heads. Returns the count."""
    cursor.execute("SELECT shard, seq, hash FROM waste_ledgerhead")
    heads = {s: (0, ledger.GENESIS) for s in range(shards)}
    heads.update({shard: (seq, digest) for shard, seq, digest in cursor.fetchall()})
    count = 0
    buffer = io.StringIO()

    def flush():
        with cursor.copy(f"COPY waste_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        seq, prev = heads[row.shard]
        values = {
            "shard": row.shard,
            "seq": seq + 1,
            "prev_hash": prev,
            "event_id": row.event_id,
            "event_type": row.event_type,
            "batch_code": row.batch_code,
            "organisation_id": row.organisation_id,
            "user_id": None,
            "site_id": row.site_id,
            "location": None,
            "quantity_kg": row.quantity_kg,
            "event_time": row.event_time,
            "recorded_at": row.recorded_at,
            "flags": "",
            "data": ledger.canonical_json(row.data),
        }
        text = ledger.fields_text(values)
        digest = ledger.entry_hash(text)
        heads[row.shard] = (seq + 1, digest)
        t = dict(zip(ledger.HASHED_FIELDS, text, strict=True))
        line = [t["shard"], t["seq"], prev, digest, t["event_id"], t["event_type"],
                "\\N" if row.batch_id is None else str(row.batch_id), t["batch_code"], t["organisation_id"],
                _null(t["site_id"]), _null(t["quantity_kg"]), t["event_time"], t["recorded_at"], t["flags"],
                _copy_text(t["data"])]  # fmt: skip
        buffer.write("\t".join(line) + "\n")
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


def city_minimal(username: str = "bench"):
    """One enterprise with a member and a site: what ledger rows need to point at."""
    from django.contrib.auth import get_user_model
    from django.contrib.gis.geos import Point

    from waste.models import Membership, Organisation, Site

    user = get_user_model().objects.create_user(username, password=None)
    org = Organisation.objects.create(
        name="Bench Enterprise",
        is_generator=True,
        identifier_scheme="cn_uscc",
        identifier="91120101MA0000001X",
        district_code="120101",
    )
    Membership.objects.create(user=user, organisation=org, role="admin")
    site = Site.objects.create(
        organisation=org,
        name="Bench plant",
        kind="generation",
        location=Point(117.2, 39.1, srid=4326),
        district_code="120101",
    )
    return user, org, site


def ledger_fill(conn, *, rows: int, org_id: int, site_id: int, shards: int, first: int = 0) -> None:
    """``rows`` generated-waste entries spread over the year and the shards, appended with COPY."""
    start = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    step = timedelta(days=364) / max(rows + first, 1)
    recorded = datetime.now(UTC)
    entries = (
        Row(
            shard=i % shards,
            event_id=str(uuid.uuid4()),
            event_type="generated",
            organisation_id=org_id,
            site_id=site_id,
            quantity_kg=Decimal(100 + i % 900) / 4,
            event_time=start + step * i,
            recorded_at=recorded,
            data={"n": i, "waste_code": "900-249-08"},
        )  # fmt: skip
        for i in range(first, first + rows)
    )
    with conn.cursor() as cursor:
        ledger_copy(cursor, entries, shards)
    conn.commit()
