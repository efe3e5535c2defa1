import json

import pytest
from django.core.management import CommandError

pytestmark = pytest.mark.postgis


def test_it_measures_sealing_and_verification_beside_copy(bench, tmp_path):
    path = tmp_path / "seal.json"

    out = bench("seal", "--sizes", "300,900", "--new", "100", "--repeat", "2", "--allow-unsafe", "--json", str(path))

    report = json.loads(path.read_text())
    assert [row["entries"] for row in report["sizes"]] == [300, 900]
    assert all(row["same_root"] for row in report["sizes"])
    assert report["verify"]["entries"] == 900 and report["verify"]["problems"] == []
    assert report["verify"]["copy_out"]["rows"] == 900
    assert [t["figure"] for t in report["targets"]] == ["seal s/10k new @ 900", "verify_ledger @ 900"]
    assert "PostgreSQL fsync=off, synchronous_commit=off, full_page_writes=off: NOT DURABLE" in out
    assert "COPY TO STDOUT, same columns" in out


def test_it_refuses_a_server_that_does_not_wait_for_the_disk(bench):
    with pytest.raises(CommandError, match="runs with fsync=off.*--allow-unsafe"):
        bench("seal", "--sizes", "50000")
