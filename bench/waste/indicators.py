"""``manage.py bench indicators``: the full-year indicator report over a realistic year, timed.

With ``--rows N`` (default 1,000,000; PostgreSQL/PostGIS only) it builds its own database
(``<name>_bench_indicators``, dropped afterwards unless ``--keep-db``; the helpers are
``bench.database``'s), migrates it, loads the shipped catalogs and the demo city
(``waste.demo.seed_demo_city``), and fills it with COPY with a year of the demo city's waste: about
N / 5 origin batches across its generators and codes (general industrial, hazardous, household),
each with its ledger events (generated, stored/released for hazardous waste, picked up, received,
weighed at the gate for some, treated with an R or D operation), some consolidated at the transfer
station and split at the plant (``BatchLink``), some left in storage, some received and not yet
treated, some treated only after the year, some picked up and never received (vanished), and some
generated late the year before (prior years' stock treated in the year). Ledger rows are written in
event-time order with a hash chain per shard built with ``waste.ledger`` (the chains are not
verified by this bench; the indicators never read hashes).

It then times, in one run, over the same rows:

1. a baseline: one plain ``SELECT event_type, SUM(quantity_kg) FROM waste_ledgerentry GROUP BY
   event_type``;
2. the report the API serves (``waste.indicators.indicators_compute``) for the whole city, and
   grouped by district, organisation and code, each ``--repeat`` times (p50 and max),

and checks the identity generated = utilised + stored + disposed + dumped + residual in the output
(and each figure against the quantities the generator itself put in). ``--rows 0`` times the report
over whatever the configured database holds, as before.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import statistics
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from django.utils import timezone

from bench.database import add_common_arguments, durability_line, durability_require

GROUPINGS = ("", "district", "organisation", "code")
CITY_DISTRICT = "120000"
VALUE_ADDED_CNY = "60000000000"  # 6 bn CNY of industrial value added for the demo city's year
TARGET_SECONDS = 2.0


def indicators_subcommand(parser):
    """Full-year indicator report over a generated year of ~N ledger rows (target <= 2 s for 1,000,000)."""
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="ledger rows to generate in a bench database (PostGIS only); 0: use the configured database as it is",
    )
    parser.add_argument("--year", type=int, default=timezone.localdate().year - 1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--group",
        choices=["all", *GROUPINGS],
        default="all",
        help="which report to time ('' the whole city; default: all of them)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db-name", default="", help="bench database (default: <configured name>_bench_indicators)")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", dest="json_path", default="", help="also write the figures to this file")
    add_common_arguments(parser)

    def handle(options, stdout):
        groups = GROUPINGS if options["group"] == "all" else (options["group"],)
        return run_indicators_bench(
            stdout=stdout,
            rows=options["rows"],
            year=options["year"],
            repeat=max(1, options["repeat"]),
            groups=groups,
            seed=options["seed"],
            db_name=options["db_name"],
            keep_db=options["keep_db"],
            json_path=options["json_path"],
            allow_unsafe=options["allow_unsafe"],
        )

    return handle


# -- the year ---------------------------------------------------------------------------------------------------

# (origin site key, code, stream, destination site key, operations (one is drawn), weight kg range, share)
FLOWS = [
    ("haihe_plant", "900-249-08", "hazardous", "renew_plant", ["R9"], (100, 1500), 5),
    ("haihe_plant", "900-249-08", "hazardous", "incinerator", ["D10"], (100, 1500), 3),
    ("haihe_plant", "SW17", "general", "renew_plant", ["R4"], (500, 5000), 6),
    ("binhai_chem_plant", "900-041-49", "hazardous", "incinerator", ["D10", "R1"], (200, 2000), 5),
    ("binhai_chem_plant", "SW59", "general", "landfill_site", ["D1"], (1000, 8000), 6),
    ("nankai_garage", "900-214-08", "hazardous", "renew_plant", ["R9"], (50, 400), 5),
    ("nankai_garage", "900-044-49", "hazardous", "incinerator", ["D10"], (20, 200), 2),
    ("xiqing_fab", "900-041-49", "hazardous", "incinerator", ["D10"], (100, 1000), 4),
    ("xiqing_fab", "SW17", "general", "renew_plant", ["R4", "R5"], (300, 3000), 4),
    ("beichen_factory", "SW13", "general", "landfill_site", ["D1", "R3"], (1000, 10000), 5),
    ("beichen_factory", "SW07", "general", "landfill_site", ["D1"], (2000, 12000), 3),
    ("cp_heping", "HH-R", "household", "renew_plant", ["R3", "R4", "R5"], (300, 2500), 8),
    ("cp_heping", "HH-K", "household", "incinerator", ["R1", "R3"], (500, 3000), 8),
    ("cp_nankai", "HH-O", "household", "landfill_site", ["D1", "D10"], (1000, 4000), 10),
    ("cp_nankai", "HH-R", "household", "renew_plant", ["R3", "R4"], (300, 2500), 6),
    ("cp_hexi", "HH-K", "household", "incinerator", ["R1", "R3"], (500, 3000), 8),
    ("cp_hexi", "HH-O", "household", "landfill_site", ["D1"], (1000, 4000), 8),
    ("cp_hexi", "HH-H", "household", "incinerator", ["D10"], (10, 100), 2),
]
CATALOG_OF = {"household": "household", "general": "cn-sw", "hazardous": "cn-hw"}
HAULER_OF = {"household": "cityclean", "general": "cityclean", "hazardous": "jinhuan"}
TRANSFER = "ts_dongli"
KG = Decimal("0.001")
SPLIT_SMALL = Decimal(100)  # the part of a consolidated load burned for energy (R1) at the plant, as in tests/year.py
BATCH_COLUMNS = (
    "id",
    "code",
    "organisation_id",
    "origin_site_id",
    "waste_id",
    "description",
    "main_components",
    "quantity_kg",
    "estimated",
    "physical_form",
    "containers",
    "hazard_traits",
    "is_hazardous",
    "status",
    "current_site_id",
    "holder_id",
    "carrier_id",
    "last_weight_kg",
    "final_operation",
    "generated_at",
    "created_at",
    "updated_at",
)


class Year:
    """Batches, links and events of one generated year, with the balance they must give (kg per stream)."""

    def __init__(self, *, year: int, rows: int, seed: int, city, entries: dict, vanished_hours: int, tz):
        self.rng = random.Random(seed)
        self.year, self.rows, self.city, self.entries, self.tz = year, rows, city, entries, tz
        self.start = datetime.datetime(year, 1, 1, tzinfo=tz)
        self.end = datetime.datetime.combine(datetime.date(year, 12, 31), datetime.time.max, tzinfo=tz)
        self.vanished_before = min(self.end, timezone.now()) - datetime.timedelta(hours=vanished_hours)
        self.batches: list[tuple] = []  # BATCH_COLUMNS
        self.links: list[tuple] = []  # (parent_id, child_id, kind, quantity_kg)
        self.events: list[tuple] = []  # (event_time, batch index, type, organisation, site, quantity, data)
        self.expected = {s: defaultdict(float) for s in ("general", "hazardous", "household")}
        self.pending: list[tuple] = []  # hazardous batches at the transfer station awaiting consolidation
        self.weights = [share for *_, share in FLOWS]
        self.code_n = 0

    # ids are 1-based positions in self.batches
    def _batch(self, *, org, origin, entry, kg: Decimal, status, current, holder, weight, op, when, description=""):
        self.code_n += 1
        code = f"ZW{self.code_n:011d}"
        from stdnum.iso7064 import mod_37_36

        code += mod_37_36.calc_check_digit(code)
        self.batches.append(
            [
                len(self.batches) + 1,
                code,
                org.pk,
                origin.pk,
                entry.pk,
                description,
                "",
                kg,
                False,
                "solid",
                "[]",
                entry.hazard_traits,
                entry.is_hazardous,
                status,
                current.pk if current else None,
                holder.pk,
                None,  # carrier: only while in transit
                weight,
                op,
                when,
            ]
        )
        return len(self.batches)

    def _set(self, batch_id: int, **values):
        row = self.batches[batch_id - 1]
        for name, value in values.items():
            row[BATCH_COLUMNS.index(name)] = value

    def _event(self, when, batch_id, event_type, org, site, quantity=None, data=None):
        self.events.append((when, batch_id, event_type, org.pk, site.pk if site else None, quantity, data or {}))

    def _fate(self, stream: str, kg: float, fate: str, cohort: bool):
        if cohort:
            self.expected[stream][fate] += kg

    def _treat_fate(self, op: str, when) -> str:
        if when > self.end:
            return "stored"
        return "utilised" if op.startswith("R") else "disposed"

    def build(self) -> None:
        s, o, rng = self.city.sites, self.city.organisations, self.rng
        while len(self.events) < self.rows:
            site_key, code, stream, dest_key, ops, (low, high), _ = rng.choices(FLOWS, self.weights)[0]
            site, dest, entry = s[site_key], s[dest_key], self.entries[code]
            org, hauler = site.organisation, o[HAULER_OF[stream]]
            prior = rng.random() < 0.03  # generated late last year: prior years' stock
            if prior:
                generated = self.start - datetime.timedelta(seconds=rng.uniform(3600, 80 * 86400))
            else:
                generated = self.start + datetime.timedelta(seconds=rng.uniform(0, 365 * 86400 - 3600))
            kg = Decimal(rng.randrange(low * 1000, high * 1000)) * KG
            cohort = not prior
            if cohort:
                self.expected[stream]["generated"] += float(kg)
            bid = self._batch(
                org=org,
                origin=site,
                entry=entry,
                kg=kg,
                status="generated",
                current=site,
                holder=org,
                weight=None,
                op="",
                when=generated,
            )
            self._event(
                generated,
                bid,
                "generated",
                org,
                site,
                kg,
                {"waste_code": entry.code, "catalog": f"{CATALOG_OF[stream]}@bench"},
            )
            when = generated
            if stream == "hazardous":  # into the enterprise's hazardous waste store, out again at pickup
                when += datetime.timedelta(minutes=rng.randrange(10, 120))
                self._event(when, bid, "stored", org, site, kg)
                self._set(bid, status="stored")
            fate = rng.random()
            if fate < 0.05 and not prior:  # still at the enterprise
                self._fate(stream, float(kg), "stored", cohort)
                continue
            pickup = when + datetime.timedelta(days=rng.uniform(1, 10 if stream == "hazardous" else 2))
            if stream == "hazardous":
                self._event(pickup - datetime.timedelta(minutes=30), bid, "released", org, site, kg)
            self._event(pickup, bid, "picked_up", hauler, site, None, {"manifest": f"B{bid}"})
            if fate < 0.09:  # vanished: picked up, never received
                self._set(bid, status="in_transit", current_site_id=None, holder_id=hauler.pk, carrier_id=hauler.pk)
                self._fate(stream, float(kg), "dumped" if pickup < self.vanished_before else "stored", cohort)
                continue
            via = stream == "hazardous" and fate < 0.25
            to = s[TRANSFER] if via else dest
            received = pickup + datetime.timedelta(hours=rng.uniform(1, 6))
            weight = None
            if rng.random() < 0.4:  # weighed at the gate
                weight = (kg * Decimal(rng.uniform(0.97, 1.02))).quantize(KG)
            self._event(received, bid, "received", to.organisation, to, weight)
            self._set(
                bid,
                status="received",
                current_site_id=to.pk,
                holder_id=to.organisation.pk,
                carrier_id=None,
                last_weight_kg=weight,
            )
            w = weight or kg
            if via:
                self.pending.append((bid, w, stream, cohort, received, dest, entry))
                if len(self.pending) == 2:
                    self._consolidate(s[TRANSFER], hauler)
                continue
            if fate < 0.16:  # received, not treated yet
                self._fate(stream, float(w), "stored", cohort)
                continue
            op = rng.choice(ops)
            treated = received + datetime.timedelta(days=rng.uniform(0.5, 25))
            self._event(treated, bid, "treated", to.organisation, to, None, {"final": True, "operation": op})
            self._set(bid, status="treated", final_operation=op)
            self._fate(stream, float(w), self._treat_fate(op, treated), cohort)
        for _, w, stream, cohort, *_ in self.pending:
            self._fate(stream, float(w), "stored", cohort)

    def _consolidate(self, transfer, hauler) -> None:
        """Two loads merged at the transfer station, shipped to the plant, split: most destroyed, a little burned."""
        parents, self.pending = self.pending, []
        when = max(p[4] for p in parents) + datetime.timedelta(hours=3)
        total = sum((p[1] for p in parents), Decimal(0))
        dest, entry = parents[-1][5], parents[-1][6]
        ts_org = transfer.organisation
        child = self._batch(
            org=ts_org,
            origin=transfer,
            entry=entry,
            kg=total,
            status="split",
            current=dest,
            holder=dest.organisation,
            weight=total,
            op="",
            when=when,
            description="Consolidated",
        )
        for bid, w, *_ in parents:
            self.links.append((bid, child, "consolidation", w))
            self._set(bid, status="consolidated")
            self._event(when, bid, "consolidated", ts_org, transfer, w, {"into": self.batches[child - 1][1]})
        self._event(when, child, "consolidated", ts_org, transfer, total, {"waste_code": entry.code})
        pickup = when + datetime.timedelta(hours=self.rng.uniform(2, 30))
        self._event(pickup, child, "picked_up", hauler, transfer)
        received = pickup + datetime.timedelta(hours=self.rng.uniform(1, 4))
        self._event(received, child, "received", dest.organisation, dest)
        split = received + datetime.timedelta(hours=2)
        self._event(split, child, "split", dest.organisation, dest, total)
        small = min(SPLIT_SMALL, (total / 10).quantize(KG))
        for part, op in ((total - small, "D10"), (small, "R1")):
            leaf = self._batch(
                org=dest.organisation,
                origin=dest,
                entry=entry,
                kg=part,
                status="treated",
                current=dest,
                holder=dest.organisation,
                weight=part,
                op=op,
                when=split,
                description="Split",
            )
            self.links.append((child, leaf, "split", part))
            self._event(split, leaf, "split", dest.organisation, dest, part)
            treated = split + datetime.timedelta(days=self.rng.uniform(0.5, 10))
            self._event(treated, leaf, "treated", dest.organisation, dest, None, {"final": True, "operation": op})
            share = float(part) / float(total)
            for _, w, stream, cohort, *_ in parents:
                self._fate(stream, float(w) * share, self._treat_fate(op, treated), cohort)


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)


def _load(conn, y: Year, *, shards: int) -> dict:
    """COPY the batches, links and ledger (in event-time order, a hash chain per shard)."""
    from bench.waste.ledger_load import Row, ledger_copy
    from waste import ledger

    now = datetime.datetime.now(datetime.UTC)
    timings = {}
    t0 = time.perf_counter()
    with conn.cursor() as cursor:
        # The rows are consistent by construction: skip the per-row foreign-key triggers while loading
        # (a superuser's session setting; without it the load is only slower).
        try:
            cursor.execute("SET LOCAL session_replication_role = replica")
            timings["fk_checks_skipped"] = True
        except Exception:  # noqa: BLE001 - not a superuser
            conn.rollback()
            timings["fk_checks_skipped"] = False
        buffer = io.StringIO()
        for row in y.batches:
            buffer.write("\t".join(_text(v) for v in (*row, now, now)) + "\n")
        with cursor.copy(f"COPY waste_batch ({', '.join(BATCH_COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        links = "COPY waste_batchlink (parent_id, child_id, kind, quantity_kg, created_at) FROM STDIN"
        with cursor.copy(links) as copy:
            for parent, child, kind, kg in y.links:
                copy.write_row((parent, child, kind, kg, now))
        y.events.sort(key=lambda e: (e[0], e[1]))
        codes = [row[1] for row in y.batches]
        shard_of: dict[int, int] = {}

        def entries():
            for when, bid, event_type, org, site, quantity, data in y.events:
                if bid not in shard_of:
                    shard_of[bid] = ledger.shard_of(codes[bid - 1], shards)
                yield Row(shard=shard_of[bid], event_id=str(uuid.UUID(int=y.rng.getrandbits(128), version=4)),
                          event_type=event_type, organisation_id=org, event_time=when,
                          recorded_at=when + datetime.timedelta(seconds=2), batch_id=bid, batch_code=codes[bid - 1],
                          site_id=site or None, quantity_kg=quantity, data=data)  # fmt: skip

        ledger_copy(cursor, entries(), shards)
        for table in ("waste_batch", "waste_batchlink"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    conn.commit()
    timings["copy_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cursor:  # as autovacuum would have by then: statistics and the visibility map
        cursor.execute("VACUUM ANALYZE waste_batch")
        cursor.execute("VACUUM ANALYZE waste_batchlink")
        cursor.execute("VACUUM ANALYZE waste_ledgerentry")
    timings["vacuum_analyze_seconds"] = round(time.perf_counter() - t0, 2)
    return {"batches": len(y.batches), "links": len(y.links), "ledger_rows": len(y.events), "load": timings}


# -- measuring --------------------------------------------------------------------------------------------------

BASELINE_SQL = "SELECT event_type, SUM(quantity_kg) FROM waste_ledgerentry GROUP BY event_type"


def _time(fn, repeat: int) -> tuple[list[float], object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - started)
    return timings, result


def _figures(timings: list[float]) -> dict:
    return {
        "p50_s": round(statistics.median(timings), 4),
        "max_s": round(max(timings), 4),
        "runs": [round(t, 4) for t in timings],
    }


def _identity(balance: dict) -> list[str]:
    """Where generated != utilised + stored + disposed + dumped + residual (beyond rounding)."""
    bad = []
    for stream, b in balance.items():
        parts = sum(b[f"{k}_kg"] for k in ("utilised", "stored", "disposed", "dumped", "residual"))
        if abs(b["generated_kg"] - parts) > 0.01:
            bad.append(f"{stream}: generated {b['generated_kg']} kg != {parts:.3f} kg")
    return bad


def _against(balance: dict, expected: dict) -> list[str]:
    """The report's cohort balance against what the generator put in (kg, float sums)."""
    bad = []
    for stream, want in expected.items():
        got = balance[stream]
        for fate in ("generated", "utilised", "disposed", "stored", "dumped"):
            w, g = want.get(fate, 0.0), got[f"{fate}_kg"]
            if abs(w - g) > max(1.0, abs(w) * 1e-9):
                bad.append(f"{stream} {fate}: report {g:,.3f} kg, generated data {w:,.3f} kg")
    return bad


