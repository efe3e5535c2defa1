import json

import pytest

pytestmark = pytest.mark.postgis


def test_it_measures_the_csv_export_beside_copy(bench, tmp_path):
    path = tmp_path / "export.json"

    out = bench("export", "--rows", "500", "--allow-unsafe", "--json", str(path))

    report = json.loads(path.read_text())
    assert report["seal"]["size"] == 500 and report["export"]["rows_per_s"] > 0
    assert report["copy"]["rows_per_s"] > 0 and report["export_vs_copy"] > 0
    assert "NOT DURABLE" in out
