"""Vehicle positions: single and bulk, idempotent per (vehicle, time), refusals, tracks and the live fleet."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from logistics.models import VehicleLastPosition, VehiclePosition
from tests.conftest import client_for
from tests.logistics.ground_helpers import BASE, ago, east, fix, load_truck, truck
from tests.logistics.helpers import vehicle
from tests.waste.chain_helpers import second_hauler

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/v1/positions/", body, format="json")


def bulk(client, items):
    return client.post("/api/v1/positions/bulk/", {"positions": items}, format="json")


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_it_records_a_position_and_answers_a_retry_as_a_duplicate(city):
    v = truck(city.hauler_org)
    hauler = client_for(city.hauler)
    when = ago(minutes=1)
    body = fix(v, when, *BASE, speed=32.5, heading=90, odometer=1200.4)

    first = post(hauler, body)
    again = post(hauler, body)

    assert first.status_code == 201, first.content
    assert first.json() == {"status": "created", "flags": []}
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    stored = VehiclePosition.objects.get(vehicle=v)
    assert (stored.point.x, stored.point.y, stored.speed_kmh, stored.heading, stored.odometer_km) == (
        *BASE,
        32.5,
        90,
        1200.4,
    )
    assert VehicleLastPosition.objects.get(vehicle=v).time == when


def test_it_answers_each_point_of_a_bulk_upload(city):
    v = truck(city.hauler_org)
    other_user, other_org = second_hauler()
    theirs = vehicle(other_org, v.depot, "津A·X9999")
    hauler = client_for(city.hauler)
    t0 = ago(minutes=30)
    items = [
        fix(v, t0, *BASE),
        fix(v, t0 + datetime.timedelta(minutes=1), east(BASE[0], 400), BASE[1]),
        fix(v, t0, *BASE),  # the same point twice in one upload
        fix(theirs, t0, *BASE),  # another hauler's truck
        fix(v, timezone.now() + datetime.timedelta(hours=1), *BASE),  # in the future
        fix(v, t0 + datetime.timedelta(minutes=2), 200.0, 39.0),  # outside the world
        fix(v, t0 + datetime.timedelta(minutes=3), *BASE, speed=-3),
        {"vehicle": v.pk, "point": {"type": "Point", "coordinates": list(BASE)}},  # no time
    ]

    response = bulk(hauler, items)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == {"created": 2, "flagged": 0, "duplicate": 1, "rejected": 5}
    results = body["results"]
    assert [r["status"] for r in results[:3]] == ["created", "created", "duplicate"]
    assert results[3]["error"]["code"] == "unknown_vehicle" and "vehicle" in results[3]["error"]["fields"]
    assert results[4]["error"]["code"] == "future_time" and "time" in results[4]["error"]["fields"]
    assert "point" in results[5]["error"]["fields"]
    assert "speed" in results[6]["error"]["fields"]
    assert "time" in results[7]["error"]["fields"]
    assert VehiclePosition.objects.filter(vehicle=v).count() == 2
    assert not VehiclePosition.objects.filter(vehicle=theirs).exists()
    # The retry of the whole upload writes nothing and says so.
    retry = bulk(hauler, items[:2]).json()
    assert retry["summary"]["duplicate"] == 2 and VehiclePosition.objects.count() == 2


def test_it_refuses_a_single_bad_position_with_the_field_and_writes_nothing(city):
    v = truck(city.hauler_org)
    outsider = client_for(city.outsider)

    theirs = error_of(post(outsider, fix(v, ago(minutes=1), *BASE)), 400)
    future = error_of(post(client_for(city.hauler), fix(v, ago(minutes=-30), *BASE)), 400)
    old = error_of(post(client_for(city.hauler), fix(v, ago(days=400), *BASE)), 400)

    assert theirs["code"] == "unknown_vehicle" and list(theirs["fields"]) == ["vehicle"]
    assert future["code"] == "future_time" and list(future["fields"]) == ["time"]
    assert old["code"] == "too_old"
    assert VehiclePosition.objects.count() == 0


def test_it_refuses_more_than_a_thousand_points(city):
    v = truck(city.hauler_org)
    t0 = ago(hours=3)
    items = [fix(v, t0 + datetime.timedelta(seconds=i), *BASE) for i in range(1001)]

    error = error_of(bulk(client_for(city.hauler), items), 400)

    assert "positions" in error["fields"]
    assert VehiclePosition.objects.count() == 0


def test_it_says_why_in_chinese(city):
    v = truck(city.hauler_org)
    client = client_for(city.outsider)

    response = client.post(
        "/api/v1/positions/", fix(v, ago(minutes=1), *BASE), format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )

    message = error_of(response, 400)["fields"]["vehicle"][0]
    assert message != "No such vehicle of yours." and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_it_flags_an_impossible_jump_and_never_draws_it(city):
    v = truck(city.hauler_org)
    hauler = client_for(city.hauler)
    t0 = ago(minutes=10)
    items = [
        fix(v, t0, *BASE),
        fix(v, t0 + datetime.timedelta(seconds=60), east(BASE[0], 500), BASE[1]),  # 30 km/h
        fix(v, t0 + datetime.timedelta(seconds=90), east(BASE[0], 20_000), BASE[1]),  # 20 km in 30 s
        fix(v, t0 + datetime.timedelta(seconds=150), east(BASE[0], 1000), BASE[1]),  # back on its way
    ]

    body = bulk(hauler, items).json()
    track = hauler.get(f"/api/v1/vehicles/{v.pk}/track/").json()

    assert [r["status"] for r in body["results"]] == ["created", "created", "flagged", "created"]
    assert body["results"][2]["flags"] == ["impossible_speed"]
    assert VehiclePosition.objects.filter(vehicle=v).count() == 4
    assert track["type"] == "Feature" and track["geometry"]["type"] == "LineString"
    xs = [x for x, _y in track["geometry"]["coordinates"]]
    assert xs == pytest.approx([BASE[0], east(BASE[0], 500), east(BASE[0], 1000)])
    assert track["properties"]["flagged"] == 1 and track["properties"]["points"] == 3
    last = VehicleLastPosition.objects.get(vehicle=v)
    assert last.point.x == pytest.approx(east(BASE[0], 1000))


def test_it_answers_a_track_between_two_times_to_those_who_may_see_it(city):
    v = truck(city.hauler_org)
    hauler = client_for(city.hauler)
    t0 = ago(hours=2)
    bulk(hauler, [fix(v, t0 + datetime.timedelta(minutes=i), east(BASE[0], 100 * i), BASE[1]) for i in range(30)])
    start, end = t0 + datetime.timedelta(minutes=10), t0 + datetime.timedelta(minutes=19)

    window = hauler.get(f"/api/v1/vehicles/{v.pk}/track/", {"from": start.isoformat(), "to": end.isoformat()})
    regulator = client_for(city.regulator).get(f"/api/v1/vehicles/{v.pk}/track/")
    outsider = client_for(city.outsider).get(f"/api/v1/vehicles/{v.pk}/track/")
    backwards = hauler.get(f"/api/v1/vehicles/{v.pk}/track/", {"from": end.isoformat(), "to": start.isoformat()})
    garbled = hauler.get(f"/api/v1/vehicles/{v.pk}/track/", {"from": "yesterday"})

    assert window.status_code == 200
    assert len(window.json()["geometry"]["coordinates"]) == 10
    assert datetime.datetime.fromisoformat(window.json()["properties"]["times"][0]) == start
    assert regulator.status_code == 200 and regulator.json()["properties"]["points"] == 30
    assert outsider.status_code == 404
    assert "from" in error_of(backwards, 400)["fields"]
    assert "from" in error_of(garbled, 400)["fields"]


def test_it_shows_the_live_fleet_with_load_and_trip_progress(city, catalogs):
    v = truck(city.hauler_org)
    idle = vehicle(city.hauler_org, v.depot, "津A·T0002")
    code = load_truck(city, v, quantity="480.000")
    hauler = client_for(city.hauler)
    post(hauler, fix(v, ago(minutes=2), east(BASE[0], 300), BASE[1], speed=40))

    live = hauler.get("/api/v1/fleet/live/").json()
    outsider = client_for(city.outsider).get("/api/v1/fleet/live/").json()
    regulator = client_for(city.regulator).get("/api/v1/fleet/live/").json()

    by_plate = {f["properties"]["plate"]: f for f in live["features"]}
    assert set(by_plate) == {v.plate, idle.plate}
    moving = by_plate[v.plate]
    assert moving["geometry"]["coordinates"] == pytest.approx([east(BASE[0], 300), BASE[1]])
    assert moving["properties"]["load_kg"] == "480.000" and moving["properties"]["batches"] == [code]
    assert len(moving["properties"]["manifests"]) == 1
    assert moving["properties"]["trip"]["stops_done"] == 1 and moving["properties"]["trip"]["stops_total"] == 2
    assert moving["properties"]["trip"]["next_stop"]["kind"] == "unload"
    assert 100 <= moving["properties"]["age_seconds"] <= 300
    assert by_plate[idle.plate]["geometry"] is None and by_plate[idle.plate]["properties"]["load_kg"] == "0"
    assert outsider["features"] == []
    assert {f["properties"]["plate"] for f in regulator["features"]} == {v.plate, idle.plate}


def test_it_answers_the_live_fleet_from_the_cache_shared_by_those_who_see_the_same(city, settings):
    from django.contrib.auth import get_user_model

    from waste.models import MemberRole, Membership

    settings.FLEET_LIVE_CACHE_SECONDS = 60
    v = truck(city.hauler_org)
    colleague = get_user_model().objects.create_user("hauler-colleague")
    Membership.objects.create(user=colleague, organisation=city.hauler_org, role=MemberRole.ADMIN)
    hauler = client_for(city.hauler)
    post(hauler, fix(v, ago(minutes=3), *BASE))

    def where(user):
        answer = client_for(user).get("/api/v1/fleet/live/")
        assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
        return {f["properties"]["plate"]: f["geometry"]["coordinates"] for f in answer.json()["features"]}

    before = where(city.hauler)
    post(hauler, fix(v, ago(minutes=1), east(BASE[0], 400), BASE[1]))

    # The same organisation's member: the answer of a moment ago; another scope: its own, fresh one.
    assert where(colleague) == before == {v.plate: pytest.approx(list(BASE))}
    assert where(city.regulator) == {v.plate: pytest.approx([east(BASE[0], 400), BASE[1]])}
    assert where(city.outsider) == {}
    settings.FLEET_LIVE_CACHE_SECONDS = 0
    assert where(colleague) == {v.plate: pytest.approx([east(BASE[0], 400), BASE[1]])}


@pytest.mark.postgis
def test_it_renders_the_live_fleet_in_the_database_as_python_would(city, catalogs):
    import json

    from logistics.selectors import fleet_live_collection, fleet_live_sql

    v = truck(city.hauler_org)
    idle = vehicle(city.hauler_org, v.depot, "津A·T0002")
    code = load_truck(city, v, quantity="480.000")
    # Microseconds with a trailing zero: PostgreSQL would drop it, Python's isoformat keeps six digits.
    at = ago(minutes=2).replace(microsecond=123400)
    post(client_for(city.hauler), fix(v, at, east(BASE[0], 300), BASE[1], speed=40, heading=90))
    now = timezone.now()

    for user in (city.hauler, city.regulator, city.outsider):
        in_database = json.loads(fleet_live_sql(user=user, now=now))
        in_python = json.loads(json.dumps(fleet_live_collection(user=user, now=now)))
        assert in_database == in_python, user
    by_plate = {f["properties"]["plate"]: f["properties"] for f in sql_features(city.hauler, now)}
    assert by_plate[v.plate]["batches"] == [code] and by_plate[v.plate]["trip"]["next_stop"]["kind"] == "unload"
    assert by_plate[idle.plate]["trip"] is None and by_plate[idle.plate]["load_kg"] == "0"


def sql_features(user, now):
    import json

    from logistics.selectors import fleet_live_sql

    return json.loads(fleet_live_sql(user=user, now=now))["features"]


@pytest.mark.postgis
def test_it_keeps_each_vehicles_newest_point_in_a_table_rewritten_without_index_writes(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'logistics_vehiclelastposition'")
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'logistics_vehiclelastposition'")
        options = cursor.fetchone()[0]

    assert len(indexes) == 1 and "(vehicle_id)" in indexes[0], indexes  # the primary key only
    assert options == ["fillfactor=50"]
