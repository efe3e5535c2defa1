"""Vehicle positions from trackers and phones, one or a thousand per request.

A point is kept once per (vehicle, time): the insert is ``ON CONFLICT DO NOTHING`` and answers which
rows it wrote, so a retry is answered as a duplicate without a read first. In the same transaction the
vehicle's newest point (``VehicleLastPosition``) and its dwells (``VehicleStop``) move on, so the live
fleet and the stop warning never read the history. On PostgreSQL the table is partitioned by day;
partitions are made ahead by a periodic job and, for a day not made yet, on demand.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import Vehicle, VehicleStop
from logistics.routing import haversine_m
from logistics.selectors import site_at, vehicle_loads
from waste.errors import AppError
from waste.geo import in_world, point
from waste.scoping import user_organisation_ids

MAX_BULK = 1000
MAX_REPORTED_SPEED_KMH = 300.0  # a tracker reporting more is broken, not fast
TABLE = "logistics_vehicleposition"
IMPOSSIBLE_SPEED = "impossible_speed"


@dataclass
class Fix:
    """One point as a device sent it, in the domain's words."""

    vehicle_id: int
    time: datetime.datetime
    lon: float
    lat: float
    speed_kmh: float | None = None
    heading: float | None = None
    odometer_km: float | None = None


@dataclass
class FixOutcome:
    status: str = "created"  # created | duplicate | rejected
    flags: list[str] = field(default_factory=list)
    error: AppError | None = None


@transaction.atomic
def position_record(*, user, fix: Fix) -> FixOutcome:
    """One point; a refusal raises."""
    [outcome] = positions_record(user=user, fixes=[fix])
    if outcome.error is not None:
        raise outcome.error
    return outcome


@transaction.atomic
def positions_record(*, user, fixes: list[Fix]) -> list[FixOutcome]:
    """Many points, answered in the order given. A refused point writes nothing and blocks no other."""
    if len(fixes) > MAX_BULK:
        raise AppError.field("positions", _("Send at most %(max)d positions at once.") % {"max": MAX_BULK})
    outcomes = [FixOutcome() for _fix in fixes]
    vehicles = _own_vehicles(user, {f.vehicle_id for f in fixes})
    now = timezone.now()
    seen: set[tuple[int, datetime.datetime]] = set()
    accepted: list[int] = []
    for index, fix in enumerate(fixes):
        try:
            _check(fix, vehicles, now)
        except AppError as exc:
            outcomes[index] = FixOutcome(status="rejected", error=exc)
            continue
        key = (fix.vehicle_id, fix.time)
        if key in seen:
            outcomes[index].status = "duplicate"
            continue
        seen.add(key)
        accepted.append(index)
    if not accepted:
        return outcomes
    last = _last_locked({fixes[i].vehicle_id for i in accepted})
    _flag_jumps(fixes, accepted, outcomes, last)
    # Each vehicle's newest point and dwell as they will be if every plausible point is new: on
    # PostgreSQL written by the same statement as the points, for the vehicles none of whose points
    # turned out a duplicate (the database counts them); the others are worked out again below.
    plan = _move_plan(fixes, [i for i in accepted if not outcomes[i].flags], last)
    written, moved = _insert(fixes, accepted, outcomes, now, plan)
    for index in accepted:
        if (fixes[index].vehicle_id, fixes[index].time) not in written:
            outcomes[index] = FixOutcome(status="duplicate")
    for vehicle_id in moved:
        for started, ended, anchor in plan[vehicle_id].stops:
            _stop_record(vehicle_id, started, ended, anchor)
    fresh = [
        i
        for i in accepted
        if outcomes[i].status == "created" and not outcomes[i].flags and fixes[i].vehicle_id not in moved
    ]
    _move_on(fixes, fresh, last)
    return outcomes


def _own_vehicles(user, ids: set[int]) -> set[int]:
    """The ids of the vehicles the user may send positions for: its organisations' (any, for a superuser)."""
    vehicles = Vehicle.objects.filter(pk__in=ids)
    if not user.is_superuser:
        vehicles = vehicles.filter(organisation_id__in=user_organisation_ids(user))
    return set(vehicles.values_list("pk", flat=True))


