"""Mass balance per site and period: in = out + stock change + losses (+ consumed), within a tolerance."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from recycling.selectors import mass_balance
from tests.conftest import client_for
from tests.recycling.helpers import at_plant, error_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/recycling/mass-balance/"


def treat(client, code, operation, quantity, **extra):
    response = client.post(
        "/api/v1/recycling/treatments/",
        {"batch": code, "operation": operation, "quantity_kg": quantity, **extra},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def balance_of(client, site, day=None):
    day = (day or timezone.localdate()).isoformat()
    response = client.get(URL, {"site": site.pk, "from": day, "to": day})
    assert response.status_code == 200, response.json()
    return response.json()


def test_it_balances_a_plant_within_tolerance(city, plant):
    codes = at_plant(city, "100.000", "50.000")
    recycler = client_for(city.recycler)
    treat(
        recycler,
        codes[0],
        "R9",
        "100.000",
        losses_kg="29.000",
        outputs=[{"kind": "secondary", "material": "base oil", "quantity_kg": "70.000"}],
    )

    body = balance_of(recycler, plant)

    assert body["in_kg"] == "150.000" and body["received_kg"] == "150.000"
    assert body["out_kg"] == "0.000"
    assert body["treated_kg"] == "100.000" and body["outputs_kg"] == {"secondary": "70.000", "residue": "0.000"}
    assert body["losses_kg"] == "29.000"
    assert body["opening_stock_kg"] == "0.000" and body["closing_stock_kg"] == "120.000"  # 50 untreated + 70 oil
    assert body["discrepancy_kg"] == "1.000" and body["discrepancy_pct"] == "0.67"
    assert body["flagged"] is False


def test_it_flags_mass_that_vanished_in_treatment(city, plant):
    [code] = at_plant(city, "100.000")
    recycler = client_for(city.recycler)
    treat(
        recycler,
        code,
        "R9",
        "100.000",
        losses_kg="5.000",
        outputs=[{"kind": "secondary", "material": "base oil", "quantity_kg": "60.000"}],
    )

    body = balance_of(recycler, plant)

    assert body["discrepancy_kg"] == "35.000" and body["flagged"] is True


def test_it_flags_a_batch_treated_lighter_than_it_was_received(city, plant):
    [code] = at_plant(city, "100.000")
    recycler = client_for(city.recycler)
    treat(recycler, code, "D1", "90.000")  # landfill: the 90 kg treated are the fate; 10 kg are missing

    body = balance_of(recycler, plant)

    assert body["consumed_kg"] == "90.000"
    assert body["discrepancy_kg"] == "10.000" and body["flagged"] is True


def test_it_counts_what_left_the_generation_site_and_opening_stock(city, plant, settings):
    at_plant(city, "100.000")
    generator = client_for(city.generator)

    today = balance_of(generator, city.generation_site)
    tomorrow = mass_balance(
        city.plant, timezone.localdate() + datetime.timedelta(days=1), timezone.localdate() + datetime.timedelta(days=1)
    )

    assert (today["generated_kg"], today["out_kg"], today["stock_change_kg"]) == ("100.000", "100.000", "0.000")
    assert today["discrepancy_kg"] == "0.000" and not today["flagged"]
    assert tomorrow.opening_stock_kg == tomorrow.closing_stock_kg == Decimal("100.000")
    assert tomorrow.in_kg == 0 and not tomorrow.flagged


@pytest.mark.parametrize(
    "params, field, status",
    [
        ({"from": "2026-01-01", "to": "2026-01-31"}, "site", 400),
        ({"site": "999999", "from": "2026-01-01", "to": "2026-01-31"}, "site", 404),
        ({"site": "PLANT", "from": "2026-02-01", "to": "2026-01-01"}, "to", 400),
        ({"site": "PLANT", "from": "yesterday", "to": "2026-01-01"}, "from", 400),
        ({"site": "PLANT", "from": "2026-01-01", "to": "2026-01-31", "colour": "red"}, "colour", 400),
    ],
)
def test_it_rejects_bad_parameters(city, plant, params, field, status):
    params = {k: (plant.pk if v == "PLANT" else v) for k, v in params.items()}

    error = error_of(client_for(city.recycler).get(URL, params), status)

    assert field in error["fields"]


def test_it_hides_another_organisations_site(city, plant):
    error = error_of(
        client_for(city.outsider).get(URL, {"site": plant.pk, "from": "2026-01-01", "to": "2026-01-02"}), 404
    )

    assert error["fields"] == {"site": ["No such site."]}
    assert (
        client_for(city.regulator).get(URL, {"site": plant.pk, "from": "2026-01-01", "to": "2026-01-02"}).status_code
        == 200
    )
