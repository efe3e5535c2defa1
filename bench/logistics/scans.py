"""``manage.py bench scans``: scan throughput over HTTP beside PostgreSQL on the same server.

Runs against PostgreSQL/PostGIS only, at production durability (see bench.database). It builds its
own database (``<name>_bench`` on the configured server, dropped afterwards unless ``--keep-db``),
fills it with a small city whose batches each sit on a manifest the consignor has sealed, starts
gunicorn on a free loopback port and measures:

1. single scans (``POST /api/v1/scans/``, a pickup of a different batch per request, Bearer token,
   Idempotency-Key): p50/p95 at an offered 100 scans/s from ``--clients`` clients, open loop
   (requests are due at fixed times, so latency includes queueing), then rates stepped up until
   p95 exceeds 100 ms or a request fails. Baseline: one INSERT of an equivalent ledger row per
   transaction from the same number of psycopg clients.
2. bulk scans (``POST /api/v1/scans/bulk/``, 1,000 per request): scans committed per second.
   Baseline: COPY of as many equivalent rows into a table with the ledger's indexes.

(Verification and sealing are measured by ``bench seal``, over a ledger of a million entries.)

Every scan is a real lifecycle transition appended to the ledger; successes are counted from the
responses and checked against the ledger afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from bench.database import (
    add_common_arguments,
    database_create,
    database_drop,
    database_leave,
    database_use,
    durability_line,
    durability_require,
    pg,
    print_targets,
    ratio_line,
)

RATES = (100, 200, 300, 400, 600, 800, 1000, 1200, 1600, 2000, 2500, 3000)
P95_LIMIT_MS = 100.0
WASTE_CODE = "900-249-08"  # HW08 waste mineral oil: hazardous, so the receiving site needs a permit
CHUNK = 1000


def scans_subcommand(parser):
    """Scan throughput (single and bulk, over HTTP) and ledger verification, beside raw PostgreSQL."""
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each offered-rate step")
    parser.add_argument("--max-rate", type=int, default=2000, help="highest offered rate to try (scans/s)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (HTTP and psycopg)")
    parser.add_argument("--bulk-scans", type=int, default=20000, help="scans sent through the bulk endpoint")
    parser.add_argument("--bulk-clients", type=int, default=2, help="concurrent bulk uploads")
    parser.add_argument("--bulk-seconds", type=float, default=120.0, help="no bulk upload starts after this")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)")
    parser.add_argument("--db-name", default="", help="bench database (default: <configured name>_bench)")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--json", dest="json_path", default="", help="also write the figures to this file")
    add_common_arguments(parser)
    return lambda options, stdout: run_scans_bench(
        stdout=stdout,
        **{
            k: options[k]
            for k in (
                "seconds",
                "max_rate",
                "clients",
                "bulk_scans",
                "bulk_clients",
                "bulk_seconds",
                "workers",
                "threads",
                "db_name",
                "keep_db",
                "json_path",
                "allow_unsafe",
            )
        },
    )


def run_scans_bench(
    *,
    stdout: TextIO = sys.stdout,
    seconds: float = 10.0,
    max_rate: int = 2000,
    clients: int = 50,
    bulk_scans: int = 20000,
    bulk_clients: int = 2,
    bulk_seconds: float = 120.0,
    workers: int = 4,
    threads: int = 1,
    db_name: str = "",
    keep_db: bool = False,
    json_path: str = "",
    allow_unsafe: bool = False,
) -> dict:
    from django.conf import settings
    from django.core.management.base import CommandError
    from django.db import connection

    if connection.vendor != "postgresql" or not getattr(settings, "DB_IS_POSTGIS", True):
        raise CommandError(
            "bench scans measures PostgreSQL/PostGIS only; this database is "
            f"{connection.vendor}. Set DATABASE_URL=postgis://user:password@host:port/name."
        )
    if seconds <= 0 or clients < 1 or workers < 1 or threads < 1 or bulk_clients < 1:
        raise CommandError("--seconds, --clients, --workers, --threads and --bulk-clients must be positive")
    db = dict(settings.DATABASES["default"])
    name = db_name or f"{db['NAME']}_bench"
    if name == db["NAME"]:
        raise CommandError("the bench database must not be the configured database: it is dropped and rebuilt")
    found = durability_require(db, allow_unsafe=allow_unsafe)
    log = _Log(stdout)
    report: dict = {
        "durability": found,
        "database": name,
        "clients": clients,
        "seconds_per_step": seconds,
        "gunicorn": {"workers": workers, "threads": threads},
    }
    log(
        f"bench scans: database {name} on {db['HOST']}:{db['PORT']}, {clients} clients, "
        f"gunicorn {workers} worker(s) x {threads} thread(s), {os.cpu_count()} CPU(s)"
    )
    database_create(db, name)
    try:
        database_use(name)
        city = _city_build()
        log("baseline: PostgreSQL INSERT, one row per transaction")
        report["baseline_single"] = _baseline_single(db, name, clients=clients, seconds=seconds)
        with _gunicorn(db, name, city.token, workers=workers, threads=threads) as base:
            report["single"] = _single_steps(log, base, city, seconds=seconds, clients=clients, max_rate=max_rate)
            log(f"bulk: {bulk_scans} scans through /api/v1/scans/bulk/")
            report["bulk"] = _bulk(base, city, scans=bulk_scans, clients=bulk_clients, seconds=bulk_seconds)
        log("baseline: PostgreSQL COPY")
        report["baseline_copy"] = _baseline_copy(db, name, rows=max(bulk_scans, 1000))
        report["ledger"] = _ledger_check(city, report)
    finally:
        database_leave(db)
        if not keep_db:
            database_drop(db, name)
    _print_report(stdout, report)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        stdout.write(f"wrote {json_path}\n")
    return report


class _Log:
    def __init__(self, out: TextIO):
        self.out, self.start = out, time.monotonic()

    def __call__(self, message: str) -> None:
        self.out.write(f"[{time.monotonic() - self.start:6.1f}s] {message}\n")
        self.out.flush()


# --- The bench database ------------------------------------------------------------------------


# --- The city: a generator, a hauler with a token, a transfer station with a permit -------------


@dataclass
class _City:
    generator: object
    generator_org: object
    generation_site: object
    hauler: object
    hauler_org: object
    transfer: object
    entry: object
    token: str
    location: dict
    serial: int = 0
    batches: int = 0


def _city_build() -> _City:
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from knox.models import AuthToken

    from waste.geo import point
    from waste.models import Membership, Organisation, Permit, Site, SiteKind
    from waste.selectors.catalogs import catalog_entry_lookup
    from waste.services.catalogs import catalogs_load_shipped

    catalogs_load_shipped()
    users = get_user_model()

    def persona(username: str, seq: int, **roles):
        org = Organisation.objects.create(
            name=f"Bench {username.title()} Ltd",
            identifier_scheme="other",
            identifier=f"BENCH-{seq}",
            district_code="120101",
            **roles,
        )
        user = users.objects.create_user(username=f"bench-{username}", password=secrets.token_urlsafe())
        Membership.objects.create(user=user, organisation=org, role="admin")
        return user, org

    generator, generator_org = persona("generator", 1, is_generator=True)
    hauler, hauler_org = persona("hauler", 2, is_hauler=True)
    _, operator_org = persona("operator", 3, is_site_operator=True)
    generation_site = Site.objects.create(
        organisation=generator_org,
        name="Bench workshop",
        kind=SiteKind.GENERATION,
        location=point(117.20, 39.12),
        district_code="120101",
    )
    transfer = Site.objects.create(
        organisation=operator_org,
        name="Bench transfer station",
        kind=SiteKind.TRANSFER_STATION,
        location=point(117.25, 39.15),
        district_code="120101",
    )
    today = timezone.localdate()
    Permit.objects.create(
        site=transfer,
        number="BENCH-1",
        codes=["HW08"],
        operations=["R13"],
        annual_quantity_kg=Decimal("100000000"),
        valid_from=today - timedelta(days=30),
        valid_until=today + timedelta(days=365),
    )
    entry = catalog_entry_lookup(code=WASTE_CODE, on=today)
    _, token = AuthToken.objects.create(user=hauler)
    location = {"type": "Point", "coordinates": [generation_site.location.x, generation_site.location.y]}
    return _City(
        generator=generator,
        generator_org=generator_org,
        generation_site=generation_site,
        hauler=hauler,
        hauler_org=hauler_org,
        transfer=transfer,
        entry=entry,
        token=token,
        location=location,
    )


def _batches_ready(city: _City, count: int) -> list[str]:
    """``count`` generated batches, each on its own manifest sealed by the consignor, with their
    ``generated`` and ``signed`` ledger events: what batch_create, manifest_create and the
    consignor's signature leave behind, written in bulk so that set-up stays quick."""
    from django.db import transaction
    from django.utils import timezone

    from waste.codes import batch_code_new
    from waste.models import (
        Batch,
        BatchParty,
        BatchStatus,
        Manifest,
        ManifestCarrier,
        ManifestLine,
        ManifestSerial,
        ManifestStatus,
    )
    from waste.services.ledger import NewEvent, ledger_append
    from waste.services.manifests import working_days_after

    codes: list[str] = []
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        with transaction.atomic():
            now = timezone.now()
            generated_at = now - timedelta(hours=1)
            quantity = Decimal("120.500")
            batches = Batch.objects.bulk_create(
                [
                    Batch(
                        code=batch_code_new(),
                        organisation=city.generator_org,
                        origin_site=city.generation_site,
                        waste=city.entry,
                        description="Spent hydraulic oil (bench)",
                        quantity_kg=quantity,
                        physical_form="liquid",
                        containers=[{"type": "drum", "count": 1, "volume_l": "200"}],
                        hazard_traits=",".join(city.entry.traits),
                        is_hazardous=city.entry.is_hazardous,
                        status=BatchStatus.GENERATED,
                        current_site=city.generation_site,
                        holder=city.generator_org,
                        generated_at=generated_at,
                        created_by=city.generator,
                    )
                    for _ in range(size)
                ]
            )
            BatchParty.objects.bulk_create([BatchParty(batch=b, organisation=city.generator_org) for b in batches])
            serial, _ = ManifestSerial.objects.select_for_update().get_or_create(
                year=now.year, area_code=city.generation_site.district_code
            )
            first = serial.last + 1
            serial.last += size
            serial.save(update_fields=["last"])
            due = working_days_after(timezone.localdate(now), 5)
            manifests = Manifest.objects.bulk_create(
                [
                    Manifest(
                        number=f"{now.year:04d}{city.generation_site.district_code}{first + i:06d}",
                        status=ManifestStatus.SEALED,
                        consignor=city.generator_org,
                        from_site=city.generation_site,
                        receiver=city.transfer.organisation,
                        to_site=city.transfer,
                        created_by=city.generator,
                        consignor_signed_at=now,
                        consignor_signed_by=city.generator,
                        receipt_due=due,
                    )
                    for i in range(size)
                ]
            )
            ManifestCarrier.objects.bulk_create(
                [ManifestCarrier(manifest=m, organisation=city.hauler_org, order=1) for m in manifests]
            )
            ManifestLine.objects.bulk_create(
                [
                    ManifestLine(manifest=m, batch=b, quantity_kg=quantity)
                    for m, b in zip(manifests, batches, strict=True)
                ]
            )
            events = [
                NewEvent(
                    event_type="generated",
                    organisation=city.generator_org,
                    event_time=generated_at,
                    batch=b,
                    user=city.generator,
                    site=city.generation_site,
                    location=city.generation_site.location,
                    quantity_kg=quantity,
                    data={
                        "waste_code": city.entry.code,
                        "hazardous": city.entry.is_hazardous,
                        "traits": city.entry.traits,
                        "physical_form": "liquid",
                    },
                )
                for b in batches
            ] + [
                NewEvent(
                    event_type="signed",
                    organisation=city.generator_org,
                    event_time=now,
                    stream=m.number,
                    user=city.generator,
                    data={
                        "manifest": m.number,
                        "version": 1,
                        "role": "consignor",
                        "method": "login",
                        "batches": [b.code],
                    },
                )
                for m, b in zip(manifests, batches, strict=True)
            ]
            ledger_append(events=events)
        codes.extend(b.code for b in batches)
    city.batches += count
    return codes


