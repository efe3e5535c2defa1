"""Road distances from pgRouting (PostGIS only), and the matrices the planner uses, cached."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext as _

from logistics.routing import Matrices, build_matrices
from waste.dbroles import as_owner, grants_apply
from waste.errors import AppError

log = logging.getLogger(__name__)

SCHEMA = "roads"  # osm2pgrouting's tables live here, apart from Django's
# A point farther than this from the nearest road vertex is not on the network: its cells are missing.
SNAP_LIMIT_M = 1000.0
CACHE_SECONDS = 24 * 3600


def road_network_version() -> str | None:
    """An id of the loaded network (changes on every import), or None when there is none."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s), to_regclass(%s)", [f"{SCHEMA}.ways", f"{SCHEMA}.network"])
        ways, meta = cursor.fetchone()
        if not ways:
            return None
        if not meta:
            return "unversioned"
        cursor.execute(f"SELECT version FROM {SCHEMA}.network ORDER BY imported_at DESC LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else "unversioned"


def _nearest_vertices(points: Sequence[tuple[float, float]]) -> list[int | None]:
    out: list[int | None] = []
    with connection.cursor() as cursor:
        for lon, lat in points:
            cursor.execute(
                f"SELECT id, ST_DistanceSphere(the_geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) "
                f"FROM {SCHEMA}.ways_vertices_pgr "
                f"ORDER BY the_geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) LIMIT 1",
                [lon, lat, lon, lat],
            )
            row = cursor.fetchone()
            out.append(row[0] if row and row[1] <= SNAP_LIMIT_M else None)
    return out


def _cost_matrix(vertices: list[int], cost: str, reverse: str) -> dict[tuple[int, int], float]:
    edges = f"SELECT gid AS id, source, target, {cost} AS cost, {reverse} AS reverse_cost FROM {SCHEMA}.ways"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix(%s, %s::bigint[], true)", [edges, vertices]
        )
        return {(a, b): c for a, b, c in cursor.fetchall()}


def pgrouting_fetch(points: Sequence[tuple[float, float]]):
    """(metres, seconds) between the points' nearest road vertices; None where there is no path."""
    vids = _nearest_vertices(points)
    distinct = sorted({v for v in vids if v is not None})
    metres = _cost_matrix(distinct, "length_m", "CASE WHEN reverse_cost < 0 THEN -1 ELSE length_m END")
    seconds = _cost_matrix(distinct, "cost_s", "reverse_cost_s")

    def cell(table, a, b):
        if a is None or b is None:
            return None
        return 0.0 if a == b else table.get((a, b))

    dist = [[cell(metres, a, b) for b in vids] for a in vids]
    dur = [[cell(seconds, a, b) for b in vids] for a in vids]
    return dist, dur


