"""The hauler's phone app under /m/: page shells, the service worker and the web app manifest.

Every page here is a shell: it renders only the strings of the request's language, never user data,
so the service worker can cache it and the app opens with no network. Each page's script module
(web/static/web/phone/<page>.js) reads and writes through the REST API with the device's token
(web/static/web/phone/app.js) and keeps what it read in IndexedDB for offline use.

To add a page: a view rendering a template that extends web/phone/base.html, its URL below, and
its URL name in PHONE_PAGES (the service worker precaches those, with PHONE_STATIC).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

# The pages and files the service worker caches when the app is first opened: the ONE list.
PHONE_PAGES = [
    "web:phone-login",
    "web:phone-scan",
    "web:phone-queue",
    "web:phone-round",
    "web:phone-sign",
    "web:phone-load",
]
PHONE_STATIC = [
    "web/phone/phone.css",
    "web/phone/app.js",
    "web/phone/login.js",
    "web/phone/scan.js",
    "web/phone/queue.js",
    "web/phone/icon-192.png",
    "web/phone/icon-512.png",
    "vendor/idb/umd.js",
    "vendor/barcode-detector/ponyfill.js",
    "vendor/zxing-wasm/zxing_reader.wasm",
    "web/phone/round.js",
    "web/phone/sign.js",
    "web/phone/load.js",
    "web/phone/track.js",
    "web/map.js",
    "vendor/maplibre-gl/maplibre-gl-csp.js",
    "vendor/maplibre-gl/maplibre-gl-csp-worker.js",
    "vendor/maplibre-gl/maplibre-gl.css",
]
# WebAssembly (the QR reader) compiles only with this source allowed; only the scan page needs it.
WASM = {"script-src": ["'wasm-unsafe-eval'"]}


def precache_urls() -> list[str]:
    return [reverse(name) for name in PHONE_PAGES] + [reverse("javascript-catalog")] + [static(f) for f in PHONE_STATIC]


@lru_cache(maxsize=1)
def cache_version() -> str:
    """Changes whenever a cached file or the list changes, so phones replace their copy."""
    digest = hashlib.sha256(json.dumps(PHONE_PAGES + PHONE_STATIC).encode())
    for name in PHONE_STATIC:
        found = finders.find(name)
        if found:
            with open(found, "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()[:16]


def phone_config() -> dict:
    """What every page's script needs to know (no user data: the shells are cached)."""
    return {
        "api": "/api/v1/",
        "labelBase": settings.PUBLIC_BASE_URL + "/t/",
        "pages": {
            "round": reverse("web:phone-round"),
            "scan": reverse("web:phone-scan"),
            "queue": reverse("web:phone-queue"),
            "login": reverse("web:phone-login"),
            "sign": reverse("web:phone-sign"),
            "load": reverse("web:phone-load"),
        },
        "serviceWorker": reverse("web:phone-sw"),
        "wasm": static("vendor/zxing-wasm/zxing_reader.wasm"),
        "mapWorker": static("vendor/maplibre-gl/maplibre-gl-csp-worker.js"),
        "language": get_language(),
        "positionsEverySeconds": settings.PHONE_POSITIONS_UPLOAD_SECONDS,
    }


def shell(request, template: str, tab: str, title: str):
    return render(request, template, {"title": title, "tab": tab, "phone_config": phone_config()})


def phone_round(request):
    return shell(request, "web/phone/round.html", "round", _("Today's round"))


def phone_sign(request):
    # The manifest to sign comes in the query (?manifest=<number>), read by sign.js: the shell stays generic.
    return shell(request, "web/phone/sign.html", "round", _("Signatures at the truck"))


def phone_load(request):
    return shell(request, "web/phone/load.html", "round", _("Load on board"))


def phone_login(request):
    return shell(request, "web/phone/login.html", "", _("Sign in on this phone"))


@csp_update(WASM)
def phone_scan(request):
    return shell(request, "web/phone/scan.html", "scan", _("Scan"))


def phone_queue(request):
    return shell(request, "web/phone/queue.html", "queue", _("Waiting to upload"))


@never_cache
def service_worker(request):
    body = render(
        request,
        "web/phone/sw.js",
        {
            "precache": json.dumps(precache_urls()),
            "version": json.dumps(cache_version()),
            "offline_page": json.dumps(reverse("web:phone-scan")),
        },
    ).content
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


def manifest(request):
    data = {
        "name": _("Zero-waste city: driver"),
        "short_name": _("Driver"),
        "lang": get_language(),
        "start_url": reverse("web:phone-round"),
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f6f8f7",
        "theme_color": "#1f7a4d",
        "icons": [
            {"src": static("web/phone/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {
                "src": static("web/phone/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


urlpatterns = [
    path("m/", phone_round, name="phone-round"),
    path("m/sign/", phone_sign, name="phone-sign"),
    path("m/load/", phone_load, name="phone-load"),
    path("m/login/", phone_login, name="phone-login"),
    path("m/scan/", phone_scan, name="phone-scan"),
    path("m/queue/", phone_queue, name="phone-queue"),
    path("m/sw.js", service_worker, name="phone-sw"),
    path("m/manifest.webmanifest", manifest, name="phone-manifest"),
]
