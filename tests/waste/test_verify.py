"""The offline verifier, run as `python -m waste.verify FILE` without Django, on clean and tampered exports."""

from __future__ import annotations

import json
import re
import zlib

import openpyxl
import pytest

from tests.waste.export_helpers import export_file, history, run_verifier
from waste.verify import column_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def h(city, catalogs):
    return history(city)


@pytest.mark.parametrize("kind", ["hj1259", "register", "events"])
@pytest.mark.parametrize("format", ["csv", "xlsx", "pdf", "jsonld"])
def test_it_accepts_an_untouched_export(h, kind, format):
    result = run_verifier(export_file(h.generator, kind=kind, format=format))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_it_accepts_a_sparse_export_with_proof_nodes(h, city):
    path = export_file(h.recycler, kind="events", format="csv")
    assert "#zw-node " in path.read_text()
    assert run_verifier(path).returncode == 0


def csv_lines(path):
    return path.read_text().splitlines(keepends=True)


def test_it_names_an_edited_csv_row(h):
    path = export_file(h.generator, kind="hj1259", format="csv")
    lines = csv_lines(path)
    lines[1] = lines[1].replace("100.000", "90.000")
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1
    assert "row 1" in result.stdout and "edited" in result.stdout


def test_it_detects_an_edited_column_outside_the_ledger_fields(h):
    path = export_file(h.generator, kind="hj1259", format="csv")
    lines = csv_lines(path)
    lines[3] = lines[3].replace("Recycler Ltd", "Someone Else Ltd").replace(",100.000,batch", ",90.000,batch")
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1 and "differ from the signed export" in result.stdout


def test_it_names_an_edited_ledger_field(h):
    path = export_file(h.generator, kind="events", format="csv")
    lines = csv_lines(path)
    lines[2] = lines[2].replace("generated", "stored", 1)
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1 and "row 2" in result.stdout and "edited" in result.stdout


def test_it_names_a_deleted_csv_row(h):
    path = export_file(h.generator, kind="hj1259", format="csv")
    lines = csv_lines(path)
    del lines[4]
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1
    assert "row 4 deleted" in result.stdout


def test_it_names_the_last_row_deleted(h):
    path = export_file(h.generator, kind="hj1259", format="csv")
    lines = csv_lines(path)
    data = [i for i, line in enumerate(lines) if not line.startswith("#")]
    del lines[data[-1]]
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1 and "row 7 deleted" in result.stdout


def test_it_names_an_inserted_csv_row(h):
    path = export_file(h.generator, kind="hj1259", format="csv")
    lines = csv_lines(path)
    lines.insert(3, lines[2])
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1
    assert "row 2" in result.stdout and "inserted" in result.stdout


def test_it_names_a_rehashed_row_and_a_file_edit(h):
    from waste import ledger
    from waste.verify import ENTRY_COLUMNS, csv_line

    path = export_file(h.generator, kind="events", format="csv")
    lines = csv_lines(path)
    import csv as csvmod

    header = [column_key(h) for h in next(csvmod.reader([lines[0]]))]
    values = next(csvmod.reader([lines[1]]))
    i = header.index("entry_data")
    values[i] = values[i].replace('"description":"test waste"', '"description":"forged"')
    fields = [values[header.index(c)] for c in ENTRY_COLUMNS[:-1]]
    values[header.index("entry_hash")] = ledger.entry_hash(fields)
    lines[1] = csv_line(values)
    path.write_text("".join(lines))
    result = run_verifier(path)
    assert result.returncode == 1 and "rewritten" in result.stdout


def test_it_names_an_edited_xlsx_row(h):
    path = export_file(h.generator, kind="hj1259", format="xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book[book.sheetnames[0]]
    header = [column_key(c.value) for c in sheet[1]]
    sheet.cell(row=3, column=header.index("quantity_kg") + 1, value=49.0)
    book.save(path)
    result = run_verifier(path)
    assert result.returncode == 1 and "row 2" in result.stdout and "edited" in result.stdout


def test_it_names_a_deleted_xlsx_row(h):
    path = export_file(h.generator, kind="hj1259", format="xlsx")
    book = openpyxl.load_workbook(path)
    book[book.sheetnames[1]].delete_rows(2)
    book.save(path)
    result = run_verifier(path)
    assert result.returncode == 1 and "row 3 deleted" in result.stdout


def test_it_names_an_inserted_jsonld_event(h):
    path = export_file(h.generator, kind="events", format="jsonld")
    document = json.loads(path.read_text())
    events = document["epcisBody"]["eventList"]
    events.insert(2, events[1])
    path.write_text(json.dumps(document))
    result = run_verifier(path)
    assert result.returncode == 1 and "row 2" in result.stdout and "inserted" in result.stdout


def test_it_names_an_edited_row_in_a_pdf(h):
    path = export_file(h.generator, kind="hj1259", format="pdf")
    raw = path.read_bytes()
    match = re.search(rb"<<[^>]*/ZwProof[^>]*>>\s*stream\r?\n", raw)
    length = int(re.search(rb"/Length (\d+)", match.group(0)).group(1))
    body = json.loads(zlib.decompress(raw[match.end() : match.end() + length]))
    body["rows"][0][8] = "99.000"
    packed = zlib.compress(json.dumps(body).encode())
    head = match.group(0).replace(f"/Length {length}".encode(), f"/Length {len(packed)}".encode())
    path.write_bytes(raw[: match.start()] + head + packed + raw[match.end() + length :])
    result = run_verifier(path)
    assert result.returncode == 1 and "row 1" in result.stdout and "edited" in result.stdout
