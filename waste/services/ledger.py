"""Appending to the ledger and sealing it. Callers hold their own transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from waste import ledger, verify
from waste.models import Batch, LedgerCheckpoint, LedgerEntry, LedgerFrontier, LedgerHead, Organisation, Site


@dataclass
class NewEvent:
    event_type: str
    organisation: Organisation
    event_time: datetime
    batch: Batch | None = None
    stream: str = ""  # chain key when there is no batch (e.g. a manifest number)
    user: object | None = None
    site: Site | None = None
    location: Point | None = None
    quantity_kg: Decimal | None = None
    flags: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


def _key(event: NewEvent) -> str:
    return event.batch.code if event.batch is not None else event.stream


def ledger_heads_ensure() -> None:
    missing = set(range(settings.LEDGER_SHARDS)) - set(LedgerHead.objects.values_list("shard", flat=True))
    LedgerHead.objects.bulk_create(
        [LedgerHead(shard=s, seq=0, hash=ledger.GENESIS) for s in sorted(missing)], ignore_conflicts=True
    )


def ledger_append(*, events: list[NewEvent]) -> list[LedgerEntry]:
    """Appends events in order. Locks only the head rows of the shards touched, in shard order."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append must run inside the caller's transaction")
    if not events:
        return []
    shards = [ledger.shard_of(_key(e), settings.LEDGER_SHARDS) for e in events]
    wanted = sorted(set(shards))
    heads = _heads_locked(wanted)
    if len(heads) != len(wanted):
        ledger_heads_ensure()
        heads = _heads_locked(wanted)
    now = timezone.now()
    entries, rows = [], []
    for event, shard in zip(events, shards, strict=True):
        seq, prev = heads[shard]
        # Hashed from plain values: the entry's Point is built once and never read back (each GEOS
        # coordinate read costs a C call through a thread-local handle, thousands per bulk upload).
        location = None
        if event.location is not None:
            lon, lat = event.location.coords
            location = (round(lon, 7), round(lat, 7))
        fields = {
            "shard": shard,
            "seq": seq + 1,
            "prev_hash": prev,
            "event_id": uuid.uuid4(),
            "event_type": event.event_type,
            "batch_code": event.batch.code if event.batch else "",
            "organisation_id": event.organisation.pk,
            "user_id": getattr(event.user, "pk", None),
            "site_id": event.site.pk if event.site else None,
            "location": location,
            "quantity_kg": event.quantity_kg.quantize(THOUSANDTH) if event.quantity_kg is not None else None,
            "event_time": event.event_time,
            "recorded_at": now,
            "flags": ",".join(sorted(set(event.flags))),
            "data": ledger.canonical_json(event.data),
        }
        digest = ledger.entry_hash(ledger.fields_text(fields))
        entry = LedgerEntry(
            **fields | {"location": Point(*location, srid=4326) if location else None},
            hash=digest,
            batch_id=event.batch.pk if event.batch else None,
        )
        heads[shard] = (entry.seq, digest)
        entries.append(entry)
        rows.append(_row(entry, location))
    ids = _insert(rows, heads)
    for entry in entries:
        entry.pk = ids[(entry.shard, entry.seq)]
        entry._state.adding = False
    return entries


THOUSANDTH = Decimal("0.001")
INSERT_COLUMNS = (
    "shard",
    "seq",
    "prev_hash",
    "hash",
    "event_id",
    "event_type",
    "batch_id",
    "batch_code",
    "organisation_id",
    "user_id",
    "site_id",
    "quantity_kg",
    "event_time",
    "recorded_at",
    "flags",
    "data",
    "location",
)


def _heads_locked(shards: list[int]) -> dict[int, tuple[int, str]]:
    if connection.vendor != "postgresql":
        rows = LedgerHead.objects.select_for_update().filter(shard__in=shards).order_by("shard")
        return {h.shard: (h.seq, h.hash) for h in rows}
    with connection.cursor() as cursor:  # raw: this lock is taken on every scan
        cursor.execute(
            "SELECT shard, seq, hash FROM waste_ledgerhead WHERE shard = ANY(%s) ORDER BY shard FOR UPDATE", [shards]
        )
        return {shard: (seq, digest) for shard, seq, digest in cursor.fetchall()}


