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
from waste.models import ExportJob, LedgerCheckpoint, LedgerEntry


class Coverage:
    """Which leaves of the checkpoint's tree an export holds: one bit per ledger entry."""

    def __init__(self, checkpoint: LedgerCheckpoint) -> None:
        self.checkpoint = checkpoint
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
    Tree 2 (waste.verify): per shard, the siblings of the exported leaves' subtrees, or the shard's
    root as one node when the export holds none of its entries.
    """
    if coverage.distinct in (0, coverage.size):
        return
    found: list[tuple[int, int, str]] = []
    roots: dict[int, tuple[int, str]] = {}
    current = {"shard": None, "stream": None, "covered": False}

    def close() -> None:
        shard, stream = current["shard"], current["stream"]
        if stream is None:
            return
        root = stream.root()  # reports the nodes of the shard's right edge
        roots[shard] = (stream.count, root)
        if not current["covered"] and stream.count:
            found.append((coverage.offsets[shard], stream.count, root))

    leaf = 0
    rows = LedgerEntry.objects.order_by("shard", "seq").values_list("shard", "seq", "hash")
    for shard, seq, digest in rows.iterator(chunk_size=chunk_size):
        if seq > coverage.heads.get(shard, 0):
            continue
        if shard != current["shard"]:
            close()
            base = coverage.offsets[shard]
            current.update(
                shard=shard,
                covered=False,
                stream=verify.MerkleStream(
                    on_node=lambda start, size, node, base=base: found.append((base + start, size, node.hex()))
                ),
            )
        covered = leaf in coverage
        current["covered"] |= covered
        current["stream"].push(verify.leaf_digest(digest), covered=covered)
        leaf += 1
        if found:
            yield from found
            found.clear()
    close()
    yield from found
    for shard in coverage.heads:
        roots.setdefault(shard, (0, verify.EMPTY_ROOT))
    if verify.shards_root(roots) != checkpoint.entries_root:
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


def export_proof(*, job: ExportJob, columns: list[str], rows: int, rows_digest: str, coverage: Coverage):
    """The signed statement of an export and what proves it: (proof object, proof nodes).

    Every writer (the ORM path in waste.services.exports and the COPY path in waste.exports.copy)
    finishes here, so the statement has one shape."""
    statement = {
        "id": str(job.pk),
        "kind": job.kind,
        "format": job.format,
        "organisation": job.organisation_id,
        "from": job.date_from.isoformat(),
        "to": job.date_to.isoformat(),
        "created_at": ledger.text_time(job.created_at),  # fixed per job: a re-run writes the same bytes
        "columns": columns,
        "rows": rows,
        "rows_digest": rows_digest,
        "checkpoint_size": coverage.checkpoint.size,
    }
    checkpoint = coverage.checkpoint
    return proof_object(statement=statement, checkpoint=checkpoint), proof_nodes(coverage, checkpoint)


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
