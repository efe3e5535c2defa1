"""The driver's phone in Chromium: camera scanning and the offline queue (issue 10 items 3 and 4)."""

from __future__ import annotations

import pytest

from waste.labels import public_url
from waste.models import Batch, LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pickups(code: str):
    return LedgerEntry.objects.filter(batch__code=code, event_type="picked_up")


def test_it_scans_a_pickup_with_the_camera_and_the_ledger_holds_it_with_the_position(
    city, driver_round, camera_page, phone_login, poll, shot, live_server, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    round_ = driver_round(city, n=1)
    [code] = round_.codes
    site = city.generation_site.location
    page = camera_page(public_url(code))
    page.context.set_geolocation({"latitude": site.y, "longitude": site.x})  # at the generator's gate
    phone_login(page, round_.driver, next_path="/m/scan/")

    page.get_by_text("从服务器读取。").wait_for()
    shot(page, "batch")
    assert page.locator("#batch-code").inner_text() == code
    assert "100" in page.locator("#batch-quantity").inner_text()
    assert page.locator("#batch-generator").inner_text() == city.generator_org.name
    page.get_by_role("button", name="确认收运").click()
    page.get_by_text("已记录收运。").wait_for()
    shot(page, "recorded")

    [entry] = poll(lambda: list(pickups(code)))
    assert entry.location is not None
    assert (round(entry.location.x, 5), round(entry.location.y, 5)) == (round(site.x, 5), round(site.y, 5))
    assert Batch.objects.get(code=code).status == "in_transit"
    assert page.locator("#queue-count").inner_text() == "0"
