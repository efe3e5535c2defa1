import json

import pytest

pytestmark = pytest.mark.postgis


def test_it_measures_position_ingest_beside_copy_and_the_live_fleet(bench, tmp_path):
    path = tmp_path / "positions.json"

    out = bench(
        "positions", "--vehicles", "20", "--days", "2", "--history-seconds", "3600", "--points", "1500",
        "--repeat", "5", "--allow-unsafe", "--json", str(path),
    )  # fmt: skip

    report = json.loads(path.read_text())
    assert report["vehicles"] == 20 and report["history_points"] > 20 * 40
    assert report["ingest"]["points"] == 1500 and report["copy"]["rows"] == 1500
    assert report["ingest"]["per_s"] > 0 and report["copy"]["per_s"] > 0
    assert report["live"]["trucks"] == 20 and report["live"]["p95_ms"] > 0 and report["live"]["cached_p95_ms"] > 0
    assert [t["figure"] for t in report["targets"]] == [
        "bulk ingest (points committed/s)",
        "live fleet p95 (20 trucks)",
    ]
    assert "NOT DURABLE" in out and "COPY into the same table" in out and "as served (cached" in out