def _check(fix: Fix, vehicles: set[int], now: datetime.datetime) -> None:
    if fix.vehicle_id not in vehicles:
        raise AppError.field("vehicle", _("No such vehicle of yours."), code="unknown_vehicle")
    if timezone.is_naive(fix.time):
        raise AppError.field("time", _("Give a time zone, e.g. 2026-11-22T09:30:00+08:00."))
    if fix.time > now + datetime.timedelta(seconds=settings.CLOCK_SKEW_SECONDS):
        raise AppError.field("time", _("Is in the future beyond the allowed clock skew."), code="future_time")
    if fix.time < now - datetime.timedelta(days=settings.POSITION_RETENTION_DAYS):
        raise AppError.field(
            "time",
            _("Is older than the %(days)d days positions are kept.") % {"days": settings.POSITION_RETENTION_DAYS},
            code="too_old",
        )
    if not in_world(fix.lon, fix.lat):
        raise AppError.field(
            "point", _("Coordinates are outside the world (lon -180..180, lat -90..90)."), code="outside_world"
        )
    if fix.speed_kmh is not None and not 0 <= fix.speed_kmh <= MAX_REPORTED_SPEED_KMH:
        raise AppError.field("speed", _("Must be between 0 and %(max)d km/h.") % {"max": int(MAX_REPORTED_SPEED_KMH)})
    if fix.heading is not None and not 0 <= fix.heading <= 360:
        raise AppError.field("heading", _("Must be between 0 and 360 degrees."))
    if fix.odometer_km is not None and fix.odometer_km < 0:
        raise AppError.field("odometer", _("Must not be negative."))


def _kmh(a: tuple, b: tuple) -> float:
    """Speed needed to go from a to b, each (time, lon, lat); a jump in no time is infinitely fast."""
    metres = haversine_m((a[1], a[2]), (b[1], b[2]))
    seconds = abs((b[0] - a[0]).total_seconds())
    if seconds == 0:
        return 0.0 if metres < 1 else float("inf")
    return metres / seconds * 3.6


def _flag_jumps(fixes, accepted: list[int], outcomes, last: dict[int, Last]) -> None:
    """Flags a point the vehicle could not have reached from its previous plausible point. The point
    is kept (it is what the device said) but never drawn, never the vehicle's position."""
    by_vehicle: dict[int, list[int]] = {}
    for i in accepted:
        by_vehicle.setdefault(fixes[i].vehicle_id, []).append(i)
    limit = settings.POSITION_MAX_SPEED_KMH
    backfilled = {}
    for vehicle_id, indexes in by_vehicle.items():
        indexes.sort(key=lambda i: fixes[i].time)
        newest = last.get(vehicle_id)
        if newest is None or newest.time >= fixes[indexes[0]].time:
            backfilled[vehicle_id] = fixes[indexes[0]].time
    history = _previous_points(backfilled)
    for vehicle_id, indexes in by_vehicle.items():
        newest = last.get(vehicle_id)
        if vehicle_id not in backfilled:
            previous = (newest.time, newest.lon, newest.lat)
        else:  # a back-filled day (or a first upload): its neighbour comes from the history
            previous = history.get(vehicle_id)
        for i in indexes:
            here = (fixes[i].time, fixes[i].lon, fixes[i].lat)
            if previous is not None and _kmh(previous, here) > limit:
                outcomes[i].flags.append(IMPOSSIBLE_SPEED)
                continue
            previous = here


def _previous_points(before: dict[int, datetime.datetime]) -> dict[int, tuple]:
    """Per vehicle, its newest plausible point before the given time, as (time, lon, lat): one
    statement for all of them (a first upload of a whole fleet asks this for every vehicle)."""
    if not before:
        return {}
    if connection.vendor != "postgresql":  # the embedded default: one small query per vehicle is fine
        from logistics.models import VehiclePosition

        found = {}
        for vehicle_id, time in before.items():
            row = (
                VehiclePosition.objects.filter(vehicle_id=vehicle_id, time__lt=time, flags="")
                .order_by("-time")
                .values_list("time", "point")
                .first()
            )
            if row:
                found[vehicle_id] = (row[0], row[1].x, row[1].y)
        return found
    ids = list(before)
    sql = (
        "SELECT b.v, p.time, ST_X(p.point), ST_Y(p.point) "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS b(v, t) CROSS JOIN LATERAL "
        f"(SELECT time, point FROM {TABLE} WHERE vehicle_id = b.v AND time < b.t AND flags = '' "
        "ORDER BY time DESC LIMIT 1) AS p"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, [before[v] for v in ids]])
        return {vehicle_id: (time, lon, lat) for vehicle_id, time, lon, lat in cursor.fetchall()}


