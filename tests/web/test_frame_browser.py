"""The frame in Chromium: every role lands on its page in Chinese, English on request, errors framed."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD
from waste.models import ExportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDINGS = [
    ("generator", "/enterprise/", "批次台账"),
    ("operator", "/site/", "待接收"),
    ("recycler", "/recycler/", "供给与匹配"),
    ("hauler", "/dispatch/", "收运与路线计划"),
    ("regulator", "/regulator/", "监管看板"),
]


def test_it_walks_the_frame_for_every_role(page, city, login, shot):
    base = page.live_server_url
    page.goto(base + "/")
    assert page.url == base + "/login/"
    assert page.locator("h1").inner_text() == "登录"
    shot(page, "login")

    # A wrong password: a message in Chinese, the username kept.
    page.get_by_label("用户名").fill("generator")
    page.get_by_label("密码").fill("wrong password")
    page.locator("form button[type=submit]").filter(has_text="登录").click()
    assert "用户名或密码错误" in page.locator(".form-summary").inner_text()
    assert page.get_by_label("用户名").input_value() == "generator"
    shot(page, "wrong-password")

    for persona, path, title in LANDINGS:
        login(page, getattr(city, persona), PASSWORD)
        assert page.url == base + path, persona
        assert page.locator("main h1").inner_text() == title
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        shot(page, persona)
        page.locator(".user-menu summary").click()
        page.get_by_role("button", name="退出登录").click()
        assert page.url == base + "/login/"

    # English on request, kept for the next pages.
    login(page, city.generator, PASSWORD)
    page.get_by_role("button", name="English").click()
    assert page.locator("main h1").inner_text() == "Batch log"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Batches").is_visible()
    shot(page, "english")

    # Another organisation's object by URL: a 404 in the product's frame.
    job = ExportJob.objects.create(
        requested_by=city.outsider, kind="hj1259", format="csv", date_from="2026-01-01", date_to="2026-01-31"
    )
    page.allow_console(r"status of 404")
    response = page.goto(f"{base}/exports/{job.pk}/progress/")
    assert response.status == 404
    assert page.locator("main h1").inner_text() == "Page not found"
    assert page.locator("header .brand").is_visible()
    shot(page, "not-found")


@pytest.mark.browser_context_args(viewport={"width": 1280, "height": 800})
def test_it_lets_a_member_of_two_organisations_switch_in_the_header(page, city, login, shot):
    from tests.factories import MembershipFactory

    MembershipFactory(user=city.generator, organisation=city.operator_org)
    login(page, city.generator, PASSWORD)
    assert page.url.endswith("/enterprise/")
    page.get_by_label("当前单位").select_option(label=city.operator_org.name)
    page.wait_for_url(re.compile(r"/site/$"))
    assert page.locator("main h1").inner_text() == "待接收"
    assert "您现在代表" in page.locator(".messages").inner_text()
    shot(page, "switched")
