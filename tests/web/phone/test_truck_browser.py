"""The driver's phone in Chromium: today's round (list and map, reopened offline), signatures at the
truck (the consignor's PIN on the driver's phone, five wrong PINs lock it, the driver signs as
carrier) and the roadside QR that opens a read-only page without login, which expires."""

from __future__ import annotations

import datetime
import re
import time
from decimal import Decimal
from unittest import mock

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from tests.logistics.round_helpers import round_today
from tests.logistics.scan_helpers import receiving_permit
from waste.models import Manifest, ManifestCarrier, Membership
from waste.roadside import roadside_token
from waste.services.batches import batch_create
from waste.services.manifests import manifest_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PIN = "482915"


@pytest.fixture
def unsigned(city, catalogs):
    """Two batches at the generator's gate on a manifest the consignor has not signed yet, on the
    driver's round for today (vehicle 津A·T0001, allowed hazardous waste); the generator has a PIN."""
    receiving_permit(city.transfer)
    codes = [
        batch_create(
            user=city.generator,
            site=city.generation_site,
            waste_code="900-249-08",
            quantity_kg=Decimal("120"),
            generated_at=timezone.now() - datetime.timedelta(hours=2),
        ).code
        for _ in range(2)
    ]
    manifest = manifest_create(
        user=city.generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=[city.hauler_org],
        batches=codes,
    )
    membership = Membership.objects.get(user=city.generator, organisation=city.generator_org)
    membership.set_pin(PIN)
    membership.save()
    trip = round_today(city, batches=codes, unload_at=city.transfer, plate="津A·T0001")
    return trip, manifest.number, codes


def sw_ready(page):
    # Playwright's evaluate goes through the DevTools protocol, not the page's eval (refused by the CSP).
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def test_it_shows_today_s_round_on_a_list_and_a_map_and_reopens_it_offline(
    unsigned, phone_login, page, poll, shot, live_server, settings
):
    trip, number, codes = unsigned
    phone_login(page, trip.driver, next_path="/m/")

    page.locator("#stops li").first.wait_for()
    assert page.locator("#stops li").count() == 3
    first = page.locator("#stops li").first
    assert "下一站" in first.inner_text() and codes[0] in first.inner_text()
    assert "900-249-08" in first.inner_text()
    assert first.locator(".expected").inner_text() == "120 千克"  # written as the scan page writes it
    assert "09:00" in first.inner_text()  # the pickup's time window
    assert first.locator(".nav-geo").get_attribute("href").startswith("geo:")
    assert page.locator("#round-plate").inner_text() == "津A·T0001"
    assert "直线" in page.locator("#route-source").inner_text()  # no road network in this test
    poll(lambda: page.locator(".map[data-loaded='1']").count() == 1, page=page, message="the map was not drawn")
    assert page.locator(".map canvas").count() == 1
    shot(page, "round")

    sw_ready(page)
    page.allow_console(r"ERR_INTERNET_DISCONNECTED")  # the round's API read, answered from IndexedDB
    page.context.set_offline(True)
    page.reload()
    page.locator("#stops li").first.wait_for()
    assert page.locator("#stops li").count() == 3
    assert "离线" in page.locator("#saved-note").inner_text()
    assert page.locator("#net").get_attribute("data-state") == "offline"
    shot(page, "round-offline")
    page.context.set_offline(False)


def test_the_consignor_signs_with_a_pin_on_the_driver_s_page_then_the_driver_as_carrier(
    city, unsigned, phone_login, page, poll, shot
):
    trip, number, _codes = unsigned
    phone_login(page, trip.driver, next_path="/m/")
    page.locator("#stops li").first.locator(".sign-link").click()
    page.wait_for_url(re.compile(r"/m/sign/\?manifest=" + number))
    page.locator("#manifest-number").get_by_text(number).wait_for()
    assert page.locator("#signer").input_value() == "generator"
    page.get_by_label("PIN 码").fill(PIN)
    shot(page, "pin")
    page.get_by_role("button", name="以移出单位身份签字").click()
    page.get_by_text("移出单位已签字。").wait_for()

    manifest = Manifest.objects.get(number=number)
    assert manifest.consignor_signed_by == city.generator and manifest.status == "sealed"
    page.locator("#carrier-form").wait_for()
    assert "津A·T0001" in page.locator("#carrier-vehicle").inner_text()
    page.get_by_role("button", name="以运输单位身份签字").click()
    page.get_by_text("您已以运输单位身份签字。").wait_for()
    page.locator("#all-signed").wait_for()
    shot(page, "signed")
    carrier = ManifestCarrier.objects.get(manifest__number=number)
    assert (carrier.vehicle_plate, carrier.driver, carrier.signed_by) == ("津A·T0001", trip.driver, trip.driver)