# --- Writing ---------------------------------------------------------------------------------------


def _insert(fixes, accepted: list[int], outcomes, now, plan: dict[int, Move]) -> tuple[set, set]:
    """Inserts the accepted points in one statement; returns the (vehicle, time) keys it wrote and the
    vehicles whose newest point and dwell it moved on as planned (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        return _insert_postgresql(fixes, accepted, outcomes, now, plan)
    return _insert_spatialite(fixes, accepted, outcomes, now), set()


# One statement: the points (a duplicate is skipped by ON CONFLICT and missing from RETURNING), then
# each vehicle's newest point and dwell, but only for the vehicles whose planned points were all
# written (counted from what the insert returned): a vehicle with a duplicate among them is worked
# out again in Python from what was written.
INSERT_AND_MOVE_ON = f"""
WITH ins AS (
    INSERT INTO {TABLE} (vehicle_id, time, point, speed_kmh, heading, odometer_km, flags, received_at)
    SELECT v, t, ST_SetSRID(ST_MakePoint(x, y), 4326), s, h, o, f, %s
    FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                %s::float8[], %s::text[]) AS u(v, t, x, y, s, h, o, f)
    ON CONFLICT DO NOTHING RETURNING vehicle_id, time, flags
), counted AS (
    SELECT a.v FROM unnest(%s::bigint[], %s::timestamptz[], %s::int[]) AS a(v, after, n)
    JOIN ins ON ins.vehicle_id = a.v AND ins.flags = '' AND (a.after IS NULL OR ins.time > a.after)
    GROUP BY a.v, a.n HAVING count(*) = a.n
), moved AS (
    INSERT INTO {{last}} (vehicle_id, time, point, speed_kmh, heading, stop_point, stopped_since)
    SELECT v, t, ST_SetSRID(ST_MakePoint(x, y), 4326), s, h, ST_SetSRID(ST_MakePoint(sx, sy), 4326), ss
    FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                %s::float8[], %s::float8[], %s::timestamptz[]) AS u(v, t, x, y, s, h, sx, sy, ss)
    WHERE v IN (SELECT v FROM counted)
    {{upsert}}
    RETURNING vehicle_id
)
SELECT vehicle_id, time FROM ins UNION ALL SELECT vehicle_id, NULL FROM moved
"""


def _insert_postgresql(fixes, accepted, outcomes, now, plan: dict[int, Move]) -> tuple[set, set]:
    # Column arrays, one pass: psycopg sends each list as one array parameter.
    v, t, x, y, s, h, o, fl = [], [], [], [], [], [], [], []
    for i in accepted:
        f = fixes[i]
        v.append(f.vehicle_id)
        t.append(f.time)
        x.append(f.lon)
        y.append(f.lat)
        s.append(f.speed_kmh)
        h.append(f.heading)
        o.append(f.odometer_km)
        fl.append(",".join(outcomes[i].flags))
    moves = list(plan.items())
    counts = [[vehicle_id for vehicle_id, _m in moves], [m.after for _v, m in moves], [m.count for _v, m in moves]]
    sql = INSERT_AND_MOVE_ON.format(last=LAST, upsert=LAST_UPSERT)
    params = [now, v, t, x, y, s, h, o, fl, *counts, *_last_columns([m.last_row(v) for v, m in moves])]
    days = {time.astimezone(datetime.UTC).date() for time in t}
    partitions_ensure(days)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    except DatabaseError as exc:  # a partition dropped or made elsewhere since this process looked
        if "no partition" not in str(exc):
            raise
        _KNOWN_DAYS.clear()
        partitions_ensure(days)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    written, moved = set(), set()
    for vehicle_id, time in rows:
        if time is None:
            moved.add(vehicle_id)
        else:
            written.add((vehicle_id, time))
    return written, moved


def _insert_spatialite(fixes, accepted, outcomes, now) -> set:
    ops = connection.ops
    written = set()
    sql = (
        f"INSERT OR IGNORE INTO {TABLE} (vehicle_id, time, point, speed_kmh, heading, odometer_km, flags, "
        "received_at) VALUES (%s, %s, MakePoint(%s, %s, 4326), %s, %s, %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        for i in accepted:
            f = fixes[i]
            cursor.execute(
                sql,
                [
                    f.vehicle_id,
                    ops.adapt_datetimefield_value(f.time),
                    f.lon,
                    f.lat,
                    f.speed_kmh,
                    f.heading,
                    f.odometer_km,
                    ",".join(outcomes[i].flags),
                    ops.adapt_datetimefield_value(now),
                ],
            )
            if cursor.rowcount == 1:
                written.add((f.vehicle_id, f.time))
    return written


@dataclass
class Move:
    """A vehicle's newest point and open dwell after an upload, and the dwells the upload completed
    or lengthened; ``count`` points newer than ``after`` (its newest point before) went into it."""

    newest: Fix
    anchor: tuple[float, float]
    since: datetime.datetime
    stops: list[tuple]
    count: int
    after: datetime.datetime | None

    def last_row(self, vehicle_id: int) -> tuple:
        return (vehicle_id, self.newest, self.anchor, self.since)


def _move_plan(fixes, fresh: list[int], last: dict[int, Last]) -> dict[int, Move]:
    """Works out each vehicle's newest point and its dwell with the given points newer than it (a
    back-filled point is history: it changes neither). Plain tuples, no geometry objects per point."""
    by_vehicle: dict[int, list] = {}
    for i in fresh:
        by_vehicle.setdefault(fixes[i].vehicle_id, []).append(fixes[i])
    radius = settings.GROUND_STOP_RADIUS_M
    dwell = datetime.timedelta(minutes=settings.GROUND_STOP_MINUTES)
    plan = {}
    for vehicle_id, points in by_vehicle.items():
        points.sort(key=lambda f: f.time)
        state = last.get(vehicle_id)
        stops = []
        if state is not None:
            points = [f for f in points if f.time > state.time]
            if not points:
                continue
            anchor, since, time = (state.stop_lon, state.stop_lat), state.since, state.time
        else:
            anchor, since, time = (points[0].lon, points[0].lat), points[0].time, points[0].time
        for f in points:
            if haversine_m(anchor, (f.lon, f.lat)) > radius:
                if time - since >= dwell:
                    stops.append((since, time, anchor))
                anchor, since = (f.lon, f.lat), f.time
            time = f.time
        if time - since >= dwell:  # still standing: the dwell so far
            stops.append((since, time, anchor))
        plan[vehicle_id] = Move(points[-1], anchor, since, stops, len(points), state.time if state else None)
    return plan


def _move_on(fixes, fresh: list[int], last: dict[int, Last]) -> None:
    """Moves each vehicle's newest point and dwell on with the given points, in its own statement."""
    plan = _move_plan(fixes, fresh, last)
    for vehicle_id, move in plan.items():
        for started, ended, anchor in move.stops:
            _stop_record(vehicle_id, started, ended, anchor)
    if plan:
        _last_save([move.last_row(vehicle_id) for vehicle_id, move in plan.items()])