# --- gunicorn ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(db: dict, name: str) -> str:
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return f"postgis://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(name)}"


@contextmanager
def _gunicorn(db: dict, name: str, token: str, *, workers: int, threads: int):
    from django.conf import settings

    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"},  # gunicorn serves; it never migrates
        "DATABASE_URL": _database_url(db, name),
        "DEBUG": "0",
        "DB_CONN_MAX_AGE": "600",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LEDGER_SIGNING_KEY": base64.b64encode(settings.LEDGER_SIGNING_KEY).decode(),
        "LOG_LEVEL": "ERROR",
        "PYTHONWARNINGS": "ignore::UserWarning",
        "HTTPS": "false",  # plain HTTP on 127.0.0.1
        "WRITE_THROTTLE_RATE": "",  # one token sends every scan: the benchmark measures, it is not a client
    }
    env.pop("DATABASE_OWNER_URL", None)  # names the test database, not the benchmark's
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--timeout",
        "900",  # a bulk upload of 1,000 scans may take minutes on a small machine
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, start_new_session=True)
    try:
        _wait_ready(process, port, token)
        yield ("127.0.0.1", port)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_ready(process: subprocess.Popen, port: int, token: str) -> None:
    from django.core.management.base import CommandError

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"gunicorn exited with code {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
            raise CommandError(f"gunicorn answers GET /api/v1/me/ with {response.status}")
        except OSError:
            time.sleep(0.2)
    raise CommandError("gunicorn did not answer within 60 s")


