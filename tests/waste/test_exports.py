"""Ledger exports: the HJ 1259 tables, the register, the formats, scoping, deduplication, links."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.core import signing
from django.utils import timezone

from tests.conftest import client_for
from tests.waste.export_helpers import export_file, history, request, run_verifier
from waste.models import ExportJob
from waste.verify import column_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_rows(path) -> list[dict]:
    text = "".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith("#"))
    reader = csv.reader(io.StringIO(text))
    keys = [column_key(h) for h in next(reader)]  # headers are "中文 / English"
    return [dict(zip(keys, values, strict=True)) for values in reader]


def by_table(rows) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for r in rows:
        out.setdefault(r["table"], []).append((r["batch_code"], Decimal(r["quantity_kg"])))
    return out


def test_it_projects_the_five_hj1259_tables(city, catalogs):
    h = history(city)
    rows = csv_rows(export_file(h.generator, kind="hj1259", format="csv"))
    tables = by_table(rows)
    assert tables["generation"] == [(h.a, Decimal("100.000")), (h.b, Decimal("50.000"))]
    assert tables["storage_in"] == [(h.a, Decimal("100.000")), (h.b, Decimal("50.000"))]
    assert tables["storage_out"] == [(h.a, Decimal("100.000"))]
    assert tables["own_treatment"] == [(h.b, Decimal("50.000"))]
    assert tables["outsourced"] == [(h.a, Decimal("100.000"))]
    outsourced = [r for r in rows if r["table"] == "outsourced"][0]
    assert outsourced["manifest"] == h.manifest
    assert outsourced["counterparty"] == city.recycler_org.name
    assert outsourced["operation"] == "R9"
    assert [r for r in rows if r["table"] == "own_treatment"][0]["operation"] == "D10"
    assert [int(r["row"]) for r in rows] == list(range(1, 8))


def test_it_writes_the_chronological_record_and_the_regulators_register(city, catalogs):
    h = history(city)
    record = csv_rows(export_file(h.generator, kind="register", format="csv"))
    assert [(r["entry_event_type"], r["batch_code"]) for r in record] == [
        ("generated", h.a),
        ("generated", h.b),
        ("picked_up", h.a),
        ("treated", h.b),
    ]
    assert record[2]["destination"] == city.plant.name and record[2]["transport"] == "公路 / road"
    register = csv_rows(export_file(client_for(city.regulator), kind="register", format="csv"))
    types = [r["entry_event_type"] for r in register]
    assert types.count("generated") == 2 and types.count("treated") == 2 and "received" in types
    assert sum(Decimal(r["quantity_kg"]) for r in register if r["entry_event_type"] == "treated") == Decimal("150.000")


def test_it_opens_every_format(city, catalogs, tmp_path):
    h = history(city)
    book = openpyxl.load_workbook(export_file(h.generator, kind="hj1259", format="xlsx"), read_only=True)
    assert len(book.sheetnames) == 6 and book.sheetnames[-1] == "proof"
    generation = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert generation[1][generation[0].index("数量（千克） / Quantity (kg)")] == 100.0
    document = json.loads(export_file(h.generator, kind="events", format="jsonld").read_text())
    assert document["type"] == "EPCISDocument"
    assert document["epcisBody"]["eventList"][0]["type"] == "ObjectEvent"
    assert document["zw:proof"]["export"]["rows"] == len(document["epcisBody"]["eventList"])
    pdf = export_file(h.generator, kind="hj1259", format="pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    last = text.split("\f")[-2] if text.endswith("\f") else text.split("\f")[-1]
    assert "Totals: 7 rows, 550.000 kg" in last.replace("\n", " ")
    assert "产生环节记录表 / Generation: 150.000 kg" in last


def test_it_paginates_a_long_pdf_with_totals_on_the_last_page(city, catalogs):
    generator = client_for(city.generator)
    from tests.waste.chain_helpers import batch_new

    for _ in range(60):
        batch_new(generator, city.generation_site, quantity="2.500")
    pdf = export_file(generator, kind="hj1259", format="pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 1
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in pages.split("\f") if p.strip()]
    assert "Totals: 60 rows, 150.000 kg" in pages[-1].replace("\n", " ")
    assert "Totals" not in pages[0]
    assert run_verifier(pdf).returncode == 0


def test_it_gives_the_same_job_for_the_same_request(city, catalogs):
    generator = client_for(city.generator)
    first, second = request(generator), request(generator)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert ExportJob.objects.count() == 1
    assert request(generator, format="xlsx").json()["id"] != first.json()["id"]


def test_it_refuses_another_organisations_ledger(city, catalogs):
    response = request(client_for(city.generator), organisation=city.recycler_org.pk)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    outside = request(client_for(city.regulator), organisation=city.outsider_org.pk)
    assert outside.status_code == 403
    inside = request(client_for(city.regulator), organisation=city.generator_org.pk)
    assert inside.status_code == 202


def test_it_rejects_a_bad_period(city):
    response = request(client_for(city.generator), to="2000-01-01")
    assert response.status_code == 400
    assert "to" in response.json()["error"]["fields"]


def test_it_refuses_an_expired_or_foreign_link(city, catalogs, settings, monkeypatch):
    h = history(city)
    path_job = request(h.generator).json()["id"]
    from waste.services.exports import export_run

    export_run(job_id=path_job)
    url = h.generator.get(f"/api/v1/exports/{path_job}/").json()["download_url"]
    later = timezone.now().timestamp() + 25 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    expired = h.generator.get(url)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "link_expired"
    monkeypatch.undo()
    assert client_for(city.recycler).get(url).status_code == 404
    assert h.generator.get(url.replace("token=", "token=x")).status_code == 403


# --- HJ 1259 headers in Chinese with English beside; all five tables, empty ones included ---------

HJ1259_TITLES = [
    "产生环节记录表 / Generation",
    "入库环节记录表 / Storage in",
    "出库环节记录表 / Storage out",
    "自行利用处置环节记录表 / Own utilisation and disposal",
    "委托利用处置环节记录表 / Outsourced utilisation and disposal",
]


@pytest.fixture
def generated_only(city, catalogs):
    """An enterprise that has only generated one batch: four of the five tables are empty."""
    from tests.waste.chain_helpers import batch_new

    client = client_for(city.generator)
    batch_new(client, city.generation_site, quantity="12.500")
    return client


def test_it_heads_the_csv_columns_in_chinese_with_english_and_lists_all_five_tables(generated_only):
    path = export_file(generated_only, kind="hj1259", format="csv")
    lines = path.read_text(encoding="utf-8").splitlines()

    header = next(csv.reader([lines[0]]))
    assert header[:5] == [
        "序号 / Row",
        "台账表 / Ledger table",
        "日期 / Date",
        "批次编码 / Batch code",
        "废物代码 / Waste code",
    ]
    assert "数量（千克） / Quantity (kg)" in header and "转移联单编号 / Manifest number" in header
    [row] = [next(csv.reader([line])) for line in lines[1:] if not line.startswith("#")]
    assert row[header.index("是否危险废物 / Hazardous")] == "是 / yes"
    tables = [line.split()[1:3] for line in lines if line.startswith("#zw-table ")]
    assert tables == [
        ["generation", "rows=1"],
        ["storage_in", "rows=0"],
        ["storage_out", "rows=0"],
        ["own_treatment", "rows=0"],
        ["outsourced", "rows=0"],
    ]
    assert run_verifier(path).returncode == 0


def test_it_gives_every_hj1259_table_its_own_sheet_even_when_empty(generated_only):
    path = export_file(generated_only, kind="hj1259", format="xlsx")
    book = openpyxl.load_workbook(path, read_only=True)

    assert book.sheetnames == [
        "产生 Generation",
        "入库 Storage in",
        "出库 Storage out",
        "自行利用处置 Own treatment",
        "委托利用处置 Outsourced",
        "proof",
    ]
    generation = list(book["产生 Generation"].iter_rows(values_only=True))
    assert len(generation) == 2 and generation[1][generation[0].index("数量（千克） / Quantity (kg)")] == 12.5
    for name in book.sheetnames[1:5]:
        [header] = list(book[name].iter_rows(values_only=True))
        assert header[3] == "批次编码 / Batch code"
    assert run_verifier(path).returncode == 0


def test_it_shows_every_hj1259_table_in_the_pdf_even_when_empty(generated_only):
    path = export_file(generated_only, kind="hj1259", format="pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = text.replace("\n", " ")

    positions = [flat.find(title) for title in HJ1259_TITLES]
    assert -1 not in positions and positions == sorted(positions)  # all five, in the standard's order
    assert flat.count("本期无记录。 / No records in this period.") == 4
    assert "批次编码" in flat and "Batch code" in flat
    assert "总计：1 行，12.500 千克 / Totals: 1 rows, 12.500 kg" in flat
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYiZenHei" in fonts and "STSong" not in fonts
    assert run_verifier(path).returncode == 0
