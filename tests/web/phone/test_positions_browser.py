"""The driver's phone shares its position while a trip is open (issue 12 item 1), and the dispatched
driver answers an incident's stop (item 2), in Chromium with Playwright's geolocation."""

from __future__ import annotations

import re

import pytest

from emergency.models import IncidentEntry
from logistics.models import Trip, VehiclePosition
from tests.conftest import client_for
from tests.emergency.helpers import scene, spill
from tests.web.phone.helpers import type_code
from waste.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORED_JS = "window.idb.openDB('zw-phone').then((db) => db.getAll('positions'))"
STEP = 0.0004  # degrees of latitude, about 44 m: each point is kept (20 m moved) and drawn (about 60 km/h)


@pytest.fixture(autouse=True)
def _quick_uploads(settings):
    settings.PHONE_POSITIONS_UPLOAD_SECONDS = 2  # 30 s on a phone


def at(page, lat: float, lon: float) -> None:
    page.context.set_geolocation({"latitude": lat, "longitude": lon})


def drive(page, start, steps: int) -> list[tuple[float, float]]:
    """Moves the phone ``steps`` times north from ``start`` (lon, lat), 2.6 s apart (the app keeps at
    most one point per 2 s); returns the points driven through."""
    lon, lat = start
    points = []
    for i in range(1, steps + 1):
        page.wait_for_timeout(2600)
        points.append((lon, lat + i * STEP))
        at(page, lat + i * STEP, lon)
    page.wait_for_timeout(2600)
    return points


def stored(page) -> list[dict]:
    return page.evaluate(STORED_JS)


def track(user, vehicle) -> dict:
    answer = client_for(user).get(f"/api/v1/vehicles/{vehicle.pk}/track/")
    assert answer.status_code == 200, answer.content
    return answer.json()


def near(a, b) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


def test_it_sends_the_positions_of_an_open_trip_for_its_vehicle(city, driver_round, page, phone_login, poll, shot):
    round_ = driver_round(city, n=2)
    vehicle = round_.trip.vehicle
    start = (city.generation_site.location.x, city.generation_site.location.y)
    at(page, start[1], start[0])
    phone_login(page, round_.driver)
    page.locator("#tracking[data-state=on]").wait_for()
    assert "位置共享已开启" in page.locator("#tracking-state").inner_text()
    assert "津A·12345" in page.locator("#tracking-state").inner_text()
    assert "只在您今天有未完成的车次时" in page.locator("#privacy").inner_text()

    driven = drive(page, start, 4)

    def sent():
        coordinates = (track(round_.driver, vehicle)["geometry"] or {}).get("coordinates", [])
        return all(any(near(c, p) for c in coordinates) for p in driven) and coordinates

    coordinates = poll(sent, page=page, message=lambda: f"not on the track: {track(round_.driver, vehicle)}")
    feature = track(round_.driver, vehicle)
    assert feature["properties"]["flagged"] == 0 and feature["properties"]["plate"] == "津A·12345"
    assert coordinates[0] == pytest.approx(list(start))  # the first point: where the trip was opened
    assert VehiclePosition.objects.filter(vehicle=vehicle).count() == len(coordinates)  # nothing else, once each
    poll(lambda: stored(page) == [], page=page)
    page.locator("#tracking-waiting").filter(has_text="0 个位置点待上传").wait_for()
    assert re.search(r"最近上传 \d\d:\d\d", page.locator("#tracking-sent").inner_text())
    shot(page, "round-location-status")


def test_it_keeps_points_offline_and_uploads_them_once_back_online(city, driver_round, page, phone_login, poll, shot):
    round_ = driver_round(city, n=1)
    vehicle = round_.trip.vehicle
    start = (city.generation_site.location.x, city.generation_site.location.y)
    at(page, start[1], start[0])
    phone_login(page, round_.driver)
    page.locator("#tracking[data-state=on]").wait_for()
    poll(lambda: VehiclePosition.objects.filter(vehicle=vehicle).count() >= 1 and stored(page) == [], page=page)
    online = VehiclePosition.objects.filter(vehicle=vehicle).count()

    page.allow_console(r"ERR_INTERNET_DISCONNECTED")
    page.context.set_offline(True)
    drive(page, start, 3)
    waiting = stored(page)
    assert len(waiting) >= 3 and {p["vehicle"] for p in waiting} == {vehicle.pk}
    assert VehiclePosition.objects.filter(vehicle=vehicle).count() == online  # nothing went up
    page.locator("#tracking-waiting").filter(has_text=re.compile(rf"{len(waiting)} 个位置点待上传")).wait_for()
    shot(page, "offline-points-waiting")

    page.context.set_offline(False)  # the "online" event uploads them
    poll(lambda: stored(page) == [], page=page, message="the points did not go up")
    after = VehiclePosition.objects.filter(vehicle=vehicle).count()
    assert after == online + len(waiting)
    times = {p.time.isoformat().replace("+00:00", "") for p in VehiclePosition.objects.filter(vehicle=vehicle)}
    assert all(p["time"].replace("Z", "").rstrip("0").rstrip(".") in {t.rstrip("0").rstrip(".") for t in times}
               for p in waiting)  # fmt: skip

    # The answer was lost (say the network dropped as it came back): the same points go up again.
    page.evaluate(
        """(points) => window.idb.openDB('zw-phone').then(async (db) => {
             for (const p of points) await db.put('positions', p);
           })""",
        waiting,
    )
    page.evaluate("window.dispatchEvent(new Event('online'))")
    poll(lambda: stored(page) == [], page=page)
    assert VehiclePosition.objects.filter(vehicle=vehicle).count() == after  # duplicates, not written twice


