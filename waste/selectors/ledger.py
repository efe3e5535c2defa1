from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

from django.db import connection
from django.utils.dateparse import parse_datetime

from waste import ledger, verify
from waste.models import LedgerCheckpoint, LedgerEntry
from waste.services.ledger import entry_fields

# PostgreSQL renders each hashed field exactly as waste.ledger.HASHED_TEXT writes it (text_time,
# text_decimal, text_point), so verification streams plain text and Python only hashes: the ORM's model
# instances and GEOS points cost more than the hashing itself. Also used by the COPY export.
HASHED_SQL = {
    "shard": "e.shard::text",
    "seq": "e.seq::text",
    "prev_hash": "e.prev_hash",
    "event_id": "e.event_id::text",
    "event_type": "e.event_type",
    "batch_code": "e.batch_code",
    "organisation_id": "e.organisation_id::text",
    "user_id": "coalesce(e.user_id::text, '')",
    "site_id": "coalesce(e.site_id::text, '')",
    "location": "CASE WHEN e.location IS NULL THEN '' "
    "ELSE round(ST_X(e.location)::numeric, 7)::text || ',' || round(ST_Y(e.location)::numeric, 7)::text END",
    "quantity_kg": "coalesce(e.quantity_kg::text, '')",
    "event_time": """to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "recorded_at": """to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "flags": "e.flags",
    "data": "e.data",
}
assert tuple(HASHED_SQL) == ledger.HASHED_FIELDS, "HASHED_SQL must follow waste.ledger.HASHED_TEXT"

# The hashed fields joined by waste.ledger.SEP: exactly the text waste.ledger.entry_hash hashes.
FIELDS_TEXT_SQL = "concat_ws(E'\\x1f', " + ", ".join(HASHED_SQL[name] for name in ledger.HASHED_FIELDS) + ")"

# (id, hashed fields joined by waste.ledger.SEP, hash) for every entry, by shard then seq.
PG_FIELDS_SQL = f"SELECT e.id, {FIELDS_TEXT_SQL}, e.hash FROM waste_ledgerentry e ORDER BY e.shard, e.seq"

# Every check of an entry that needs only the entries, in SQL, one row per entry of a shard by seq:
# PostgreSQL hashes each entry's text with its built-in sha256 where it renders it (the database is
# UTF-8, so convert_to gives the bytes Python would hash) and compares it with the stored hash, and
# the window over the shard compares each entry's seq and prev_hash with the entry before it (lag).
# Only the rows Python still needs leave the server (PG_CHAIN_SQL below): the ones that disagree, the
# last of each shard (with the shard's count) and the positions the checkpoints sealed, which Python
# checks against the signed heads (waste.ledger.chains_found). The offline verifier of exports hashes
# the same text in Python (waste.ledger.verify_entries).
PG_CHECKED_SQL = (
    "SELECT e.id, e.shard, e.seq, e.hash,"
    " lag(e.seq, 1, 0::bigint) OVER w AS prev_seq,"
    f" e.prev_hash = lag(e.hash, 1, '{ledger.GENESIS}') OVER w AS linked,"
    f" encode(sha256(convert_to({FIELDS_TEXT_SQL}, 'UTF8')), 'hex') = e.hash AS content_ok,"
    " row_number() OVER w AS n,"
    " lead(e.seq) OVER w IS NULL AS last"
    " FROM waste_ledgerentry e {where}"
    " WINDOW w AS (PARTITION BY e.shard ORDER BY e.seq)"
)
# (id, shard, seq, hash, previous seq, linked, content matches, entries so far, last of its shard) for
# the rows of PG_CHECKED_SQL that disagree, end a shard or sit at a sealed position {sealed}.
PG_CHAIN_SQL = (
    "SELECT id, shard, seq, hash, prev_seq, linked, content_ok, n, last FROM (" + PG_CHECKED_SQL + ") c"
    " WHERE seq <> prev_seq + 1 OR NOT linked OR NOT content_ok OR last OR {sealed}"
    " ORDER BY shard, seq"
)
# Streams verified at once: shards are independent chains, so disjoint sets of them are streamed over
# separate connections and the server renders and hashes them on several cores.
VERIFY_STREAMS = 2