def run_indicators_bench(
    *,
    stdout: TextIO,
    rows: int,
    year: int,
    repeat: int,
    groups=GROUPINGS,
    seed: int = 2026,
    db_name: str = "",
    keep_db: bool = False,
    json_path: str = "",
    allow_unsafe: bool = False,
) -> dict:
    from django.conf import settings
    from django.core.management.base import CommandError
    from django.db import connection

    from bench.database import database_create, database_drop, database_leave, database_use, pg

    def say(message: str) -> None:
        stdout.write(message + "\n")
        stdout.flush()

    report: dict = {"year": year, "repeat": repeat, "target_s": TARGET_SECONDS}
    if rows <= 0:
        if connection.vendor == "postgresql":
            db = dict(settings.DATABASES["default"])
            report["durability"] = durability_require(db, allow_unsafe=allow_unsafe)
        say(f"bench indicators: the configured database as it is ({connection.settings_dict['NAME']})")
        report.update(_measure(say, year=year, repeat=repeat, groups=groups, expected=None))
        return _finish(stdout, report, json_path)
    if connection.vendor != "postgresql":
        backend = "SpatiaLite" if connection.vendor == "sqlite" else connection.vendor
        raise CommandError(
            f"bench indicators --rows N builds its own PostGIS database and measures PostgreSQL only, "
            f"not {backend}: set DATABASE_URL=postgis://… (or --rows 0 to time the report over the "
            f"configured {backend} database as it is)"
        )
    db = dict(settings.DATABASES["default"])
    name = db_name or f"{db['NAME']}_bench_indicators"
    if name == db["NAME"]:
        raise CommandError("the bench database must not be the configured database")
    report["durability"] = durability_require(db, allow_unsafe=allow_unsafe)
    report.update({"rows_requested": rows, "database": name, "seed": seed})
    say(f"bench indicators: a year ({year}) of ~{rows:,} ledger rows for the demo city in database {name}")
    database_create(db, name)
    try:
        t0 = time.perf_counter()
        database_use(name)
        from waste.demo import seed_demo_city
        from waste.models import CatalogEntry
        from waste.services.catalogs import catalogs_load_shipped

        catalogs_load_shipped()
        city = seed_demo_city(activity=False)
        from waste.models import IndicatorInput

        # The city's industrial value added, as tests/year.py gives it (the intensity's denominator).
        IndicatorInput.objects.create(
            district_code=CITY_DISTRICT,
            organisation=None,
            year=year,
            name="industrial_value_added_cny",
            value=Decimal(VALUE_ADDED_CNY),
        )
        entries = {}
        for _, code, stream, *_ in FLOWS:
            entries[code] = CatalogEntry.objects.select_related("catalog").get(
                catalog__key=CATALOG_OF[stream], code=code
            )
        report["setup_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        y = Year(
            year=year,
            rows=rows,
            seed=seed,
            city=city,
            entries=entries,
            vanished_hours=settings.VANISHED_AFTER_HOURS,
            tz=timezone.get_current_timezone(),
        )
        y.build()
        report["build_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        with pg(db, name, autocommit=False) as conn:
            report.update(_load(conn, y, shards=settings.LEDGER_SHARDS))
        report["load_seconds"] = round(time.perf_counter() - t0, 2)
        say(
            f"generated {report['batches']:,} batches, {report['links']:,} lineage links and "
            f"{report['ledger_rows']:,} ledger rows in {report['build_seconds']} s; COPY (with the ledger's hash chains"
            f"{', foreign-key triggers skipped' if report['load']['fk_checks_skipped'] else ''}) "
            f"{report['load']['copy_seconds']} s, VACUUM ANALYZE {report['load']['vacuum_analyze_seconds']} s; "
            f"setup (migrate, catalogs, demo city) {report['setup_seconds']} s"
        )
        say("ledger hash chains are built per shard but not verified in this bench (the indicators never read hashes)")
        expected = {s: dict(v) for s, v in y.expected.items()}
        del y
        report.update(_measure(say, year=year, repeat=repeat, groups=groups, expected=expected))
    finally:
        database_leave(db)
        if not keep_db:
            database_drop(db, name)
            report["database_dropped"] = True
        else:
            say(f"kept database {name}")
    return _finish(stdout, report, json_path)


def _measure(say, *, year: int, repeat: int, groups, expected: dict | None) -> dict:
    from django.db import connection

    from waste import indicators
    from waste.models import Batch, LedgerEntry

    out: dict = {"ledger_rows": LedgerEntry.objects.count(), "batches": Batch.objects.count()}
    # Everything, for the whole city (what a superuser sees), with the city's value added.
    scope = indicators.Scope(districts=[CITY_DISTRICT])

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL)
            return cursor.fetchall()

    baseline()  # warm the cache as the report runs are warmed by their first run
    timings, _ = _time(baseline, repeat)
    out["baseline"] = {"sql": BASELINE_SQL, **_figures(timings)}
    out["reports"], problems = {}, []
    for group in groups:

        def run(group=group):
            return indicators.indicators_compute(
                scope=scope, date_from=datetime.date(year, 1, 1), date_to=datetime.date(year, 12, 31), group=group
            )

        timings, result = _time(run, repeat)
        figures = _figures(timings)
        bad = _identity(result["balance"])
        if expected is not None and not group:
            bad += _against(result["balance"], expected)
        if group:
            figures["groups"] = len(result["groups"])
            for g in result["groups"]:
                bad += [f"{group} {g['key']}: {b}" for b in _identity(g["balance"])]
            for stream, b in result["balance"].items():
                summed = sum(g["balance"][stream]["generated_kg"] for g in result["groups"])
                if abs(summed - b["generated_kg"]) > 0.01 * max(1, len(result["groups"])):
                    bad.append(f"{group}: {stream} groups generate {summed:.3f} kg, the city {b['generated_kg']} kg")
        else:
            out["balance"] = result["balance"]
            out["indicators"] = {k: v["value"] for k, v in result["indicators"].items()}
        figures["identity_holds"] = not bad
        problems += bad
        out["reports"][group or "city"] = figures
        say(f"timed report {group or 'city'}: p50 {figures['p50_s']:.3f} s")
    out["problems"] = problems
    return out


