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
