from __future__ import annotations

from waste import ledger
from waste.models import LedgerCheckpoint, LedgerEntry
from waste.services.ledger import entry_fields


def ledger_rows(*, chunk_size: int = 5000):
    """(id, hashed fields, stored hash) for every entry, by shard then seq, streamed."""
    queryset = LedgerEntry.objects.order_by("shard", "seq").only(
        "id", "shard", "seq", "prev_hash", "hash", "event_id", "event_type", "batch_code", "organisation_id",
        "user_id", "site_id", "location", "quantity_kg", "event_time", "recorded_at", "flags", "data",
    )
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
