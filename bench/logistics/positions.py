"""``manage.py bench positions``: position ingest beside COPY, and the live fleet over a month of history.

PostgreSQL/PostGIS only, at production durability (see bench.database). It builds its own database
(``<name>_bench_positions``, dropped afterwards unless ``--keep-db``), migrates it, and makes one
hauler with ``--vehicles`` trucks (each on a trip of today with two of three collection-point
pickups done, so that it carries a load) and ``--days`` days of history at one point per
``--history-seconds`` per truck, loaded with COPY into the day-partitioned positions table. Then:

1. ingest: ``--points`` points through the bulk endpoint (``POST /api/v1/positions/bulk/``, 1,000 a
   request, Bearer token, in process: the whole Django/DRF stack without the network), every truck
   a point every 10 s after its history; points committed per second. Baseline: one COPY of as
   many rows of the same shape into the same partitioned table (the fastest way PostgreSQL takes
   rows), in the same run.
2. live fleet: ``GET /api/v1/fleet/live/`` (every truck's newest point, load on board and trip
   progress) ``--repeat`` times without the cache (``FLEET_LIVE_CACHE_SECONDS=0``: each request is
   the one statement; p50/p95, target p95 <= 100 ms), then ``--repeat`` times as served, with the
   per-scope cache (p95 reported beside it).
"""

from __future__ import annotations

import datetime
import json
import math
import statistics
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

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

INGEST_TARGET = 0.25
LIVE_P95_MS = 100.0
CHUNK = 1000
CENTRE = (117.20, 39.12)


def positions_subcommand(parser):
    """Position ingest (bulk API) beside COPY into the same partitioned table; live-fleet p95."""
    parser.add_argument("--vehicles", type=int, default=500)
    parser.add_argument("--days", type=int, default=30, help="days of history per vehicle")
    parser.add_argument("--history-seconds", type=int, default=300, help="one history point per this many seconds")
    parser.add_argument("--points", type=int, default=100_000, help="points sent through the bulk endpoint")
    parser.add_argument("--repeat", type=int, default=200, help="live-fleet requests")
    parser.add_argument("--db-name", default="", help="bench database (default: <configured name>_bench_positions)")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--json", dest="json_path", default="", help="also write the figures to this file")
    add_common_arguments(parser)
    return lambda options, stdout: run_positions_bench(stdout=stdout, **_options(options))


def _options(options) -> dict:
    keys = ("vehicles", "days", "history_seconds", "points", "repeat", "db_name", "keep_db", "json_path")
    return {k: options[k] for k in keys} | {"allow_unsafe": options["allow_unsafe"]}


def run_positions_bench(
    *, stdout, vehicles, days, history_seconds, points, repeat, db_name, keep_db, json_path, allow_unsafe
):
    from django.core.management.base import CommandError
    from django.db import connection

    if connection.vendor != "postgresql":
        raise CommandError("bench positions needs PostgreSQL/PostGIS (the positions table is partitioned there)")
    db = dict(connection.settings_dict)
    found = durability_require(db, allow_unsafe=allow_unsafe)
    name = db_name or f"{db['NAME']}_bench_positions"
    stdout.write(f"{durability_line(found)}\nbench database {name}\n")
    database_create(db, name)
    try:
        database_use(name)
        report = _measure(stdout, db, name, vehicles, days, history_seconds, points, repeat)
    finally:
        database_leave(db)
        if not keep_db:
            database_drop(db, name)
    report["durability"] = found
    print_targets(stdout, report["targets"])
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2, default=str))
    return report


