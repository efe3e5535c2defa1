"""The demo city: idempotent seed; demo users sign in and list sites as GeoJSON."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from recycling.models import BatchOffer
from waste.demo import DEMO_PASSWORD, OIL_NEW
from waste.models import Alert, Batch, Jurisdiction, Manifest, Membership, Organisation, Permit, Site

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


def demo_user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_it_seeds_the_city_s_work_once_and_the_ledger_verifies(db):
    from recycling.models import BatchOffer
    from waste.models import Alert, Batch, LedgerEntry, Manifest

    call_command("seed_demo", stdout=io.StringIO())
    first = (Batch.objects.count(), Manifest.objects.count(), LedgerEntry.objects.count(), BatchOffer.objects.count())

    call_command("seed_demo", stdout=io.StringIO())

    assert (
        Batch.objects.count(),
        Manifest.objects.count(),
        LedgerEntry.objects.count(),
        BatchOffer.objects.count(),
    ) == first
    assert first[0] >= 6 and first[1] >= 3
    assert Alert.objects.count() == 1
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)  # raises CommandError on a broken chain
    assert f"ledger intact: {first[2]} entries" in out.getvalue()


def test_it_gives_the_enterprise_batches_in_every_state_and_a_traced_fate(demo):
    from waste.selectors.batches import batch_list, batch_trace

    user = demo_user("enterprise")
    haihe = Organisation.objects.get(name__contains="Haihe Machinery")
    batches = batch_list(user=user).filter(organisation=haihe)

    statuses = set(batches.values_list("status", flat=True))
    assert {"generated", "stored", "in_transit", "received", "treated"} <= statuses
    assert batches.count() >= 6
    sealed = batches.filter(manifest_lines__manifest__status="sealed")
    assert sealed.exists(), "no batch on a manifest signed by the consignor only"
    trace = batch_trace(batches.get(status="treated"))
    assert trace["origins"][0]["fates"][0]["operation"] == "R9"


def test_it_gives_the_station_a_manifest_to_receive_and_stock_near_the_limit(demo):
    from waste.selectors.manifests import manifest_incoming
    from waste.selectors.stock import stock_list, stock_near_limit_count

    user = demo_user("station")
    envgroup = Organisation.objects.get(name__contains="Tianjin Environment Group")

    incoming = manifest_incoming(user=user, organisation=envgroup).filter(status="in_transit")
    assert incoming.exists()
    manifest = incoming.first()
    assert manifest.to_site.kind == "transfer_station" and manifest.consignor_signed_at is not None
    assert all(c.signed_at for c in manifest.carriers.all())
    assert set(manifest.lines.values_list("batch__status", flat=True)) == {"in_transit"}
    stock = stock_list(user=user, organisation=envgroup)
    assert stock.filter(is_hazardous=True, status="stored").exists()
    assert stock_near_limit_count(user=user, organisation=envgroup) >= 1


def test_it_gives_the_recycler_an_open_offer_its_capacities_match(demo):
    from recycling.selectors import offers_open_for

    renew = Organisation.objects.get(name__contains="Tianjin Renewable Resources")

    offers = offers_open_for(user=demo_user("recycler"), organisation=renew, matching=True)

    assert offers.exists()


def test_it_gives_the_regulator_alerts_manifests_and_this_year_s_indicators(demo):
    import datetime

    from waste import indicators
    from waste.selectors.alerts import alert_list
    from web.views.regulator import attention_counts

    user = demo_user("regulator")

    assert alert_list(user=user, status="open").filter(rule="weight_mismatch").exists()
    counts = {str(row["label"]): row["count"] for row in attention_counts(user)}
    assert counts["Manifests in transit"] >= 2 and counts["Batches in transit"] >= 2
    today = datetime.date.today()
    result = indicators.indicators_compute(
        scope=indicators.indicator_scope(user=user), date_from=datetime.date(today.year, 1, 1), date_to=today
    )
    assert result["indicators"]["generation_intensity"]["numerator_t"] > 0
    assert result["indicators"]["hazardous_utilisation_disposal_rate"]["numerator_kg"] > 0


@pytest.mark.parametrize(
    "username, landing, shown",
    [
        ("enterprise", "/enterprise/", lambda: Batch.objects.get(description=OIL_NEW).code),
        ("station", "/site/", lambda: Manifest.objects.get(status="in_transit").number),
        ("recycler", "/recycler/", lambda: BatchOffer.objects.get(status="open").batch.code),
        ("regulator", "/regulator/", lambda: Alert.objects.get().batch.code),
    ],
)
def test_it_lands_every_demo_user_on_a_page_with_work(demo, username, landing, shown):
    from django.test import Client

    client = Client()

    response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == landing
    assert shown() in response.content.decode()
