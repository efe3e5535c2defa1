"""Signed-in devices (issue 10 item 1): a named token per phone, listed and revoked from the web frame;
the app's shell, service worker and manifest, with Django's test client."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.web.conftest import PASSWORD
from waste.models import Device

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def sign_in(user, **extra) -> str:
    response = APIClient().post(
        TOKEN_URL,
        {"username": user.username, "password": PASSWORD, **extra},
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14; Pixel 8)",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def web(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_it_names_the_device_a_token_was_issued_to(city):
    token = sign_in(city.hauler, device_name="  12号车手机 ")

    device = Device.objects.get(token__user=city.hauler)
    assert device.name == "12号车手机"
    assert "Android 14" in device.user_agent
    signed_in = device.last_used_at
    assert signed_in is not None

    # A day later (knox renews the token on use, once a minute at most): the device was used now.
    AuthToken.objects.filter(device=device).update(expiry=F("expiry") - datetime.timedelta(days=1))
    Device.objects.filter(pk=device.pk).update(last_used_at=signed_in - datetime.timedelta(days=1))
    assert bearer(token).get("/api/v1/me/").status_code == 200
    device.refresh_from_db()
    assert device.last_used_at >= signed_in


def test_it_signs_in_without_a_device_name(city):
    sign_in(city.hauler)

    assert Device.objects.get(token__user=city.hauler).name == ""


def test_it_rejects_a_device_name_too_long_naming_the_field(city):
    response = APIClient().post(
        TOKEN_URL, {"username": "hauler", "password": PASSWORD, "device_name": "x" * 101}, format="json"
    )

    assert response.status_code == 400
    assert "device_name" in response.json()["error"]["fields"]
    assert not AuthToken.objects.filter(user=city.hauler).exists()


def test_it_lists_only_my_devices_in_force_on_the_devices_page(city):
    sign_in(city.hauler, device_name="12号车手机")
    sign_in(city.hauler, device_name="旧手机")
    AuthToken.objects.filter(device__name="旧手机").update(expiry=timezone.now() - datetime.timedelta(days=1))
    sign_in(city.generator, device_name="别人的手机")

    page = web(city.hauler).get("/account/devices/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "已登录的设备" in html
    assert "12号车手机" in html and "Android 14" in html
    assert "旧手机" not in html  # expired
    assert "别人的手机" not in html


def test_it_revokes_a_device_so_its_token_answers_401(city):
    token = sign_in(city.hauler, device_name="12号车手机")
    device = Device.objects.get(name="12号车手机")

    response = web(city.hauler).post(f"/account/devices/{device.pk}/revoke/", follow=True)

    assert response.status_code == 200
    assert "该设备已退出登录" in response.content.decode()
    assert not Device.objects.filter(pk=device.pk).exists()
    assert bearer(token).get("/api/v1/me/").status_code == 401


def test_it_refuses_to_revoke_another_users_device(city):
    token = sign_in(city.generator, device_name="别人的手机")
    device = Device.objects.get(name="别人的手机")

    response = web(city.hauler).post(f"/account/devices/{device.pk}/revoke/")

    assert response.status_code == 404
    assert bearer(token).get("/api/v1/me/").status_code == 200


def test_it_revokes_only_by_post(city):
    sign_in(city.hauler, device_name="12号车手机")
    device = Device.objects.get(name="12号车手机")

    assert web(city.hauler).get(f"/account/devices/{device.pk}/revoke/").status_code == 405
    assert Device.objects.filter(pk=device.pk).exists()


def test_it_serves_the_app_shells_without_user_data_and_wasm_only_on_the_scan_page(client):
    for path in ("/m/login/", "/m/scan/", "/m/queue/", "/m/", "/m/sign/", "/m/load/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert ("'wasm-unsafe-eval'" in csp) == (path == "/m/scan/")
    assert "待传" in client.get("/m/scan/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "今日路线" in client.get("/m/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_it_serves_a_service_worker_that_precaches_the_shell(client):
    response = client.get("/m/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.content.decode()
    precache = json.loads(body.split("const PRECACHE = ")[1].split(";\n")[0])
    assert {"/m/login/", "/m/scan/", "/m/queue/", "/m/", "/m/sign/", "/m/load/", "/jsi18n/"} <= set(precache)
    assert "/static/vendor/zxing-wasm/zxing_reader.wasm" in precache
    for url in precache:
        assert client.get(url).status_code == 200, url


def test_it_serves_an_installable_manifest_in_the_users_language(client):
    response = client.get("/m/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "无废城市·驾驶员"
    assert manifest["scope"] == "/m/" and manifest["start_url"] == "/m/"
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}


def test_it_answers_401_to_an_expired_device_token_and_forgets_the_device(city):
    token = sign_in(city.hauler, device_name="12号车手机")
    AuthToken.objects.filter(device__name="12号车手机").update(expiry=timezone.now() - datetime.timedelta(minutes=1))

    assert bearer(token).get("/api/v1/me/").status_code == 401
    assert not Device.objects.filter(name="12号车手机").exists()  # knox deleted the expired token
