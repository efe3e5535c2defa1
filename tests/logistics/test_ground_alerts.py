"""Ground-control warnings from a day of the demo fleet's positions, and the positions' day partitions."""

from __future__ import annotations

import datetime
import random
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from logistics.models import Vehicle, VehiclePosition, VehicleStop
from logistics.routing import haversine_m
from logistics.selectors import site_at
from logistics.services.positions import partitions_ensure, partitions_list, positions_partitions_maintain
from tests.conftest import client_for
from tests.logistics.ground_helpers import BASE, ago, east, fix, load_truck, trip_for, truck
from waste.alerts.services import alerts_scan
from waste.demo import seed_demo_city
from waste.models import Alert

pytestmark = pytest.mark.django_db

FIELD = (117.2650, 39.1830)  # farmland north-east of the city centre, no site within kilometres


def _day(v, start: datetime.datetime, rng: random.Random, visits: list[tuple[tuple, int]]) -> list[dict]:
    """Twelve hours of a vehicle, a point a minute: from its depot it drives (500 m a minute) to each
    (place, minutes) of ``visits`` in turn and stands there that long, then goes home and stays. A few
    metres of GPS noise on every point."""
    here = (v.depot.location.x, v.depot.location.y)
    queue = [*visits, (here, 0)]
    target, stay = queue.pop(0)
    points = []
    for minute in range(12 * 60):
        metres = haversine_m(here, target)
        if metres > 1:
            step = min(1.0, 500 / metres)
            here = (here[0] + (target[0] - here[0]) * step, here[1] + (target[1] - here[1]) * step)
            speed = 30
        elif stay > 0:
            stay, speed = stay - 1, 0
        else:
            if queue:
                target, stay = queue.pop(0)
            speed = 0
        at = start + datetime.timedelta(minutes=minute)
        noise = 0.00008
        points.append(
            fix(v, at, here[0] + rng.uniform(-noise, noise), here[1] + rng.uniform(-noise, noise), speed=speed)
        )
    return points


