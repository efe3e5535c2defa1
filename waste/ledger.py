"""Pure functions of the tamper-evident ledger: canonical form, hashes, Merkle root, signatures.

No Django here, so that an export can be verified offline with the same code.

Hand-written on purpose: the hash chain and Merkle root are a few lines over hashlib, and the
signatures use ``cryptography``'s Ed25519; no maintained library offers this exact shape
(sharded hash chains sealed by a signed root) without bringing a server of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
SEP = "\x1f"
SEP_BYTES = SEP.encode()
CHECKPOINT_CONTEXT = "zerowaste-ledger-checkpoint:v1"


def shard_of(key: str, shards: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % shards


def text_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text_decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.3f}"


def text_point(lon: float | None, lat: float | None) -> str:
    return "" if lon is None else f"{lon:.7f},{lat:.7f}"


def canonical_json(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _text(value) -> str:
    return "" if value is None else str(value)


def text_location(value: tuple[float, float] | None) -> str:
    return "" if value is None else text_point(*value)


# The fields hashed, in their order, each with how it is written as text. The one definition: the
# services (waste.services.ledger.entry_fields), the SQL that renders them (waste.selectors.ledger),
# the exports (which carry the same columns under these names) and the benchmarks' loader use it.
HASHED_TEXT = {
    "shard": str,
    "seq": str,
    "prev_hash": str,
    "event_id": str,
    "event_type": str,
    "batch_code": str,
    "organisation_id": str,
    "user_id": _text,
    "site_id": _text,
    "location": text_location,  # (lon, lat) or None
    "quantity_kg": text_decimal,
    "event_time": text_time,
    "recorded_at": text_time,
    "flags": str,
    "data": str,  # canonical_json, already text
}
HASHED_FIELDS = tuple(HASHED_TEXT)


def fields_text(values: dict) -> list[str]:
    """The hashed fields as text, in HASHED_FIELDS order, from a mapping of field name to value."""
    return [write(values[name]) for name, write in HASHED_TEXT.items()]


def entry_hash(fields: tuple[str, ...] | list[str] | str | bytes) -> str:
    """sha256 over the entry's fields, already as text, in HASHED_FIELDS order (or already joined by SEP,
    as text or as its UTF-8 bytes)."""
    if isinstance(fields, bytes):
        return hashlib.sha256(fields).hexdigest()
    return hashlib.sha256((fields if isinstance(fields, str) else SEP.join(fields)).encode()).hexdigest()


def merkle_root(leaves: list[bytes]) -> str:
    """RFC 6962-style root: leaf = H(0x00 || x), node = H(0x01 || l || r); empty -> H()."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def heads_root(heads: dict[int, tuple[int, str]]) -> str:
    return merkle_root([f"{shard}:{seq}:{h}".encode() for shard, (seq, h) in sorted(heads.items())])


def checkpoint_message(*, size: int, root: str, created_at: str) -> bytes:
    return f"{CHECKPOINT_CONTEXT}|{size}|{root}|{created_at}".encode()


