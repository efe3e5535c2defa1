"""Batch labels as PDF: one label per page, or many on A4 sheets.

The layout follows the label of HJ 1276-2022 (危险废物识别标志设置技术规范): a coloured title band,
the fields the standard lists, the hazard traits, the digital identification code and a QR code
that links to the batch's public page. The label side grows with the container (§ label sizes):
≤ 50 L → 100 mm, ≤ 450 L → 150 mm, larger → 200 mm.

Everything is drawn on a 100 mm design grid and scaled, so a 200 mm label is the 100 mm one
twice as large (bigger containers are read from further away). Text never leaves its cell:
fonts shrink together until the field table fits, and only then are the longest values cut.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from waste.documents.fonts import cjk_font

from .qr import QUIET_ZONE, qr_matrix

__all__ = [
    "LABEL_SIZES_MM",
    "HAZARD_TRAITS",
    "LabelData",
    "label_size_mm",
    "label_pdf",
    "label_sheet_pdf",
]

LABEL_SIZES_MM = (100, 150, 200)

# HJ 1276 hazard traits: code → (Chinese, English).
HAZARD_TRAITS: dict[str, tuple[str, str]] = {
    "T": ("毒性", "Toxicity"),
    "C": ("腐蚀性", "Corrosivity"),
    "I": ("易燃性", "Ignitability"),
    "R": ("反应性", "Reactivity"),
    "In": ("感染性", "Infectivity"),
}


@dataclass(frozen=True, kw_only=True)
class LabelData:
    code: str  # digital identification code (数字识别码), the batch's public code
    qr_payload: str  # what the QR encodes: the URL of the public page /t/<code>
    waste_name: str
    waste_code: str  # e.g. 900-249-08, or a general industrial code
    generation_date: date
    generator_name: str
    contact: str
    quantity_kg: Decimal
    is_hazardous: bool = True
    category: str = ""  # e.g. HW08
    physical_form: str = ""
    main_components: str = ""
    hazardous_components: str = ""
    hazard_traits: Sequence[str] = field(default_factory=tuple)
    container_volume_l: Decimal | None = None
    precautions: str = ""
    notes: str = ""


def label_size_mm(volume_l: Decimal | float | int | None) -> int:
    """Side of the square label for a container of ``volume_l`` litres (HJ 1276)."""
    if volume_l is None:
        return 100
    if volume_l < 0:
        raise ValueError("container volume cannot be negative")
    if volume_l <= 50:
        return 100
    if volume_l <= 450:
        return 150
    return 200


def label_pdf(label: LabelData) -> bytes:
    """One page exactly the size of the label."""
    side = label_size_mm(label.container_volume_l) * mm
    out = io.BytesIO()
    canvas = _canvas(out, (side, side), f"Waste label {label.code}")
    _draw_label(canvas, label, 0, 0, side)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def label_sheet_pdf(labels: Sequence[LabelData], *, size_mm: int | None = None) -> bytes:
    """A4 sheets with as many labels per page as fit, with cut marks.

    With ``size_mm`` every label is printed at that size; without it each label gets the size its
    container needs, and labels of one size share pages (smallest size first).
    """
    if not labels:
        raise ValueError("no labels to print")
    if size_mm is not None and not 40 <= size_mm <= SHEET_MAX_MM:
        raise ValueError(f"label size must be between 40 and {SHEET_MAX_MM} mm")
    groups: dict[int, list[LabelData]] = {}
    for label in labels:
        side = size_mm or label_size_mm(label.container_volume_l)
        groups.setdefault(side, []).append(label)

    out = io.BytesIO()
    canvas = _canvas(out, A4, f"Waste labels ({len(labels)})")
    for side_mm in sorted(groups):
        slots = _sheet_slots(side_mm * mm)
        group = groups[side_mm]
        for start in range(0, len(group), len(slots)):
            for label, (x, y) in zip(group[start : start + len(slots)], slots, strict=False):
                _draw_cut_marks(canvas, x, y, side_mm * mm)
                _draw_label(canvas, label, x, y, side_mm * mm)
            canvas.showPage()
    canvas.save()
    return out.getvalue()


# --- sheet geometry -------------------------------------------------------------------------

SHEET_MARGIN = 3 * mm  # to the paper edge; the label frame sits a further 1.5 mm inside
SHEET_GAP = 4 * mm  # between labels, room for the cut marks
SHEET_MAX_MM = 200
CUT_MARK = 2.5 * mm
CUT_OFFSET = 0.5 * mm


def _sheet_slots(side: float) -> list[tuple[float, float]]:
    """Lower-left corners of the label slots on an A4 page, in reading order, grid centred."""
    width, height = A4
    cols = max(1, int((width - 2 * SHEET_MARGIN + SHEET_GAP) // (side + SHEET_GAP)))
    rows = max(1, int((height - 2 * SHEET_MARGIN + SHEET_GAP) // (side + SHEET_GAP)))
    x0 = (width - (cols * side + (cols - 1) * SHEET_GAP)) / 2
    top = height - (height - (rows * side + (rows - 1) * SHEET_GAP)) / 2
    return [
        (x0 + col * (side + SHEET_GAP), top - (row + 1) * side - row * SHEET_GAP)
        for row in range(rows)
        for col in range(cols)
    ]


def _draw_cut_marks(canvas: Canvas, x: float, y: float, side: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(Color(0.4, 0.4, 0.4))
    canvas.setLineWidth(0.3)
    for cx, dx in ((x, -1), (x + side, 1)):
        for cy, dy in ((y, -1), (y + side, 1)):
            canvas.line(cx + dx * CUT_OFFSET, cy, cx + dx * (CUT_OFFSET + CUT_MARK), cy)
            canvas.line(cx, cy + dy * CUT_OFFSET, cx, cy + dy * (CUT_OFFSET + CUT_MARK))
    canvas.restoreState()


def _canvas(out: io.BytesIO, pagesize: tuple[float, float], title: str) -> Canvas:
    # invariant: no timestamps or random ids, so the same label gives the same bytes
    canvas = Canvas(out, pagesize=pagesize, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("zerowaste")
    return canvas


# --- fonts and text -------------------------------------------------------------------------

LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
MONO = "Courier-Bold"
ELLIPSIS = "…"


def _register_cjk() -> str:
    return cjk_font()  # embedded TrueType CJK font (see waste.documents.fonts)


def _runs(text: str, latin: str) -> list[tuple[str, str]]:
    """Split text into runs of (font, chars): Latin-1 in the Latin font, the rest in CJK."""
    cjk = _register_cjk()
    runs: list[tuple[str, str]] = []
    for char in text:
        font = latin if ord(char) <= 0xFF else cjk
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _width(text: str, size: float, latin: str = LATIN) -> float:
    return sum(pdfmetrics.stringWidth(s, font, size) for font, s in _runs(text, latin))


def _draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, latin: str = LATIN, mode: int = 0) -> None:
    for font, chars in _runs(text, latin):
        canvas.setFont(font, size)
        canvas.drawString(x, y, chars, mode=mode)
        x += pdfmetrics.stringWidth(chars, font, size)


def _draw_centred(
    canvas: Canvas, cx: float, y: float, text: str, size: float, latin: str = LATIN, mode: int = 0
) -> None:
    _draw_text(canvas, cx - _width(text, size, latin) / 2, y, text, size, latin, mode)


# Latin words stay whole; each CJK character is a break opportunity; whitespace separates.
_TOKENS = re.compile(r"\s+|[^\s\u0100-\U0010ffff]+|.")


def _wrap(text: str, size: float, width: float, latin: str = LATIN) -> list[str]:
    """Greedy line breaking; a word wider than the line is broken between characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _TOKENS.findall(paragraph):
            if _width(line + token, size, latin) <= width:
                line += token
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = "" if token.isspace() else token
            while _width(line, size, latin) > width and len(line) > 1:
                cut = _longest_prefix(line, size, width, latin)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def _longest_prefix(text: str, size: float, width: float, latin: str) -> int:
    cut = 1
    while cut < len(text) and _width(text[: cut + 1], size, latin) <= width:
        cut += 1
    return cut


