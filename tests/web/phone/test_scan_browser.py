"""The driver's phone in Chromium: camera scanning and the offline queue (issue 10 items 3 and 4)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from logistics.services.scans import Scan, scan_record
from tests.logistics.scan_helpers import shipment
from tests.web.phone.helpers import controlled, queue, type_code
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

    [entry] = poll(lambda: list(pickups(code)), page=page)
    assert entry.location is not None
    assert (round(entry.location.x, 5), round(entry.location.y, 5)) == (round(site.x, 5), round(site.y, 5))
    assert Batch.objects.get(code=code).status == "in_transit"
    assert page.locator("#queue-count").inner_text() == "0"


def test_it_refuses_a_qr_code_from_another_system_and_queues_nothing(
    city, driver_round, camera_page, phone_login, shot
):
    round_ = driver_round(city, n=1)
    page = phone_login(camera_page("https://parcels.example.com/track/8812"), round_.driver, next_path="/m/scan/")

    page.get_by_text("此二维码不是本系统的批次标签，未作任何记录。").wait_for()
    shot(page, "foreign-qr")
    assert page.locator("#batch").is_hidden()
    assert queue(page) == []
    assert page.locator("#queue-count").inner_text() == "0"


def test_it_warns_of_a_batch_not_on_todays_round_and_refuses_a_weight_out_of_range(
    city, driver_round, page, phone_login, shot
):
    round_ = driver_round(city, n=1)
    [elsewhere], _number = shipment(city, 1)  # on a manifest of this hauler, but on no trip today
    phone_login(page, round_.driver, next_path="/m/scan/")

    page.get_by_label("或输入标签上的编码").fill("HELLO-123")
    page.get_by_role("button", name="查询").click()
    page.get_by_text("这不是批次编码：批次编码以 ZW 开头，共 14 个字符。").wait_for()

    type_code(page, elsewhere)
    page.get_by_text("该批次不在今日路线上。收运前请核对标签。").wait_for()
    for weight in ("70000", "0", "-5"):
        page.get_by_label("重量（千克）").fill(weight)
        page.get_by_role("button", name="确认收运").click()
        page.get_by_text("请输入大于 0 且不超过 60,000 千克的重量。").wait_for()
    shot(page, "weight")
    assert queue(page) == []
    assert not pickups(elsewhere).exists()

    page.get_by_role("button", name="扫描下一个标签").click()
    type_code(page, round_.codes[0])
    assert page.locator("#not-on-round").is_hidden()


def test_it_shows_a_batch_already_picked_up_as_refused_online_and_offline_until_dismissed(
    city, driver_round, page, phone_login, poll, shot
):
    round_ = driver_round(city, n=1)
    [code] = round_.codes
    site = city.generation_site.location
    scan_record(
        user=city.hauler,
        scan=Scan(code=code, action="pickup", event_time=timezone.now(), location=site),
    )
    page.context.set_geolocation({"latitude": site.y, "longitude": site.x})
    phone_login(page, round_.driver, next_path="/m/scan/")
    controlled(page, poll)  # the queue page must open offline below
    page.allow_console(r"ERR_INTERNET_DISCONNECTED")

    type_code(page, code)
    page.get_by_role("button", name="确认收运").click()
    page.get_by_text("服务器拒绝：该批次已在您的车辆上。").wait_for()
    shot(page, "refused-online")

    page.context.set_offline(True)
    type_code(page, code)
    page.get_by_role("button", name="确认收运").click()
    page.get_by_text("已保存在本机，有网络时自动上传。").wait_for()
    page.get_by_role("link", name="待传").click()
    page.locator("#queue li[data-state=waiting]").wait_for()
    page.context.set_offline(False)

    refused = page.locator("#queue li[data-state=refused]")
    poll(
        lambda: refused.count() == 2,
        page=page,
        message=lambda: (
            f"the refusals did not come back: {queue(page)} {page.url} {page.locator('#flash').inner_text()}"
        ),
    )
    assert refused.first.locator(".answer").inner_text() == "被拒绝：该批次已在您的车辆上。"
    page.reload()  # refused scans stay on the phone until the driver dismisses them
    poll(
        lambda: refused.count() == 2, page=page, message="the refusals were gone after a reload"
    )  # drawn from IndexedDB
    shot(page, "refused-queue")
    refused.first.get_by_role("button", name="知道了").click()
    poll(lambda: refused.count() == 1, page=page)
    assert [item["state"] for item in queue(page)] == ["refused"]
    assert pickups(code).count() == 1


def test_it_refuses_a_batch_at_the_stop_with_a_reason(city, driver_round, page, phone_login, poll, shot):
    round_ = driver_round(city, n=1)
    [code] = round_.codes
    phone_login(page, round_.driver, next_path="/m/scan/")

    type_code(page, code)
    page.get_by_text("拒收该批次").click()
    page.get_by_role("button", name="确认拒收").click()
    page.get_by_text("请说明拒收理由。").wait_for()
    assert queue(page) == []

    page.get_by_label("拒收理由").fill("桶体破损，正在渗漏")
    page.get_by_role("button", name="确认拒收").click()
    page.get_by_text("已记录拒收。").wait_for()
    shot(page, "refused-at-stop")
    stop = round_.trip.stops.get()
    assert (stop.status, stop.reason) == ("failed", "桶体破损，正在渗漏")
    assert not pickups(code).exists()
