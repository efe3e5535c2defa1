"""The incident point picker in Chromium: on the citizens' report page a tap on the map sets the point
(the incident is saved there), "use my location" fills it, typed coordinates move the marker."""

from __future__ import annotations

import pytest

from emergency.models import Incident
from logistics.routing import haversine_m
from tests.factories import SiteFactory
from tests.web.helpers import map_drawn
from waste.geo import point
from waste.models import SiteKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Two public sites at opposite corners: the picker's map fits them, so its centre is the middle of the two.
SOUTH_WEST, NORTH_EAST = (117.15, 39.10), (117.25, 39.16)


def _middle() -> tuple[float, float]:
    # Web Mercator's vertical middle of 39.10 and 39.16 is within a few metres of the mean: fine at 100 m.
    return ((SOUTH_WEST[0] + NORTH_EAST[0]) / 2, (SOUTH_WEST[1] + NORTH_EAST[1]) / 2)


def test_it_saves_the_report_where_the_citizen_tapped_the_map(page, context, shot):
    SiteFactory(kind=SiteKind.TRANSFER_STATION, location=point(*SOUTH_WEST), name="东丽转运站")
    SiteFactory(kind=SiteKind.DISPOSAL, location=point(*NORTH_EAST), name="北辰处置场")
    SiteFactory(kind=SiteKind.GENERATION, location=point(117.0, 39.0), name="A private plant")  # not shown
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": 117.2123, "latitude": 39.1345, "accuracy": 20})

    page.goto(page.live_server_url + "/report/")
    page.locator(".point-picker .map[data-loaded]").wait_for(timeout=30_000)
    map_drawn(page)
    picker = page.locator("[data-point-picker]")
    assert page.locator(".map").get_attribute("data-features-sites") == "2"
    lon, lat = page.locator("#id_lon"), page.locator("#id_lat")

    page.get_by_role("button", name="使用我的位置").click()
    _until(page, lambda: lon.input_value() != "")
    assert (float(lon.input_value()), float(lat.input_value())) == pytest.approx((117.2123, 39.1345), abs=1e-6)
    assert "20" in page.locator("[data-picker-status]").inner_text()

    lon.fill("117.18")
    lat.fill("39.11")
    lat.press("Tab")  # typed coordinates move the marker when the field is left
    _until(page, lambda: picker.get_attribute("data-point") == "117.180000,39.110000")
    assert page.locator(".maplibregl-marker").count() == 1

    box = page.locator(".point-picker .map").bounding_box()
    page.locator(".point-picker .map canvas").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    _until(page, lambda: picker.get_attribute("data-point") != "117.180000,39.110000")
    tapped = (float(lon.input_value()), float(lat.input_value()))
    assert haversine_m(tapped, _middle()) < 100
    shot(page, "picked")
    page.locator("#id_kind").select_option("illegal_dumping")
    page.locator("#id_description").fill("河边倾倒的建筑垃圾")
    page.get_by_role("button", name="发送举报").click()
    page.wait_for_load_state()

    incident = Incident.objects.get()
    assert haversine_m((incident.point.x, incident.point.y), _middle()) < 100
    assert incident.kind == "illegal_dumping" and incident.public
    shot(page, "thanks")


def _until(page, ready, timeout_ms: int = 15_000) -> None:
    waited = 0
    while not ready():
        assert waited < timeout_ms, "the picker did not answer"
        page.wait_for_timeout(100)
        waited += 100