def _ellipsize(line: str, size: float, width: float, latin: str) -> str:
    while line and _width(line + ELLIPSIS, size, latin) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


# --- the label ------------------------------------------------------------------------------

BASE = 100 * mm  # design grid; everything below is in points on a 100 mm label
FRAME_INSET = 1.5 * mm
FRAME_WIDTH = 1.2
PAD = 3 * mm  # content inset from the label edge
HEADER_H = 13 * mm
STRIP_H = 30 * mm  # bottom strip: traits and code on the left, QR on the right
GAP = 1.5 * mm
CELL_PAD = 0.8 * mm
LABEL_COL = 19 * mm  # width of a field-name cell

ORANGE = Color(1, 150 / 255, 0)  # HJ 1276: 醒目的橘黄色, RGB 255/150/0
PALE_ORANGE = HexColor("#FFF0D4")
GREEN = HexColor("#00843D")
GRID = Color(0.15, 0.15, 0.15)
SUBTLE = Color(0.3, 0.3, 0.3)
TRAIT_RED = Color(0.85, 0.0, 0.0)

VALUE_SIZE = 7.0
NAME_SIZE = 8.0
FIELD_ZH_SIZE = 5.5
FIELD_EN_SIZE = 4.2
MIN_SCALE = 0.5


@dataclass
class _Field:
    zh: str
    en: str
    value: str
    size: float = VALUE_SIZE
    latin: str = LATIN
    max_lines: int | None = None  # free-text fields are cut early rather than shrink the rest


