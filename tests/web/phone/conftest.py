"""Fixtures of the driver's phone app (/m/): a 360×740 touch phone in Chinese with its position, a
second Chromium whose fake camera shows a label's QR code, a driver with today's round, and signing
the phone in.

- ``page``: tests/web/conftest.py's guarded page (console errors and requests leaving 127.0.0.1 fail
  the test), here at 360×740 with touch, zh-CN, geolocation granted at ``POSITION``.
- ``camera_page(qr_text)``: a page in its own Chromium launched with a fake camera that films an MJPEG
  of ``qr_text``'s QR code (the product's QR renderer + Pillow; Chromium reads concatenated JPEG frames), camera and
  geolocation granted. Same guards.
- ``driver_round``: a driver (role driver of the hauler) with a trip today collecting ``n`` batches
  on a consignor-signed manifest: ``SimpleNamespace(driver, codes, trip, manifest)``.
- ``phone_login(page, user, device_name="…")``: signs the phone in through /m/login/ (a device token
  kept in IndexedDB) and waits for the app to open.
- ``poll(check, page=page)``: polls a Python condition (page.wait_for_function is refused by the CSP).
"""

from __future__ import annotations

import datetime
import io
import re
import time
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from PIL import Image

from logistics.models import Pickup, RoutePlan, Trip, TripStop, Vehicle
from tests.factories import MembershipFactory, UserFactory
from tests.logistics.scan_helpers import shipment
from tests.web.conftest import CHROMIUM, LOCAL_HOSTS, PASSWORD
from waste.documents.qr import qr_png
from waste.models import Batch, MemberRole

PHONE = {"width": 360, "height": 740}
POSITION = {"latitude": 39.1255, "longitude": 117.1901}  # Tianjin, inside the test city
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": PHONE,
        "has_touch": True,
        "is_mobile": True,
        "locale": "zh-CN",
        "geolocation": POSITION,
        "permissions": ["geolocation"],
    }


def guard(context, page, live_server):
    """The checks of tests/web/conftest.py's ``page`` on a page of another browser; returns the
    list of problems (the caller asserts it is empty)."""
    problems: list[str] = []
    allowed: list[re.Pattern] = []

    def on_route(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            problems.append(f"request outside 127.0.0.1: {route.request.url}")
            route.abort()

    context.route(re.compile(r".*"), on_route)
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.live_server_url = live_server.url
    page.allow_console = lambda pattern: allowed.append(re.compile(pattern))
    page.set_default_timeout(15_000)
    return lambda: [p for p in problems if not any(a.search(p) for a in allowed)]


def qr_mjpeg(text: str, path, frames: int = 20) -> None:
    """An MJPEG for Chromium's fake camera: ``frames`` JPEGs of the QR code on a 640×480 white card."""
    qr = Image.open(io.BytesIO(qr_png(text, box_size=6))).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    jpeg = io.BytesIO()
    frame.save(jpeg, "JPEG", quality=90)
    path.write_bytes(jpeg.getvalue() * frames)


@pytest.fixture
def camera_page(playwright, live_server, tmp_path, browser_context_args):
    """camera_page(qr_text) → a page whose rear camera films ``qr_text``'s QR code."""
    opened = []

    def _open(qr_text: str):
        video = tmp_path / "label.mjpeg"
        qr_mjpeg(qr_text, video)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = browser.new_context(
            **{**browser_context_args, "permissions": ["geolocation", "camera"]},
        )
        page = context.new_page()
        problems = guard(context, page, live_server)
        opened.append((browser, problems))
        return page

    yield _open
    for browser, problems in opened:
        browser.close()
        found = problems()
        assert not found, "\n".join(found)


@pytest.fixture
def driver_round(transactional_db, catalogs):
    """driver_round(city, n=2) → a driver with today's trip collecting n batches of 100 kg."""

    def _make(city, n: int = 2):
        codes, number = shipment(city, n)
        driver = UserFactory(username="driver")
        MembershipFactory(user=driver, organisation=city.hauler_org, role=MemberRole.DRIVER)
        depot = city.generation_site
        vehicle = Vehicle.objects.create(
            organisation=city.hauler_org,
            plate="津A·12345",
            capacity_kg=Decimal(2000),
            classes=["general", "hazardous"],
            depot=depot,
            shift_start=datetime.time(7),
            shift_end=datetime.time(17),
            cost_per_km=Decimal("2.0"),
            cost_per_hour=Decimal("40"),
        )
        today = timezone.localdate()
        plan = RoutePlan.objects.create(hauler=city.hauler_org, date=today, status="done")
        trip = Trip.objects.create(plan=plan, vehicle=vehicle, driver=driver, date=today, status="planned")
        now = timezone.now()
        for sequence, code in enumerate(codes, start=1):
            batch = Batch.objects.get(code=code)
            pickup = Pickup.objects.create(
                hauler=city.hauler_org,
                requested_by=city.generator_org,
                site=city.generation_site,
                batch=batch,
                waste_code=batch.waste.code,
                waste_class="hazardous",
                quantity_kg=batch.quantity_kg,
                date=today,
                destination=city.transfer,
                status="dispatched",
            )
            TripStop.objects.create(
                trip=trip,
                sequence=sequence,
                kind="pickup",
                pickup=pickup,
                site=city.generation_site,
                eta=now + datetime.timedelta(minutes=20 * sequence),
            )
        return SimpleNamespace(driver=driver, codes=codes, trip=trip, manifest=number)

    return _make


@pytest.fixture
def phone_login():
    def _login(page, user, *, password: str = PASSWORD, device_name: str = "测试手机", next_path: str = "/m/"):
        page.goto(page.live_server_url + "/m/login/?next=" + next_path)
        page.get_by_label(re.compile("用户名|Username")).fill(user.username)
        page.get_by_label(re.compile("^密码|^Password")).fill(password)
        page.get_by_label(re.compile("这部手机的名称|Name of this phone")).fill(device_name)
        page.get_by_role("button", name=re.compile("登录|Sign in")).click()
        page.wait_for_url(lambda url: urlparse(url).path != "/m/login/")
        page.wait_for_load_state()
        return page

    return _login


@pytest.fixture
def poll():
    """poll(check, page=…): the page waits between checks, so Playwright keeps serving the page's
    requests (the route that guards them runs in this thread) while the condition is awaited."""

    def _poll(check, *, page, timeout_ms: int = 15_000, message="condition not met in time"):
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            value = check()
            if value:
                return value
            assert time.monotonic() < deadline, message() if callable(message) else message
            page.wait_for_timeout(100)

    return _poll
