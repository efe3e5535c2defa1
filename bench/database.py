"""What every benchmark shares: its own database on the configured server, and that server's durability.

A figure taken with ``fsync`` off says nothing about production, where every commit waits for the
disk. So every benchmark reads ``SHOW fsync, synchronous_commit, full_page_writes`` from the server it
measures, prints them in its report, and refuses to run unless all three are on, or ``--allow-unsafe``
is given (the smoke tests do, on the test cluster). ``bench/cluster.sh start`` runs a durable
PostgreSQL 15 for them on port 54330.
"""

from __future__ import annotations

DURABILITY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


def pg(db: dict, name: str, *, autocommit: bool = True):
    import psycopg

    return psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=name,
        autocommit=autocommit,
    )


def durability(db: dict) -> dict[str, str]:
    with pg(db, db["NAME"] or "postgres") as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in DURABILITY_SETTINGS}


def durability_require(db: dict, *, allow_unsafe: bool) -> dict:
    """The server's durability settings; a refusal naming them when any is off (unless allowed)."""
    from django.core.management.base import CommandError

    found = durability(db)
    off = [name for name, value in found.items() if value != "on"]
    if off and not allow_unsafe:
        raise CommandError(
            f"the server at {db['HOST']}:{db['PORT']} runs with {', '.join(f'{n}={found[n]}' for n in off)}: "
            "its figures would not hold in production, where every commit waits for the disk. Start the "
            "durable bench cluster (bench/cluster.sh start; DATABASE_URL=postgis://zerowaste:zerowaste@"
            "127.0.0.1:54330/zerowaste) or pass --allow-unsafe to measure anyway."
        )
    return {**found, "durable": not off}


def durability_line(found: dict) -> str:
    settings = ", ".join(f"{name}={found[name]}" for name in DURABILITY_SETTINGS)
    verdict = "durable" if found.get("durable") else "NOT DURABLE (--allow-unsafe): figures are not production figures"
    return f"PostgreSQL {settings}: {verdict}"


def add_common_arguments(parser) -> None:
    parser.add_argument(
        "--allow-unsafe",
        action="store_true",
        help="run even when fsync, synchronous_commit or full_page_writes is off (figures not comparable)",
    )


def database_create(db: dict, name: str) -> None:
    from psycopg import sql

    with pg(db, "postgres") as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with pg(db, name) as bench:
        bench.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def database_drop(db: dict, name: str) -> None:
    from psycopg import sql

    with pg(db, "postgres") as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_use(name: str) -> None:
    """Points this process's default connection at the bench database (as Django's test runner does)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    connection = connections["default"]
    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)


def database_leave(db: dict) -> None:
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    connection.close()
    settings.DATABASES["default"]["NAME"] = db["NAME"]
    connection.settings_dict["NAME"] = db["NAME"]


def ratio_line(
    label: str, ours: float, baseline: float, target: float, *, unit: str = "", base_label: str = ""
) -> dict:
    """One target row: figure, baseline, ratio, target ratio, met or not."""
    ratio = ours / baseline if baseline else 0.0
    return {
        "figure": label,
        "value": ours,
        "unit": unit,
        "baseline": baseline,
        "baseline_label": base_label,
        "ratio": round(ratio, 3),
        "target": target,
        "met": ratio >= target,
    }


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and value >= 1000:
        value = f"{value:,.0f}"
    return f"{value}{unit}"


def print_targets(out, rows: list[dict]) -> None:
    """Each target: the figure, its baseline from the same run, the ratio, the target, met or not."""
    out.write(f"{'figure':<36} {'zerowaste':>18} {'baseline':>12}  {'':<34} {'ratio':>7} {'target':>9}  result\n")
    for t in rows:
        target = t["target"] if isinstance(t["target"], str) else f">= {t['target']:.2f}"
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.2f}"
        out.write(
            f"{t['figure']:<36} {_fmt(t['value'], ' ' + t['unit']):>18} {_fmt(t['baseline']):>12}  "
            f"{t['baseline_label']:<34} {ratio:>7} {target:>9}  {'met' if t['met'] else 'NOT MET'}\n"
        )
