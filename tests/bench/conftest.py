"""Benchmarks at a tiny size, so that they cannot rot. Their figures mean nothing here: the test cluster
runs with fsync off, so they run with --allow-unsafe; each builds (and drops) its own database."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def bench(transactional_db):
    """Runs ``manage.py bench ARGS…`` and returns what it printed."""

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("bench", *args, stdout=out)
        return out.getvalue()

    return run
