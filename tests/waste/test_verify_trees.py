"""The offline verifier reads both shapes of the entries tree: one tree over every entry (proof format /1,
exports made before per-shard frontiers) and one tree per shard (format /2). Pure: no database."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from waste import ledger, verify

KEY = ledger.private_key(hashlib.sha256(b"test key").digest())
NOW = ledger.text_time(datetime(2026, 3, 1, tzinfo=UTC))


def chains(sizes: dict[int, int]) -> list[list[str]]:
    """Rows (hashed fields as text + hash) of hash-chained entries, by shard then seq."""
    rows = []
    for shard, size in sorted(sizes.items()):
        prev = ledger.GENESIS
        for seq in range(1, size + 1):
            fields = ledger.fields_text(
                {"shard": shard, "seq": seq, "prev_hash": prev, "event_id": uuid.uuid4(), "event_type": "generated",
                 "batch_code": f"ZW{shard}{seq}", "organisation_id": 1, "user_id": None, "site_id": None,
                 "location": None, "quantity_kg": None, "event_time": datetime.now(UTC),
                 "recorded_at": datetime.now(UTC), "flags": "", "data": "{}"}
            )  # fmt: skip
            prev = ledger.entry_hash(fields)
            rows.append([*fields, prev])
    return rows


def export_of(rows: list[list[str]], picked: list[int], tree: int) -> verify.Export:
    heads = {}
    for row in rows:
        heads[row[0]] = [int(row[1]), row[-1]]
    heads_tuples = {int(s): (v[0], v[1]) for s, v in heads.items()}
    size = len(rows)
    nodes: dict[int, tuple[int, str]] = {}

    def on_node(start, span, digest):
        nodes[start] = (span, digest.hex())

    if tree == 1:
        stream = verify.MerkleStream(on_node=on_node)
        for i, row in enumerate(rows):
            stream.push(verify.leaf_digest(row[-1]), covered=i in picked)
        entries_root = stream.root()
    else:
        roots, offset = {}, 0
        for shard in sorted(heads_tuples):
            count = heads_tuples[shard][0]
            stream = verify.MerkleStream(on_node=lambda s, n, d, o=offset: on_node(o + s, n, d))
            covered = False
            for i in range(offset, offset + count):
                stream.push(verify.leaf_digest(rows[i][-1]), covered=i in picked)
                covered |= i in picked
            roots[shard] = (count, stream.root())
            if not covered:
                nodes[offset] = (count, roots[shard][1])
            offset += count
        entries_root = verify.shards_root(roots)
    root = ledger.heads_root(heads_tuples)
    out = verify.Export()
    out.columns = ["row", *verify.ENTRY_COLUMNS]
    digest = hashlib.sha256()
    for number, i in enumerate(picked, start=1):
        values = [str(number), *rows[i]]
        out.rows.append((f"line {number + 1}", values))
        digest.update(verify.csv_line(values).encode())
    statement = {"columns": out.columns, "rows": len(picked), "rows_digest": digest.hexdigest()}
    out.nodes = nodes
    out.proof = {
        "format": {1: "zerowaste-export-proof/1", 2: verify.PROOF_FORMAT}[tree],
        "export": statement,
        "export_signature": ledger.sign(KEY, verify.export_message(statement)),
        "checkpoint": {
            "size": size,
            "root": root,
            "heads": heads,
            "created_at": NOW,
            "signature": ledger.sign(KEY, ledger.checkpoint_message(size=size, root=root, created_at=NOW)),
            "public_key": ledger.public_key_b64(KEY),
            "entries_root": entries_root,
            "entries_signature": ledger.sign(
                KEY,
                verify.entries_message(size=size, root=root, entries_root=entries_root, created_at=NOW, tree=tree),
            ),
        },
    }
    return out


@pytest.mark.parametrize("tree", [1, 2])
def test_it_accepts_a_sparse_export_proved_by_either_tree(tree):
    rows = chains({0: 5, 1: 3, 2: 6, 3: 1})

    assert verify.verify(export_of(rows, [1, 6, 7], tree)) == 3


@pytest.mark.parametrize("tree", [1, 2])
def test_it_names_a_rewritten_row_under_either_tree(tree):
    rows = chains({0: 5, 1: 3, 2: 6})
    export = export_of(rows, [2, 9], tree)
    forged = rows[9][:-1]
    forged[13] = "forged"  # flags
    export.rows[1][1][1:] = [*forged, ledger.entry_hash(forged)]

    with pytest.raises(verify.Tampered, match="do not rebuild the signed Merkle root"):
        verify.verify(export)


def test_it_refuses_a_tree_2_root_presented_as_tree_1():
    rows = chains({0: 4, 1: 4})
    export = export_of(rows, [0, 5], 2)
    export.proof["format"] = "zerowaste-export-proof/1"

    with pytest.raises(verify.Tampered, match="entries root is not signed"):
        verify.verify(export)
