"""The command view in Chromium: vehicles on the live map move as positions arrive, the open spill,
its page with the ranked resources and the timeline, and a dispatch from it."""

from __future__ import annotations

import pytest

from logistics.models import Trip
from tests.conftest import client_for
from tests.emergency.helpers import SPILL, east, fix, scene, spill
from tests.web.helpers import map_drawn

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(viewport={"width": 1280, "height": 900}),
]


def _attribute(page, name: str, wanted, timeout_ms: int = 20_000) -> str:
    """Polled from Python (the CSP refuses page.wait_for_function's eval)."""
    waited = 0
    while True:
        value = page.locator(".map").first.get_attribute(name)
        if value is not None and wanted(value):
            return value
        assert waited < timeout_ms, f"{name} is {value!r}"
        page.wait_for_timeout(200)
        waited += 200


def test_it_shows_vehicles_moving_the_incident_and_its_timeline_and_dispatches(page, city, catalogs, login, shot):
    s = scene(city)
    incident = spill(client_for(city.generator))

    login(page, city.regulator)
    page.goto(page.live_server_url + "/command/")
    assert page.locator("main h1").inner_text() == "应急指挥"
    page.locator(".map[data-loaded]").wait_for(timeout=30_000)
    map_drawn(page)
    assert page.locator(".map").get_attribute("data-features-vehicles") == "4"
    assert page.locator(".map").get_attribute("data-features-incidents") == "1"
    assert "泄漏" in page.locator("#incidents").inner_text()
    shot(page, "command-map")

    # The fitted truck drives on; the next poll moves it on the map.
    fix(client_for(city.hauler), s.fitted, east(50), minutes_ago=0)  # 750 m in 2 min
    before = int(page.locator(".map").get_attribute("data-refreshed") or 0)
    _attribute(page, "data-refreshed", lambda v: int(v) > before)
    lon = page.evaluate(
        "document.querySelector('[data-map]')._map.querySourceFeatures('src-vehicles')"
        f".filter((f) => f.properties.title === '{s.fitted.plate}').map((f) => f.geometry.coordinates[0])[0]"
    )
    assert lon == pytest.approx(east(50), abs=2e-4)
    shot(page, "moved")

    page.locator("#incidents a").first.click()
    page.wait_for_url(f"**/command/incidents/{incident['id']}/")
    rows = page.locator("#vehicles tbody tr")
    assert rows.count() == 2 and s.fitted.plate in rows.first.inner_text()
    assert s.permitted.name in page.locator("#sites tbody tr").first.inner_text()
    assert page.locator("#timeline li").count() == 1 and "已报告" in page.locator("#timeline").inner_text()
    shot(page, "incident")

    rows.first.get_by_role("button", name="调度").click()
    page.wait_for_load_state()
    assert page.locator("#timeline li").count() == 2
    assert s.fitted.plate in page.locator("#timeline li").nth(1).inner_text()
    assert "已派遣资源" in page.locator("main h1").inner_text()
    assert Trip.objects.filter(vehicle=s.fitted, driver=s.ana).count() == 1
    assert SPILL[1] == pytest.approx(39.12)
    shot(page, "dispatched")
