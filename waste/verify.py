"""Offline verifier of ledger exports: ``python -m waste.verify FILE [--key BASE64]``.

Runs without Django and without the server: it imports only ``waste.ledger``, the standard library,
``cryptography`` (through waste.ledger) and, for XLSX files, ``openpyxl``.

Every export carries, for each row, its row number and the ledger entry's hashed fields and hash, and
one proof object: the signed checkpoint (heads of every shard chain, and a Merkle root over every
entry: one tree per shard in seq order, joined by a tree over the shards' roots), the Merkle nodes
that complete the exported entries into that root, and a signed statement of the export (its
columns, row count and a digest of its rows). The checks, in order, name the first row that fails:

1. row numbers run 1, 2, 3 …: a jump names the deleted row, a repeat or step back the inserted one;
2. each row's entry hash is recomputed from its fields (an edited row), its batch code and ledger-sourced
   quantity must equal the entry's, and the entry must lie under the checkpoint;
3. the row count against the signed statement (rows cut off at the end, or appended);
4. the entries and nodes must rebuild the signed Merkle root (a row whose fields *and* hash were
   rewritten), the signatures must hold, and the rows must match the signed digest.

Exit status 0: intact. 1: tampered (the first problem is printed). 2: unreadable.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
import zlib
from pathlib import Path

from waste import ledger

# Tree 1 (proof format /1): one RFC 6962 tree over every entry ordered by (shard, seq); a new entry in
# shard 0 moves every later leaf, so each seal rehashed the whole ledger. Tree 2 (format /2, written
# today): one RFC 6962 tree per shard over its entries in seq order (an append-only log, so a seal
# resumes from the stored frontier), and the entries root is the RFC 6962 root over every shard's
# (shard, size, root). Both prove the same thing; the verifier reads both.
PROOF_FORMAT = "zerowaste-export-proof/2"
PROOF_TREES = {"zerowaste-export-proof/1": 1, PROOF_FORMAT: 2}
TREE = 2
ENTRIES_CONTEXTS = {1: "zerowaste-ledger-entries:v1", 2: "zerowaste-ledger-entries:v2"}
EXPORT_CONTEXT = "zerowaste-export:v1"
ENTRY_COLUMNS = tuple(f"entry_{name}" for name in ledger.HASHED_FIELDS) + ("entry_hash",)

# Column headers as people read them, Chinese first (the HJ 1259 names), English beside: CSV and
# XLSX files carry these; the proof signs the keys. A header is read back to its key by HEADER_KEYS
# (a file with bare keys, as written before, reads the same).
COLUMN_LABELS = {
    "row": "序号 / Row",
    "table": "台账表 / Ledger table",
    "date": "日期 / Date",
    "batch_code": "批次编码 / Batch code",
    "waste_code": "废物代码 / Waste code",
    "waste_name": "废物名称 / Waste name",
    "category": "废物类别 / Waste category",
    "hazardous": "是否危险废物 / Hazardous",
    "quantity_kg": "数量（千克） / Quantity (kg)",
    "quantity_source": "数量来源 / Quantity source",
    "site": "设施场所 / Site",
    "organisation": "单位名称 / Organisation",
    "counterparty": "接收单位 / Receiver",
    "carrier": "运输单位 / Carrier",
    "manifest": "转移联单编号 / Manifest number",
    "operation": "利用处置方式 / Utilisation or disposal operation",
    "transport": "运输方式 / Mode of transport",
    "origin": "来源 / Origin",
    "destination": "去向 / Destination",
    "entry_shard": "账本分链 / Ledger shard",
    "entry_seq": "账本序号 / Ledger sequence",
    "entry_prev_hash": "前项哈希 / Previous hash",
    "entry_event_id": "事件标识 / Event ID",
    "entry_event_type": "事件类型 / Event type",
    "entry_batch_code": "事件批次编码 / Event batch code",
    "entry_organisation_id": "单位编号 / Organisation ID",
    "entry_user_id": "经办人编号 / User ID",
    "entry_site_id": "设施场所编号 / Site ID",
    "entry_location": "位置 / Location",
    "entry_quantity_kg": "事件数量（千克） / Event quantity (kg)",
    "entry_event_time": "发生时间 / Event time",
    "entry_recorded_at": "记录时间 / Recorded at",
    "entry_flags": "标记 / Flags",
    "entry_data": "事件数据 / Event data",
    "entry_hash": "账本哈希 / Ledger hash",
}
HEADER_KEYS = {label: key for key, label in COLUMN_LABELS.items()}


def column_label(key: str) -> str:
    return COLUMN_LABELS.get(key, key)


def column_key(header: str) -> str:
    return HEADER_KEYS.get(header, header)


EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


# --- Pure primitives shared with the exporter (waste.exports.proofs) ---------------------------------


def leaf_digest(entry_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_digest(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleStream:
    """RFC 6962 Merkle tree hash over leaves pushed left to right, in O(log n) memory.

    The same shape as waste.ledger.merkle_root. ``push`` takes a leaf digest, or the digest of a
    whole subtree of ``size`` leaves (a proof node). With ``on_node``, every subtree that holds no
    covered leaf but is the sibling of one that does is reported as (start, size, digest): exactly
    the nodes a verifier needs, beside the covered leaves, to rebuild the root.

    The stack of perfect subtrees is the tree's *frontier*: ``frontier()`` gives it as
    ``[[size, hex digest], …]`` and ``MerkleStream.resume(frontier)`` continues from it, so a log
    that only grows is hashed once, whatever the number of roots taken along the way.
    """

    def __init__(self, on_node=None) -> None:
        self.stack: list[list] = []  # [start, size, digest, covered]
        self.count = 0
        self.on_node = on_node

    @classmethod
    def resume(cls, frontier) -> MerkleStream:
        stream = cls()
        for size, digest in frontier:
            stream.stack.append([stream.count, int(size), bytes.fromhex(digest), False])
            stream.count += int(size)
        return stream

    def frontier(self) -> list[list]:
        return [[size, digest.hex()] for _, size, digest, _ in self.stack]

    def push(self, digest: bytes, *, covered: bool = False, size: int = 1) -> None:
        self.stack.append([self.count, size, digest, covered])
        self.count += size
        while len(self.stack) > 1 and self.stack[-2][1] == self.stack[-1][1]:
            self._merge(self.stack)

    def _merge(self, stack: list[list]) -> None:
        right = stack.pop()
        left = stack.pop()
        if self.on_node is not None and left[3] != right[3]:
            bare = right if left[3] else left
            self.on_node(bare[0], bare[1], bare[2])
        stack.append([left[0], left[1] + right[1], node_digest(left[2], right[2]), left[3] or right[3]])

    def root(self) -> str:
        """The root over every leaf pushed so far; the frontier stays as it was, so pushing may go on."""
        if not self.stack:
            return EMPTY_ROOT
        stack = [list(node) for node in self.stack]
        while len(stack) > 1:
            self._merge(stack)
        return stack[0][2].hex()


def leaf_offsets(heads: dict) -> dict[int, int]:
    """Leaf index of each shard's first entry: entries are ordered by shard, then seq."""
    offsets, total = {}, 0
    for shard in sorted(int(s) for s in heads):
        offsets[shard] = total
        total += int(heads[str(shard)][0] if str(shard) in heads else heads[shard][0])
    return offsets