# --- Open-loop load ----------------------------------------------------------------------------


@dataclass
class _Run:
    offered: float
    count: int
    ok: int = 0
    failed: int = 0
    unsent: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        lat = sorted(self.latencies_ms)
        return {
            "offered_per_s": self.offered,
            "requests": self.count,
            "ok": self.ok,
            "failed": self.failed,
            "unsent": self.unsent,
            "achieved_per_s": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": _pct(lat, 50),
            "p95_ms": _pct(lat, 95),
            "p99_ms": _pct(lat, 99),
            "max_ms": round(lat[-1], 2) if lat else None,
            "errors": self.errors[:5],
        }


def _pct(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))], 2)


def open_loop(
    *,
    rate: float,
    count: int,
    clients: int,
    session_new: Callable[[], object],
    call: Callable[[object, int], tuple[bool, str]],
    grace: float = 30.0,
) -> _Run:
    """Sends ``count`` requests due at ``i / rate`` seconds from the start, request i by client
    ``i % clients``; a latency runs from when the request was due, so it includes queueing. A
    client that falls more than ``grace`` seconds behind gives up its remaining requests."""
    run = _Run(offered=rate, count=count)
    lock = threading.Lock()
    width = min(clients, count)
    ready = threading.Barrier(width + 1)
    clock: dict[str, float] = {}

    def client(c: int) -> None:
        session = session_new()
        ready.wait()
        start, give_up = clock["start"], clock["give_up"]
        latencies, ok, failed, unsent, errors = [], 0, 0, 0, []
        try:
            for i in range(c, count, clients):
                due = start + i / rate
                now = time.perf_counter()
                if now < due:
                    time.sleep(due - now)
                elif now > give_up:
                    unsent += 1
                    continue
                success, error = call(session, i)
                latencies.append((time.perf_counter() - due) * 1000)
                if success:
                    ok += 1
                else:
                    failed += 1
                    errors.append(error)
        finally:
            close = getattr(session, "close", None)
            if close:
                close()
        with lock:
            run.latencies_ms.extend(latencies)
            run.ok, run.failed, run.unsent = run.ok + ok, run.failed + failed, run.unsent + unsent
            run.errors.extend(errors)

    pool = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(width)]
    for thread in pool:
        thread.start()
    clock["start"] = time.perf_counter() + 0.2
    clock["give_up"] = clock["start"] + count / rate + grace
    ready.wait()
    for thread in pool:
        thread.join()
    run.seconds = time.perf_counter() - clock["start"]
    return run


