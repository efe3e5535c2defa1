"""The offline queue (issue 10 item 4) and the device token's life (item 1) in Chromium."""

from __future__ import annotations

import pytest

from tests.web.phone.helpers import controlled, queue, round_saved, type_code
from waste.models import Device, LedgerEntry
from waste.services.devices import device_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pickups(codes) -> int:
    return LedgerEntry.objects.filter(batch__code__in=codes, event_type="picked_up").count()


def at_the_generator(page, city) -> None:
    site = city.generation_site.location
    page.context.set_geolocation({"latitude": site.y, "longitude": site.x})


def test_it_queues_three_scans_offline_and_uploads_them_exactly_once(city, driver_round, page, phone_login, poll, shot):
    round_ = driver_round(city, n=3)
    at_the_generator(page, city)
    phone_login(page, round_.driver, next_path="/m/scan/")
    controlled(page, poll)
    round_saved(page, poll, round_.codes)

    page.allow_console(r"ERR_INTERNET_DISCONNECTED")  # the app's requests while offline
    page.context.set_offline(True)
    page.locator("#net").get_by_text("离线").wait_for()
    for code in round_.codes:
        type_code(page, code)
        assert page.locator("#batch-source").inner_text() == "离线：来自本机保存的今日路线数据。"
        page.get_by_role("button", name="确认收运").click()
        page.get_by_text("已保存在本机，有网络时自动上传。").wait_for()
    shot(page, "offline")
    assert page.locator("#queue-count").inner_text() == "3"

    page.reload()  # offline: the service worker serves the app; the queue is still on the phone
    page.get_by_role("link", name="待传").click()
    page.locator("#queue li").nth(2).wait_for()
    assert [item["state"] for item in queue(page)] == ["waiting"] * 3
    assert page.locator("#waiting-count").inner_text() == "3"
    shot(page, "queue-offline")
    assert pickups(round_.codes) == 0

    page.context.set_offline(False)  # the "online" event uploads the queue
    poll(lambda: pickups(round_.codes) == 3, page=page, message="the queue did not upload")
    poll(lambda: [i["state"] for i in queue(page)] == ["done"] * 3, page=page)
    page.locator("#queue li[data-state=done]").nth(2).wait_for()
    assert page.locator("#waiting-count").inner_text() == "0"
    shot(page, "queue-uploaded")

    # The answers were lost (say the network dropped as they came back): the same queue goes again.
    page.evaluate(
        """window.idb.openDB('zw-phone').then(async (db) => {
             for (const item of await db.getAll('queue')) { item.state = 'waiting'; await db.put('queue', item); }
           })"""
    )
    page.reload()
    page.get_by_role("button", name="立即上传").click()
    poll(lambda: [i["answer"]["status"] for i in queue(page) if i["state"] == "done"] == ["duplicate"] * 3, page=page)
    page.get_by_text("已上传过（不会重复记录）").first.wait_for()
    assert pickups(round_.codes) == 3


def test_it_keeps_the_queue_when_the_device_is_revoked_and_uploads_it_after_signing_in(
    city, driver_round, page, phone_login, poll, shot
):
    round_ = driver_round(city, n=1)
    [code] = round_.codes
    at_the_generator(page, city)
    phone_login(page, round_.driver, next_path="/m/scan/", device_name="12号车手机")
    controlled(page, poll)
    round_saved(page, poll, round_.codes)
    page.allow_console(r"ERR_INTERNET_DISCONNECTED")
    page.context.set_offline(True)
    type_code(page, code)
    page.get_by_role("button", name="确认收运").click()
    page.get_by_text("已保存在本机，有网络时自动上传。").wait_for()

    # Meanwhile the office signs this phone out from the devices page.
    device = Device.objects.get(token__user=round_.driver)
    assert device.name == "12号车手机"
    device_revoke(user=round_.driver, device_id=device.pk)
    page.allow_console(r"status of 401")
    page.context.set_offline(False)

    page.wait_for_url("**/m/login/**")
    page.get_by_text("本机上待上传的扫码已保留，登录后会自动上传。").wait_for()
    shot(page, "signed-out")
    assert [item["state"] for item in queue(page)] == ["waiting"]
    assert pickups([code]) == 0

    phone_login(page, round_.driver, next_path="/m/scan/")
    poll(lambda: pickups([code]) == 1, page=page, message="the kept scan did not upload after signing in")
    assert [item["state"] for item in queue(page)] == ["done"]

    page.get_by_role("link", name="待传").click()
    page.get_by_role("button", name="让这部手机退出登录").click()
    page.wait_for_url("**/m/login/**")
    assert not Device.objects.filter(token__user=round_.driver).exists()
    assert [item["state"] for item in queue(page)] == ["done"]  # the phone keeps what it shows
