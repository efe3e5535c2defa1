import json

import pytest

pytestmark = pytest.mark.postgis


def test_it_times_the_indicator_report_over_a_generated_year(bench, tmp_path):
    path = tmp_path / "indicators.json"

    out = bench("indicators", "--rows", "2000", "--repeat", "1", "--allow-unsafe", "--json", str(path))

    report = json.loads(path.read_text())
    assert report["ledger_rows"] > 1000
    assert report["problems"] == []
    assert "NOT DURABLE" in out
