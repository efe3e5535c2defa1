"""The demo recycler's published capacities and an open offer they match (called through
RecyclingConfig.seed_demo). Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from recycling.models import BatchOffer, RecyclerCapacity
from recycling.services import offer_create
from waste.demo import OIL_OFFERED
from waste.models import Batch

# (codes, capacity kg this year, price CNY/t paid to the generator; negative = gate fee)
RENEW_CAPACITIES = [
    (["HW08"], 2_000_000, Decimal("800.00")),  # waste mineral oil, re-refined (R9)
    (["HW31"], 500_000, Decimal("-1500.00")),  # lead-bearing waste, smelted (R4) against a gate fee
    (["SW17"], 5_000_000, Decimal("300.00")),  # recyclable industrial solid waste (R3/R4)
]


def seed_demo(city) -> None:
    _capacities(city)
    _offer(city)


def _offer(city) -> None:
    """Haihe Machinery offers its stored hydraulic oil (HW08) on the market, which the HW08 capacity matches."""
    batch = Batch.objects.filter(origin_site=city.sites["haihe_plant"], description=OIL_OFFERED).first()
    if batch is None or BatchOffer.objects.filter(batch=batch).exists():
        return
    offer_create(user=city.users["enterprise"], code=batch.code)


def _capacities(city) -> None:
    renew, plant = city.organisations["renew"], city.sites["renew_plant"]
    if RecyclerCapacity.objects.filter(organisation=renew, site=plant).exists():
        return
    year = datetime.date.today().year
    RecyclerCapacity.objects.bulk_create(
        [
            RecyclerCapacity(
                organisation=renew,
                site=plant,
                codes=codes,
                period_start=datetime.date(year, 1, 1),
                period_end=datetime.date(year, 12, 31),
                capacity_kg=Decimal(capacity),
                price_per_t=price,
            )
            for codes, capacity, price in RENEW_CAPACITIES
        ]
    )
