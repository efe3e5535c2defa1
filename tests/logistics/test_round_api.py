"""Today's round for the driver's phone: what to collect at each stop, in order, the current stop
flagged, navigation links, and the route as GeoJSON (road-following with a road network loaded)."""

from __future__ import annotations

import pytest

from logistics.models import StopStatus
from logistics.routing import haversine_m
from tests.conftest import client_for
from tests.logistics.round_helpers import round_today
from tests.logistics.test_roads import POINTS, road_network  # noqa: F401 - the fixture
from tests.waste.chain_helpers import batch_new, manifest_new, now_iso, permit

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(city, catalogs):
    """A hazardous batch at the generator's site on a manifest signed by its consignor."""
    permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site, quantity="240.000", generated_at=now_iso(-60))["code"]
    number = manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=[code]
    )
    return code, number


def test_it_lists_today_s_stops_with_what_to_collect_and_the_current_one_flagged(city, shipped):
    code, number = shipped
    trip = round_today(city, batches=[code], stops_at=[(117.25, 39.10)], unload_at=city.transfer)
    first = trip.stops.get(sequence=1)
    first.status = StopStatus.DONE
    first.save()

    body = client_for(trip.driver).get("/api/v1/trips/today/")

    assert body.status_code == 200, body.content
    [today] = body.json()["results"]
    assert today["plate"] == "津A·R0001"
    assert [s["sequence"] for s in today["stops"]] == [1, 2, 3]
    batch_stop, point_stop, unload = today["stops"]
    assert batch_stop["batches"] == [code]
    assert batch_stop["waste"]["code"] == "900-249-08" and batch_stop["waste"]["hazardous"] is True
    assert batch_stop["waste"]["name"]
    assert batch_stop["expected_kg"] == "240.000"
    assert batch_stop["window"] == {"start": "09:00", "end": "11:30"}
    assert batch_stop["manifest"]["number"] == number and batch_stop["manifest"]["consignor_signed"] is True
    assert batch_stop["manifest"]["carriers_signed"] is False
    assert point_stop["batches"] == [] and point_stop["waste"]["code"] == "SW59"
    assert point_stop["waste"]["name"]  # the catalogue's name, not just the code
    assert unload["kind"] == "unload" and unload["expected_kg"] is None
    # The first stop is done: the second is the current one.
    assert today["current_stop"] == 2
    assert [s["current"] for s in today["stops"]] == [False, True, False]
    lon, lat = point_stop["location"]
    assert point_stop["navigation"]["geo"].startswith(f"geo:{lat:.6f},{lon:.6f}")
    assert f"{lat:.6f}" in point_stop["navigation"]["map_url"]
    assert point_stop["eta"]


def test_it_draws_straight_legs_without_a_road_network_and_says_so(city, shipped):
    code, _number = shipped
    trip = round_today(city, batches=[code], stops_at=[(117.25, 39.10)], unload_at=city.transfer)

    [today] = client_for(trip.driver).get("/api/v1/trips/today/").json()["results"]

    route = today["route"]
    assert route["type"] == "FeatureCollection"
    assert route["source"] == "straight_line" and route["road_network"] is False
    legs = [f for f in route["features"] if f["properties"]["kind"] == "leg"]
    assert len(legs) == 4  # depot → 3 stops → depot
    assert all(len(leg["geometry"]["coordinates"]) == 2 for leg in legs)
    assert [leg["properties"]["to"] for leg in legs] == [1, 2, 3, None]
    points = [f for f in route["features"] if f["geometry"]["type"] == "Point"]
    assert [p["properties"]["sequence"] for p in points] == [1, 2, 3]


def test_it_shows_another_driver_nothing(city, shipped):
    code, _number = shipped
    round_today(city, batches=[code])
    other = round_today(city, username="driver2", plate="津A·R0002")
    [today] = client_for(other.driver).get("/api/v1/trips/today/").json()["results"]
    assert today["stops"] == [] and today["current_stop"] is None


@pytest.mark.postgis
def test_it_follows_the_roads_when_a_road_network_is_loaded(city, road_network):  # noqa: F811
    trip = round_today(city, depot_at=POINTS[0], stops_at=[POINTS[1], POINTS[2]], classes=("general",))

    [today] = client_for(trip.driver).get("/api/v1/trips/today/").json()["results"]

    route = today["route"]
    assert route["road_network"] is True and route["source"] == "road"
    legs = [f for f in route["features"] if f["properties"]["kind"] == "leg"]
    assert len(legs) == 3
    for leg, (a, b) in zip(legs, [(POINTS[0], POINTS[1]), (POINTS[1], POINTS[2]), (POINTS[2], POINTS[0])], strict=True):
        coords = leg["geometry"]["coordinates"]
        assert leg["properties"]["source"] == "road"
        assert len(coords) > 2  # bends with the streets
        assert coords[0] == list(a) and coords[-1] == list(b)
        along = sum(haversine_m(tuple(p), tuple(q)) for p, q in zip(coords, coords[1:], strict=False))
        assert along >= haversine_m(a, b) * 0.99  # never shorter than the straight line


def test_it_answers_a_resent_stop_failure_as_the_first_and_writes_it_once(city, shipped):
    # The phone resends a queued failure whose answer it lost: same key, same body, the first answer;
    # without the key, the second failure of a stop is refused.
    code, _number = shipped
    trip = round_today(city, batches=[code], stops_at=[(117.25, 39.10)])
    driver = client_for(trip.driver)
    url = f"/api/v1/trips/{trip.pk}/stops/2/fail/"

    first = driver.post(url, {"reason": "门关着"}, format="json", HTTP_IDEMPOTENCY_KEY="fail-1")
    again = driver.post(url, {"reason": "门关着"}, format="json", HTTP_IDEMPOTENCY_KEY="fail-1")
    other_body = driver.post(url, {"reason": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="fail-1")
    no_key = driver.post(url, {"reason": "门关着"}, format="json")

    assert first.status_code == 200, first.content
    assert again.status_code == 200 and again.json() == first.json()
    assert other_body.status_code == 409 and "Idempotency-Key" in other_body.json()["error"]["fields"]
    assert no_key.status_code == 409
    stop = trip.stops.get(sequence=2)
    assert stop.status == StopStatus.FAILED and stop.reason == "门关着"
