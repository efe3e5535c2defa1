"""What an export carries to be verified offline (see waste.verify for the checks).

Per row: the entry's hashed fields and hash. Per file: the signed checkpoint (heads of every shard
chain and the Merkle root over all entries ordered by (shard, seq), computed at seal time), the
Merkle nodes that complete the exported entries into that root (a multiproof: for a sparse export
about k·log(n/k) nodes, for a whole ledger none), and a statement of the export (columns, row count,
digest of the rows) signed with the ledger key.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from waste import ledger, verify
from waste.models import LedgerCheckpoint, LedgerEntry


class Coverage:
    """Which leaves of the checkpoint's tree an export holds: one bit per ledger entry."""

    def __init__(self, checkpoint: LedgerCheckpoint) -> None:
        self.heads = {int(s): int(v[0]) for s, v in checkpoint.heads.items()}
        self.offsets = verify.leaf_offsets({str(s): [v] for s, v in self.heads.items()})
        self.size = checkpoint.size
        self.bits = bytearray((self.size + 7) // 8)
        self.distinct = 0

    def covers(self, shard: int, seq: int) -> bool:
        return 1 <= seq <= self.heads.get(shard, 0)

    def add(self, shard: int, seq: int) -> None:
        leaf = self.offsets[shard] + seq - 1
        byte, bit = divmod(leaf, 8)
        if not self.bits[byte] & (1 << bit):
            self.bits[byte] |= 1 << bit
            self.distinct += 1

    def __contains__(self, leaf: int) -> bool:
        return bool(self.bits[leaf >> 3] & (1 << (leaf & 7)))


def proof_nodes(coverage: Coverage, checkpoint: LedgerCheckpoint, *, chunk_size: int = 20000):
    """Yields (start, size, hex digest) of the nodes the verifier needs beside the exported leaves.

    One pass over the ledger's hashes in tree order, O(log n) memory; none when every entry is exported.
    """
    if coverage.distinct in (0, coverage.size):
        return
    found: list[tuple[int, int, str]] = []
    stream = verify.MerkleStream(on_node=lambda start, size, digest: found.append((start, size, digest.hex())))
    leaf = 0
    rows = LedgerEntry.objects.order_by("shard", "seq").values_list("shard", "seq", "hash")
    for shard, seq, digest in rows.iterator(chunk_size=chunk_size):
        if seq > coverage.heads.get(shard, 0):
            continue
        stream.push(verify.leaf_digest(digest), covered=leaf in coverage)
        leaf += 1
        if found:
            yield from found
            found.clear()
    root = stream.root()
    yield from found
    if root != checkpoint.entries_root:
        raise RuntimeError("the ledger does not rebuild its checkpoint's entries root: run verify_ledger")


def checkpoint_dict(checkpoint: LedgerCheckpoint) -> dict:
    return {
        "size": checkpoint.size,
        "root": checkpoint.root,
        "heads": checkpoint.heads,
        "created_at": ledger.text_time(checkpoint.created_at),
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
        "entries_root": checkpoint.entries_root,
        "entries_signature": checkpoint.entries_signature,
    }


def proof_object(*, statement: dict, checkpoint: LedgerCheckpoint) -> dict:
    key = ledger.private_key(settings.LEDGER_SIGNING_KEY)
    return {
        "format": verify.PROOF_FORMAT,
        "export": statement,
        "export_signature": ledger.sign(key, verify.export_message(statement)),
        "checkpoint": checkpoint_dict(checkpoint),
        "verify": "python -m waste.verify FILE",
    }


class RowDigest:
    """sha256 over the rows as CSV lines: what the signed statement commits to."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def add(self, values: list[str]) -> None:
        self.hash.update(verify.csv_line(values).encode())

    def hexdigest(self) -> str:
        return self.hash.hexdigest()