def private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def signature_valid(public_b64: str, message: bytes, signature_b64: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        public.verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Problem:
    __slots__ = ("entry_id", "shard", "seq", "reason")

    def __init__(self, entry_id, shard: int, seq: int, reason: str) -> None:
        self.entry_id, self.shard, self.seq, self.reason = entry_id, shard, seq, reason

    def __str__(self) -> str:
        where = (
            f"entry {self.entry_id} (shard {self.shard}, seq {self.seq})"
            if self.entry_id is not None
            else f"shard {self.shard} at seq {self.seq}"
        )
        return f"{where}: {self.reason}"


def verify_entries(rows, checkpoints=(), trusted_keys: set[str] | None = None):
    """Checks hash chains and signed checkpoints.

    ``rows``: iterable of (entry_id, fields, stored_hash) ordered by shard then seq, where
    ``fields`` are the HASHED_FIELDS as text (a sequence, or one string joined by SEP, or its UTF-8 bytes).
    ``checkpoints``: dicts with size, root, created_at,
    heads {shard: [seq, hash]}, signature, public_key. Returns (entries checked, problems), with
    at most the first problem of each shard, sorted by entry id.
    """
    return verify_chains(_hashed(rows), checkpoints, trusted_keys)


def _hashed(rows):
    """(entry_id, shard, seq, prev_hash, stored_hash, content matches) from rows of hashed fields."""
    for entry_id, fields, stored in rows:
        if isinstance(fields, bytes):  # UTF-8 as PostgreSQL streams it: no decoding of what is only hashed
            head = fields.split(SEP_BYTES, 3)
            head[2] = head[2].decode()
        else:
            head = fields.split(SEP, 3) if isinstance(fields, str) else fields
        yield entry_id, int(head[0]), int(head[1]), head[2], stored, entry_hash(fields) == stored


def verify_chains(rows, checkpoints=(), trusted_keys: set[str] | None = None):
    """``verify_entries`` once each entry's content has been hashed and compared with its stored hash
    (by ``verify_entries`` itself, or by PostgreSQL's sha256 over the same text: waste.selectors.ledger).

    ``rows``: iterable of (entry_id, shard, seq, prev_hash, stored_hash, content_ok) ordered by shard
    then seq. Checks the links, the sequence and the signed checkpoints.
    """
    return chains_conclude([chains_check(rows, checkpoints)], checkpoints, trusted_keys)


class Chains:
    """What checking some shards' chains found: entries, first problem per shard, last seq per shard,
    and the hashes at the positions the checkpoints sealed."""

    __slots__ = ("count", "problems", "last_seq", "hashes_at")

    def __init__(self) -> None:
        self.count = 0
        self.problems: dict[int, Problem] = {}
        self.last_seq: dict[int, int] = {}
        self.hashes_at: dict[tuple[int, int], str] = {}


def chains_check(rows, checkpoints=()) -> Chains:
    """Checks the links and sequence of the shards in ``rows`` (rows as for ``verify_chains``). Shards are
    independent, so disjoint sets of shards may be checked apart (in parallel) and concluded together."""
    found = Chains()
    problems, hashes_at, last_seq = found.problems, found.hashes_at, found.last_seq
    wanted = {(int(s), int(v[0])) for cp in checkpoints for s, v in cp["heads"].items()}
    count = 0
    shard, expect_prev, expect_seq = None, GENESIS, 1
    for entry_id, this_shard, seq, prev, stored, content_ok in rows:
        count += 1
        if this_shard != shard:
            shard, expect_prev, expect_seq = this_shard, GENESIS, 1
        last_seq[shard] = seq
        if shard in problems:
            continue
        if seq != expect_seq:
            problems[shard] = Problem(
                entry_id, shard, seq, f"sequence jumps from {expect_seq - 1} to {seq}: an entry was deleted or inserted"
            )
        elif prev != expect_prev:
            problems[shard] = Problem(
                entry_id, shard, seq, "does not link to the entry before it (deleted, inserted or reordered)"
            )
        elif not content_ok:
            problems[shard] = Problem(entry_id, shard, seq, "content does not match its hash (edited)")
        if (shard, seq) in wanted:
            hashes_at[(shard, seq)] = stored
        expect_prev, expect_seq = stored, seq + 1
    found.count = count
    return found


def chains_found(rows, checkpoints=()) -> Chains:
    """``chains_check`` once the database has compared every entry with the one before it.

    ``rows``: (entry_id, shard, seq, stored_hash, previous seq (0 for the first), links to the entry
    before it, content matches, entries of the shard up to this one, last of its shard), ordered by
    shard then seq, for at least every entry that fails a check, the last entry of each shard and the
    positions the checkpoints sealed (waste.selectors.ledger.PG_CHAIN_SQL). Same findings, same words
    as ``chains_check`` over every row.
    """
    found = Chains()
    problems, hashes_at, last_seq = found.problems, found.hashes_at, found.last_seq
    wanted = {(int(s), int(v[0])) for cp in checkpoints for s, v in cp["heads"].items()}
    for entry_id, shard, seq, stored, prev_seq, linked, content_ok, n, last in rows:
        if last:
            last_seq[shard] = seq
            found.count += n
        if shard in problems:
            continue
        if seq != prev_seq + 1:
            problems[shard] = Problem(
                entry_id, shard, seq, f"sequence jumps from {prev_seq} to {seq}: an entry was deleted or inserted"
            )
        elif not linked:
            problems[shard] = Problem(
                entry_id, shard, seq, "does not link to the entry before it (deleted, inserted or reordered)"
            )
        elif not content_ok:
            problems[shard] = Problem(entry_id, shard, seq, "content does not match its hash (edited)")
        if shard not in problems and (shard, seq) in wanted:
            hashes_at[(shard, seq)] = stored
    return found


def chains_conclude(parts: list[Chains], checkpoints=(), trusted_keys: set[str] | None = None):
    """(entries checked, problems) from the chains of disjoint shards, against the signed checkpoints."""
    count = sum(part.count for part in parts)
    problems: dict[int, Problem] = {}
    last_seq: dict[int, int] = {}
    hashes_at: dict[tuple[int, int], str] = {}
    for part in parts:
        problems |= part.problems
        last_seq |= part.last_seq
        hashes_at |= part.hashes_at
    for number, cp in enumerate(checkpoints, start=1):
        message = checkpoint_message(size=cp["size"], root=cp["root"], created_at=cp["created_at"])
        heads = {int(s): (int(v[0]), v[1]) for s, v in cp["heads"].items()}
        if trusted_keys is not None and cp["public_key"] not in trusted_keys:
            problems.setdefault(-number, Problem(None, -1, 0, f"checkpoint {number} signed by an unknown key"))
        if not signature_valid(cp["public_key"], message, cp["signature"]) or heads_root(heads) != cp["root"]:
            problems.setdefault(-number, Problem(None, -1, 0, f"checkpoint {number} has a bad signature or root"))
            continue
        for s, (seq, h) in heads.items():
            if seq == 0 or s in problems:
                continue
            if last_seq.get(s, 0) < seq:
                problems[s] = Problem(
                    None,
                    s,
                    seq,
                    f"checkpoint {number} sealed {seq} entries, only {last_seq.get(s, 0)} remain: entries were deleted",
                )
            elif hashes_at.get((s, seq)) != h:
                problems[s] = Problem(
                    None, s, seq, f"differs from checkpoint {number}: the chain was rewritten at or before this entry"
                )
    ordered = sorted(problems.values(), key=lambda p: (p.entry_id is None, p.entry_id or 0, p.shard, p.seq))
    return count, ordered
