"""Label renderers: QR images and PDF labels scan back with a real decoder (zxing-cpp).

Pure tests, no database. PDFs are checked with poppler-utils (pdfinfo, pdftotext, pdftoppm).
"""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from reportlab.lib.units import mm

from waste.documents.labels import LabelData, label_pdf, label_sheet_pdf, label_size_mm
from waste.documents.qr import qr_png, qr_svg

PAYLOAD = "https://zerowaste.example.cn/t/WB-2025-000123-7F3K"
A4_PT = (595.28, 841.89)


def make_label(**overrides) -> LabelData:
    fields = dict(
        code="WB-2025-000123-7F3K",
        qr_payload=PAYLOAD,
        waste_name="废矿物油 Waste mineral oil",
        waste_code="900-249-08",
        category="HW08",
        physical_form="液态 Liquid",
        main_components="矿物油、水 Mineral oil, water",
        hazardous_components="多环芳烃 PAHs",
        hazard_traits=["T", "I"],
        is_hazardous=True,
        generation_date=date(2025, 3, 1),
        generator_name="Suzhou Precision Machinery Co., Ltd.",
        contact="王伟 Wang Wei +86 512 6666 8888",
        quantity_kg=Decimal("182.50"),
        container_volume_l=Decimal("10"),
        precautions="远离火源 Keep away from ignition sources",
        notes="",
    )
    fields.update(overrides)
    return LabelData(**fields)


