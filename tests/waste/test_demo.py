"""The demo city: idempotent seed; demo users sign in and list sites as GeoJSON."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from waste.demo import DEMO_PASSWORD
from waste.models import Jurisdiction, Membership, Organisation, Permit, Site

DEMO_USERS = ["enterprise", "hauler", "station", "recycler", "regulator"]


def counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    return {
        model.__name__: model.objects.count()
        for model in (Organisation, Site, Permit, Jurisdiction, Membership, get_user_model())
    }


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


def test_it_seeds_the_same_city_twice(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()

    call_command("seed_demo", stdout=out)

    assert counts() == first
    assert first["Organisation"] >= 13 and first["Site"] >= 15
    assert "zerowaste-demo" in out.getvalue()


def test_it_describes_a_believable_city(demo):
    assert Organisation.objects.filter(is_generator=True).count() >= 5
    assert Organisation.objects.filter(is_hauler=True).count() == 2
    assert Organisation.objects.filter(is_regulator=True).count() == 2
    assert Site.objects.filter(kind="transfer_station").count() == 2
    assert Site.objects.filter(kind="collection_point").exists()
    assert Site.objects.filter(kind="disposal").exists()
    for site in Site.objects.all():
        assert 116.7 < site.location.x < 118.1 and 38.5 < site.location.y < 40.3, site
        assert site.district_code.startswith("12"), site


@pytest.mark.parametrize("username", DEMO_USERS)
def test_it_lets_every_demo_user_list_sites_as_geojson(demo, username):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": username, "password": DEMO_PASSWORD}, format="json").json()[
        "token"
    ]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get("/api/v1/sites/")

    assert response.status_code == 200
    assert response.json()["type"] == "FeatureCollection"
    assert response.json()["features"], f"{username} sees no site"


def test_it_shows_the_city_regulator_every_site(demo):
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": "regulator", "password": DEMO_PASSWORD}, format="json"
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get("/api/v1/sites/", {"page_size": 500})

    assert response.json()["count"] == Site.objects.count()


def test_it_keeps_a_changed_demo_password_on_reseeding(demo):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="enterprise")
    user.set_password("my own secret 42")
    user.save()

    call_command("seed_demo", stdout=io.StringIO())

    user.refresh_from_db()
    assert user.check_password("my own secret 42")