def closed_loop(
    *, seconds: float, clients: int, session_new: Callable[[], object], call: Callable[[object, int], tuple[bool, str]]
) -> dict:
    """Each client sends its next request as soon as the last one is answered, for ``seconds``."""
    counter = iter(range(10**9))
    lock = threading.Lock()
    totals = {"ok": 0, "failed": 0}
    latencies: list[float] = []
    ready = threading.Barrier(clients + 1)
    clock: dict[str, float] = {}

    def client() -> None:
        session = session_new()
        ready.wait()
        stop = clock["stop"]
        mine, ok, failed = [], 0, 0
        try:
            while time.perf_counter() < stop:
                with lock:
                    i = next(counter)
                t0 = time.perf_counter()
                success, _ = call(session, i)
                mine.append((time.perf_counter() - t0) * 1000)
                ok, failed = ok + success, failed + (not success)
        finally:
            session.close()
        with lock:
            latencies.extend(mine)
            totals["ok"] += ok
            totals["failed"] += failed

    pool = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in pool:
        thread.start()
    start = time.perf_counter()
    clock["stop"] = start + seconds
    ready.wait()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    lat = sorted(latencies)
    return {
        "ok": totals["ok"],
        "failed": totals["failed"],
        "per_s": round(totals["ok"] / elapsed, 1),
        "p50_ms": _pct(lat, 50),
        "p95_ms": _pct(lat, 95),
    }


