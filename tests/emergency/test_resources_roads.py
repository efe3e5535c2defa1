"""Ranking with a road network loaded: pgRouting's travel times, not the straight line, order the vehicles."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from logistics.routing import haversine_m
from logistics.services import roads
from tests.conftest import client_for
from tests.emergency.helpers import SPILL, fix, scene, spill
from waste import dbroles

pytestmark = pytest.mark.postgis

# The spill's side of a canal: the truck 800 m north of it stands across the water, and its road runs
# 3.6 km north, 3.5 km west, 4.4 km south and 3.5 km east again (15 km); the truck 3.5 km west drives straight in.
S = SPILL
ACROSS = (S[0], S[1] + 0.0072)
WEST = (S[0] - 0.040, S[1])
BEND_N, BEND_W = (S[0], S[1] + 0.040), (S[0] - 0.040, S[1] + 0.040)
OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <bounds minlat="39.11" minlon="117.15" maxlat="39.17" maxlon="117.21"/>
{nodes}
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="50"/></way>
  <way id="2" version="1"><nd ref="4"/><nd ref="5"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="50"/></way>
</osm>
"""


@pytest.fixture
def canal_roads(transactional_db, tmp_path):
    points = [ACROSS, BEND_N, BEND_W, WEST, S]
    nodes = "\n".join(
        f'  <node id="{i}" version="1" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in enumerate(points, start=1)
    )
    extract = tmp_path / "canal.osm"
    extract.write_text(OSM.format(nodes=nodes))
    call_command("import_roads", str(extract))
    yield
    with dbroles.as_owner(), connection.cursor() as cursor:  # the owner made the schema; only it may drop it
        cursor.execute(f"DROP SCHEMA IF EXISTS {roads.SCHEMA} CASCADE")


def test_it_ranks_by_road_time_the_vehicle_nearer_by_road_first(canal_roads, city, catalogs, settings):
    settings.POSITION_MAX_SPEED_KMH = 100_000  # the scene's trucks are moved here a minute after its points
    s = scene(city)
    hauler = client_for(city.hauler)
    fix(hauler, s.fitted, *ACROSS, minutes_ago=1)  # newer than the scene's points
    fix(hauler, s.farther, *WEST, minutes_ago=1)
    assert haversine_m(ACROSS, S) < haversine_m(WEST, S) / 4  # by the crow, the one across is far nearer
    incident = spill(client_for(city.generator))

    ranked = client_for(city.regulator).get(f"/api/v1/incidents/{incident['id']}/resources/").json()

    first, second = ranked["vehicles"]
    assert (first["plate"], second["plate"]) == (s.farther.plate, s.fitted.plate)
    assert first["by"] == second["by"] == "road"
    assert first["metres"] == pytest.approx(haversine_m(WEST, S), rel=0.03)
    assert second["metres"] == pytest.approx(15_000, rel=0.03)  # the way round the canal
    assert 0 < first["seconds"] < second["seconds"]
    minutes = max(1, round(first["seconds"] / 60))
    assert first["reasons"][0] == f"{minutes} min by road ({first['metres'] / 1000:.1f} km)."
    # Without the network, the same ranking falls back to the crow's order and says so.
    with dbroles.as_owner(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {roads.SCHEMA} CASCADE")
    plain = client_for(city.regulator).get(f"/api/v1/incidents/{incident['id']}/resources/").json()
    assert [v["plate"] for v in plain["vehicles"]] == [s.fitted.plate, s.farther.plate]
    assert plain["vehicles"][0]["by"] == "straight_line"
    assert not any("by road" in r for r in plain["vehicles"][0]["reasons"])