def _measure(stdout, db, name, vehicles, days, history_seconds, points, repeat) -> dict:
    now = timezone.now().replace(microsecond=0)
    user, fleet = _fleet(vehicles)
    # History ends early enough that the ingest (a point every 10 s per truck) stays in the past.
    ingest_span = datetime.timedelta(seconds=10 * (points // max(len(fleet), 1) + 2))
    history_end = now - ingest_span - datetime.timedelta(minutes=5)
    started = time.perf_counter()
    history = _history(db, name, fleet, history_end - datetime.timedelta(days=days), history_end, history_seconds)
    stdout.write(f"history: {history:,} points over {days} days loaded in {time.perf_counter() - started:.1f} s\n")
    client = _client(user)
    batches = _ingest_batches(fleet, history_end, points)
    started = time.perf_counter()
    created = 0
    for batch in batches:
        answer = client.post("/api/v1/positions/bulk/", {"positions": batch}, format="json")
        if answer.status_code != 200:
            raise RuntimeError(f"bulk upload refused: {answer.status_code} {answer.content[:300]!r}")
        created += answer.json()["summary"]["created"]
    ingest_s = time.perf_counter() - started
    sent = sum(len(b) for b in batches)
    if created != sent:
        raise RuntimeError(f"{sent - created} of {sent} points were not created")
    ingest_rate = created / ingest_s
    stdout.write(f"ingest: {created:,} points in {ingest_s:.2f} s = {ingest_rate:,.0f} points/s\n")
    copy_rows, copy_s = _copy_baseline(db, name, fleet, history_end, points)
    copy_rate = copy_rows / copy_s
    stdout.write(f"COPY baseline: {copy_rows:,} rows in {copy_s:.2f} s = {copy_rate:,.0f} rows/s\n")
    # Measured without the cache (every request asks the database: the figure the target is about),
    # then as served, with FLEET_LIVE_CACHE_SECONDS (one dispatcher's map polling among many).
    with override_settings(FLEET_LIVE_CACHE_SECONDS=0):
        times = _live_times(client, repeat)
    cache.clear()
    cached_times = _live_times(client, repeat)
    answer = client.get("/api/v1/fleet/live/")
    live = answer.json()["features"]
    placed = sum(1 for f in live if f["geometry"] is not None)
    loaded = sum(1 for f in live if Decimal(f["properties"]["load_kg"]) > 0)
    if placed != len(fleet) or loaded != len(fleet):
        raise RuntimeError(f"live fleet shows {placed} placed and {loaded} loaded of {len(fleet)} trucks")
    p50, p95 = statistics.median(times), _p95(times)
    stdout.write(f"live fleet: {len(live)} trucks, p50 {p50:.1f} ms, p95 {p95:.1f} ms over {repeat} requests\n")
    cached_p95 = _p95(cached_times)
    stdout.write(
        f"live fleet as served (cached {settings.FLEET_LIVE_CACHE_SECONDS} s per scope): "
        f"p50 {statistics.median(cached_times):.1f} ms, p95 {cached_p95:.1f} ms over {repeat} requests\n"
    )
    targets = [
        ratio_line(
            "bulk ingest (points committed/s)",
            round(ingest_rate),
            round(copy_rate),
            INGEST_TARGET,
            unit="/s",
            base_label="COPY into the same table",
        ),
        {
            "figure": f"live fleet p95 ({len(fleet)} trucks)",
            "value": round(p95, 1),
            "unit": "ms",
            "baseline": None,
            "baseline_label": f"{history:,} history points",
            "ratio": None,
            "target": f"<= {LIVE_P95_MS:.0f} ms",
            "met": p95 <= LIVE_P95_MS,
        },
    ]
    return {
        "vehicles": len(fleet),
        "history_points": history,
        "ingest": {"points": created, "seconds": round(ingest_s, 3), "per_s": round(ingest_rate)},
        "copy": {"rows": copy_rows, "seconds": round(copy_s, 3), "per_s": round(copy_rate)},
        "live": {
            "requests": repeat,
            "p50_ms": round(p50, 2),
            "p95_ms": round(p95, 2),
            "cached_p95_ms": round(cached_p95, 2),
            "trucks": len(live),
        },
        "targets": targets,
    }


def _live_times(client, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = client.get("/api/v1/fleet/live/")
        times.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"live fleet refused: {answer.status_code}")
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _fleet(count: int):
    """A hauler with ``count`` trucks, each on today's trip with two of three pickups collected."""
    from django.contrib.auth import get_user_model

    from logistics.models import (
        Pickup,
        PickupStatus,
        RoutePlan,
        StopKind,
        StopStatus,
        Trip,
        TripStop,
        Vehicle,
        WasteClass,
    )
    from waste.geo import point
    from waste.models import MemberRole, Membership, Organisation, Site, SiteKind

    hauler = Organisation.objects.create(
        name="Bench Haulage",
        district_code="120101",
        is_hauler=True,
        identifier_scheme="cn_uscc",
        identifier="BENCH-HAULER",
    )
    operator = Organisation.objects.create(
        name="Bench Bins",
        district_code="120101",
        is_site_operator=True,
        identifier_scheme="cn_uscc",
        identifier="BENCH-OPERATOR",
    )
    user = get_user_model().objects.create_user("bench-dispatcher")
    Membership.objects.create(user=user, organisation=hauler, role=MemberRole.ADMIN)
    depot = Site.objects.create(
        organisation=hauler, name="Bench depot", kind=SiteKind.STORAGE, location=point(*CENTRE), district_code="120101"
    )
    bins = Site.objects.bulk_create(
        Site(
            organisation=operator,
            name=f"Bin {i}",
            kind=SiteKind.COLLECTION_POINT,
            location=point(CENTRE[0] + (i % 10) * 0.01, CENTRE[1] + (i // 10) * 0.01),
            district_code="120101",
        )
        for i in range(100)
    )
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            organisation=hauler,
            plate=f"津B·{i:05d}",
            capacity_kg=Decimal(5000),
            classes=["general"],
            depot=depot,
            shift_start=datetime.time(6),
            shift_end=datetime.time(18),
        )
        for i in range(count)
    )
    today = timezone.localdate()
    plan = RoutePlan.objects.create(hauler=hauler, date=today, status="done")
    trips = Trip.objects.bulk_create(Trip(plan=plan, vehicle=v, driver=user, date=today) for v in vehicles)
    pickups = Pickup.objects.bulk_create(
        Pickup(
            hauler=hauler,
            requested_by=operator,
            site=bins[(t * 3 + k) % len(bins)],
            waste_class=WasteClass.GENERAL,
            quantity_kg=Decimal(300),
            date=today,
            status=PickupStatus.DONE if k < 2 else PickupStatus.DISPATCHED,
        )
        for t in range(len(trips))
        for k in range(3)
    )
    eta = timezone.now()
    stops = []
    for t, trip in enumerate(trips):
        for k in range(3):
            stops.append(
                TripStop(
                    trip=trip,
                    sequence=k + 1,
                    pickup=pickups[t * 3 + k],
                    site=pickups[t * 3 + k].site,
                    eta=eta,
                    status=StopStatus.DONE if k < 2 else StopStatus.PENDING,
                )
            )
        stops.append(TripStop(trip=trip, sequence=4, kind=StopKind.UNLOAD, site=depot, eta=eta))
    TripStop.objects.bulk_create(stops)
    return user, [v.pk for v in vehicles]


def _client(user):
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _where(vehicle_index: int, step: int) -> tuple[float, float]:
    """A truck's place at a step of 10 s: a slow loop of its own (a few metres a step)."""
    lon = CENTRE[0] + (vehicle_index % 25) * 0.004 + 0.01 * math.sin(step / 300)
    lat = CENTRE[1] + (vehicle_index // 25) * 0.003 + 0.01 * math.cos(step / 300)
    return lon, lat


def _history(db, name, fleet, start, end, every: int) -> int:
    from logistics.services.positions import partitions_ensure, partitions_forget

    partitions_forget()  # this process may have made partitions of another database's table
    day = start.astimezone(datetime.UTC).date()
    partitions_ensure([day + datetime.timedelta(days=n) for n in range((end - start).days + 3)])
    steps = int((end - start).total_seconds() // every)
    with pg(db, name, autocommit=False) as conn, conn.cursor() as cursor:
        columns = "vehicle_id, time, point, speed_kmh, heading, odometer_km, flags, received_at"
        with cursor.copy(f"COPY logistics_vehicleposition ({columns}) FROM STDIN") as copy:
            for i, vehicle_id in enumerate(fleet):
                for step in range(steps):
                    at = start + datetime.timedelta(seconds=step * every)
                    lon, lat = _where(i, (step * every - steps * every) // 10)
                    copy.write_row((vehicle_id, at, f"SRID=4326;POINT({lon} {lat})", 30.0, 90.0, None, "", at))
        # What the ingest would have kept for a month of points sent through it: each truck's newest
        # point (a moving truck: its dwell anchor is that point). The live fleet reads these rows.
        cursor.execute(
            "INSERT INTO logistics_vehiclelastposition "
            "(vehicle_id, time, point, speed_kmh, heading, stop_point, stopped_since) "
            "SELECT p.vehicle_id, p.time, p.point, p.speed_kmh, p.heading, p.point, p.time "
            "FROM unnest(%s::bigint[]) AS v(id) CROSS JOIN LATERAL (SELECT * FROM logistics_vehicleposition "
            "WHERE vehicle_id = v.id ORDER BY time DESC LIMIT 1) AS p",
            [list(fleet)],
        )
        conn.commit()
        # As autovacuum would after loading a month: the planner's statistics of the new tables.
        cursor.execute("ANALYZE")
        conn.commit()
    return steps * len(fleet)


def _ingest_batches(fleet, after, points: int) -> list[list[dict]]:
    per_vehicle = points // len(fleet)
    rows = []
    for step in range(per_vehicle):  # every truck's next point, then the next round
        at = (after + datetime.timedelta(seconds=10 * (step + 1))).isoformat()
        for i, vehicle_id in enumerate(fleet):
            lon, lat = _where(i, step)
            rows.append(
                {"vehicle": vehicle_id, "time": at, "point": {"type": "Point", "coordinates": [lon, lat]}, "speed": 30}
            )
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def _copy_baseline(db, name, fleet, after, points: int) -> tuple[int, float]:
    """The same number of rows, same shape, same partitions (half a second after each ingested point)."""
    per_vehicle = points // len(fleet)
    rows = []
    now = timezone.now()
    for step in range(per_vehicle):
        at = after + datetime.timedelta(seconds=10 * (step + 1), milliseconds=500)
        for i, vehicle_id in enumerate(fleet):
            lon, lat = _where(i, step)
            rows.append((vehicle_id, at, f"SRID=4326;POINT({lon} {lat})", 30.0, None, None, "", now))
    with pg(db, name, autocommit=False) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        columns = "vehicle_id, time, point, speed_kmh, heading, odometer_km, flags, received_at"
        with cursor.copy(f"COPY logistics_vehicleposition ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return len(rows), time.perf_counter() - started
