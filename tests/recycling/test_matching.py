"""Capacities, matching with an explained score, offers and claims that book capacity."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from recycling.models import BatchOffer, Claim, RecyclerCapacity
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, persona
from tests.recycling.helpers import batch_new, capacity, error_of
from waste.geo import point
from waste.models import Role, SiteKind

pytestmark = pytest.mark.django_db

CAPACITIES = "/api/v1/recycling/capacities/"
OFFERS = "/api/v1/recycling/offers/"


@pytest.fixture
def market(city, catalogs):
    """The generator at a known point; the city's recycler next door; a second recycler 34 km east."""
    city.generation_site.location = point(117.20, 39.10)
    city.generation_site.save()
    city.plant.location = point(117.21, 39.10)
    city.plant.save()
    user, org, far = persona("recycler2", roles=[Role.RECYCLER], site_kind=SiteKind.TREATMENT)
    far.location = point(117.60, 39.10)
    far.save()
    city.recycler2, city.recycler2_org, city.far_plant = user, org, far
    return city


def matches(client, code):
    response = client.get("/api/v1/recycling/matches/", {"batch": code})
    assert response.status_code == 200, response.json()
    return response.json()


def test_it_publishes_and_lists_capacities(market):
    recycler = client_for(market.recycler)

    created = recycler.post(
        CAPACITIES,
        {
            "site": market.plant.pk,
            "codes": ["HW 08", "16 01 04*"],
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "capacity_kg": "50000",
            "price_per_t": "-800",
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    assert created.json()["codes"] == ["HW08", "160104"]
    assert created.json()["remaining_kg"] == "50000.000"
    assert [c["id"] for c in recycler.get(CAPACITIES).json()["results"]] == [created.json()["id"]]


@pytest.mark.parametrize(
    "body, field, status",
    [
        ({"codes": ["HW99"]}, "codes.0", 400),
        ({"codes": []}, "codes", 400),
        ({"capacity_kg": "-1"}, "capacity_kg", 400),
        ({"period_end": "2025-01-01"}, "period_end", 400),
        ({"site": 999999}, "site", 404),
        ({"site": "GENERATOR"}, "site", 403),
    ],
)
def test_it_rejects_bad_capacities(market, body, field, status):
    body = {
        "site": market.plant.pk,
        "codes": ["HW08"],
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "capacity_kg": "1000",
        **body,
    }
    if body["site"] == "GENERATOR":
        body["site"] = market.generation_site.pk

    error = error_of(client_for(market.recycler).post(CAPACITIES, body, format="json"), status)

    assert field in error["fields"]
    assert RecyclerCapacity.objects.count() == 0


def test_it_ranks_by_code_capacity_distance_and_price_and_explains(market):
    code = batch_new(client_for(market.generator), market.generation_site, quantity="1000")
    near = capacity(market.recycler_org, market.plant, codes=["HW08"], price="500")
    far = capacity(market.recycler2_org, market.far_plant, codes=["900-249-08"], price="500")
    near_full = capacity(market.recycler_org, market.plant, codes=["HW08"], kg="1500", booked="1000", price="900")
    capacity(market.recycler2_org, market.plant, codes=["HW31"], price="9999")  # another category: not a match
    capacity(market.recycler2_org, market.plant, codes=["HW08"], price="9999", days=-2)  # period ended

    body = matches(client_for(market.generator), code)

    assert [m["capacity"] for m in body["matches"]] == [near.pk, far.pk, near_full.pk]
    first, second, last = body["matches"]
    assert Decimal(first["distance_km"]) < 1 and 30 < Decimal(second["distance_km"]) < 40
    assert first["fits"] and second["fits"] and not last["fits"]
    assert "remaining capacity 500.000 kg" in last["reason"]
    assert set(body["weights"]) == {"distance", "price", "capacity"}
    for match in body["matches"]:
        parts = match["explanation"]
        assert set(parts) == {"distance", "price", "capacity"}
        assert abs(sum(Decimal(p["contribution"]) for p in parts.values()) - Decimal(match["score"])) < Decimal("0.001")
    assert Decimal(first["explanation"]["distance"]["value"]) > Decimal(second["explanation"]["distance"]["value"])


def test_it_ranks_a_better_price_first_at_equal_distance(market):
    code = batch_new(client_for(market.generator), market.generation_site, quantity="1000")
    gate_fee = capacity(market.recycler_org, market.plant, price="-300")
    pays = capacity(market.recycler2_org, market.plant, price="600")

    body = matches(client_for(market.generator), code)

    assert [m["capacity"] for m in body["matches"]] == [pays.pk, gate_fee.pk]
    assert body["matches"][0]["explanation"]["price"]["value"] == "1.0000"
    assert body["matches"][1]["explanation"]["price"]["value"] == "0.0000"


def test_it_rejects_matching_an_unknown_or_foreign_batch(market):
    code = batch_new(client_for(market.generator), market.generation_site)
    outsider = client_for(market.outsider)

    assert error_of(outsider.get("/api/v1/recycling/matches/", {"batch": code}), 404)["fields"] == {
        "batch": ["No batch with this code."]
    }
    assert "batch" in error_of(outsider.get("/api/v1/recycling/matches/", {"batch": "nope"}), 400)["fields"]
    assert "batch" in error_of(outsider.get("/api/v1/recycling/matches/"), 400)["fields"]


def offer(client, code) -> dict:
    response = client.post(OFFERS, {"batch": code}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def claim(client, offer_id, capacity_id):
    return client.post(f"{OFFERS}{offer_id}/claim/", {"capacity": capacity_id}, format="json")


def test_it_books_capacity_on_claim_and_refuses_an_over_claim(market):
    generator, recycler = client_for(market.generator), client_for(market.recycler)
    cap = capacity(market.recycler_org, market.plant, kg="1000")
    first = offer(generator, batch_new(generator, market.generation_site, quantity="600"))
    second = offer(generator, batch_new(generator, market.generation_site, quantity="600"))
    assert {o["id"] for o in recycler.get(OFFERS).json()["results"]} == {first["id"], second["id"]}

    claimed = claim(recycler, first["id"], cap.pk)
    over = claim(recycler, second["id"], cap.pk)
    again = claim(recycler, first["id"], cap.pk)

    assert claimed.status_code == 201, claimed.json()
    assert claimed.json()["status"] == "claimed" and claimed.json()["claim"]["quantity_kg"] == "600.000"
    assert error_of(over, 409)["code"] == "beyond_capacity"
    assert "beyond remaining capacity" in over.json()["error"]["message"]
    assert error_of(again, 409)["code"] == "not_open"
    cap.refresh_from_db()
    assert cap.booked_kg == Decimal("600")
    assert BatchOffer.objects.get(pk=second["id"]).status == "open"
    assert Claim.objects.count() == 1


def test_it_refuses_offering_twice_and_foreign_batches(market):
    generator = client_for(market.generator)
    code = batch_new(generator, market.generation_site)
    offer(generator, code)

    assert error_of(generator.post(OFFERS, {"batch": code}, format="json"), 409)["code"] == "already_offered"
    assert error_of(client_for(market.outsider).post(OFFERS, {"batch": code}, format="json"), 404)["fields"]
    assert error_of(client_for(market.recycler).post(OFFERS, {"batch": code}, format="json"), 404)["fields"]
    assert BatchOffer.objects.count() == 1


def test_it_refuses_claims_on_foreign_or_unsuitable_capacity(market):
    generator, recycler = client_for(market.generator), client_for(market.recycler)
    mine = offer(generator, batch_new(generator, market.generation_site))
    theirs = capacity(market.recycler2_org, market.far_plant)
    wrong_code = capacity(market.recycler_org, market.plant, codes=["HW31"])

    assert "capacity" in error_of(claim(recycler, mine["id"], theirs.pk), 404)["fields"]
    assert error_of(claim(recycler, mine["id"], wrong_code.pk), 400)["code"] == "not_accepted"
    assert "offer" in error_of(claim(recycler, 999999, wrong_code.pk), 404)["fields"]
    assert "offer" in error_of(claim(client_for(market.outsider), mine["id"], theirs.pk), 404)["fields"]
    assert BatchOffer.objects.get(pk=mine["id"]).status == "open"


def _race(calls):
    """Runs the calls at the same moment on their own connections; returns their status codes."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call().status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results)


@pytest.mark.postgis
@pytest.mark.parametrize("attempt", range(3))
def test_it_never_books_the_last_tonne_twice_under_concurrency(market, transactional_db, attempt):
    generator = client_for(market.generator)
    colleague = UserFactory(username="recycler-colleague")
    MembershipFactory(user=colleague, organisation=market.recycler_org)
    cap = capacity(market.recycler_org, market.plant, kg="1000")
    offers = [offer(generator, batch_new(generator, market.generation_site, quantity="1000")) for _ in range(2)]
    clients = [client_for(market.recycler), client_for(colleague)]

    codes = _race([lambda c=c, o=o: claim(c, o["id"], cap.pk) for c, o in zip(clients, offers, strict=True)])

    assert codes == [201, 409]
    cap.refresh_from_db()
    assert cap.booked_kg == Decimal("1000")
    assert Claim.objects.count() == 1


@pytest.mark.postgis
def test_it_lets_only_one_of_two_recyclers_claim_an_offer_under_concurrency(market, transactional_db):
    generator = client_for(market.generator)
    one = capacity(market.recycler_org, market.plant, kg="5000")
    two = capacity(market.recycler2_org, market.far_plant, kg="5000")
    the_offer = offer(generator, batch_new(generator, market.generation_site, quantity="1000"))
    r1, r2 = client_for(market.recycler), client_for(market.recycler2)

    codes = _race([lambda: claim(r1, the_offer["id"], one.pk), lambda: claim(r2, the_offer["id"], two.pk)])

    assert codes == [201, 409]
    assert sorted(RecyclerCapacity.objects.values_list("booked_kg", flat=True)) == [Decimal("0"), Decimal("1000")]
    assert Claim.objects.count() == 1