def matrices_for(points: Sequence[tuple[float, float]]) -> Matrices:
    """Road matrices when a network is loaded, straight-line otherwise; cached per point set."""
    version = road_network_version() if getattr(settings, "ROUTING_USE_ROADS", True) else None
    fallback = getattr(settings, "ROUTING_ROAD_FALLBACK", "straight_line")
    rounded = [(round(lon, 6), round(lat, 6)) for lon, lat in points]
    key = "routing:matrix:" + hashlib.sha256(json.dumps([version, fallback, rounded]).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    if version is None:
        matrices = build_matrices(points, cache=None)
    else:
        matrices = build_matrices(points, fetch=pgrouting_fetch, fallback=fallback, cache=None, cache_tag=version)
    cache.set(key, matrices, CACHE_SECONDS)
    return matrices


def roads_import(*, path: Path, mapconfig: Path | None = None) -> dict:
    """Load an OSM extract (.osm, or .pbf converted with osmium) into the ``roads`` schema, as the owner
    role (it creates a schema and tables), which then grants the application role its reads."""
    with as_owner():
        result = _roads_import(path=path, mapconfig=mapconfig)
        grants_apply()
    return result


def _roads_import(*, path: Path, mapconfig: Path | None) -> dict:
    if connection.vendor != "postgresql":
        raise AppError(_("Road networks need PostgreSQL with PostGIS and pgRouting."), code="not_postgis")
    if not path.exists():
        raise AppError.field("file", _("%(path)s does not exist.") % {"path": path})
    for tool in ("osm2pgrouting",) + (("osmium",) if path.suffix == ".pbf" else ()):
        if shutil.which(tool) is None:
            package = "osmium-tool" if tool == "osmium" else tool
            raise AppError(
                _("%(tool)s is not installed (Debian: apt-get install %(package)s).")
                % {"tool": tool, "package": package},
                code="missing_tool",
            )
    db = connection.settings_dict
    with tempfile.TemporaryDirectory() as tmp:
        osm = path
        if path.suffix == ".pbf":
            osm = Path(tmp) / (path.stem + ".osm")
            subprocess.run(["osmium", "cat", "--overwrite", "-o", str(osm), str(path)], check=True, capture_output=True)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
        command = [
            "osm2pgrouting",
            "-f",
            str(osm),
            "--schema",
            SCHEMA,
            "--clean",
            "-d",
            db["NAME"],
            "-U",
            db["USER"] or "postgres",
            "-h",
            db["HOST"] or "localhost",
            "-p",
            str(db["PORT"] or 5432),
        ]
        if mapconfig:
            command += ["-c", str(mapconfig)]
        env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
        if db["PASSWORD"]:  # osm2pgrouting sends an empty password unless given one
            command += ["-W", db["PASSWORD"]]
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise AppError(
                _("osm2pgrouting failed: %(value)s") % {"value": (done.stderr or done.stdout)[-500:]},
                code="import_failed",
            )
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:16] + f"-{os.urandom(4).hex()}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.network "
            "(version text PRIMARY KEY, source text, imported_at timestamptz DEFAULT now())"
        )
        cursor.execute(f"INSERT INTO {SCHEMA}.network (version, source) VALUES (%s, %s)", [version, path.name])
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.ways")
        ways = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.ways_vertices_pgr")
        vertices = cursor.fetchone()[0]
    return {"version": version, "ways": ways, "vertices": vertices}


def road_path(a: tuple[float, float], b: tuple[float, float]) -> list[list[float]] | None:
    """The fastest road path from ``a`` to ``b`` (pgr_dijkstra on the loaded network) as [lon, lat]
    coordinates, starting at ``a`` and ending at ``b``; None without a network or without a path.
    Cached per network version, like the matrices."""
    version = road_network_version()
    if version is None:
        return None
    key = "routing:path:" + hashlib.sha256(json.dumps([version, a, b]).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached or None  # [] caches "no path"
    start, end = _nearest_vertices([a, b])
    coords: list[list[float]] = []
    if start is not None and end is not None:
        coords = [list(a)]
        if start != end:
            edges = (
                f"SELECT gid AS id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM {SCHEMA}.ways"
            )
            with connection.cursor() as cursor:
                # Each edge oriented the way it is driven: pgr_dijkstra's ``node`` is where the edge starts.
                cursor.execute(
                    "SELECT ST_AsGeoJSON(CASE WHEN p.node = w.source THEN w.the_geom ELSE ST_Reverse(w.the_geom) END) "
                    f"FROM pgr_dijkstra(%s, %s::bigint, %s::bigint, true) p JOIN {SCHEMA}.ways w ON w.gid = p.edge "
                    "ORDER BY p.path_seq",
                    [edges, start, end],
                )
                rows = cursor.fetchall()
            if not rows:
                coords = []
            for (geometry,) in rows:
                for point in json.loads(geometry)["coordinates"]:
                    if coords[-1] != point:
                        coords.append(point)
        if coords:
            coords.append(list(b))
    cache.set(key, coords, CACHE_SECONDS)
    return coords or None