# --- Single scans over HTTP --------------------------------------------------------------------


class _Http:
    def __init__(self, base: tuple[str, int], token: str, timeout: float = 60):
        self.base, self.token, self.timeout = base, token, timeout
        self.conn = http.client.HTTPConnection(*base, timeout=timeout)

    def post(self, path: str, payload: dict, key: str) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(*self.base, timeout=self.timeout)
            return 0, repr(exc).encode()

    def close(self) -> None:
        self.conn.close()


def _pickup(city: _City, code: str, device: str) -> dict:
    from django.utils import timezone

    return {
        "code": code,
        "action": "pickup",
        "location": city.location,
        "device_id": device,
        "scanned_at": timezone.now().isoformat(),
    }


def _scan_call(base, city: _City, codes: list[str]):
    def call(session: _Http, i: int) -> tuple[bool, str]:
        status, body = session.post("/api/v1/scans/", _pickup(city, codes[i], f"bench-{i % 50}"), str(uuid.uuid4()))
        if status == 201:
            return True, ""
        return False, f"{status} {body[:200].decode(errors='replace')}"

    return (lambda: _Http(base, city.token)), call


def _single_steps(log: _Log, base, city: _City, *, seconds: float, clients: int, max_rate: int) -> dict:
    warm = _batches_ready(city, 200)
    session_new, call = _scan_call(base, city, warm)
    warmup = open_loop(rate=50, count=len(warm), clients=clients, session_new=session_new, call=call)
    steps = []
    for rate in [r for r in RATES if r <= max_rate] or [max_rate]:
        count = int(rate * seconds)
        codes = _batches_ready(city, count)
        session_new, call = _scan_call(base, city, codes)
        run = open_loop(rate=rate, count=count, clients=clients, session_new=session_new, call=call)
        figures = run.figures()
        steps.append(figures)
        log(
            f"single scans at {rate}/s: ok {run.ok}/{count}, p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, achieved {figures['achieved_per_s']}/s"
            + (f", first error: {run.errors[0]}" if run.errors else "")
        )
        if run.failed or run.unsent or (figures["p95_ms"] or 0) > P95_LIMIT_MS:
            break
    sustained = [
        s["offered_per_s"]
        for s in steps
        if not s["failed"] and not s["unsent"] and s["p95_ms"] is not None and s["p95_ms"] <= P95_LIMIT_MS
    ]
    return {
        "steps": steps,
        "warmup_ok": warmup.ok,
        "max_sustained_per_s": max(sustained, default=0),
        "ok": sum(s["ok"] for s in steps),
    }


# --- Bulk scans over HTTP ----------------------------------------------------------------------