@dataclass
class _Cell:
    field: _Field
    width: float  # whole cell, name + value
    name_lines: list[tuple[str, float, Color]]  # (text, size, colour)
    value_lines: list[str]
    value_size: float

    @property
    def name_height(self) -> float:
        return sum(1.2 * size for _, size, _ in self.name_lines)

    @property
    def value_height(self) -> float:
        return len(self.value_lines) * 1.2 * self.value_size

    @property
    def height(self) -> float:
        return max(self.name_height, self.value_height) + 2 * CELL_PAD


def _fields(label: LabelData) -> list[list[_Field]]:
    """Rows of the field table; a row holds one field or two side by side."""
    none = "—"
    volume = f"{_number(label.container_volume_l)} L" if label.container_volume_l else none
    rows = [
        [_Field("废物名称", "Waste name", label.waste_name, NAME_SIZE, LATIN_BOLD)],
        [
            _Field("废物类别", "Category", label.category or none),
            _Field("废物代码", "Waste code", label.waste_code, latin=LATIN_BOLD),
        ],
        [
            _Field("废物形态", "Physical form", label.physical_form or none),
            _Field("废物重量", "Weight", f"{_number(label.quantity_kg)} kg"),
        ],
        [
            _Field("产生日期", "Generation date", label.generation_date.isoformat()),
            _Field("容器容积", "Container", volume),
        ],
        [_Field("主要成分", "Main components", label.main_components or none, max_lines=3)],
    ]
    if label.is_hazardous and label.hazardous_components:
        rows.append([_Field("有害成分", "Hazardous components", label.hazardous_components, max_lines=3)])
    if label.precautions:
        rows.append([_Field("注意事项", "Precautions", label.precautions, max_lines=3)])
    rows.append([_Field("产生/收集单位", "Generator", label.generator_name)])
    rows.append([_Field("联系人和联系方式", "Contact", label.contact)])
    if label.notes:
        rows.append([_Field("备注", "Notes", label.notes, max_lines=3)])
    return rows