# --- poppler / zxing helpers ----------------------------------------------------------------


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def write_pdf(tmp_path: Path, pdf: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", path), re.M).group(1))


def page_sizes(path: Path) -> list[tuple[float, float]]:
    out = run("pdfinfo", "-f", "1", "-l", str(page_count(path)), path)
    return [(float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)]


def rasterise(path: Path, dpi: int = 300) -> list[Image.Image]:
    prefix = path.with_suffix("")
    run("pdftoppm", "-r", str(dpi), "-png", path, prefix)
    pages = sorted(path.parent.glob(f"{prefix.name}-*.png"))
    return [Image.open(p).convert("L") for p in pages]


def decoded(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def words_with_boxes(path: Path) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) in points from the top left, as pdftotext -bbox sees them."""
    html = run("pdftotext", "-bbox", path, "-")
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    return [(word, float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, word in re.findall(pattern, html)]


def squeezed(text: str) -> str:
    return "".join(text.split())


# --- QR images ------------------------------------------------------------------------------


def test_it_encodes_the_payload_in_the_png():
    image = Image.open(io.BytesIO(qr_png(PAYLOAD)))

    [barcode] = zxingcpp.read_barcodes(image)

    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == PAYLOAD
    assert barcode.ec_level in {"M", "Q"}


def test_it_keeps_a_four_module_quiet_zone_around_the_png():
    image = Image.open(io.BytesIO(qr_png(PAYLOAD, box_size=5, border=4))).convert("L")
    band = 4 * 5
    width, height = image.size

    for box in [(0, 0, width, band), (0, height - band, width, height), (0, 0, band, height)]:
        assert image.crop(box).getextrema() == (255, 255)
    assert image.crop((band, band, width - band, height - band)).getextrema() == (0, 255)


def test_it_scales_the_png_with_box_size():
    small = Image.open(io.BytesIO(qr_png(PAYLOAD, box_size=4)))
    large = Image.open(io.BytesIO(qr_png(PAYLOAD, box_size=8)))

    assert large.size == (2 * small.size[0], 2 * small.size[1])
    assert decoded(large.convert("L")) == [PAYLOAD]


def test_it_makes_an_svg_that_scans_back():
    root = ET.fromstring(qr_svg(PAYLOAD))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    [path] = root.findall("svg:path", ns)
    side = float(root.get("viewBox").split()[2])
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path.get("d"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(squares) > 100

    # paint the path's squares ourselves: nothing else stands between the SVG and the decoder
    scale = 8
    image = Image.new("L", (int(side * scale), int(side * scale)), 255)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in squares:
        box = [float(v) * scale for v in (x0, y0, x1, y1)]
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=0)

    assert decoded(image) == [PAYLOAD]


def test_it_rejects_an_empty_payload():
    with pytest.raises(ValueError):
        qr_png("")


# --- label size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "side"),
    [
        (None, 100),
        (Decimal("10"), 100),
        (Decimal("50"), 100),
        (Decimal("50.5"), 150),
        (Decimal("200"), 150),
        (Decimal("450"), 150),
        (Decimal("451"), 200),
        (Decimal("1000"), 200),
    ],
)
def test_it_sizes_the_label_by_container_volume(volume, side):
    assert label_size_mm(volume) == side


def test_it_rejects_a_negative_volume():
    with pytest.raises(ValueError):
        label_size_mm(Decimal("-1"))


# --- one label ------------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "side_mm"), [("10", 100), ("200", 150), ("1000", 200)])
def test_it_prints_a_square_page_of_the_label_size(tmp_path, volume, side_mm):
    path = write_pdf(tmp_path, label_pdf(make_label(container_volume_l=Decimal(volume))))

    [(width, height)] = page_sizes(path)

    assert width == pytest.approx(side_mm * mm, abs=0.01)
    assert height == pytest.approx(side_mm * mm, abs=0.01)


@pytest.mark.parametrize("volume", ["10", "200", "1000"])
def test_it_prints_a_qr_that_scans_back_to_the_payload(tmp_path, volume):
    payload = f"https://zerowaste.example.cn/t/WB-{volume}-LABEL"
    label = make_label(qr_payload=payload, container_volume_l=Decimal(volume))
    path = write_pdf(tmp_path, label_pdf(label))

    [page] = rasterise(path, dpi=300)
    [barcode] = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
    corners = barcode.position
    symbol_mm = (corners.top_right.x - corners.top_left.x) / 300 * 25.4

    assert barcode.text == payload
    assert symbol_mm >= 0.2 * label_size_mm(label.container_volume_l)  # big enough for a phone


def test_it_prints_the_hj1276_fields(tmp_path):
    path = write_pdf(tmp_path, label_pdf(make_label()))

    text = run("pdftotext", path, "-")

    for expected in [
        "危险废物",
        "900-249-08",
        "HW08",
        "WB-2025-000123-7F3K",
        "Suzhou Precision Machinery Co., Ltd.",
        "Wang Wei +86 512 6666 8888",
        "2025-03-01",
        "182.5 kg",
        "多环芳烃 PAHs",
        "数字识别码",
        "毒性",
        "Toxicity",
        "易燃性",
        "Ignitability",
    ]:
        assert expected in text, expected
    assert "Corrosivity" not in text


def test_it_embeds_the_cjk_font_so_the_label_reads_the_same_everywhere(tmp_path):
    path = write_pdf(tmp_path, label_pdf(make_label()))

    fonts = run("pdffonts", path).splitlines()[2:]  # name, type, encoding, emb, sub, uni, object, ID

    cjk = [line for line in fonts if "WenQuanYiZenHei" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk), fonts
    assert not [line for line in fonts if "STSong" in line]
    assert "危险废物" in run("pdftotext", path, "-")


def test_it_prints_a_general_waste_label_without_hazard_traits(tmp_path):
    label = make_label(
        is_hazardous=False,
        waste_name="废金属边角料 Metal scrap",
        waste_code="SW17",
        category="",
        hazard_traits=[],
    )
    path = write_pdf(tmp_path, label_pdf(label))

    text = run("pdftotext", path, "-")

    assert "一般工业固体废物" in text
    assert "危险废物" not in text
    assert "Toxicity" not in text
    assert "SW17" in text
    assert decoded(rasterise(path)[0]) == [PAYLOAD]


def test_it_wraps_a_very_long_waste_name_inside_the_label(tmp_path):
    name = (
        "含有多种重金属和有机溶剂的废弃切削液与乳化液混合物 Spent cutting fluids and emulsions "
        "mixed with heavy metals, chlorinated organic solvents and assorted residues from the "
        "machining, degreasing and surface treatment workshops of the northern plant"
    )
    path = write_pdf(tmp_path, label_pdf(make_label(waste_name=name)))
    side = 100 * mm
    strip_top = side - 33 * mm  # the traits / QR strip starts 33 mm above the bottom edge

    words = words_with_boxes(path)

    assert squeezed(name) in squeezed(run("pdftotext", path, "-"))
    frame = 1.5 * mm  # every word stays inside the frame drawn 1.5 mm from the edge
    for word, x0, y0, x1, y1 in words:
        assert frame <= x0 and x1 <= side - frame, word
        assert frame <= y0 and y1 <= side - frame, word
    name_words = [w for w in words if w[0] in name.split()]
    assert len(name_words) >= len(name.split()) - 1
    assert all(y1 <= strip_top for _, _, _, _, y1 in name_words)  # not over the QR strip
    assert decoded(rasterise(path)[0]) == [PAYLOAD]


def test_it_shortens_values_that_cannot_fit_even_at_the_smallest_font(tmp_path):
    notes = " ".join(f"note{i:03d}" for i in range(600))
    path = write_pdf(tmp_path, label_pdf(make_label(notes=notes)))
    side = 100 * mm

    words = words_with_boxes(path)
    text = run("pdftotext", path, "-")

    assert "note000" in text
    assert "note599" not in text
    assert "…" in text
    assert all(1.5 * mm <= x0 and x1 <= side - 1.5 * mm for _, x0, _, x1, _ in words)
    assert all(1.5 * mm <= y0 and y1 <= side - 1.5 * mm for _, _, y0, _, y1 in words)
    # the fields that matter still print
    assert "900-249-08" in text and "WB-2025-000123-7F3K" in text
    assert decoded(rasterise(path)[0]) == [PAYLOAD]


# --- A4 sheets ------------------------------------------------------------------------------


def test_it_prints_seven_small_labels_on_two_a4_pages_that_all_scan(tmp_path):
    payloads = [f"https://zerowaste.example.cn/t/WB-2025-{i:06d}" for i in range(7)]
    labels = [make_label(code=p.rsplit("/", 1)[1], qr_payload=p) for p in payloads]
    path = write_pdf(tmp_path, label_sheet_pdf(labels, size_mm=100))

    sizes = page_sizes(path)
    pages = rasterise(path)
    per_page = [decoded(page) for page in pages]

    assert len(sizes) == 2
    assert all(s == pytest.approx(A4_PT, abs=0.5) for s in sizes)
    assert len(per_page[0]) == 4 and len(per_page[1]) == 3
    assert sorted(p for page in per_page for p in page) == sorted(payloads)


def test_it_puts_labels_of_each_size_on_their_own_pages(tmp_path):
    small = [make_label(qr_payload=f"{PAYLOAD}-S{i}", container_volume_l=Decimal("20")) for i in range(3)]
    big = make_label(qr_payload=f"{PAYLOAD}-BIG", container_volume_l=Decimal("1000"))
    path = write_pdf(tmp_path, label_sheet_pdf([small[0], big, small[1], small[2]]))

    pages = rasterise(path, dpi=200)

    assert [sorted(decoded(p)) for p in pages] == [
        sorted(label.qr_payload for label in small),
        [big.qr_payload],
    ]


def test_it_prints_one_150_mm_label_per_a4_page(tmp_path):
    labels = [make_label(qr_payload=f"{PAYLOAD}-{i}") for i in range(3)]

    path = write_pdf(tmp_path, label_sheet_pdf(labels, size_mm=150))

    assert page_count(path) == 3


def test_it_rejects_an_empty_sheet():
    with pytest.raises(ValueError):
        label_sheet_pdf([])


def test_it_rejects_a_label_size_larger_than_a4_allows():
    with pytest.raises(ValueError):
        label_sheet_pdf([make_label()], size_mm=250)


def test_it_renders_the_same_label_to_the_same_bytes():
    label = make_label()

    assert label_pdf(label) == label_pdf(replace(label))
