"""The indicator report as PDF: it renders, and its text carries the figures."""

from __future__ import annotations

import subprocess

from tests.conftest import client_for
from tests.waste.test_indicators import PERIOD, scripted  # noqa: F401 - scripted is a fixture


def test_it_renders_the_indicator_report_with_its_figures(scripted, tmp_path):  # noqa: F811
    response = client_for(scripted.regulator).get("/api/v1/reports/indicators.pdf", PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "68.18 %" in text  # general utilisation 3000 / 4400
    assert "55.56 %" in text  # hazardous 500 / 900
    assert "45.45 %" in text and "90.91 %" in text  # household recycling, harmless
    assert "0.0043" in text  # generation intensity
    assert "4400.000 kg" in text and "250.000" in text  # a denominator; the dumped hazardous waste
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == 2


def test_it_refuses_the_pdf_of_a_district_not_held(scripted):  # noqa: F811
    response = client_for(scripted.regulator).get("/api/v1/reports/indicators.pdf", {"district": "650102"})
    assert response.status_code == 403


def pdf_fonts(path) -> str:
    return subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout


def test_it_renders_the_report_in_chinese_with_an_embedded_cjk_font(scripted, tmp_path):  # noqa: F811
    response = client_for(scripted.regulator).get(
        "/api/v1/reports/indicators.pdf", PERIOD, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )
    assert response.status_code == 200
    path = tmp_path / "report-zh.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "无废城市建设指标" in text
    assert "一般工业固体废物综合利用率" in text and "68.18 %" in text
    assert "工业危险废物利用处置率" in text and "55.56 %" in text
    assert "物料平衡（千克）" in text and "产生量" in text
    assert "Zero-waste city indicators" not in text  # nothing left in English
    fonts = pdf_fonts(path).splitlines()[2:]  # name, type, encoding, emb, sub, uni, object, ID
    cjk = [line for line in fonts if "WenQuanYiZenHei" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk), fonts  # embedded, not substituted
    assert not [line for line in fonts if "STSong" in line]
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "zh")], check=True)
    assert len(list(tmp_path.glob("zh*.png"))) == 2
