"""Who sees treatments, capacities and offers: the parties, regulators of the area, nobody else."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.recycling.helpers import at_plant, batch_new, capacity

pytestmark = pytest.mark.django_db


def ids(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_it_shows_outsiders_nothing_and_regulators_their_jurisdiction(city, plant):
    [code] = at_plant(city, "100.000")
    recycler, generator = client_for(city.recycler), client_for(city.generator)
    treatment = recycler.post(
        "/api/v1/recycling/treatments/", {"batch": code, "operation": "R9", "quantity_kg": "100"}, format="json"
    ).json()["id"]
    cap = capacity(city.recycler_org, city.plant).pk
    offer = generator.post(
        "/api/v1/recycling/offers/", {"batch": batch_new(generator, city.generation_site)}, format="json"
    ).json()["id"]
    outsider, regulator = client_for(city.outsider), client_for(city.regulator)

    for url in ("treatments", "capacities", "offers"):
        assert ids(outsider, f"/api/v1/recycling/{url}/") == set()
    assert outsider.get(f"/api/v1/recycling/treatments/{treatment}/").status_code == 404
    assert outsider.get(f"/api/v1/recycling/offers/{offer}/").status_code == 404

    assert ids(regulator, "/api/v1/recycling/treatments/") == {treatment}
    assert ids(regulator, "/api/v1/recycling/capacities/") == {cap}
    assert ids(regulator, "/api/v1/recycling/offers/") == {offer}
    assert ids(generator, "/api/v1/recycling/treatments/") == {treatment}  # its batch's fate
    assert ids(generator, "/api/v1/recycling/capacities/") == set()
    assert ids(recycler, "/api/v1/recycling/offers/") == {offer}  # open offers are the recyclers' market
