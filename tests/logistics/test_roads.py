"""Distances: straight-line matrices cached; pgRouting road matrices from a shipped OSM extract."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from logistics.routing import haversine_m
from logistics.services import roads
from waste import dbroles

EXTRACT = Path(settings.BASE_DIR) / "logistics/routing/data/osm/test.osm.pbf"
# Inside the extract's bounding box (26.93,60.52 - 26.97,60.54).
POINTS = [(26.935, 60.525), (26.950, 60.530), (26.965, 60.535), (26.940, 60.538), (26.960, 60.522)]


def test_it_builds_straight_line_matrices_without_a_road_network(db):
    first = roads.matrices_for(POINTS)
    assert first.source.startswith("straight_line")
    assert first.distances[0][1] >= haversine_m(POINTS[0], POINTS[1])
    assert roads.matrices_for(POINTS) == first  # from the cache


@pytest.fixture
def road_network(transactional_db):
    if connection.vendor != "postgresql":
        pytest.fail("pgRouting needs PostgreSQL: this test is marked postgis and runs in the PostGIS pass")
    call_command("import_roads", str(EXTRACT))
    yield
    with dbroles.as_owner(), connection.cursor() as cursor:  # the owner made the schema; only it may drop it
        cursor.execute(f"DROP SCHEMA IF EXISTS {roads.SCHEMA} CASCADE")


@pytest.mark.postgis
def test_it_imports_roads_and_builds_a_road_matrix(road_network):
    version = roads.road_network_version()
    assert version and version != "unversioned"
    dist, dur = roads.pgrouting_fetch(POINTS)
    reachable = [(i, j) for i in range(len(POINTS)) for j in range(len(POINTS)) if i != j and dist[i][j] is not None]
    assert reachable, "no road path between any two points"
    for i, j in reachable:
        assert dist[i][j] >= haversine_m(POINTS[i], POINTS[j]) * 0.95  # roads are never shorter than a crow
        assert dur[i][j] is not None and dur[i][j] > 0
    matrices = roads.matrices_for(POINTS)
    assert matrices.source.startswith("road")
    assert all(cell is not None for row in matrices.distances for cell in row)  # holes filled by default


@pytest.mark.postgis
def test_it_leaves_unreachable_cells_missing_when_asked(road_network, settings):
    settings.ROUTING_ROAD_FALLBACK = "unreachable"
    far = [*POINTS, (27.5, 60.9)]  # off the extract: no vertex near it
    matrices = roads.matrices_for(far)
    assert matrices.distances[0][-1] is None and matrices.unreachable >= 2
