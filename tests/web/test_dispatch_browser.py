"""The hauler dispatcher in Chromium: the demo city's day planned by the real worker, seen on the map, dispatched."""

from __future__ import annotations

import re

import pytest

from logistics.models import RoutePlan, Trip
from tests.web.helpers import map_drawn
from waste.demo import DEMO_PASSWORD, seed_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db, catalogs, settings):
    settings.ROUTING_SOLVER_SECONDS = 1  # stored in the plan's request, read by the worker
    return seed_demo_city()


def test_it_plans_todays_rounds_shows_them_on_the_map_and_dispatches(page, demo, celery_worker, login, shot):
    jinhuan = demo.organisations["jinhuan"]
    login(page, demo.users["hauler"], DEMO_PASSWORD)
    assert page.url.endswith("/dispatch/")
    assert page.locator("main h1").inner_text() == "收运与路线计划"
    pickups = page.locator("#pickups tbody tr")
    assert pickups.count() == 4  # Jinhuan's open pickups of the demo day, not City Clean's
    assert "Haihe Machinery plant" in page.locator("#pickups").inner_text()
    shot(page, "pickups")

    # Plan today's rounds with both trucks (ticked by default).
    form = page.locator("form", has=page.get_by_role("button", name="计划线路"))
    assert form.get_by_role("checkbox").count() == 2
    form.get_by_role("button", name="计划线路").click()
    page.wait_for_url(re.compile(r"/dispatch/plans/\d+/$"))
    assert page.locator(".job-progress progress").is_visible()
    shot(page, "progress")

    # The progress bar finishes and the page shows the plan: routes on the map, stops with ETA and load.
    page.locator(".map[data-loaded]").wait_for(timeout=90_000)
    routes = page.locator("section.route")
    assert routes.count() >= 1
    first = routes.first
    assert re.search(r"\d{2}:\d{2} 出车", first.locator(".route-facts").inner_text())
    stops = first.locator("table.stops tbody tr")
    assert stops.count() >= 2  # at least one pickup and its unload
    assert re.fullmatch(r"\d{2}:\d{2}", stops.first.locator("td").nth(3).inner_text().strip())
    assert page.locator(".map-legend li").count() >= routes.count()
    map_drawn(page)
    drawn = page.evaluate(
        "[...new Set(document.querySelector('[data-map]')._map"
        ".queryRenderedFeatures({layers: ['routes']}).map((f) => f.properties.title))]"
    )
    plan = RoutePlan.objects.get(hauler=jinhuan)
    assert sorted(drawn) == sorted(r["vehicle"]["plate"] for r in plan.result["routes"])  # each route drawn
    stop = plan.result["routes"][0]["stops"][0]
    x, y = page.evaluate(
        f"(() => {{ const p = document.querySelector('[data-map]')._map.project({stop['location']});"
        " return [p.x, p.y]; })()"
    )
    page.locator(".map canvas").click(position={"x": x, "y": y})
    popup = page.locator(".maplibregl-popup")
    assert stop["site"]["name"] in popup.inner_text() and "预计到达" in popup.inner_text()
    shot(page, "plan")

    # Dispatch: the first truck has its default driver, the second needs one chosen.
    for select in page.locator("select[name^=driver_]").all():
        if not select.input_value():
            select.select_option("driver")
    page.get_by_role("button", name="派车给驾驶员").click()
    assert "已派车" in page.locator(".messages").inner_text()
    assert page.locator("#trips tbody tr").count() == routes.count()
    assert Trip.objects.filter(plan__hauler=jinhuan).count() == routes.count()
    page.locator(".map[data-loaded]").wait_for()
    map_drawn(page)
    shot(page, "dispatched")

    # The fleet, read-only.
    page.get_by_role("link", name="车队").click()
    assert page.locator("main h1").inner_text() == "车队"
    assert "津A·W1001" in page.locator("#vehicles").inner_text()
    assert "津危运字" in page.locator("#licences").inner_text()
    shot(page, "fleet")
