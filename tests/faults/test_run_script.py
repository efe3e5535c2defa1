"""`make run` (scripts/run.sh) keeps its worker alive and stops everything it started: kill -9 the
worker and a new one comes up; TERM to run.sh and no process of it remains (pool children included).
run.sh runs on a private port and a private VAR_DIR (its own SpatiaLite file and SQLite broker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.faults.conftest import free_port, wait_until

# It ignores the pass's database (run.sh is the embedded default), so one pass is enough.
pytestmark = [pytest.mark.celery, pytest.mark.embedded]


def processes_of(var: Path) -> dict[int, str]:
    """Every process started by this run.sh (they all carry its VAR_DIR): pid → command line."""
    found = {}
    marker = f"VAR_DIR={var}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def worker_up(var: Path, *, not_pid: int | None = None) -> int | None:
    """The supervised worker's pid once it is a live Celery process (other than ``not_pid``)."""
    try:
        pid = int((var / "run" / "worker.pid").read_text())
    except (OSError, ValueError):
        return None
    alive = processes_of(var)
    return pid if pid != not_pid and "celery" in alive.get(pid, "") else None


def test_it_restarts_a_killed_worker_and_stops_everything_on_term(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(var), BIND=f"127.0.0.1:{port}", VENV_BIN=str(Path(sys.executable).parent))
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    out = open(tmp_path / "run.log", "ab")  # noqa: SIM115 - closed in the finally
    run = subprocess.Popen(
        [str(settings.BASE_DIR / "scripts" / "run.sh")],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def log() -> str:
        return (tmp_path / "run.log").read_text(errors="replace")[-3000:]

    try:

        def serving() -> bool:
            assert run.poll() is None, log()
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/v1/", timeout=5).status_code < 500
            except requests.RequestException:
                return False

        wait_until(serving, timeout=240, every=0.5, what="run.sh to migrate, seed and serve")
        first = wait_until(lambda: worker_up(var), timeout=30, what="the worker")
        wait_until(lambda: "ready." in (var / "log" / "worker.log").read_text(), timeout=60, what="the worker ready")

        os.kill(first, signal.SIGKILL)

        second = wait_until(lambda: worker_up(var, not_pid=first), timeout=30, what=f"a new worker: {log()}")
        assert "exited unexpectedly" in log() and f"started again (pid {second})" in log()
        wait_until(
            lambda: (var / "log" / "worker.log").read_text().count("ready.") >= 2,
            timeout=60,
            what="the new worker ready",
        )
        assert requests.get(f"http://127.0.0.1:{port}/api/v1/", timeout=5).status_code < 500  # the web stayed up

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=40) == 143, log()
        left = processes_of(var)
        assert not left, left  # no worker, pool child, beat or web process of it outlived run.sh
        assert not (var / "run" / "worker.pid").exists()
    finally:
        for pid in processes_of(var):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out.close()
