"""One writer per format. Each takes the rows as an iterator of (table, entry, values) and, once the
rows are spent, calls ``finish()`` for (proof object, proof nodes). Rows are written as they come, so
memory does not grow with them (the PDF's embedded proof is the exception: it is built at the end)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext_noop

from waste import epcis
from waste.i18n import both
from waste.verify import column_label, csv_line

from .tables import HJ1259_SHEETS, HJ1259_TABLES, PDF_COLUMNS

Rows = Iterator[tuple[str, object, list[str]]]
Finish = Callable[[], tuple[dict, Iterable[tuple[int, int, str]]]]
TITLES = {
    **HJ1259_TABLES,
    "hj1259": "HJ 1259 管理台账 / HJ 1259 ledger tables",
    "register": "时序记录与登记簿 / Chronological record and register",
    "events": "账本事件 / Ledger events",
}
SHEETS = {**HJ1259_SHEETS, "register": "登记簿 Register", "events": "账本事件 Ledger events"}


def headers(columns: list[str]) -> list[str]:
    """The header row people read: "中文 / English" per column (waste.verify reads it back to keys)."""
    return [column_label(c) for c in columns]


def table_lines(tables, counts: dict[str, int], totals: dict[str, Decimal]) -> str:
    """One ``#zw-table`` line per table, empty ones included (a flat CSV has no room for an empty table)."""
    out = []
    for table in dict.fromkeys([*tables, *counts]):
        kg = totals.get(table, Decimal(0))
        out.append(f"#zw-table {table} rows={counts.get(table, 0)} kg={kg:.3f} {TITLES.get(table, table)}\n")
    return "".join(out)


def _count(counts: dict, totals: dict, i_qty: int | None, table: str, values: list[str]) -> None:
    counts[table] = counts.get(table, 0) + 1
    if i_qty is not None and values[i_qty]:
        totals[table] = totals.get(table, Decimal(0)) + Decimal(values[i_qty])


def write_csv(path: Path, columns: list[str], rows: Rows, finish: Finish, *, tables=()) -> None:
    digest = hashlib.sha256()
    i_qty = columns.index("quantity_kg") if "quantity_kg" in columns else None
    counts: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    with open(path, "wb") as out:

        def put(text: str) -> None:
            data = text.encode()
            digest.update(data)
            out.write(data)

        put(csv_line(headers(columns)))
        for table, _, values in rows:
            put(csv_line(values))
            _count(counts, totals, i_qty, table, values)
        if tables:
            put(table_lines(tables, counts, totals))
        proof, nodes = finish()
        for start, size, node in nodes:
            put(f"#zw-node {start} {size} {node}\n")
        put("#zw-proof " + json.dumps(proof, ensure_ascii=False, separators=(",", ":")) + "\n")
        out.write(f"#zw-sha256 {digest.hexdigest()}\n".encode())


def write_csv_chunks(path: Path, columns: list[str], chunks: Iterable[bytes], finish: Finish) -> None:
    """CSV from ready-made row bytes (PostgreSQL's COPY output), with the same trailer."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:

        def put(data: bytes) -> None:
            digest.update(data)
            out.write(data)

        put(csv_line(headers(columns)).encode())
        for chunk in chunks:
            put(chunk)
        proof, nodes = finish()
        for start, size, node in nodes:
            put(f"#zw-node {start} {size} {node}\n".encode())
        put(("#zw-proof " + json.dumps(proof, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
        out.write(f"#zw-sha256 {digest.hexdigest()}\n".encode())


def _sheet_name(table: str, part: int) -> str:
    name = SHEETS.get(table, table)
    for bad in "/\\?*[]:":
        name = name.replace(bad, "-")
    suffix = f" ({part})" if part > 1 else ""
    return name[: 31 - len(suffix)] + suffix


def write_xlsx(path: Path, columns: list[str], rows: Rows, finish: Finish, *, tables=()) -> None:
    """One sheet per table (every one of ``tables``, empty ones included), then the proof sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet, current, count, part = None, None, 0, 1
    i_qty = columns.index("quantity_kg") if "quantity_kg" in columns else None
    pending = list(tables)

    def empty_sheets(before: str | None) -> None:
        # Rows come table by table in the order of ``tables``: sheets for the skipped ones first.
        while pending and pending[0] != before:
            book.create_sheet(_sheet_name(pending.pop(0), 1)).append(headers(columns))
        if pending:
            pending.pop(0)

    for table, _, values in rows:
        if table != current or count >= 1_000_000:
            if table != current and table in pending:
                empty_sheets(table)
            part = part + 1 if table == current else 1
            sheet, current, count = book.create_sheet(_sheet_name(table, part)), table, 0
            sheet.append(headers(columns))
        cells: list = list(values)
        cells[0] = int(values[0])
        if i_qty is not None and values[i_qty] != "":
            cells[i_qty] = float(Decimal(values[i_qty]))
        sheet.append(cells)
        count += 1
    empty_sheets(None)
    if sheet is None and not tables:
        book.create_sheet("rows").append(headers(columns))
    proof, nodes = finish()
    proof_sheet = book.create_sheet("proof")
    text = json.dumps(proof, ensure_ascii=False, separators=(",", ":"))
    proof_sheet.append(["proof", *[text[i : i + 30000] for i in range(0, len(text), 30000)]])
    for start, size, node in nodes:
        proof_sheet.append(["node", start, size, node])
    book.save(path)


