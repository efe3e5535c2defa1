"""Shared steps of the recycling tests: a batch brought to the plant through the HTTP API."""

from __future__ import annotations

import datetime
from decimal import Decimal

from recycling.models import RecyclerCapacity
from tests.conftest import client_for
from tests.waste.test_chain_e2e import ship

OIL = "900-249-08"  # HW08
BOTTOM_ASH = "190112"
FLY_ASH = "772-002-18"  # HW18


def error_of(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.json())
    return response.json()["error"]


def batch_new(client, site, *, waste_code=OIL, quantity="100.000") -> str:
    created = client.post(
        "/api/v1/batches/", {"waste_code": waste_code, "quantity_kg": quantity, "site": site.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    return created.json()["code"]


def at_plant(city, *quantities: str, waste_code=OIL) -> list[str]:
    """Batches generated at the generator and received at the recycler's plant."""
    generator, hauler, recycler = client_for(city.generator), client_for(city.hauler), client_for(city.recycler)
    codes = [batch_new(generator, city.generation_site, waste_code=waste_code, quantity=q) for q in quantities]
    ship(
        generator,
        hauler,
        recycler,
        from_site=city.generation_site,
        to_site=city.plant,
        codes=codes,
        carriers=[city.hauler_org.pk],
    )
    return codes


def capacity(org, site, *, codes=("HW08",), kg="10000", price="0", booked="0", days=30) -> RecyclerCapacity:
    today = datetime.date.today()
    return RecyclerCapacity.objects.create(
        organisation=org,
        site=site,
        codes=list(codes),
        period_start=today - datetime.timedelta(days=max(1, -2 * days)),
        period_end=today + datetime.timedelta(days=days),
        capacity_kg=Decimal(kg),
        booked_kg=Decimal(booked),
        price_per_t=Decimal(price),
    )
