"""Browser fixtures: Debian's Chromium through pytest-playwright, against pytest-django's live server.

- ``page``: a fresh page at phone width (375×812) with locale zh-CN, unless the test says otherwise
  with ``@pytest.mark.browser_context_args(viewport=..., locale="en-US")``. The test fails on any
  JavaScript console error or uncaught exception, and on any request that leaves 127.0.0.1/localhost
  (such requests are aborted and reported).
  A test that expects an error status (a framed 404) allows its console line with
  ``page.allow_console(r"status of 404")``.
- ``login(page, user, password=PASSWORD)``: logs in through the login form and returns the page.
- ``shot(page, name="")``: screenshot to var/screenshots/<test>-<n>[-name].png (call it on every page).
Mark browser tests ``@pytest.mark.browser`` and ``@pytest.mark.django_db(transaction=True)`` (the live
server reads committed data); ``page.live_server_url`` is the server's address. Personas from the
``city`` fixture log in with ``PASSWORD``; the labels the tests use are the zh-hans ones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; the ORM refuses to run beside one unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery"  # tests.factories.UserFactory
CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "locale": "zh-CN", "timezone_id": settings.TIME_ZONE}


@pytest.fixture
def page(context, live_server):
    """A page that records console errors, page errors and requests leaving this machine."""
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
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.live_server_url = live_server.url
    page.allow_console = lambda pattern: allowed.append(re.compile(pattern))
    page.set_default_timeout(15_000)
    yield page
    problems = [p for p in problems if not any(a.search(p) for a in allowed)]
    assert not problems, "\n".join(problems)


@pytest.fixture
def login():
    def _login(page, user, password: str = PASSWORD):
        page.goto(page.live_server_url + "/login/")
        page.get_by_label(re.compile("用户名|Username")).fill(user.username)
        page.get_by_label(re.compile("密码|Password")).fill(password)
        page.locator("form button[type=submit]").filter(has_text=re.compile("登录|Log in")).click()
        page.wait_for_load_state()
        return page

    return _login


@pytest.fixture
def shot(request):
    """shot(page, name="") → var/screenshots/<test>-<n>[-name].png, numbered in visiting order."""
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w.-]+", "_", request.node.name)
    counter = {"n": 0}

    def _shot(page, name: str = "") -> Path:
        counter["n"] += 1
        path = folder / f"{test}-{counter['n']}{'-' + name if name else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
