"""The public page behind the QR code: what a roadside inspector may see, and nothing personal."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.waste.chain_helpers import batch_new

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(city, catalogs):
    org = city.generator_org
    org.contact_name, org.contact_phone = "Zhang Weiming", "13912345678"
    org.save()
    clerk = UserFactory(username="zhang.clerk.8841", first_name="Weiming", email="zwm@example.cn")
    MembershipFactory(user=clerk, organisation=org)
    return batch_new(client_for(clerk), city.generation_site, description="Spent hydraulic oil")


def test_it_shows_the_waste_its_traits_and_status_anonymously(labelled):
    page = Client().get(f"/t/{labelled['code']}")

    assert page.status_code == 200
    html = page.content.decode()
    assert labelled["code"] in html
    assert "900-249-08" in html
    assert "<span>T</span>" in html and "<span>I</span>" in html
    assert "Generated" in html and "Hazardous waste" in html
    assert "Generator Ltd" in html  # the enterprise is public; its people are not


def test_it_shows_no_personal_data(labelled):
    html = Client().get(f"/t/{labelled['code']}").content.decode()

    for personal in ("Zhang Weiming", "13912345678", "zhang.clerk.8841", "Weiming", "zwm@example.cn", ">generator<"):
        assert personal not in html


def test_it_accepts_the_code_as_typed_from_the_label(labelled):
    code = labelled["code"]
    assert Client().get(f"/t/{code.lower()}").status_code == 200


@pytest.mark.parametrize("code", ["ZW00000000000X", "nonsense", "ZW"])
def test_it_answers_an_unknown_code_with_a_404_page(city, code):
    page = Client().get(f"/t/{code}")

    assert page.status_code == 404
    assert "Unknown batch" in page.content.decode()


def test_it_escapes_a_hostile_code_on_the_404_page(city):
    page = Client().get("/t/%3Cscript%3Ealert(1)%3C%2Fscript%3E")

    assert page.status_code == 404
    assert "<script>alert(1)" not in page.content.decode()


def test_it_shows_the_public_page_in_chinese_to_a_chinese_phone(labelled):
    html = Client().get(f"/t/{labelled['code']}", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()

    assert '<html lang="zh-hans">' in html
    assert "危险废物" in html and "数字识别码" in html and "废物形态" in html and "产生单位" in html
    assert "Hazardous waste" not in html and "Digital ID" not in html


def test_it_says_unknown_batch_in_chinese(db):
    page = Client().get("/t/ZW00000000000X", HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert page.status_code == 404
    assert "未知批次" in page.content.decode()