def _number(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


def _layout_cell(fld: _Field, width: float, scale: float) -> _Cell:
    name_width = LABEL_COL - 2 * CELL_PAD
    names = [
        (text, size, colour)
        for label, size, colour in (
            (fld.zh, FIELD_ZH_SIZE * scale, black),
            (fld.en, FIELD_EN_SIZE * scale, SUBTLE),
        )
        for text in _wrap(label, size, name_width)
    ]
    size = fld.size * scale
    value_width = width - LABEL_COL - 2 * CELL_PAD
    lines = _wrap(fld.value, size, value_width, fld.latin)
    if fld.max_lines and len(lines) > fld.max_lines:
        lines = lines[: fld.max_lines]
        lines[-1] = _ellipsize(lines[-1], size, value_width, fld.latin)
    return _Cell(fld, width, names, lines, size)


def _layout_table(rows: list[list[_Field]], width: float, height: float) -> list[list[_Cell]]:
    """Shrink all fonts together until the table fits; at the smallest size, cut long values."""
    scale = 1.0
    while True:
        table = [[_layout_cell(f, width / len(row), scale) for f in row] for row in rows]
        if _table_height(table) <= height or scale <= MIN_SCALE:
            break
        scale = max(MIN_SCALE, scale - 0.05)
    while _table_height(table) > height:
        cell = max((c for row in table for c in row), key=lambda c: len(c.value_lines))
        if len(cell.value_lines) <= 1:
            break  # cannot happen with the fixed rows above; the clip keeps us on the label
        value_width = cell.width - LABEL_COL - 2 * CELL_PAD
        cell.value_lines = cell.value_lines[:-1]
        cell.value_lines[-1] = _ellipsize(cell.value_lines[-1], cell.value_size, value_width, cell.field.latin)
    return table


def _table_height(table: list[list[_Cell]]) -> float:
    return sum(max(c.height for c in row) for row in table)


def _draw_label(canvas: Canvas, label: LabelData, x: float, y: float, side: float) -> None:
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(side / BASE, side / BASE)
    clip = canvas.beginPath()
    clip.rect(0, 0, BASE, BASE)
    canvas.clipPath(clip, stroke=0, fill=0)

    inner = BASE - 2 * FRAME_INSET
    canvas.setFillColor(PALE_ORANGE if label.is_hazardous else white)
    canvas.rect(FRAME_INSET, FRAME_INSET, inner, inner, stroke=0, fill=1)
    _draw_header(canvas, label.is_hazardous)

    table_top = BASE - FRAME_INSET - HEADER_H - GAP
    table_bottom = PAD + STRIP_H + GAP
    _draw_table(canvas, _fields(label), PAD, table_bottom, BASE - 2 * PAD, table_top - table_bottom)

    qr_left = BASE - PAD - STRIP_H
    _draw_qr(canvas, label.qr_payload, qr_left, PAD, STRIP_H)
    _draw_strip(canvas, label, PAD, PAD, qr_left - 2 * mm - PAD, STRIP_H)

    canvas.setStrokeColor(black)
    canvas.setLineWidth(FRAME_WIDTH)
    canvas.rect(FRAME_INSET, FRAME_INSET, inner, inner, stroke=1, fill=0)
    canvas.restoreState()


def _draw_header(canvas: Canvas, hazardous: bool) -> None:
    top = BASE - FRAME_INSET
    canvas.setFillColor(ORANGE if hazardous else GREEN)
    canvas.rect(FRAME_INSET, top - HEADER_H, BASE - 2 * FRAME_INSET, HEADER_H, stroke=0, fill=1)
    ink = black if hazardous else white
    title, subtitle = (
        ("危险废物", "HAZARDOUS WASTE") if hazardous else ("一般工业固体废物", "GENERAL INDUSTRIAL SOLID WASTE")
    )
    canvas.setFillColor(ink)
    canvas.setStrokeColor(ink)
    canvas.setLineWidth(0.5)  # the CJK font has no bold face: fill and stroke the glyphs
    _draw_centred(canvas, BASE / 2, top - HEADER_H + 14, title, 19, mode=2)
    _draw_centred(canvas, BASE / 2, top - HEADER_H + 4, subtitle, 6.5, LATIN_BOLD)


def _draw_table(canvas: Canvas, rows: list[list[_Field]], x: float, y: float, width: float, height: float) -> None:
    table = _layout_table(rows, width, height)
    # share the spare height out, so the table always fills its box
    spare = max(0.0, height - _table_height(table)) / len(table)
    canvas.setStrokeColor(GRID)
    top = y + height
    for row in table:
        row_h = max(c.height for c in row) + spare
        cell_x = x
        for cell in row:
            _draw_cell(canvas, cell, cell_x, top, row_h)
            cell_x += cell.width
        top -= row_h
        if top > y + 0.1:
            canvas.setLineWidth(0.4)
            canvas.line(x, top, x + width, top)
    canvas.setLineWidth(0.7)
    canvas.rect(x, y, width, height, stroke=1, fill=0)


def _draw_cell(canvas: Canvas, cell: _Cell, x: float, top: float, height: float) -> None:
    canvas.setLineWidth(0.3)
    canvas.line(x + LABEL_COL, top, x + LABEL_COL, top - height)
    if x > PAD + 0.1:
        canvas.setLineWidth(0.4)
        canvas.line(x, top, x, top - height)

    baseline = top - (height - cell.name_height) / 2
    for text, size, colour in cell.name_lines:
        baseline -= 1.2 * size
        canvas.setFillColor(colour)
        _draw_text(canvas, x + CELL_PAD, baseline + 0.25 * size, text, size)

    canvas.setFillColor(black)
    size = cell.value_size
    baseline = top - (height - cell.value_height) / 2
    for line in cell.value_lines:
        baseline -= 1.2 * size
        _draw_text(canvas, x + LABEL_COL + CELL_PAD, baseline + 0.25 * size, line, size, cell.field.latin)


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float, side: float) -> None:
    matrix = qr_matrix(payload)
    count = len(matrix)
    module = side / (count + 2 * QUIET_ZONE)
    canvas.setFillColor(white)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setFillColor(black)
    path = canvas.beginPath()
    origin_x = x + QUIET_ZONE * module
    top = y + side - QUIET_ZONE * module
    for r, row in enumerate(matrix):
        c = 0
        while c < count:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < count and row[c]:
                c += 1
            path.rect(origin_x + start * module, top - (r + 1) * module, (c - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def _draw_strip(canvas: Canvas, label: LabelData, x: float, y: float, width: float, height: float) -> None:
    """Hazard traits (hazardous waste only) above the digital identification code."""
    top = y + height
    canvas.setFillColor(black)
    if label.is_hazardous:
        _draw_text(canvas, x, top - 5.5, "危险特性", 5.5)
        _draw_text(canvas, x + _width("危险特性 ", 5.5), top - 5.5, "Hazard traits", 4.2, LATIN)
        _draw_traits(canvas, list(label.hazard_traits), x, top - 8, width)
        code_top = top - 8 - TRAITS_H
    else:
        code_top = top - 8 * mm
    _draw_code(canvas, label.code, x, y, width, code_top - y)
    if not label.is_hazardous:
        _draw_text(canvas, x, y + 6 * mm, "扫码查询流向", 5.5)
        _draw_text(canvas, x + _width("扫码查询流向 ", 5.5), y + 6 * mm, "Scan to trace", 4.2)


TRAITS_H = 44  # diamonds and their names


def _draw_traits(canvas: Canvas, traits: list[str], x: float, top: float, width: float) -> None:
    if not traits:
        _draw_text(canvas, x, top - 12, "未标注 Not specified", 6)
        return
    slot = width / max(len(traits), 4)
    half = min(slot * 0.8, 28) / 2  # half diagonal of the diamond
    for i, trait in enumerate(traits):
        cx = x + slot * i + slot / 2
        cy = top - half - 1
        diamond = canvas.beginPath()
        diamond.moveTo(cx, cy + half)
        diamond.lineTo(cx + half, cy)
        diamond.lineTo(cx, cy - half)
        diamond.lineTo(cx - half, cy)
        diamond.close()
        canvas.setFillColor(white)
        canvas.setStrokeColor(TRAIT_RED)
        canvas.setLineWidth(1.6)
        canvas.drawPath(diamond, stroke=1, fill=1)
        letter = min(half * 0.85, 13)
        canvas.setFillColor(black)
        fitted = min(letter, (half * 1.2) / max(_width(trait, 1, LATIN_BOLD), 0.01))
        _draw_centred(canvas, cx, cy - fitted * 0.35, trait, fitted, LATIN_BOLD)
        zh, en = HAZARD_TRAITS.get(trait, ("", trait))
        name_y = cy - half - 6
        for text, size, font in ((zh, 5.0, LATIN), (en, 4.2, LATIN)):
            if text:
                fitted = min(size, slot * 0.95 / max(_width(text, 1, font), 0.01))
                _draw_centred(canvas, cx, name_y, text, fitted, font)
                name_y -= 5.5


def _draw_code(canvas: Canvas, code: str, x: float, y: float, width: float, height: float) -> None:
    top = y + height
    canvas.setFillColor(black)
    _draw_text(canvas, x, top - 5.5, "数字识别码", 5.5)
    _draw_text(canvas, x + _width("数字识别码 ", 5.5), top - 5.5, "Digital identification code", 4.2)
    room = height - 8
    size = min(11.0, room / 1.2, width / max(_width(code, 1, MONO), 0.01))
    lines = [code]
    if size < 5:  # a very long code: wrap it rather than make it unreadable
        size = 5.0
        lines = _wrap(code, size, width, MONO)[: max(1, int(room // (1.2 * size)))]
    baseline = top - 8
    for line in lines:
        baseline -= 1.2 * size
        _draw_text(canvas, x, baseline + 0.25 * size, line, size, MONO)