def _finish(out: TextIO, r: dict, json_path: str) -> dict:
    base = r["baseline"]
    if "durability" in r:
        out.write(f"\n{durability_line(r['durability'])}\n")
    out.write(
        f"\nfull-year indicator report {r['year']}: {r['ledger_rows']:,} ledger rows, {r['batches']:,} "
        f"batches, {len(base['runs'])} runs each\n"
    )
    out.write(f"{'query':<44}{'p50 s':>9}{'max s':>9}{'× baseline':>12}{'groups':>8}  identity\n")
    out.write(
        f"{'baseline: SUM(quantity_kg) GROUP BY event_type':<44}{base['p50_s']:>9.3f}{base['max_s']:>9.3f}"
        f"{1:>12.1f}{'':>8}\n"
    )
    for key, f in r["reports"].items():
        label = "report, whole city" if key == "city" else f"report by {key}"
        ratio = f"{f['p50_s'] / base['p50_s']:.1f}" if base["p50_s"] else "-"
        out.write(
            f"{label:<44}{f['p50_s']:>9.3f}{f['max_s']:>9.3f}{ratio:>12}{f.get('groups', ''):>8}  "
            f"{'holds' if f['identity_holds'] else 'BROKEN'}\n"
        )
    if "balance" in r:
        out.write(
            f"\n{'stream':<11}"
            + "".join(
                f"{h:>14}" for h in ("generated t", "utilised t", "disposed t", "stored t", "dumped t", "residual t")
            )
            + "\n"
        )
        for stream, b in r["balance"].items():
            out.write(
                f"{stream:<11}"
                + "".join(
                    f"{b[f'{k}_kg'] / 1000:>14,.3f}"
                    for k in ("generated", "utilised", "disposed", "stored", "dumped", "residual")
                )
                + "\n"
            )
        out.write("rates: " + ", ".join(f"{k} {v}" for k, v in r["indicators"].items()) + "\n")
    worst = max(f["max_s"] for f in r["reports"].values())
    r["within_target"] = worst <= r["target_s"]
    out.write(
        f"\nslowest report run {worst:.3f} s (target <= {r['target_s']:.0f} s): "
        f"{'met' if r['within_target'] else 'NOT met'}; identity generated = utilised + stored + disposed + "
        f"dumped + residual: {'holds' if not r['problems'] else 'BROKEN'}"
        f"{' (and matches the generated data)' if not r['problems'] and 'rows_requested' in r else ''}\n"
    )
    for p in r["problems"]:
        out.write(f"  ! {p}\n")
    if json_path:
        Path(json_path).write_text(json.dumps(r, indent=2, default=str))
    return r