def _event(table: str, entry, values: list[str]) -> dict:
    if entry.event_type in epcis.MAPPING:
        out = epcis.event(entry)
    else:  # e.g. a manifest signature: no EPCIS counterpart, kept as a zw: event
        out = {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventID": f"urn:uuid:{entry.event_id}",
            "zw:eventType": entry.event_type,
            "zw:ledgerHash": entry.hash,
        }
    out["zw:table"] = table
    out["zw:row"] = values
    return out


def write_jsonld(path: Path, columns: list[str], rows: Rows, finish: Finish, *, tables=()) -> None:
    head = epcis.document([])
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({k: v for k, v in head.items() if k != "epcisBody"}, ensure_ascii=False)[:-1])
        out.write(', "epcisBody": {"eventList": [\n')
        first = True
        for table, entry, values in rows:
            out.write(("" if first else ",\n") + json.dumps(_event(table, entry, values), ensure_ascii=False))
            first = False
        out.write('\n]}, "zw:proofNodes": [')
        proof, nodes = finish()
        for i, node in enumerate(nodes):
            out.write(("," if i else "") + json.dumps(list(node)))
        out.write('], "zw:proof": ' + json.dumps(proof, ensure_ascii=False) + "}\n")


class _LazyStory(list):
    """A flowable list that platypus drains from the front, refilled from a generator as it goes."""

    def __init__(self, flowables: Iterator) -> None:
        super().__init__()
        self.source = flowables

    def _fill(self) -> None:
        while list.__len__(self) < 2:
            try:
                list.append(self, next(self.source))
            except StopIteration:
                return

    def __len__(self) -> int:
        self._fill()
        return list.__len__(self)

    def __getitem__(self, index):
        self._fill()
        return list.__getitem__(self, index)