# COPY's text format escapes only backslash and these control characters; canonical JSON and the other
# fields never hold the raw characters, so a row with a backslash is rare and takes the slow path.
_COPY_ESCAPES = re.compile(rb"\\(.)")
_COPY_CHARS = {b"\\": b"\\", b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def _copy_unescape(text: bytes) -> bytes:
    return _COPY_ESCAPES.sub(lambda m: _COPY_CHARS.get(m.group(1), m.group(1)), text)


def _pg_rows():
    """(id, hashed fields as UTF-8 bytes, hash), for Python to hash."""
    with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
        # COPY streams rows as fast as the server renders them; memory stays flat. The rows are split
        # by hand rather than parsed by psycopg: the fields are only hashed, so they stay UTF-8 bytes
        # (one CopyData message per row, ending in a newline).
        with cursor.copy(f"COPY ({PG_FIELDS_SQL}) TO STDOUT") as copy:
            for chunk in copy:
                entry_id, fields, digest = bytes(chunk[:-1]).split(b"\t")
                if b"\\" in fields:
                    fields = _copy_unescape(fields)
                yield int(entry_id), fields, digest.decode()


def _sealed_sql(shard: int | None, checkpoints) -> str:
    """SQL true at the positions the checkpoints sealed (of ``shard``, or of every shard)."""
    sealed = sorted({(int(s), int(v[0])) for cp in checkpoints for s, v in cp["heads"].items() if int(v[0])})
    if shard is not None:
        seqs = sorted({seq for s, seq in sealed if s == int(shard)})
        return f"seq = ANY('{{{','.join(map(str, seqs))}}}'::bigint[])" if seqs else "false"
    if not sealed:
        return "false"
    # Integers only, formatted here: COPY takes no bind parameters.
    return "(shard, seq) IN (" + ", ".join(f"({s}, {q})" for s, q in sealed) + ")"


def _chain_rows(cursor, shard: int | None, checkpoints):
    where = "" if shard is None else f"WHERE e.shard = {int(shard)}"
    sql = PG_CHAIN_SQL.format(where=where, sealed=_sealed_sql(shard, checkpoints))
    # Integers, hex digests and booleans: nothing COPY escapes, so a row is split by hand.
    with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
        for chunk in copy:
            entry_id, shard_text, seq, digest, prev_seq, linked, content_ok, n, last = bytes(chunk[:-1]).split(b"\t")
            yield (
                int(entry_id),
                int(shard_text),
                int(seq),
                digest.decode(),
                int(prev_seq),
                linked == b"t",
                content_ok == b"t",
                int(n),
                last == b"t",
            )


def _chains_streamed(shards: list[int], checkpoints) -> ledger.Chains:
    """The chains of ``shards``, checked over a connection of their own, one COPY per shard."""
    conn = connection.get_new_connection(connection.get_connection_params())
    try:
        with conn.cursor() as cursor:
            rows = (row for shard in shards for row in _chain_rows(cursor, shard, checkpoints))
            return ledger.chains_found(rows, checkpoints)
    finally:
        conn.close()


def ledger_rows(*, chunk_size: int = 20000):
    """(id, hashed fields as text, stored hash) for every entry, by shard then seq, streamed."""
    if connection.vendor == "postgresql":
        yield from _pg_rows()
        return
    queryset = LedgerEntry.objects.order_by("shard", "seq")
    for entry in queryset.iterator(chunk_size=chunk_size):
        yield entry.pk, entry_fields(entry), entry.hash


def checkpoint_dicts() -> list[dict]:
    return [
        {
            "size": cp.size,
            "root": cp.root,
            "created_at": ledger.text_time(cp.created_at),
            "heads": cp.heads,
            "signature": cp.signature,
            "public_key": cp.public_key,
        }
        for cp in LedgerCheckpoint.objects.order_by("id")
    ]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value  # jsonb arrives parsed, SQLite's as text


def frontiers_check() -> list[ledger.Problem]:
    """The Merkle frontiers kept for sealing (LedgerFrontier) against the last signed checkpoint.

    A seal writes the frontiers and its checkpoint in one transaction, and the next seal extends the
    frontiers without reading the entries they cover: a frontier edited in between would be signed
    into every later entries root. So each frontier must stand at its shard's sealed head, and the
    roots the frontiers give must make the checkpoint's signed entries root. Read in one statement,
    so both come from one snapshot. A shard without a frontier row is not a problem: the next seal
    rebuilds it from the entries."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.size, c.root, c.created_at, c.heads, c.public_key, c.entries_root,"
            " c.entries_signature, c.entries_tree, c.signature, f.shard, f.size, f.nodes"
            " FROM (SELECT * FROM waste_ledgercheckpoint ORDER BY id DESC LIMIT 1) c"
            " LEFT JOIN waste_ledgerfrontier f ON true ORDER BY f.shard"
        )
        rows = cursor.fetchall()
    if not rows or not rows[0][6] or rows[0][8] != verify.TREE:
        return []  # nothing sealed yet, or sealed before the frontiers existed
    _, size, root, created_at, heads, public_key, entries_root, entries_signature, tree, signature = rows[0][:10]
    number = LedgerCheckpoint.objects.filter(id__lte=rows[0][0]).count()
    if isinstance(created_at, str):  # SQLite hands raw SQL its text, in UTC
        created_at = parse_datetime(created_at)
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    created = ledger.text_time(created_at)
    message = verify.entries_message(size=size, root=root, entries_root=entries_root, created_at=created, tree=tree)
    sealed = {int(s): (int(v[0]), v[1]) for s, v in _json(heads).items()}
    signed = ledger.checkpoint_message(size=size, root=root, created_at=created)
    if ledger.heads_root(sealed) != root or not ledger.signature_valid(public_key, signed, signature):
        return []  # a forged checkpoint: named by the checks of the checkpoints, nothing to compare with
    if not ledger.signature_valid(public_key, message, entries_signature):
        return [ledger.Problem(None, -1, 0, f"checkpoint {number} has a bad signature over its entries root")]
    sealed = {shard: seq for shard, (seq, _) in sealed.items()}
    frontiers = {shard: (fsize, _json(nodes)) for *_, shard, fsize, nodes in rows if shard is not None}
    if any(sealed.get(shard, 0) and shard not in frontiers for shard in sealed):
        return []  # a frontier was lost: the next seal rebuilds it from the entries
    problems, roots = [], {}
    for shard, seq in sorted(sealed.items()):
        fsize, nodes = frontiers.get(shard, (0, []))
        try:
            stream = verify.MerkleStream.resume(nodes)
        except (TypeError, ValueError):
            stream = None
        if stream is None or fsize != seq or stream.count != seq:
            problems.append(
                ledger.Problem(
                    None,
                    shard,
                    seq,
                    f"the Merkle frontier kept for sealing does not stand at checkpoint {number}'s head",
                )
            )
            continue
        roots[shard] = (seq, stream.root())
    if not problems and verify.shards_root(roots) != entries_root:
        problems.append(
            ledger.Problem(
                None,
                -1,
                0,
                f"the Merkle frontiers kept for sealing do not give checkpoint {number}'s signed entries root",
            )
        )
    return problems


def ledger_verify(*, streams: int = VERIFY_STREAMS):
    """(entries checked, problems) for the whole ledger, against the key in settings: the entries'
    chains and the signed checkpoints, then the Merkle frontiers kept for sealing."""
    count, problems = _entries_verify(streams)
    return count, problems + frontiers_check()


def _entries_verify(streams: int):
    from django.conf import settings

    trusted = {ledger.public_key_b64(ledger.private_key(settings.LEDGER_SIGNING_KEY))}
    checkpoints = checkpoint_dicts()  # read before the entries: a seal made meanwhile only seals more
    if connection.vendor != "postgresql":
        return ledger.verify_entries(ledger_rows(), checkpoints, trusted)
    if connection.in_atomic_block or streams < 2:
        # Inside a transaction other connections would not see its writes: one stream, on this one.
        with connection.cursor() as django_cursor, django_cursor.connection.cursor() as cursor:
            part = ledger.chains_found(_chain_rows(cursor, None, checkpoints), checkpoints)
        return ledger.chains_conclude([part], checkpoints, trusted)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(shard), -1) FROM waste_ledgerentry")
        top = max(cursor.fetchone()[0] + 1, settings.LEDGER_SHARDS)
    with ThreadPoolExecutor(streams) as pool:
        parts = list(pool.map(lambda k: _chains_streamed(list(range(k, top, streams)), checkpoints), range(streams)))
    return ledger.chains_conclude(parts, checkpoints, trusted)