def test_five_wrong_pins_lock_it(city, unsigned, phone_login, page, poll, shot, settings):
    assert settings.PIN_FAILURE_LIMIT == 5
    trip, number, _codes = unsigned
    page.allow_console(r"status of 403|status of 423")
    phone_login(page, trip.driver, next_path=f"/m/sign/?manifest={number}")
    page.locator("#manifest-number").get_by_text(number).wait_for()
    sw_ready(page)  # the app's first opening downloads its shell; on a busy machine that can take a while

    for attempt in range(1, 6):
        page.get_by_label("PIN 码").fill("000000")
        page.locator("#consignor-form").get_by_role("button", name="以移出单位身份签字").click()
        poll(lambda a=attempt: Membership.objects.get(user=city.generator).pin_failures == a, page=page)
        page.locator("#flash").get_by_text(re.compile("PIN 码错误")).wait_for()
    page.locator("#flash").get_by_text(re.compile("已锁定")).wait_for()
    assert Membership.objects.get(user=city.generator).pin_locked
    # Locked: the member is no longer offered, and the server refuses even the right PIN.
    page.reload()
    page.locator("#manifest-number").get_by_text(number).wait_for()
    page.locator("#flash").get_by_text(re.compile("锁定")).wait_for()
    assert page.locator("#signer option").count() == 0
    shot(page, "locked")
    from tests.conftest import client_for

    right = client_for(trip.driver).post(
        f"/api/v1/manifests/{number}/sign/", {"role": "consignor", "signer": "generator", "pin": PIN}, format="json"
    )
    assert right.status_code == 423
    assert Manifest.objects.get(number=number).consignor_signed_at is None


def test_the_roadside_qr_opens_without_login_and_expires(
    city, unsigned, phone_login, page, browser, poll, shot, live_server, settings, tmp_path
):
    settings.PUBLIC_BASE_URL = live_server.url
    trip, number, _codes = unsigned
    from waste.services.manifests import manifest_sign

    manifest_sign(user=city.generator, number=number, role="consignor")
    manifest_sign(user=trip.driver, number=number, role="carrier")
    phone_login(page, trip.driver, next_path="/m/load/")
    qr = page.locator(f"section.load[data-number='{number}'] img.qr")
    qr.wait_for()
    poll(lambda: qr.evaluate("img => img.complete && img.naturalWidth > 0"), page=page)
    assert "有效期至" in page.locator(f"section.load[data-number='{number}'] .expires").inner_text()
    shot(page, "load")
    picture = tmp_path / "qr.png"
    qr.screenshot(path=str(picture))
    [decoded] = zxingcpp.read_barcodes(Image.open(picture))
    assert decoded.text.startswith(live_server.url + "/r/")

    inspector = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})  # no login, no token
    control = inspector.new_page()
    response = control.goto(decoded.text)
    assert response.status == 200
    for fact in (number, "津A·T0001", "driver", city.generator_org.name, city.transfer.name, "危险废物转移联单"):
        assert fact in control.locator("#roadside").inner_text(), fact
    shot(control, "control")
    pdf = control.request.get(live_server.url + control.locator("#pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"

    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 60):
        old, _until = roadside_token(Manifest.objects.get(number=number))
    expired = control.goto(f"{live_server.url}/r/{old}/")
    assert expired.status == 410
    assert "已过期" in control.locator("#reason").inner_text()
    assert number not in control.content()
    shot(control, "expired")
    inspector.close()
