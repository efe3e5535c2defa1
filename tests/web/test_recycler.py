"""The recycler's pages with Django's test client: capacities, matches explained, claims; bad input,
a competitor's claim, and other organisations' objects."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from recycling.models import BatchOffer, Claim, RecyclerCapacity
from recycling.services import offer_claim, offer_create
from tests.factories import SiteFactory, persona
from tests.recycling.helpers import capacity
from tests.web.upstream import batches_made
from waste.models import Role, SiteKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def recycler(city, catalogs):
    client = Client()
    client.force_login(city.recycler)
    return client


def offered(city, quantity="100") -> BatchOffer:
    [batch] = batches_made(city, quantity)
    return offer_create(user=city.generator, code=batch.code)


def capacity_data(city, **values) -> dict:
    today = dt.date.today()
    return {
        "site": city.plant.pk,
        "codes": "HW08, 900-249-08",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=90)).isoformat(),
        "capacity_kg": "5000",
        "price_per_t": "120",
        **values,
    }


def test_it_publishes_a_capacity_with_canonical_codes(city, recycler):
    response = recycler.post("/recycler/capacities/new/", capacity_data(city))
    assert response.status_code == 302
    made = RecyclerCapacity.objects.get(organisation=city.recycler_org)
    assert made.codes == ["HW08", "900-249-08"] and made.capacity_kg == Decimal("5000")
    assert "HW08, 900-249-08" in recycler.get("/recycler/capacities/").content.decode()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"codes": "HW08, XX99"}, "XX99"),
        ({"codes": " , "}, "List at least one waste code or category."),
        ({"period_end": "2020-01-01"}, "Ends before the period starts."),
        ({"capacity_kg": "-5"}, "Ensure this value is greater than or equal to 0.001."),
        ({"capacity_kg": "lots"}, "Enter a number."),
        ({"site": "999999"}, "Select a valid choice."),
    ],
)
def test_it_refuses_a_bad_capacity_beside_its_field_and_keeps_what_was_typed(city, recycler, values, message):
    data = capacity_data(city, **values)
    response = recycler.post("/recycler/capacities/new/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and 'class="form-summary"' in html
    assert re.search(r'class="field-error"[^>]*>[^<]*' + re.escape(message.split(" ")[0]), html) or message in html
    assert f'value="{data["period_start"]}"' in html
    assert not RecyclerCapacity.objects.exists()


def test_it_says_so_in_chinese(city, recycler):
    response = recycler.post(
        "/recycler/capacities/new/", capacity_data(city, period_end="2020-01-01"), HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert response.status_code == 400 and "截止时间早于起始时间" in response.content.decode()


def test_it_edits_a_capacity_but_never_below_what_is_booked(city, recycler):
    cap = capacity(city.recycler_org, city.plant, codes=("HW08",), kg="1000", booked="300")
    data = capacity_data(city, capacity_kg="200", codes="HW08", active="on")
    response = recycler.post(f"/recycler/capacities/{cap.pk}/edit/", data)
    assert response.status_code == 400 and "300.000 kg are already booked" in response.content.decode()
    cap.refresh_from_db()
    assert cap.capacity_kg == Decimal("1000")
    response = recycler.post(f"/recycler/capacities/{cap.pk}/edit/", {**data, "capacity_kg": "800"})
    assert response.status_code == 302
    cap.refresh_from_db()
    assert (cap.capacity_kg, cap.price_per_t, cap.active) == (Decimal("800"), Decimal("120"), True)
    # The site of a published capacity stays, whatever the form says.
    other_site = SiteFactory(organisation=city.recycler_org, kind=SiteKind.TREATMENT)
    recycler.post(f"/recycler/capacities/{cap.pk}/edit/", {**data, "capacity_kg": "800", "site": other_site.pk})
    cap.refresh_from_db()
    assert cap.site == city.plant


def test_it_shows_the_match_of_an_offer_with_its_score_explained(city, recycler):
    offer = offered(city)
    capacity(city.recycler_org, city.plant, codes=("HW08",), kg="10000", price="50")
    home = recycler.get("/recycler/").content.decode()
    assert offer.batch.code in home and "score 0." in home
    page = recycler.get(f"/recycler/offers/{offer.pk}/").content.decode()
    for component in ("Distance", "Price", "Room left", "Contribution", "Claim with the capacity at"):
        assert component in page


def test_it_lists_first_the_offers_its_capacities_accept(city, recycler):
    oil = offered(city)
    capacity(city.recycler_org, city.plant, codes=("SW17",))  # accepts no mineral oil
    html = recycler.get("/recycler/").content.decode()
    assert oil.batch.code not in html and re.search(r"Open offers<span class=\"badge\">0<", html)
    html = recycler.get("/recycler/?all=1").content.decode()
    assert oil.batch.code in html and "None of your capacities accepts this code." in html
    capacity(city.recycler_org, city.plant, codes=("HW08",))
    assert oil.batch.code in recycler.get("/recycler/").content.decode()


def test_it_claims_an_offer_and_books_the_capacity(city, recycler):
    offer = offered(city, "100")
    cap = capacity(city.recycler_org, city.plant, codes=("HW08",), kg="1000")
    response = recycler.post(f"/recycler/offers/{offer.pk}/claim/", {"capacity": cap.pk})
    assert response.status_code == 302 and response["Location"] == "/recycler/claims/"
    cap.refresh_from_db()
    assert cap.booked_kg == Decimal("100")
    assert offer.batch.code in recycler.get("/recycler/claims/").content.decode()
    # A second click (or a retry after a lost response) books nothing more.
    again = recycler.post(f"/recycler/offers/{offer.pk}/claim/", {"capacity": cap.pk}, follow=True)
    assert "You have already claimed this offer." in again.content.decode()
    cap.refresh_from_db()
    assert cap.booked_kg == Decimal("100") and Claim.objects.count() == 1


def test_it_tells_a_recycler_beaten_to_an_offer_that_it_is_already_claimed(city, recycler):
    offer = offered(city)
    mine = capacity(city.recycler_org, city.plant, codes=("HW08",))
    rival, rival_org, rival_plant = persona("rival", roles=[Role.RECYCLER], site_kind=SiteKind.TREATMENT)
    offer_claim(user=rival, offer_id=offer.pk, capacity_id=capacity(rival_org, rival_plant, codes=("HW08",)).pk)
    response = recycler.post(f"/recycler/offers/{offer.pk}/claim/", {"capacity": mine.pk}, follow=True)
    assert "Already claimed" in response.content.decode()
    mine.refresh_from_db()
    assert mine.booked_kg == 0 and Claim.objects.count() == 1


def test_it_refuses_to_claim_with_another_organisations_capacity(city, recycler):
    offer = offered(city)
    rival, rival_org, rival_plant = persona("rival", roles=[Role.RECYCLER], site_kind=SiteKind.TREATMENT)
    theirs = capacity(rival_org, rival_plant, codes=("HW08",))
    response = recycler.post(f"/recycler/offers/{offer.pk}/claim/", {"capacity": theirs.pk}, follow=True)
    assert "Choose one of your capacities" in response.content.decode()
    assert not Claim.objects.exists()
    # Another organisation's capacity by URL: a framed 404.
    response = recycler.get(f"/recycler/capacities/{theirs.pk}/edit/")
    assert response.status_code == 404 and 'class="brand"' in response.content.decode()
    assert recycler.post(f"/recycler/capacities/{theirs.pk}/edit/", capacity_data(city)).status_code == 404
    assert recycler.get("/recycler/offers/999999/").status_code == 404


def test_it_shows_what_to_do_without_capacities_or_offers(city, recycler):
    html = recycler.get("/recycler/").content.decode()
    assert "Publish a capacity" in html and "No open offer matches your active capacities" in html
    assert "No open offer at the moment" in recycler.get("/recycler/?all=1").content.decode()
    operator = Client()
    operator.force_login(city.operator)
    assert operator.get("/recycler/").status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_walks_the_recycler_from_capacity_to_claim_in_the_browser(page, city, catalogs, login, shot):
    offer = offered(city, "100")
    login(page, city.recycler)
    assert page.locator("main h1").inner_text() == "供给与匹配"
    assert "没有与您当前接收能力匹配的开放供给" in page.locator(".empty-state").inner_text()
    shot(page, "offers-without-capacity")

    page.locator(".notice").get_by_role("link", name="发布接收能力").click()
    today = dt.date.today()
    page.get_by_label("接收的废物代码或类别").fill("HW08")
    page.get_by_label("期间开始").fill(today.isoformat())
    page.get_by_label("期间结束").fill((today + dt.timedelta(days=30)).isoformat())
    page.get_by_label("本期间能力（千克）").fill("5000")
    page.get_by_label("每吨价格（元）").fill("80")
    shot(page, "capacity-form")
    page.get_by_role("button", name="发布").click()
    assert "接收能力已发布" in page.locator(".messages").inner_text()
    assert "HW08" in page.locator("#capacities").inner_text()
    shot(page, "capacities")

    page.get_by_role("link", name="开放的供给").click()
    row = page.locator("tr", has_text=offer.batch.code)
    assert "得分" in row.inner_text()
    row.get_by_role("link", name="查看匹配").click()
    explained = page.locator(".match").first
    for component in ("距离", "价格", "剩余能力", "贡献"):
        assert component in explained.text_content()
    shot(page, "match")

    explained.get_by_role("button", name=re.compile("认领")).click()
    assert f"您已认领 {offer.batch.code}" in page.locator(".messages").inner_text()
    assert offer.batch.code in page.locator("#claims").inner_text()
    shot(page, "claimed")
    assert RecyclerCapacity.objects.get(organisation=city.recycler_org).booked_kg == Decimal("100")