@pytest.mark.postgis
def test_it_warns_once_of_the_loaded_truck_standing_in_a_field(catalogs, settings):
    settings.GROUND_STOP_MINUTES = 15
    demo = seed_demo_city(activity=False)
    assert site_at(lon=FIELD[0], lat=FIELD[1]) is None
    jinhuan = SimpleNamespace(
        generator=demo.users["enterprise"],
        generation_site=demo.sites["haihe_plant"],
        transfer=demo.sites["ts_dongli"],
        hauler_org=demo.organisations["jinhuan"],
        hauler=demo.users["hauler"],
    )
    fleet = list(Vehicle.objects.select_related("depot", "organisation").order_by("plate"))
    loaded = next(v for v in fleet if v.organisation == jinhuan.hauler_org)
    load_truck(jinhuan, loaded, quantity="800.000")
    plant = (jinhuan.generation_site.location.x, jinhuan.generation_site.location.y)
    station = (jinhuan.transfer.location.x, jinhuan.transfer.location.y)
    rng = random.Random(12)
    start = ago(hours=12, minutes=5)
    days = {}
    for v in fleet:
        if v == loaded:  # 20 minutes at the plant (a site), 20 in the field, then unloads at the station
            visits = [(plant, 20), (FIELD, 20), (station, 30)]
        else:  # every other truck, empty, has lunch by the road for 40 minutes
            visits = [((v.depot.location.x + 0.03, v.depot.location.y + 0.03), 40), (station, 10)]
        days[v.pk] = _day(v, start, rng, visits)
    senders = {
        o: client_for(demo.users["driver" if o == jinhuan.hauler_org else "cc_driver"])
        for o in {v.organisation for v in fleet}
    }
    raised = []
    # Trackers' gateways upload every hour; the alert scan runs between uploads, as beat would.
    for hour in range(12):
        for v in fleet:
            chunk = days[v.pk][hour * 60 : (hour + 1) * 60]
            answer = senders[v.organisation].post("/api/v1/positions/bulk/", {"positions": chunk}, format="json")
            assert answer.json()["summary"]["created"] == 60, answer.json()["summary"]
        raised.append(alerts_scan(now=start + datetime.timedelta(hours=hour + 1), rules=["vehicle_stopped"]))

    assert VehiclePosition.objects.count() == 12 * 60 * len(fleet)
    assert sum(r["vehicle_stopped"] for r in raised) == 1
    [alert] = Alert.objects.filter(rule="vehicle_stopped")
    assert alert.organisation == jinhuan.hauler_org and alert.severity == "critical"
    assert alert.location.distance(FIELD_POINT()) < 0.001
    assert alert.params["plate"] == loaded.plate and alert.params["load_kg"] == "800.000"
    assert 20 <= alert.params["minutes"] <= 22  # arriving and leaving minutes included
    # The stop at the plant and the others' lunches were dwells too, but not warnings.
    stops = VehicleStop.objects.all()
    assert stops.filter(vehicle=loaded, site=jinhuan.generation_site).exists()
    assert stops.exclude(vehicle=loaded).filter(site__isnull=True, load_kg=0).count() == len(fleet) - 1
    assert alerts_scan(rules=["vehicle_stopped"]) == {"vehicle_stopped": 0}
    # The regulator of the area sees it where it happened, in Chinese.
    regulator = client_for(demo.users["regulator"])
    [zh] = regulator.get("/api/v1/alerts/?rule=vehicle_stopped", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()[
        "results"
    ]
    assert zh["title"] == "载货车辆在场所外停留"
    assert zh["message"].startswith(f"{loaded.plate} 载有 800.000 千克") and "不在任何场所附近" in zh["message"]


def FIELD_POINT():
    from waste.geo import point

    return point(*FIELD)


def test_it_warns_of_a_loaded_truck_gone_silent_and_not_of_an_empty_one(city, catalogs, settings):
    settings.GROUND_SILENT_MINUTES = 20
    loaded = truck(city.hauler_org)
    empty = truck(city.hauler_org, plate="津A·T0002")
    load_truck(city, loaded)
    hauler = client_for(city.hauler)
    for v in (loaded, empty):
        hauler.post("/api/v1/positions/", fix(v, ago(minutes=45), *BASE), format="json")

    first = alerts_scan(rules=["vehicle_silent"])
    again = alerts_scan(rules=["vehicle_silent"])
    hauler.post("/api/v1/positions/", fix(loaded, ago(minutes=1), *BASE), format="json")
    heard = alerts_scan(rules=["vehicle_silent"])

    assert (first, again, heard) == ({"vehicle_silent": 1}, {"vehicle_silent": 0}, {"vehicle_silent": 0})
    [alert] = Alert.objects.filter(rule="vehicle_silent")
    assert alert.params["plate"] == loaded.plate and alert.organisation == city.hauler_org


def _due_east(city):
    v = truck(city.hauler_org)
    trip_for(v, city.hauler, [], city.transfer, path=[list(BASE), [east(BASE[0], 5000), BASE[1]]])  # 5 km east
    return v


def _send(hauler, v, track):
    for minutes, metres_east, lat_offset in track:
        at = east(BASE[0], metres_east)
        answer = hauler.post(
            "/api/v1/positions/", fix(v, ago(minutes=minutes), at, BASE[1] + lat_offset), format="json"
        )
        assert answer.status_code == 201, answer.content


def test_it_warns_once_of_a_truck_off_its_planned_route(city, settings):
    settings.GROUND_OFF_ROUTE_M, settings.GROUND_OFF_ROUTE_POINTS = 500, 3
    v = _due_east(city)
    hauler = client_for(city.hauler)
    _send(hauler, v, [(9, 2000, 0.002), (8, 2200, 0.009)])  # about 220 m, then 1 km north of the road
    two_off = alerts_scan(rules=["off_route"])
    _send(hauler, v, [(7, 2400, 0.010), (6, 2500, 0.011)])
    off = alerts_scan(rules=["off_route"])
    _send(hauler, v, [(5, 2600, 0.012)])
    still_off = alerts_scan(rules=["off_route"])

    assert (two_off, off, still_off) == ({"off_route": 0}, {"off_route": 1}, {"off_route": 0})
    [alert] = Alert.objects.filter(rule="off_route")
    assert 1100 <= alert.params["metres"] <= 1300  # the farthest point of the three in a row


def test_it_does_not_warn_of_one_stray_fix_off_the_route(city, settings):
    settings.GROUND_OFF_ROUTE_M, settings.GROUND_OFF_ROUTE_POINTS = 500, 3
    v = _due_east(city)
    hauler = client_for(city.hauler)
    # A GPS glitch 2 km north between points on the road; then the newest point is off, alone.
    _send(hauler, v, [(6, 1000, 0.0), (5, 1100, 0.018), (4, 1200, 0.0), (3, 1300, 0.0), (1, 1400, 0.018)])

    assert alerts_scan(rules=["off_route"]) == {"off_route": 0}
    assert not Alert.objects.filter(rule="off_route").exists()


def test_it_warns_of_a_detour_made_between_two_scans(city, settings):
    settings.GROUND_OFF_ROUTE_M, settings.GROUND_OFF_ROUTE_POINTS = 500, 3
    settings.GROUND_OFF_ROUTE_WINDOW_MINUTES = 30
    v = _due_east(city)
    hauler = client_for(city.hauler)
    _send(hauler, v, [(25, 500, 0.0)])
    before = alerts_scan(rules=["off_route"], now=ago(minutes=24))
    # Between two scans ten minutes apart, it leaves the road for four minutes and comes back.
    _send(hauler, v, [(22, 800, 0.0), (20, 900, 0.010), (19, 900, 0.012), (18, 900, 0.011), (17, 900, 0.010)])
    _send(hauler, v, [(16, 1000, 0.0), (15, 1200, 0.0)])
    after = alerts_scan(rules=["off_route"], now=ago(minutes=14))
    # Once the detour has left the window, no scan finds it again (and the alert stays one).
    much_later = alerts_scan(rules=["off_route"], now=ago(minutes=-20))

    assert (before, after, much_later) == ({"off_route": 0}, {"off_route": 1}, {"off_route": 0})
    [alert] = Alert.objects.filter(rule="off_route")
    assert alert.params["plate"] == v.plate and 1200 <= alert.params["metres"] <= 1400


@pytest.mark.postgis
def test_it_keeps_positions_in_day_partitions_made_ahead_and_dropped_after_retention(city, settings):
    settings.POSITION_RETENTION_DAYS = 30
    settings.POSITION_PARTITIONS_AHEAD_DAYS = 3
    v = truck(city.hauler_org)
    hauler = client_for(city.hauler)
    times = [ago(days=2), ago(days=1), ago(minutes=5)]
    answer = hauler.post("/api/v1/positions/bulk/", {"positions": [fix(v, t, *BASE) for t in times]}, format="json")
    assert answer.json()["summary"]["created"] == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, time FROM logistics_vehicleposition ORDER BY time")
        placed = cursor.fetchall()
    assert [name for name, _t in placed] == [
        f"logistics_vehicleposition_p{t.astimezone(datetime.UTC):%Y%m%d}" for t in times
    ]
    old_day = (ago(days=40)).astimezone(datetime.UTC).date()
    partitions_ensure([old_day])

    result = positions_partitions_maintain()

    names = partitions_list()
    today = ago(minutes=0).astimezone(datetime.UTC).date()
    for ahead in range(4):
        assert f"logistics_vehicleposition_p{today + datetime.timedelta(days=ahead):%Y%m%d}" in names
    assert f"logistics_vehicleposition_p{old_day:%Y%m%d}" not in names
    assert result["dropped"] == [f"logistics_vehicleposition_p{old_day:%Y%m%d}"]
    assert VehiclePosition.objects.count() == 3
    # A point older than retention is refused, not written into a partition about to go.
    old = hauler.post("/api/v1/positions/", fix(v, ago(days=31), *BASE), format="json")
    assert old.status_code == 400 and old.json()["error"]["code"] == "too_old"


@pytest.mark.postgis
def test_it_refuses_to_drop_the_positions_of_the_last_30_days_even_to_the_application(city):
    v = truck(city.hauler_org)
    client_for(city.hauler).post("/api/v1/positions/", fix(v, ago(minutes=5), *BASE), format="json")
    today = ago(minutes=0).astimezone(datetime.UTC).date()

    with pytest.raises(Exception, match="last 30 days are kept"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT logistics_position_partition_drop(%s)", [today])

    assert f"logistics_vehicleposition_p{today:%Y%m%d}" in partitions_list()
    assert VehiclePosition.objects.count() == 1
