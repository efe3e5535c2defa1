"""The API answers in the language of Accept-Language: the same bad request gives the same status,
code and field paths in Chinese and in English; only the messages differ, and they are Chinese."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.waste.chain_helpers import OIL, counts

pytestmark = pytest.mark.django_db

CHINESE = "zh-CN,zh;q=0.9,en;q=0.5"  # what a browser in Tianjin sends
ENGLISH = "en-GB,en;q=0.9"
HAN = re.compile(r"[\u4e00-\u9fff]")


def batch_body(default_site, **fields):
    return {"waste_code": OIL, "quantity_kg": "100.000", "site": default_site.pk, "description": "x", **fields}


def both_languages(send):
    """(zh error, en error, status) of the same request sent in each language."""
    zh, en = send(CHINESE), send(ENGLISH)
    assert zh.status_code == en.status_code
    assert zh["Content-Language"] == "zh-hans" and en["Content-Language"] == "en"
    return zh.json()["error"], en.json()["error"], zh.status_code


def assert_same_but_translated(zh: dict, en: dict) -> None:
    assert zh["code"] == en["code"]
    assert set(zh["fields"]) == set(en["fields"])
    assert HAN.search(zh["message"]), zh
    assert not HAN.search(en["message"]), en
    for path in zh["fields"]:
        assert len(zh["fields"][path]) == len(en["fields"][path])
        for zh_text, en_text in zip(zh["fields"][path], en["fields"][path], strict=True):
            assert HAN.search(zh_text) and zh_text != en_text, (path, zh_text, en_text)


@pytest.mark.parametrize(
    ("fields", "path", "chinese"),
    [
        ({"quantity_kg": "0"}, "quantity_kg", "必须大于零。"),
        ({"quantity_kg": "60000.001"}, "quantity_kg", "一个批次最多 60,000 千克（60 吨）。"),
        ({"site": 999999}, "site", "没有该场所。"),
        ({"hazard_traits": ["X"]}, "hazard_traits", "未知的危险特性 ['X']；请使用 T、C、I、R、In。"),
        ({"waste_code": "HW08"}, "waste_code", "HW08 是类别或利用处置方式，不是废物代码。"),
        ({"waste_code": "999-999-99"}, "waste_code", None),
        ({"physical_form": "plasma"}, "physical_form", None),  # DRF's own message, in DRF's zh_Hans
        ({"containers": [{"type": "drum", "count": "x"}]}, "containers.0.count", None),
    ],
)
def test_it_refuses_a_bad_batch_in_the_readers_language(city, catalogs, fields, path, chinese):
    client = client_for(city.generator)
    before = counts()

    zh, en, status = both_languages(
        lambda language: client.post(
            "/api/v1/batches/", batch_body(city.generation_site, **fields), format="json", HTTP_ACCEPT_LANGUAGE=language
        )
    )

    assert status in (400, 404)
    assert path in zh["fields"]
    assert_same_but_translated(zh, en)
    if chinese:
        assert zh["fields"][path] == [chinese]
    assert counts() == before


def test_it_names_every_missing_field_in_chinese(city, catalogs):
    client = client_for(city.generator)

    zh, en, status = both_languages(
        lambda language: client.post("/api/v1/batches/", {}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    )

    assert status == 400
    assert {"waste_code", "quantity_kg", "site"} <= set(zh["fields"])
    assert zh["fields"]["site"] == ["该字段是必填项。"] and en["fields"]["site"] == ["This field is required."]
    assert_same_but_translated(zh, en)


def test_it_answers_an_anonymous_client_in_chinese():
    zh, en, status = both_languages(lambda language: APIClient().get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE=language))

    assert status == 401
    assert zh["code"] == en["code"] == "not_authenticated"
    assert zh["message"] == "身份认证信息未提供。"


def test_it_answers_a_wrong_password_in_chinese(city):
    zh, en, status = both_languages(
        lambda language: APIClient().post(
            "/api/v1/auth/token/",
            {"username": city.generator.username, "password": "wrong"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
    )

    assert status == 401
    assert zh["code"] == en["code"] == "invalid_credentials"
    assert (zh["message"], en["message"]) == ("用户名或密码错误。", "Wrong username or password.")


def test_it_refuses_a_manifest_without_carriers_in_chinese(city, catalogs):
    client = client_for(city.generator)
    body = {"from_site": city.generation_site.pk, "to_site": city.plant.pk, "carriers": [], "batches": []}

    zh, en, status = both_languages(
        lambda language: client.post("/api/v1/manifests/", body, format="json", HTTP_ACCEPT_LANGUAGE=language)
    )

    assert status == 400
    assert_same_but_translated(zh, en)


def test_it_refuses_an_unknown_query_parameter_in_chinese(city):
    client = client_for(city.regulator)

    zh, en, status = both_languages(
        lambda language: client.get("/api/v1/reports/indicators/?colour=red", HTTP_ACCEPT_LANGUAGE=language)
    )

    assert status == 400
    assert zh["fields"] == {"colour": ["未知的查询参数。"]} and en["fields"] == {"colour": ["Unknown query parameter."]}


def test_it_refuses_an_unknown_pickup_batch_in_chinese(city, catalogs):
    client = client_for(city.generator)
    body = {"codes": ["NOSUCHCODE"], "hauler": city.hauler_org.pk}

    zh, en, status = both_languages(
        lambda language: client.post(
            "/api/v1/pickups/from-batches/", body, format="json", HTTP_ACCEPT_LANGUAGE=language
        )
    )

    assert status in (400, 404)
    assert_same_but_translated(zh, en)


def test_it_falls_back_to_the_citys_language_without_accept_language(city, settings):
    settings.LANGUAGE_CODE = "zh-hans"

    response = APIClient().get("/api/v1/me/")

    assert response.json()["error"]["message"] == "身份认证信息未提供。"


def test_it_refuses_an_expired_or_unknown_token_in_chinese(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "0" * 64)

    zh, en, status = both_languages(lambda language: client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE=language))

    assert status == 401
    assert (zh["message"], en["message"]) == ("认证令牌无效。", "Invalid token.")