def write_pdf(
    path: Path, columns: list[str], rows: Rows, finish: Finish, *, title: str = "账本导出 / Ledger export", tables=()
) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfdoc
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from waste.documents.fonts import cjk_font

    font = cjk_font()  # embedded; it also holds the Latin glyphs
    heading = ParagraphStyle("h", fontName=font, fontSize=12, leading=16, spaceBefore=6, spaceAfter=4)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12)
    shown = PDF_COLUMNS["events" if columns[1] == "entry_shard" else "table"]
    picks = [columns.index(c) for c in shown]
    i_qty = columns.index("quantity_kg") if "quantity_kg" in columns else columns.index("entry_quantity_kg")
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 7),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ("REPEATROWS", (0, 0), (-1, 0)),
        ]
    )
    spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    totals: dict[str, Decimal] = {}
    state = {"rows": 0}

    def table_of(chunk: list[list[str]]) -> Table:
        head = [column_label(c).replace(" / ", "\n") for c in shown]
        return Table([head, *chunk], repeatRows=1, style=style, hAlign="LEFT")

    pending = list(tables)

    def empty_tables(before: str | None):
        # Rows come table by table in the order of ``tables``: the skipped ones are shown empty.
        while pending and pending[0] != before:
            table = pending.pop(0)
            totals[table] = Decimal(0)
            yield Paragraph(TITLES.get(table, table), heading)
            yield Paragraph(both(gettext_noop("No records in this period.")), body)
        if pending:
            pending.pop(0)

    def total_line(table: str) -> Paragraph:
        total = both(gettext_noop("Total"))
        return Paragraph(f"{total}: {totals[table]:.3f} kg", body)

    def story():
        yield Paragraph(title, heading)
        current, chunk = None, []
        for table, _, values in rows:
            spool.write(json.dumps(values, ensure_ascii=False) + "\n")
            state["rows"] += 1
            if table != current:
                if chunk:
                    yield table_of(chunk)
                    chunk = []
                if current is not None:
                    yield total_line(current)
                if table in pending:
                    yield from empty_tables(table)
                current = table
                totals.setdefault(table, Decimal(0))
                yield Paragraph(TITLES.get(table, table), heading)
            if values[i_qty]:
                totals[table] += Decimal(values[i_qty])
            chunk.append([str(values[i])[:40] for i in picks])
            if len(chunk) == 40:
                yield table_of(chunk)
                chunk = []
        if chunk:
            yield table_of(chunk)
        if current is not None:
            yield total_line(current)
        yield from empty_tables(None)
        lines = "".join(f"<br/>{TITLES.get(t, t)}: {q:.3f} kg" for t, q in totals.items())
        summary = both(
            gettext_noop("Totals: %(rows)s rows, %(kg)s kg"),
            {"rows": state["rows"], "kg": f"{sum(totals.values(), Decimal(0)):.3f}"},
        )
        yield KeepTogether(
            [  # the totals end the last page, never split from one another
                Spacer(1, 4 * mm),
                Paragraph(f"{summary}{lines}", heading),
                Paragraph(
                    both(
                        gettext_noop(
                            "Every row, its ledger entry and the signed proof are embedded as proof.json; "
                            "verify with: python -m waste.verify FILE"
                        ),
                        sep="<br/>",
                    ),
                    body,
                ),
            ]
        )

    def embedded() -> bytes:
        proof, nodes = finish()
        spool.seek(0)
        parts = [
            '{"zw:proof": ',
            json.dumps(proof, ensure_ascii=False),
            ', "zw:proofNodes": ',
            json.dumps([list(n) for n in nodes]),
            ', "rows": [',
        ]
        parts.append(",".join(line.rstrip("\n") for line in spool))
        parts.append("]}")
        return "".join(parts).encode()

    class ProofCanvas(Canvas):
        def save(self) -> None:
            data = embedded()
            stream = pdfdoc.PDFStream(
                pdfdoc.PDFDictionary(
                    {
                        "Type": pdfdoc.PDFName("EmbeddedFile"),
                        "Subtype": pdfdoc.PDFName("application#2Fjson"),
                        "ZwProof": pdfdoc.PDFName("true"),
                    }
                ),
                content=data,
                filters=[pdfdoc.PDFZCompress],
            )
            doc = self._doc
            spec = pdfdoc.PDFDictionary(
                {
                    "Type": pdfdoc.PDFName("Filespec"),
                    "F": pdfdoc.PDFString("proof.json"),
                    "UF": pdfdoc.PDFString("proof.json"),
                    "EF": pdfdoc.PDFDictionary({"F": doc.Reference(stream)}),
                    "Desc": pdfdoc.PDFString("zerowaste export proof"),
                }
            )
            names = pdfdoc.PDFDictionary(
                {
                    "EmbeddedFiles": pdfdoc.PDFDictionary(
                        {"Names": pdfdoc.PDFArray([pdfdoc.PDFString("proof.json"), doc.Reference(spec)])}
                    )
                }
            )
            doc.Catalog.Names = names
            super().save()

    def footer(canvas, doc) -> None:
        canvas.setFont(font, 7)
        canvas.drawRightString(doc.pagesize[0] - 12 * mm, 8 * mm, f"{title} — 第 {doc.page} 页 / page {doc.page}")

    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=14 * mm,
        title=title,
    )
    try:
        doc.build(_LazyStory(story()), onFirstPage=footer, onLaterPages=footer, canvasmaker=ProofCanvas)
    finally:
        spool.close()


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "jsonld": write_jsonld, "pdf": write_pdf}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "jsonld": "jsonld", "pdf": "pdf"}