@dataclass
class Last:
    time: datetime.datetime
    lon: float
    lat: float
    stop_lon: float
    stop_lat: float
    since: datetime.datetime


LAST = "logistics_vehiclelastposition"


def _last_locked(vehicle_ids: set[int]) -> dict[int, Last]:
    """Each vehicle's newest point and open dwell, locked (in vehicle order) until the transaction ends."""
    if not vehicle_ids:
        return {}
    ids = sorted(vehicle_ids)
    marks = ", ".join(["%s"] * len(ids))
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT vehicle_id, time, ST_X(point), ST_Y(point), ST_X(stop_point), ST_Y(stop_point), stopped_since "
        f"FROM {LAST} WHERE vehicle_id IN ({marks}) ORDER BY vehicle_id{lock}"
    )
    convert = connection.ops.convert_datetimefield_value if connection.vendor != "postgresql" else None
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for vehicle_id, time, lon, lat, stop_lon, stop_lat, since in cursor.fetchall():
            if convert is not None:  # SQLite hands back text
                time, since = (convert(v, None, connection) for v in (time, since))
            found[vehicle_id] = Last(time, lon, lat, stop_lon, stop_lat, since)
    return found


LAST_UPSERT = (
    "ON CONFLICT (vehicle_id) DO UPDATE SET time = excluded.time, point = excluded.point, "
    "speed_kmh = excluded.speed_kmh, heading = excluded.heading, stop_point = excluded.stop_point, "
    "stopped_since = excluded.stopped_since"
)


def _last_columns(changed: list) -> list[list]:
    columns = [[], [], [], [], [], [], [], [], []]
    for vehicle_id, f, anchor, since in changed:
        for column, value in zip(
            columns,
            (vehicle_id, f.time, f.lon, f.lat, f.speed_kmh, f.heading, anchor[0], anchor[1], since),
            strict=True,
        ):
            column.append(value)
    return columns