def _bulk(base, city: _City, *, scans: int, clients: int, seconds: float = 120.0) -> dict:
    """Uploads of 1,000 scans from ``clients`` devices at once; none starts after ``seconds``."""
    codes = _batches_ready(city, scans)
    uploads = [codes[i : i + 1000] for i in range(0, len(codes), 1000)]
    results: list[dict] = []
    lock = threading.Lock()
    queue = iter(range(len(uploads)))
    stop = time.perf_counter() + seconds

    def client() -> None:
        session = _Http(base, city.token, timeout=600)
        try:
            while time.perf_counter() < stop:
                with lock:
                    n = next(queue, None)
                if n is None:
                    return
                items = [
                    {**_pickup(city, code, "bench-offline"), "idempotency_key": str(uuid.uuid4())}
                    for code in uploads[n]
                ]
                t0 = time.perf_counter()
                status, body = session.post("/api/v1/scans/bulk/", {"scans": items}, str(uuid.uuid4()))
                elapsed = time.perf_counter() - t0
                summary = json.loads(body).get("summary", {}) if status == 200 else {}
                with lock:
                    results.append({"status": status, "seconds": elapsed, "items": len(items), **summary})
        finally:
            session.close()

    before = _picked_up()
    start = time.perf_counter()
    pool = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    committed = _picked_up() - before
    created = sum(r.get("created", 0) for r in results)
    return {
        "committed": committed,
        "scans": sum(r["items"] for r in results),
        "prepared": scans,
        "requests": len(results),
        "clients": clients,
        "created": created,
        "rejected": sum(r.get("rejected", 0) for r in results),
        "failed_requests": sum(1 for r in results if r["status"] != 200),
        "seconds": round(elapsed, 2),
        "per_s": round(committed / elapsed, 1) if elapsed else 0.0,
        "request_s_p50": _pct(sorted(r["seconds"] for r in results), 50),
    }


# --- PostgreSQL baselines ----------------------------------------------------------------------

LEDGER_COLUMNS = (
    "shard",
    "seq",
    "prev_hash",
    "hash",
    "event_id",
    "event_type",
    "batch_id",
    "batch_code",
    "organisation_id",
    "user_id",
    "site_id",
    "location",
    "quantity_kg",
    "event_time",
    "recorded_at",
    "flags",
    "data",
)


def _equivalent_row(i: int, city_ids=(1, 1, 1)) -> tuple:
    """A row like a pickup's ledger entry: same columns, sizes and uniqueness."""
    from django.utils import timezone

    now = timezone.now()
    digest = hashlib.sha256(f"bench-{i}-{time.perf_counter_ns()}".encode()).hexdigest()
    data = json.dumps(
        {"action": "pickup", "device_id": f"bench-{i % 50}", "distance_m": 0.0, "manifest": f"2026120101{i:06d}"},
        sort_keys=True,
        separators=(",", ":"),
    )
    org, user, site = city_ids
    return (
        i % 64,
        i,
        "0" * 64,
        digest,
        uuid.uuid4(),
        "picked_up",
        None,
        f"ZW{i:012d}",
        org,
        user,
        site,
        "SRID=4326;POINT(117.2 39.12)",
        Decimal("120.500"),
        now,
        now,
        "",
        data,
    )


