"""Appending to the ledger and sealing it. Callers hold their own transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from waste import ledger
from waste.models import Batch, LedgerCheckpoint, LedgerEntry, LedgerHead, Organisation, Site


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
    shards = {id(e): ledger.shard_of(_key(e), settings.LEDGER_SHARDS) for e in events}
    wanted = sorted(set(shards.values()))
    heads = {h.shard: h for h in LedgerHead.objects.select_for_update().filter(shard__in=wanted).order_by("shard")}
    if len(heads) != len(wanted):
        ledger_heads_ensure()
        heads = {
            h.shard: h for h in LedgerHead.objects.select_for_update().filter(shard__in=wanted).order_by("shard")
        }
    now = timezone.now()
    entries = []
    for event in events:
        head = heads[shards[id(event)]]
        entry = LedgerEntry(
            shard=head.shard, seq=head.seq + 1, prev_hash=head.hash, event_id=uuid.uuid4(),
            event_type=event.event_type, batch=event.batch, batch_code=event.batch.code if event.batch else "",
            organisation=event.organisation, user=event.user, site=event.site,
            location=Point(round(event.location.x, 7), round(event.location.y, 7), srid=4326)
            if event.location is not None else None,
            quantity_kg=event.quantity_kg.quantize(Decimal("0.001")) if event.quantity_kg is not None else None,
            event_time=event.event_time, recorded_at=now, flags=",".join(sorted(set(event.flags))),
            data=ledger.canonical_json(event.data),
        )
        entry.hash = ledger.entry_hash(entry_fields(entry))
        head.seq, head.hash = entry.seq, entry.hash
        entries.append(entry)
    LedgerEntry.objects.bulk_create(entries)
    for head in heads.values():
        LedgerHead.objects.filter(shard=head.shard).update(seq=head.seq, hash=head.hash)
    return entries


def entry_fields(entry: LedgerEntry) -> list[str]:
    """The entry's hashed fields as text (see waste.ledger.HASHED_FIELDS)."""
    loc = entry.location
    return [
        str(entry.shard), str(entry.seq), entry.prev_hash, str(entry.event_id), entry.event_type,
        entry.batch_code, str(entry.organisation_id), str(entry.user_id or ""), str(entry.site_id or ""),
        ledger.text_point(loc.x if loc else None, loc.y if loc else None), ledger.text_decimal(entry.quantity_kg),
        ledger.text_time(entry.event_time), ledger.text_time(entry.recorded_at), entry.flags, entry.data,
    ]


@transaction.atomic
def ledger_seal() -> LedgerCheckpoint:
    """Signs the current heads of every shard. Cheap: reads one row per shard."""
    ledger_heads_ensure()
    heads = {h.shard: (h.seq, h.hash) for h in LedgerHead.objects.order_by("shard")}
    size = sum(seq for seq, _ in heads.values())
    last = LedgerCheckpoint.objects.order_by("-id").first()
    if last is not None and last.size == size:
        return last
    created_at = timezone.now()
    root = ledger.heads_root(heads)
    key = ledger.private_key(settings.LEDGER_SIGNING_KEY)
    message = ledger.checkpoint_message(size=size, root=root, created_at=ledger.text_time(created_at))
    return LedgerCheckpoint.objects.create(
        created_at=created_at, size=size, heads={str(s): [seq, h] for s, (seq, h) in heads.items()},
        root=root, signature=ledger.sign(key, message), public_key=ledger.public_key_b64(key),
    )