def entries_message(*, size: int, root: str, entries_root: str, created_at: str, tree: int = TREE) -> bytes:
    return f"{ENTRIES_CONTEXTS[tree]}|{size}|{root}|{entries_root}|{created_at}".encode()


def shards_root(roots: dict[int, tuple[int, str]]) -> str:
    """Tree 2's entries root from each shard's (entries, Merkle root of its entries in seq order)."""
    return ledger.merkle_root([f"{shard}:{size}:{root}".encode() for shard, (size, root) in sorted(roots.items())])


def export_message(statement: dict) -> bytes:
    return f"{EXPORT_CONTEXT}|{ledger.canonical_json(statement)}".encode()


def csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


# --- Reading the formats -----------------------------------------------------------------------------


class Unreadable(Exception):
    pass


class Export:
    """What every format yields: columns, rows (lists of text) with where they were found, the proof."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []  # (where, values)
        self.proof: dict = {}
        self.nodes: dict[int, tuple[int, str]] = {}
        self.file_problem: str | None = None


def _quantity_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        from decimal import Decimal

        return f"{Decimal(repr(float(value))):.3f}"
    return str(value)


def read_csv(path: Path) -> Export:
    out = Export()
    raw = path.read_bytes()
    marker = raw.rfind(b"\n#zw-sha256 ")
    if marker < 0:
        raise Unreadable("no #zw-sha256 line: not a zerowaste CSV export, or its end was cut off")
    claimed = raw[marker + len(b"\n#zw-sha256 ") :].strip().decode()
    if hashlib.sha256(raw[: marker + 1]).hexdigest() != claimed:
        out.file_problem = "the file's digest (#zw-sha256) does not match its content"
    text = raw[: marker + 1].decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    data_lines = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("#zw-node "):
            start, size, digest = line.split()[1:4]
            out.nodes[int(start)] = (int(size), digest)
        elif line.startswith("#zw-proof "):
            out.proof = json.loads(line[len("#zw-proof ") :])
        elif line.startswith("#"):
            continue
        else:
            data_lines.append((number, line))
    if not data_lines:
        raise Unreadable("no header line")
    reader = csv.reader([line for _, line in data_lines])
    out.columns = [column_key(h) for h in next(reader)]
    for (number, _), values in zip(data_lines[1:], reader, strict=False):
        out.rows.append((f"line {number}", values))
    return out


def read_xlsx(path: Path) -> Export:
    import openpyxl

    out = Export()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    if "proof" not in book.sheetnames:
        raise Unreadable("no 'proof' sheet")
    proof_rows = book["proof"].iter_rows(values_only=True)
    for row in proof_rows:
        if row and row[0] == "proof":
            out.proof = json.loads("".join(str(c) for c in row[1:] if c))
        elif row and row[0] == "node":
            out.nodes[int(row[1])] = (int(row[2]), str(row[3]))
    for name in book.sheetnames:
        if name == "proof":
            continue
        rows = book[name].iter_rows(values_only=True)
        header = [column_key(str(c)) for c in next(rows, ()) if c is not None]
        if not out.columns:
            out.columns = header
        for number, row in enumerate(rows, start=2):
            values = ["" if c is None else str(c) for c in row[: len(header)]]
            if "quantity_kg" in header:
                i = header.index("quantity_kg")
                values[i] = _quantity_text(row[i])
            out.rows.append((f"sheet {name!r} row {number}", values))
    return out


def read_jsonld(path: Path) -> Export:
    out = Export()
    document = json.loads(path.read_text(encoding="utf-8"))
    out.proof = document.get("zw:proof") or {}
    out.columns = list(out.proof.get("export", {}).get("columns", []))
    for start, size, digest in document.get("zw:proofNodes", []):
        out.nodes[int(start)] = (int(size), digest)
    for index, event in enumerate(document.get("epcisBody", {}).get("eventList", [])):
        values = event.get("zw:row")
        if not isinstance(values, list):
            raise Unreadable(f"event {index + 1} has no zw:row")
        out.rows.append((f"event {index + 1}", [str(v) for v in values]))
    return out


PDF_PROOF = re.compile(rb"<<(?:(?!>>).)*?/ZwProof(?:(?!>>).)*?>>\s*stream\r?\n", re.S)


def read_pdf(path: Path) -> Export:
    raw = path.read_bytes()
    match = PDF_PROOF.search(raw)
    if match is None:
        raise Unreadable("no embedded zerowaste proof (proof.json) in this PDF")
    length = int(re.search(rb"/Length (\d+)", match.group(0)).group(1))
    body = raw[match.end() : match.end() + length]
    if b"/FlateDecode" in match.group(0):
        body = zlib.decompress(body)
    document = json.loads(body.decode("utf-8"))
    out = Export()
    out.proof = document["zw:proof"]
    out.columns = list(out.proof["export"]["columns"])
    for start, size, digest in document.get("zw:proofNodes", []):
        out.nodes[int(start)] = (int(size), digest)
    for index, values in enumerate(document["rows"]):
        out.rows.append((f"embedded row {index + 1}", [str(v) for v in values]))
    return out


def read_export(path: Path) -> Export:
    head = path.read_bytes()[:8]
    if head.startswith(b"%PDF"):
        return read_pdf(path)
    if head.startswith(b"PK"):
        return read_xlsx(path)
    if head.lstrip().startswith(b"{"):
        return read_jsonld(path)
    return read_csv(path)


# --- Checking ------------------------------------------------------------------------------------


class Tampered(Exception):
    pass


def _column(columns: list[str], name: str) -> int:
    try:
        return columns.index(name)
    except ValueError:
        raise Unreadable(f"no {name!r} column") from None


def check_rows(export: Export, offsets: dict[int, int], heads: dict) -> tuple[dict[int, str], hashlib._Hash]:
    """Per-row checks in file order; returns the covered leaves and the digest of the rows."""
    columns = export.columns
    i_row = _column(columns, "row")
    i_fields = [_column(columns, name) for name in ENTRY_COLUMNS[:-1]]
    i_hash = _column(columns, "entry_hash")
    i_batch = columns.index("batch_code") if "batch_code" in columns else None
    i_qty = columns.index("quantity_kg") if "quantity_kg" in columns else None
    i_source = columns.index("quantity_source") if "quantity_source" in columns else None
    leaves: dict[int, str] = {}
    digest = hashlib.sha256()
    expected = 1
    for where, values in export.rows:
        if len(values) < len(columns):
            raise Tampered(f"row at {where} has {len(values)} columns, not {len(columns)}: inserted or cut")
        try:
            number = int(values[i_row])
        except ValueError:
            raise Tampered(f"row at {where} has no row number ({values[i_row]!r}): inserted") from None
        if number > expected:
            missing = f"row {expected}" if number == expected + 1 else f"rows {expected}–{number - 1}"
            raise Tampered(f"{missing} deleted: row numbers jump from {expected - 1} to {number} at {where}")
        if number < expected:
            raise Tampered(f"row {number} at {where} inserted: row {number} came before it")
        fields = [values[i] for i in i_fields]
        stored = values[i_hash]
        if ledger.entry_hash(fields) != stored:
            raise Tampered(f"row {number} ({where}) edited: its fields do not match its ledger hash")
        if i_batch is not None and values[i_batch] != fields[5]:
            raise Tampered(f"row {number} ({where}) edited: batch code {values[i_batch]!r} is not the entry's")
        if i_qty is not None and (i_source is None or values[i_source] == "ledger") and values[i_qty] != fields[10]:
            raise Tampered(
                f"row {number} ({where}) edited: quantity {values[i_qty]!r} is not the entry's {fields[10]!r}"
            )
        shard, seq = int(fields[0]), int(fields[1])
        head = heads.get(str(shard))
        if head is None or not 1 <= seq <= int(head[0]):
            raise Tampered(f"row {number} ({where}) inserted: its entry is not under the signed checkpoint")
        leaf = offsets[shard] + seq - 1
        if leaves.get(leaf, stored) != stored:
            raise Tampered(f"row {number} ({where}) edited: another row gives the same entry a different hash")
        leaves[leaf] = stored
        digest.update(csv_line(values[: len(columns)]).encode())
        expected = number + 1
    return leaves, digest


def _rebuild(leaves: dict[int, str], nodes: dict[int, tuple[int, str]], start: int, end: int) -> str:
    stream = MerkleStream()
    position = start
    while position < end:
        if position in leaves:
            stream.push(leaf_digest(leaves[position]))
            position += 1
        elif position in nodes:
            span, digest = nodes[position]
            if position + span > end:
                raise Tampered(f"the proof's Merkle node at leaf {position} spans past its tree: it was edited")
            stream.push(bytes.fromhex(digest), size=span)
            position += span
        else:
            raise Tampered(f"the proof lacks the Merkle node at leaf {position}: a proof line was deleted")
    return stream.root()


def rebuild_root(leaves: dict[int, str], nodes: dict[int, tuple[int, str]], size: int) -> str:
    """Tree 1: one tree over every leaf."""
    return _rebuild(leaves, nodes, 0, size)


def rebuild_shards_root(leaves: dict[int, str], nodes: dict[int, tuple[int, str]], heads: dict) -> str:
    """Tree 2: one tree per shard (a shard without exported rows comes as one node: its root)."""
    roots = {}
    for shard, start in leaf_offsets(heads).items():
        size = int(heads[str(shard)][0])
        roots[shard] = (size, _rebuild(leaves, nodes, start, start + size))
    return shards_root(roots)


def verify(export: Export, trusted_keys: set[str] | None = None) -> int:
    """Number of rows checked; raises Tampered naming the first problem."""
    proof = export.proof
    tree = PROOF_TREES.get(proof.get("format"))
    if tree is None:
        raise Unreadable("no zerowaste proof object in this file")
    statement, checkpoint = proof["export"], proof["checkpoint"]
    if list(statement["columns"]) != export.columns:
        raise Tampered("the columns differ from the signed export's: a column was edited, added or removed")
    heads = {str(k): v for k, v in checkpoint["heads"].items()}
    leaves, digest = check_rows(export, leaf_offsets(heads), heads)
    rows = len(export.rows)
    if rows > statement["rows"]:
        raise Tampered(f"row {statement['rows'] + 1} inserted: the signed export has {statement['rows']} rows")
    if rows < statement["rows"]:
        raise Tampered(f"row {rows + 1} deleted: the signed export has {statement['rows']} rows, this file {rows}")
    public = checkpoint["public_key"]
    if trusted_keys is not None and public not in trusted_keys:
        raise Tampered("the checkpoint is signed by a key you did not name as trusted")
    message = ledger.checkpoint_message(
        size=checkpoint["size"], root=checkpoint["root"], created_at=checkpoint["created_at"]
    )
    heads_tuples = {int(s): (int(v[0]), v[1]) for s, v in heads.items()}
    if (
        not ledger.signature_valid(public, message, checkpoint["signature"])
        or ledger.heads_root(heads_tuples) != checkpoint["root"]
        or sum(v[0] for v in heads_tuples.values()) != checkpoint["size"]
    ):
        raise Tampered("the checkpoint's signature or heads do not hold")
    message = entries_message(
        size=checkpoint["size"],
        root=checkpoint["root"],
        entries_root=checkpoint["entries_root"],
        created_at=checkpoint["created_at"],
        tree=tree,
    )
    if not ledger.signature_valid(public, message, checkpoint["entries_signature"]):
        raise Tampered("the checkpoint's entries root is not signed by its key")
    if leaves:
        if tree == 1:
            rebuilt = rebuild_root(leaves, export.nodes, checkpoint["size"])
        else:
            rebuilt = rebuild_shards_root(leaves, export.nodes, heads)
        if rebuilt != checkpoint["entries_root"]:
            raise Tampered(
                "the rows do not rebuild the signed Merkle root: a row's fields and hash were both "
                "rewritten, or a proof node was edited"
            )
    if not ledger.signature_valid(public, export_message(statement), proof["export_signature"]):
        raise Tampered("the export statement's signature does not hold")
    if digest.hexdigest() != statement["rows_digest"]:
        raise Tampered("the rows differ from the signed export (a column outside the ledger fields was edited)")
    if export.file_problem:
        raise Tampered(export.file_problem)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m waste.verify", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--key", action="append", help="trusted base64 Ed25519 public key (repeatable)")
    args = parser.parse_args(argv)
    try:
        export = read_export(args.file)
        rows = verify(export, set(args.key) if args.key else None)
    except Tampered as problem:
        print(f"TAMPERED: {args.file}: {problem}")
        return 1
    except (Unreadable, OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as problem:
        print(f"UNREADABLE: {args.file}: {problem}")
        return 2
    key = export.proof["checkpoint"]["public_key"]
    print(
        f"OK: {args.file}: {rows} rows, every one in ledger checkpoint of {export.proof['checkpoint']['size']} "
        f"entries ({export.proof['checkpoint']['created_at']}) signed by {key}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