def _baseline_table(conn, table: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (LIKE waste_ledgerentry INCLUDING ALL)")


def _baseline_single(db: dict, name: str, *, clients: int, seconds: float) -> dict:
    with pg(db, name) as conn:
        _baseline_table(conn, "bench_single")
    insert = (
        f"INSERT INTO bench_single ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join(['%s'] * len(LEDGER_COLUMNS))})"
    )
    offset = [0]

    def session_new():
        return pg(db, name, autocommit=False)

    def call(conn, i: int) -> tuple[bool, str]:
        try:
            conn.execute(insert, _equivalent_row(i + offset[0]))
            conn.commit()
            return True, ""
        except Exception as exc:  # noqa: BLE001 - any failure counts as a failed request
            conn.rollback()
            return False, repr(exc)

    at_100 = open_loop(rate=100, count=int(100 * seconds), clients=clients, session_new=session_new, call=call)
    offset[0] = 10**7
    peak = closed_loop(seconds=seconds, clients=clients, session_new=session_new, call=call)
    return {"at_100": at_100.figures(), "closed_loop": peak}


def _baseline_copy(db: dict, name: str, *, rows: int) -> dict:
    prepared = [_equivalent_row(i) for i in range(rows)]
    with pg(db, name, autocommit=False) as conn:
        _baseline_table(conn, "bench_copy")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(f"COPY bench_copy ({', '.join(LEDGER_COLUMNS)}) FROM STDIN") as copy:
            for row in prepared:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - start
    return {"rows": rows, "seconds": round(elapsed, 2), "per_s": round(rows / elapsed, 1)}


# --- Ledger ------------------------------------------------------------------------------------


def _picked_up() -> int:
    from waste.models import LedgerEntry

    return LedgerEntry.objects.filter(event_type="picked_up").count()


def _ledger_check(city: _City, report: dict) -> dict:
    from waste.models import LedgerEntry

    picked = _picked_up()
    expected = report["single"]["warmup_ok"] + report["single"]["ok"] + report["bulk"]["created"]
    return {
        "entries": LedgerEntry.objects.count(),
        "picked_up": picked,
        "scans_reported_ok": expected,
        "consistent": picked == expected,
    }


# --- Report ------------------------------------------------------------------------------------


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value >= 1000:
        value = f"{value:,.0f}"
    return f"{value}{unit}"


SINGLE_P95_TARGET_MS = 50.0
SUSTAINED_TARGET = 0.25  # of the single-INSERT closed-loop rate
BULK_TARGET = 0.25  # of COPY into an equally indexed table


def targets(r: dict) -> list[dict]:
    single, bulk, base1, copy = r["single"], r["bulk"], r["baseline_single"], r["baseline_copy"]
    first = single["steps"][0] if single["steps"] else {}
    p95 = first.get("p95_ms")
    return [
        {
            "figure": "single scan p95 @ 100/s offered",
            "value": p95,
            "unit": "ms",
            "baseline": base1["at_100"]["p95_ms"],
            "baseline_label": "INSERT+COMMIT p95 @ 100/s",
            "ratio": round(p95 / base1["at_100"]["p95_ms"], 1) if p95 and base1["at_100"]["p95_ms"] else None,
            "target": f"<= {SINGLE_P95_TARGET_MS:.0f} ms",
            "met": p95 is not None and not first.get("failed") and p95 <= SINGLE_P95_TARGET_MS,
        },
        ratio_line(
            "highest rate, p95 < 100 ms",
            single["max_sustained_per_s"],
            base1["closed_loop"]["per_s"],
            SUSTAINED_TARGET,
            unit="scans/s",
            base_label="INSERT/txn closed loop (txn/s)",
        ),
        ratio_line(
            "bulk scans committed",
            bulk["per_s"],
            copy["per_s"],
            BULK_TARGET,
            unit="scans/s",
            base_label="COPY, indexed table (rows/s)",
        ),
    ]


def _print_report(out: TextIO, r: dict) -> None:
    single, bulk = r["single"], r["bulk"]
    base1, copy = r["baseline_single"], r["baseline_copy"]
    out.write(f"\n{durability_line(r['durability'])}\n")
    out.write("\nSingle scans over HTTP (open loop, latency from the scheduled send time):\n")
    out.write(
        f"{'offered/s':>10} {'sent':>7} {'ok':>7} {'failed':>6} {'achieved/s':>10} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}\n"
    )
    for s in single["steps"]:
        out.write(
            f"{s['offered_per_s']:>10} {s['requests']:>7} {s['ok']:>7} {s['failed'] + s['unsent']:>6} "
            f"{s['achieved_per_s']:>10} {_fmt(s['p50_ms']):>8} {_fmt(s['p95_ms']):>8} "
            f"{_fmt(s['p99_ms']):>8} {_fmt(s['max_ms']):>8}\n"
        )
    out.write(
        f"\nBaselines on the same server: INSERT+COMMIT @ 100/s p50 {_fmt(base1['at_100']['p50_ms'])} ms, "
        f"p95 {_fmt(base1['at_100']['p95_ms'])} ms; closed loop {_fmt(base1['closed_loop']['per_s'])} txn/s "
        f"(p95 {_fmt(base1['closed_loop']['p95_ms'])} ms); COPY {_fmt(copy['per_s'])} rows/s "
        f"({copy['rows']} rows)\n"
    )
    out.write(
        f"{r['clients']} clients, gunicorn {r['gunicorn']['workers']} worker(s) x "
        f"{r['gunicorn']['threads']} thread(s), {r['seconds_per_step']} s per step\n\n"
    )
    r["targets"] = targets(r)
    print_targets(out, r["targets"])
    ledger_state = r["ledger"]
    out.write(
        f"\nscans committed: {ledger_state['scans_reported_ok']} reported ok, "
        f"{ledger_state['picked_up']} picked_up entries in the ledger "
        f"({'consistent' if ledger_state['consistent'] else 'INCONSISTENT'}); "
        f"bulk: {bulk['created']}/{bulk['scans']} created ({bulk['committed']} committed), "
        f"{bulk['rejected']} rejected, "
        f"{bulk['failed_requests']} failed requests\n"
    )
