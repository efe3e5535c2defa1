import json

import pytest

pytestmark = pytest.mark.postgis


def test_it_measures_single_and_bulk_scans_beside_insert_and_copy(bench, tmp_path):
    path = tmp_path / "scans.json"

    out = bench(
        "scans", "--seconds", "0.5", "--max-rate", "100", "--clients", "4", "--workers", "1",
        "--bulk-scans", "30", "--bulk-clients", "1", "--allow-unsafe", "--json", str(path),
    )  # fmt: skip

    report = json.loads(path.read_text())
    assert report["single"]["steps"][0]["offered_per_s"] == 100
    assert report["single"]["steps"][0]["ok"] > 0
    assert report["bulk"]["scans"] == 30
    assert report["ledger"]["consistent"], report["ledger"]
    assert report["baseline_single"]["closed_loop"]["per_s"] > 0 and report["baseline_copy"]["per_s"] > 0
    assert [t["figure"] for t in report["targets"]] == [
        "single scan p95 @ 100/s offered",
        "highest rate, p95 < 100 ms",
        "bulk scans committed",
    ]
    assert "NOT DURABLE" in out and "INSERT/txn closed loop" in out