def test_it_sends_nothing_without_an_open_trip(city, driver_round, page, phone_login, poll):
    round_ = driver_round(city, n=1)
    Trip.objects.filter(pk=round_.trip.pk).update(status="done")  # the round of today is finished
    at(page, city.generation_site.location.y, city.generation_site.location.x)
    phone_login(page, round_.driver)
    page.locator("#tracking[data-state=off]").wait_for()
    assert "位置共享已关闭" in page.locator("#tracking-state").inner_text()
    drive(page, (city.generation_site.location.x, city.generation_site.location.y), 2)
    page.wait_for_timeout(2500)  # an upload tick and a reading of the round have passed
    assert stored(page) == []
    assert VehiclePosition.objects.count() == 0


def test_it_says_location_is_refused_and_scanning_still_works(city, driver_round, page, phone_login, poll):
    round_ = driver_round(city, n=1)
    page.context.clear_permissions()  # the driver refused location to the app
    phone_login(page, round_.driver, next_path="/m/scan/")
    page.locator("#tracking[data-state=denied]").wait_for()
    assert "本机拒绝提供位置" in page.locator("#tracking-state").inner_text()
    assert "扫描仍可使用" in page.locator("#tracking-state").inner_text()

    type_code(page, round_.codes[0])
    page.get_by_role("button", name="确认收运").click()
    poll(
        lambda: LedgerEntry.objects.filter(batch__code=round_.codes[0], event_type="picked_up").exists(),
        page=page,
        message="the scan did not reach the ledger",
    )
    assert VehiclePosition.objects.count() == 0


def test_it_lets_the_dispatched_driver_answer_an_incident_stop(city, catalogs, page, phone_login, poll, login, shot):
    s = scene(city)
    incident = spill(client_for(city.generator), description="油桶在路边泄漏")
    answer = client_for(city.regulator).post(
        f"/api/v1/incidents/{incident['id']}/dispatch/", {"vehicle": s.fitted.pk}, format="json"
    )
    assert answer.status_code == 201, answer.content
    page.context.set_geolocation({"latitude": 39.12, "longitude": 117.2})

    phone_login(page, s.ana)
    stop = page.locator("#stops li.incident")
    stop.wait_for()
    assert "泄漏" in stop.locator(".incident-kind").inner_text()
    assert stop.locator(".incident-description").inner_text() == "油桶在路边泄漏"
    assert "39.12000, 117.20000" in stop.locator(".incident-place").inner_text()
    page.locator("#tracking[data-state=on]").wait_for()  # sent to the incident: a trip is open
    shot(page, "incident-stop")

    stop.get_by_role("button", name="已到达现场").click()
    page.get_by_text("已记录：已到达事件现场。").wait_for()
    page.locator("#stops li.incident .incident-arrived").filter(has_text="已记录到达现场。").wait_for()
    stop.get_by_role("button", name="此处完成").click()
    page.get_by_text("已记录：事件现场处置完成。").wait_for()
    poll(lambda: Trip.objects.get(pk=answer.json()["trip"]).status == "done", page=page)
    page.locator("#tracking[data-state=off]").wait_for()  # the trip is finished: no more tracking
    shot(page, "incident-done")

    kinds = list(IncidentEntry.objects.filter(incident_id=incident["id"]).values_list("kind", flat=True))
    assert kinds == ["reported", "dispatch", "arrived", "cleared"]

    # The command view shows it on the incident's timeline.
    login(page, city.regulator)
    page.goto(f"{page.live_server_url}/command/incidents/{incident['id']}/")
    page.get_by_text("车辆已到达现场").first.wait_for()
    page.get_by_text("车辆现场处置完成").first.wait_for()
    shot(page, "incident-timeline")


def test_it_keeps_at_most_five_thousand_points_and_says_the_oldest_were_dropped(
    city, driver_round, page, phone_login, poll
):
    round_ = driver_round(city, n=1)
    vehicle = round_.trip.vehicle
    start = (city.generation_site.location.x, city.generation_site.location.y)
    at(page, start[1], start[0])
    phone_login(page, round_.driver)
    page.locator("#tracking[data-state=on]").wait_for()
    poll(lambda: VehiclePosition.objects.filter(vehicle=vehicle).count() >= 1 and stored(page) == [], page=page)

    page.allow_console(r"ERR_INTERNET_DISCONNECTED")
    page.context.set_offline(True)  # a long day with no network: the phone fills up
    page.evaluate(
        """(vehicle) => window.idb.openDB('zw-phone').then(async (db) => {
             const tx = db.transaction('positions', 'readwrite');
             const base = Date.parse('2026-01-01T00:00:00Z');
             for (let i = 0; i < 5000; i += 1) {
               const time = new Date(base + i * 10000).toISOString();
               const point = { vehicle, time, lon: 117.19, lat: 39.12, speed: null, heading: null };
               tx.store.put({ key: `${time}|${vehicle}`, ...point });
             }
             await tx.done;
           })""",
        vehicle.pk,
    )
    drive(page, start, 1)
    keys = page.evaluate("window.idb.openDB('zw-phone').then((db) => db.getAllKeys('positions'))")
    assert len(keys) == 5000
    assert not any(k.startswith("2026-01-01T00:00:00.000Z") for k in keys)  # the oldest went
    note = page.locator("#tracking-note")
    # One or two (a standing-still reading may have been kept too) of the oldest were dropped.
    note.filter(has_text=re.compile(r"已丢弃最早的 [12] 个位置点：本机最多保存 5000 个。")).wait_for()