def _row(entry: LedgerEntry, location) -> tuple:
    event_id = entry.event_id if connection.vendor == "postgresql" else entry.event_id.hex
    point = None if location is None else f"POINT({location[0]:.7f} {location[1]:.7f})"
    # As the ORM would: SQLite keeps datetimes as naive UTC text, so a +08:00 time must not go in raw
    # (it would sort and filter wrongly against every other row).
    when = connection.ops.adapt_datetimefield_value
    return (
        entry.shard,
        entry.seq,
        entry.prev_hash,
        entry.hash,
        event_id,
        entry.event_type,
        entry.batch_id,
        entry.batch_code,
        entry.organisation_id,
        entry.user_id,
        entry.site_id,
        entry.quantity_kg,
        when(entry.event_time),
        when(entry.recorded_at),
        entry.flags,
        entry.data,
        point,
    )


INSERT_CHUNK = 1000  # rows per INSERT: 17 parameters each, well inside SQLite's limits

# PostgreSQL's type of each INSERT_COLUMNS array (the location goes as WKT text).
ARRAY_TYPES = (
    "smallint",
    "bigint",
    "text",
    "text",
    "uuid",
    "text",
    "bigint",
    "text",
    "bigint",
    "integer",
    "bigint",
    "numeric",
    "timestamptz",
    "timestamptz",
    "text",
    "text",
    "text",
)
_UNNEST_SQL = (
    f"INSERT INTO waste_ledgerentry ({', '.join(INSERT_COLUMNS)})"
    f" SELECT {', '.join('v.' + c for c in INSERT_COLUMNS[:-1])}, ST_GeomFromText(v.location, 4326)"
    f" FROM unnest({', '.join(f'%s::{t}[]' for t in ARRAY_TYPES)}) AS v({', '.join(INSERT_COLUMNS)})"
    " RETURNING id, shard, seq"
)