def _last_save(changed: list) -> None:
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {LAST} (vehicle_id, time, point, speed_kmh, heading, stop_point, stopped_since) "
            "SELECT v, t, ST_SetSRID(ST_MakePoint(x, y), 4326), s, h, ST_SetSRID(ST_MakePoint(sx, sy), 4326), ss "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], "
            "%s::float8[], %s::float8[], %s::timestamptz[]) AS u(v, t, x, y, s, h, sx, sy, ss) "
        )
        params = _last_columns(changed)
    else:
        ops = connection.ops
        values = ", ".join(["(%s, %s, MakePoint(%s, %s, 4326), %s, %s, MakePoint(%s, %s, 4326), %s)"] * len(changed))
        sql = (
            f"INSERT INTO {LAST} (vehicle_id, time, point, speed_kmh, heading, stop_point, stopped_since) "
            f"VALUES {values} "
        )
        params = []
        for vehicle_id, f, anchor, since in changed:
            params += [
                vehicle_id,
                ops.adapt_datetimefield_value(f.time),
                f.lon,
                f.lat,
                f.speed_kmh,
                f.heading,
                anchor[0],
                anchor[1],
                ops.adapt_datetimefield_value(since),
            ]
    with connection.cursor() as cursor:
        cursor.execute(sql + LAST_UPSERT, params)


def _stop_record(vehicle_id: int, started: datetime.datetime, ended: datetime.datetime, anchor: tuple) -> None:
    """The dwell, made when first long enough (with its load and site then), lengthened afterwards."""
    if VehicleStop.objects.filter(vehicle_id=vehicle_id, started_at=started).update(ended_at=ended):
        return
    load = vehicle_loads(vehicle_ids=[vehicle_id]).get(vehicle_id)
    VehicleStop.objects.create(
        vehicle_id=vehicle_id,
        started_at=started,
        ended_at=ended,
        point=point(*anchor),
        site=site_at(lon=anchor[0], lat=anchor[1]),
        load_kg=load.kg if load else 0,
    )


# --- Partitions (PostgreSQL) -------------------------------------------------------------------------

_KNOWN_DAYS: set[datetime.date] = set()


def partitions_ensure(days) -> None:
    """Makes the day partitions that do not exist yet (remembered per process)."""
    missing = sorted(set(days) - _KNOWN_DAYS)
    if not missing or connection.vendor != "postgresql":
        return
    # Through the owner's function (migration logistics 0004): the application role may not attach
    # partitions to the owner's table itself.
    with connection.cursor() as cursor:
        for day in missing:
            cursor.execute("SELECT logistics_position_partition_make(%s)", [day])
    _KNOWN_DAYS.update(missing)


def partitions_forget() -> None:
    """Forgets which partitions this process made (e.g. when it moves to another database)."""
    _KNOWN_DAYS.clear()


def partitions_list() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [TABLE],
        )
        return [row[0] for row in cursor.fetchall()]


def positions_partitions_maintain(*, today: datetime.date | None = None) -> dict:
    """Makes today's and the next POSITION_PARTITIONS_AHEAD_DAYS partitions; drops the partitions of
    days entirely older than POSITION_RETENTION_DAYS. On other databases: deletes the old rows."""
    today = today or timezone.now().astimezone(datetime.UTC).date()
    oldest = today - datetime.timedelta(days=settings.POSITION_RETENTION_DAYS)
    if connection.vendor != "postgresql":
        from logistics.models import VehiclePosition

        cut = datetime.datetime.combine(oldest, datetime.time(), tzinfo=datetime.UTC)
        deleted, _rows = VehiclePosition.objects.filter(time__lt=cut).delete()
        return {"created": [], "dropped": [], "deleted_rows": deleted}
    wanted = [today + datetime.timedelta(days=n) for n in range(settings.POSITION_PARTITIONS_AHEAD_DAYS + 1)]
    before = set(partitions_list())
    _KNOWN_DAYS.clear()
    partitions_ensure(wanted)
    dropped = []
    with connection.cursor() as cursor:
        for name in sorted(before):
            day = datetime.datetime.strptime(name.rsplit("_p", 1)[1], "%Y%m%d").date()
            if day < oldest:
                cursor.execute("SELECT logistics_position_partition_drop(%s)", [day])
                dropped.append(name)
    return {"created": sorted(set(partitions_list()) - before), "dropped": dropped}
