import tomllib
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings


def test_it_keeps_the_benchmarks_out_of_the_package():
    pyproject = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]

    assert not any(fnmatch(name, pattern) for pattern in include for name in ("bench", "bench.waste"))
    in_apps = [
        p for app in ("waste", "logistics", "recycling") for p in Path(settings.BASE_DIR, app).rglob("bench*.py")
    ]
    assert [p.relative_to(settings.BASE_DIR).as_posix() for p in in_apps] == ["logistics/management/commands/bench.py"]