def _insert(rows: list[tuple], heads: dict[int, tuple[int, str]]) -> dict[tuple[int, int], int]:
    """Raw INSERT of every entry and the shards' new heads: the ORM's bulk_create spends more time
    preparing rows than the database spends storing them, and this is the hot path of every scan.
    On PostgreSQL ONE statement whatever the number of entries: the heads' UPDATE in a CTE, the
    entries bound as one array per column and unnested (17 parameters, not 17 per entry, which
    psycopg would parse and bind one by one on the client). Elsewhere a multi-row INSERT per thousand
    entries. Answers {(shard, seq): id}; (shard, seq) is unique, so the ids do not depend on the order
    in which the database returns them."""
    heads_sql, heads_params = _heads_update_sql(heads)
    if connection.vendor == "postgresql":
        columns = [list(column) for column in zip(*rows, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(f"WITH h AS ({heads_sql}) {_UNNEST_SQL}", heads_params + columns)
            return {(shard, seq): pk for pk, shard, seq in cursor.fetchall()}
    one = "(" + ", ".join(["%s"] * (len(INSERT_COLUMNS) - 1) + ["GeomFromText(%s, 4326)"]) + ")"
    ids = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            cursor.execute(
                f"INSERT INTO waste_ledgerentry ({', '.join(INSERT_COLUMNS)}) VALUES {', '.join([one] * len(chunk))}"
                " RETURNING id, shard, seq",
                [value for row in chunk for value in row],
            )
            ids.update({(shard, seq): pk for pk, shard, seq in cursor.fetchall()})
        cursor.execute(heads_sql, heads_params)
    return ids


def _heads_update_sql(heads: dict[int, tuple[int, str]]) -> tuple[str, list]:
    """Every touched shard's new head in one UPDATE (CASE rather than UPDATE ... FROM (VALUES ...),
    which SQLite cannot alias)."""
    shards = sorted(heads)
    seq_cases = " ".join(["WHEN %s THEN %s"] * len(shards))
    hash_cases = " ".join(["WHEN %s THEN %s"] * len(shards))
    params = [v for s in shards for v in (s, heads[s][0])] + [v for s in shards for v in (s, heads[s][1])]
    params += shards
    sql = (
        f"UPDATE waste_ledgerhead SET seq = CASE shard {seq_cases} END, hash = CASE shard {hash_cases} END"
        f" WHERE shard IN ({', '.join(['%s'] * len(shards))})"
    )
    return sql, params


def entry_fields(entry: LedgerEntry) -> list[str]:
    """The entry's hashed fields as text (see waste.ledger.HASHED_TEXT)."""
    values = {name: getattr(entry, name) for name in ledger.HASHED_FIELDS if name != "location"}
    values["location"] = None if entry.location is None else (entry.location.x, entry.location.y)
    return ledger.fields_text(values)


@transaction.atomic
def ledger_seal() -> LedgerCheckpoint:
    """Signs the current heads of every shard and the Merkle root over every entry (tree 2 of
    waste.verify). Costs in proportion to the entries added since the last seal: each shard's
    Merkle frontier is kept in LedgerFrontier, and only the entries beyond it are read and hashed."""
    ledger_heads_ensure()
    frontiers = _frontiers_locked()  # one seal at a time
    heads = {h.shard: (h.seq, h.hash) for h in LedgerHead.objects.order_by("shard")}
    size = sum(seq for seq, _ in heads.values())
    last = LedgerCheckpoint.objects.order_by("-id").first()
    if last is not None and last.size == size and last.entries_root and last.entries_tree == verify.TREE:
        return last
    created_at = timezone.now()
    root = ledger.heads_root(heads)
    entries = verify.shards_root(_frontiers_advance(frontiers, heads))
    key = ledger.private_key(settings.LEDGER_SIGNING_KEY)
    message = ledger.checkpoint_message(size=size, root=root, created_at=ledger.text_time(created_at))
    message_entries = verify.entries_message(
        size=size, root=root, entries_root=entries, created_at=ledger.text_time(created_at)
    )
    return LedgerCheckpoint.objects.create(
        created_at=created_at,
        size=size,
        heads={str(s): [seq, h] for s, (seq, h) in heads.items()},
        root=root,
        signature=ledger.sign(key, message),
        public_key=ledger.public_key_b64(key),
        entries_root=entries,
        entries_signature=ledger.sign(key, message_entries),
        entries_tree=verify.TREE,
    )


def _frontiers_locked() -> dict[int, LedgerFrontier]:
    shards = LedgerHead.objects.values_list("shard", flat=True)
    LedgerFrontier.objects.bulk_create([LedgerFrontier(shard=s) for s in shards], ignore_conflicts=True)
    return {f.shard: f for f in LedgerFrontier.objects.select_for_update().order_by("shard")}


def _frontiers_advance(
    frontiers: dict[int, LedgerFrontier], heads: dict[int, tuple[int, str]], *, chunk_size: int = 20000
) -> dict[int, tuple[int, str]]:
    """Pushes each shard's entries beyond its frontier up to its head (one indexed range scan per
    shard, all in one query), saves the frontiers, and returns every shard's (size, root)."""
    streams = {}
    for shard, (seq, _) in heads.items():
        frontier = frontiers[shard]
        if seq < frontier.size:
            raise RuntimeError(f"shard {shard} holds {seq} entries but {frontier.size} were sealed: run verify_ledger")
        streams[shard] = verify.MerkleStream.resume(frontier.nodes)
    behind = [
        Q(shard=shard, seq__gt=streams[shard].count, seq__lte=seq)
        for shard, (seq, _) in heads.items()
        if seq > streams[shard].count
    ]
    if behind:
        rows = LedgerEntry.objects.filter(reduce(or_, behind)).order_by("shard", "seq").values_list("shard", "hash")
        for shard, digest in rows.iterator(chunk_size=chunk_size):
            streams[shard].push(verify.leaf_digest(digest))
    changed = []
    for shard, (seq, _) in heads.items():
        if streams[shard].count != seq:
            raise RuntimeError(f"shard {shard} has gaps below its head: run verify_ledger")
        frontier = frontiers[shard]
        if frontier.size != seq:
            frontier.size, frontier.nodes = seq, streams[shard].frontier()
            changed.append(frontier)
    LedgerFrontier.objects.bulk_update(changed, ["size", "nodes"], batch_size=100)
    return {shard: (stream.count, stream.root()) for shard, stream in streams.items()}


def entries_root(heads: dict[int, tuple[int, str]], *, chunk_size: int = 20000) -> str:
    """The entries root recomputed from every entry up to ``heads``, without the frontiers: the
    reference the incremental seal must equal (tests, benchmarks)."""
    streams = {shard: verify.MerkleStream() for shard in heads}
    rows = LedgerEntry.objects.order_by("shard", "seq").values_list("shard", "seq", "hash")
    for shard, seq, digest in rows.iterator(chunk_size=chunk_size):
        if seq <= heads.get(shard, (0, ""))[0]:
            streams[shard].push(verify.leaf_digest(digest))
    if any(stream.count != heads[shard][0] for shard, stream in streams.items()):
        raise RuntimeError("the ledger has gaps below its heads: run verify_ledger")
    return verify.shards_root({shard: (stream.count, stream.root()) for shard, stream in streams.items()})
