import json

from django.core.management import call_command

from logistics.routing.instances import shipped_instances


def test_it_measures_the_gap_to_the_best_known_solution(tmp_path):
    path = tmp_path / "routing.json"
    smallest = min(shipped_instances(), key=lambda p: p.stat().st_size)

    call_command("bench", "routing", "--instance", str(smallest), "--seconds", "0.3", "--solver", "pyvrp",
                 "--json", str(path))  # fmt: skip

    rows = json.loads(path.read_text())
    assert rows and rows[0]["solver"] == "pyvrp" and rows[0]["cost"] > 0
