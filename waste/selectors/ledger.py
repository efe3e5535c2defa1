from __future__ import annotations

from django.db import connection

from waste import ledger
from waste.models import LedgerCheckpoint, LedgerEntry
from waste.services.ledger import entry_fields

# PostgreSQL renders each hashed field exactly as waste.ledger formats it (text_time, text_decimal,
# text_point), so verification streams plain text and Python only hashes: the ORM's model instances
# and GEOS points cost more than the hashing itself.
PG_FIELDS_SQL = """
SELECT id, shard::text, seq::text, prev_hash, event_id::text, event_type, batch_code, organisation_id::text,
       coalesce(user_id::text, ''), coalesce(site_id::text, ''),
       CASE WHEN location IS NULL THEN ''
            ELSE round(ST_X(location)::numeric, 7)::text || ',' || round(ST_Y(location)::numeric, 7)::text END,
       coalesce(quantity_kg::text, ''),
       to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       flags, data, hash
FROM waste_ledgerentry ORDER BY shard, seq
"""


def _pg_rows(chunk_size: int):
    with connection.cursor() as django_cursor:
        raw = django_cursor.connection  # psycopg connection
        with raw.cursor(name="zw_ledger_verify") as cursor:  # server-side: memory stays flat
            cursor.itersize = chunk_size
            cursor.execute(PG_FIELDS_SQL)
            for row in cursor:
                yield row[0], row[1:16], row[16]


def ledger_rows(*, chunk_size: int = 20000):
    """(id, hashed fields as text, stored hash) for every entry, by shard then seq, streamed."""
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:
            yield from _pg_rows(chunk_size)
        else:
            from django.db import transaction

            with transaction.atomic():  # a named cursor lives in a transaction
                yield from _pg_rows(chunk_size)
        return
    queryset = LedgerEntry.objects.order_by("shard", "seq")
    for entry in queryset.iterator(chunk_size=chunk_size):
        yield entry.pk, entry_fields(entry), entry.hash


def checkpoint_dicts() -> list[dict]:
    return [
        {"size": cp.size, "root": cp.root, "created_at": ledger.text_time(cp.created_at), "heads": cp.heads,
         "signature": cp.signature, "public_key": cp.public_key}
        for cp in LedgerCheckpoint.objects.order_by("id")
    ]


def ledger_verify():
    """(entries checked, problems) for the whole ledger, against the key in settings."""
    from django.conf import settings

    trusted = {ledger.public_key_b64(ledger.private_key(settings.LEDGER_SIGNING_KEY))}
    return ledger.verify_entries(ledger_rows(), checkpoint_dicts(), trusted)
