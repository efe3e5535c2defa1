"""Real processes for the fault tests: a private Redis (or the embedded SQLite broker), Celery worker
and beat, a gunicorn web server.

Each fault test starts its OWN broker (and, for the restart test, its own PostgreSQL cluster) on a free
port, so that stopping them never touches the services other tests share. Every process is started
with a deadline and killed in a finalizer, whatever the test did."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

# Short leases and sweeps, so that a lost worker is noticed in seconds, not minutes.
FAST = {
    "JOB_LEASE_SECONDS": "3",
    "JOB_SWEEP_SECONDS": "1",
    "OUTBOX_SEND_SECONDS": "1",
    "LOG_LEVEL": "INFO",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def database_url(settings_dict) -> str:
    if connection.vendor == "postgresql":
        db = settings_dict
        return f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"spatialite:///{settings_dict['NAME']}"


class Processes:
    """The processes one test started; all of them are killed at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: dict[str, subprocess.Popen] = {}
        # The processes connect as the test's own role to the test database; an owner URL naming the
        # main database would not match it (and they never migrate).
        environ = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
        self.env = {**environ, **FAST, "DATABASE_URL": database_url(connection.settings_dict)}
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def start(self, name: str, args: list[str], **popen) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - the process holds it
        process = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self, name: str, sig=signal.SIGKILL) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGKILL)

    # --- Redis -------------------------------------------------------------------------------------

    def redis_start(self, port: int | None = None) -> int:
        port = port or free_port()
        self.start(
            "redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        )
        wait_until(lambda: _answers(port), timeout=10, what=f"redis on {port}")
        self.env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        return port

    def redis_stop(self) -> None:
        self.kill("redis", signal.SIGKILL)

    def sqlite_broker(self) -> str:
        """The embedded default's broker (what `make run` uses): kombu's SQLAlchemy transport over a
        private SQLite file. It never gives back a message whose worker died unacknowledged; the
        sweep does (a running job past its lease, a queued job whose message was lost)."""
        url = f"sqla+sqlite:///{self.tmp / 'celery-broker.sqlite3'}"
        self.env["CELERY_BROKER_URL"] = url
        return url

    # --- Celery ------------------------------------------------------------------------------------

    def worker_start(self, name: str = "worker") -> subprocess.Popen:
        node = f"fault-{name}-{os.getpid()}-{time.monotonic_ns()}@%h"
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-l", "info", "-n", node]
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        process = self.start(name, args)
        wait_until(
            lambda: "ready." in self.log(name) or process.poll() is not None, timeout=60, what=f"the {name} to start"
        )
        assert process.poll() is None, self.log(name)
        return process

    def supervise(self, name: str) -> None:
        """What a process supervisor does: start the worker again if it has exited."""
        if self.running[name].poll() is not None:
            self.running.pop(name)
            self.worker_start(name)

    def beat_start(self) -> subprocess.Popen:
        schedule = self.tmp / "beat-schedule"
        return self.start(
            "beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s", str(schedule)]
        )

    # --- Web ---------------------------------------------------------------------------------------

    def web_start(self) -> str:
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--timeout",
            "60",
        ]
        process = self.start("web", args)
        base = f"http://127.0.0.1:{port}"

        def up():
            assert process.poll() is None, self.log("web")
            try:
                return requests.get(f"{base}/api/v1/", timeout=10).status_code < 500
            except requests.RequestException:  # not listening yet, or still loading
                return False

        wait_until(up, timeout=60, what="the web server")
        return base


def bearer(user) -> dict:
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=user)
    return {"Authorization": f"Bearer {token}"}


def request_over_http(base: str, user, *, kind="hj1259", format="csv", organisation=None, headers=None):
    """An export request sent to the web server, as a client would."""
    today = timezone.localdate()
    body = {
        "kind": kind,
        "format": format,
        "from": (today - datetime.timedelta(days=1)).isoformat(),
        "to": today.isoformat(),
    }
    if organisation is not None:
        body["organisation"] = organisation
    return requests.post(f"{base}/api/v1/exports/", json=body, headers=headers or bearer(user), timeout=30)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def processes(transactional_db, tmp_path):
    running = Processes(tmp_path)
    yield running
    running.stop_all()
