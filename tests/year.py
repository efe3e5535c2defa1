"""Driving batches through the chain with the services (faster than HTTP), and a year of it for
the demo city: generated, moved, consolidated, split, treated, left in storage, and vanished.

``drive`` is a superuser acting for every party; times are in the past so a year fits in a test.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from waste.models import Batch, IndicatorInput, Permit
from waste.services.batches import batch_consolidate, batch_create, batch_split, batch_treat
from waste.services.manifests import manifest_create, manifest_sign
from waste.services.transitions import Act, batch_act

TZ = datetime.timezone(datetime.timedelta(hours=8))


def at(year: int, month: int, day: int, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=TZ)


@dataclass
class Driver:
    user: object

    def make(self, site, code: str, kg, when: datetime.datetime) -> Batch:
        return batch_create(user=self.user, site=site, waste_code=code, quantity_kg=Decimal(str(kg)), generated_at=when)

    def ship(
        self, batches: list[Batch], *, to, carrier, when: datetime.datetime, receive=True, weights: dict | None = None
    ) -> list[Batch]:
        """Manifest, consignor's signature, pickup; then (unless ``receive`` is False) receipt and signature."""
        manifest = manifest_create(
            user=self.user,
            from_site=batches[0].current_site,
            to_site=to,
            carriers=[carrier],
            batches=[b.code for b in batches],
        )
        manifest_sign(user=self.user, number=manifest.number, role="consignor")
        for b in batches:
            batch_act(code=b.code, act=Act(user=self.user, action="pickup", event_time=when))
        if receive:
            for b in batches:
                weight = (weights or {}).get(b.code)
                batch_act(
                    code=b.code,
                    act=Act(
                        user=self.user,
                        action="receive",
                        event_time=when + datetime.timedelta(hours=2),
                        site=to,
                        weight_kg=Decimal(str(weight)) if weight is not None else None,
                    ),
                )
            manifest_sign(user=self.user, number=manifest.number, role="receiver", decision="accept")
        return [Batch.objects.get(pk=b.pk) for b in batches]

    def treat(self, batch: Batch, operation: str, when: datetime.datetime) -> Batch:
        return batch_treat(user=self.user, code=batch.code, operation=operation, event_time=when)[0]

    def consolidate(self, batches: list[Batch], site, when: datetime.datetime) -> Batch:
        return batch_consolidate(user=self.user, codes=[b.code for b in batches], site=site, event_time=when)

    def split(self, batch: Batch, parts: list, when: datetime.datetime) -> list[Batch]:
        return batch_split(
            user=self.user, code=batch.code, quantities=[Decimal(str(p)) for p in parts], event_time=when
        )


def driver() -> Driver:
    user, _ = get_user_model().objects.get_or_create(username="yearbot", defaults={"is_superuser": True})
    return Driver(user=user)


@dataclass
class Year:
    """What was driven, with the expected balance per stream (kg) computed along the way."""

    city: object
    year: int
    expected: dict = field(default_factory=dict)
    batches: int = 0


def drive_year(city, *, year: int | None = None, seed: int = 2026, batches_per_month: int = 6) -> Year:
    """A year of waste for the demo city (``waste.demo.seed_demo_city``), deterministic for ``seed``."""
    rng = random.Random(seed)
    year = year or timezone.localdate().year - 1
    d = driver()
    s, o = city.sites, city.organisations
    for key, codes, ops in [
        ("renew_plant", ["HH-R", "HH-K"], ["R3", "R4", "R9"]),
        ("landfill_site", ["HH-O", "HH-K"], ["D1"]),
    ]:
        Permit.objects.get_or_create(
            site=s[key],
            number=f"YEAR-{key}",
            defaults={
                "codes": codes,
                "operations": ops,
                "annual_quantity_kg": Decimal(10**8),
                "valid_from": datetime.date(year - 1, 1, 1),
                "valid_until": datetime.date(year + 5, 12, 31),
            },
        )
    IndicatorInput.objects.get_or_create(
        district_code="120000",
        organisation=None,
        year=year,
        name="industrial_value_added_cny",
        defaults={"value": Decimal("150000000")},
    )
    result = Year(
        city=city,
        year=year,
        expected={
            k: dict.fromkeys(("generated", "utilised", "disposed", "stored", "dumped"), Decimal(0))
            for k in ("general", "hazardous", "household")
        },
    )
    e = result.expected
    # (origin site, code, stream, destination, operation or None, via transfer station)
    flows = [
        ("haihe_plant", "900-249-08", "hazardous", "renew_plant", "R9", False),
        ("haihe_plant", "900-249-08", "hazardous", "incinerator", "D10", True),
        ("xiqing_fab", "900-041-49", "hazardous", "incinerator", "D10", False),
        ("binhai_chem_plant", "SW59", "general", "landfill_site", "D1", False),
        ("beichen_factory", "SW07", "general", "landfill_site", "D1", False),
        ("haihe_plant", "SW17", "general", "renew_plant", "R4", False),
        ("cp_heping", "HH-R", "household", "renew_plant", "R3", False),
        ("cp_nankai", "HH-O", "household", "landfill_site", "D1", False),
    ]
    hauler = o["jinhuan"]
    pending_transfer = []
    for month in range(1, 13):
        for i in range(batches_per_month):
            site_key, code, stream, dest, op, via = flows[(month * batches_per_month + i) % len(flows)]
            day = 1 + (i * 4) % 26
            kg = Decimal(rng.randrange(200, 3000))
            batch = d.make(s[site_key], code, kg, at(year, month, day))
            result.batches += 1
            e[stream]["generated"] += kg
            fate = rng.random()
            if month == 12 and i == 0:
                e[stream]["stored"] += kg  # still at the enterprise
                continue
            if fate < 0.06:
                d.ship([batch], to=s[dest], carrier=hauler, when=at(year, month, day + 1), receive=False)
                e[stream]["dumped"] += kg
                continue
            if via:
                [batch] = d.ship([batch], to=s["ts_dongli"], carrier=hauler, when=at(year, month, day + 1))
                pending_transfer.append((batch, kg, stream, month, day))
                if len(pending_transfer) == 2:
                    parts = [p[0] for p in pending_transfer]
                    merged = d.consolidate(parts, s["ts_dongli"], at(year, month, day + 1, 15))
                    [merged] = d.ship([merged], to=s[dest], carrier=hauler, when=at(year, month, day + 2))
                    halves = d.split(merged, [merged.quantity_kg - 100, Decimal(100)], at(year, month, day + 2, 16))
                    d.treat(halves[0], op, at(year, month, day + 3))
                    d.treat(halves[1], "R1", at(year, month, day + 3))  # a small part burned for energy
                    share = Decimal(100) / merged.quantity_kg
                    for _, part_kg, part_stream, *_ in pending_transfer:
                        e[part_stream]["disposed"] += part_kg * (1 - share)
                        e[part_stream]["utilised"] += part_kg * share
                    pending_transfer = []
                continue
            [batch] = d.ship([batch], to=s[dest], carrier=hauler, when=at(year, month, day + 1))
            if fate < 0.15:
                e[stream]["stored"] += kg  # received, not treated yet
                continue
            d.treat(batch, op, at(year, month, day + 2))
            e[stream]["utilised" if op.startswith("R") else "disposed"] += kg
    for _, kg, stream, *_ in pending_transfer:
        e[stream]["stored"] += kg
    return result


@pytest.fixture
def demo_year(catalogs):
    from waste.demo import seed_demo_city

    city = seed_demo_city(activity=False)
    return drive_year(city)
