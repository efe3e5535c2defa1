"""Many batches on one signed manifest, made through the services (the bulk and concurrency tests
need dozens; the API tests make theirs through HTTP)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from tests.waste.chain_helpers import OIL
from waste.models import Permit
from waste.services.batches import batch_create
from waste.services.manifests import manifest_create, manifest_sign


def receiving_permit(site) -> None:
    today = datetime.date.today()
    Permit.objects.get_or_create(
        site=site,
        number=f"P-{site.pk}",
        defaults={
            "codes": ["HW08"],
            "operations": ["R13"],
            "annual_quantity_kg": Decimal("10000000"),
            "valid_from": today.replace(month=1, day=1),
            "valid_until": today.replace(year=today.year + 1),
        },
    )


def shipment(city, n: int, *, carriers=None) -> tuple[list[str], str]:
    """``n`` batches of 100 kg at the generation site on one manifest to the transfer station,
    signed by the consignor: (codes, manifest number)."""
    receiving_permit(city.transfer)
    generated_at = timezone.now() - datetime.timedelta(hours=2)
    codes = [
        batch_create(
            user=city.generator,
            site=city.generation_site,
            waste_code=OIL,
            quantity_kg=Decimal("100"),
            generated_at=generated_at,
        ).code
        for _ in range(n)
    ]
    manifest = manifest_create(
        user=city.generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=carriers or [city.hauler_org],
        batches=codes,
    )
    manifest_sign(user=city.generator, number=manifest.number, role="consignor")
    return codes, manifest.number


def pickup_item(city, code: str, key: str, *, minutes_ago: int = 10, **extra) -> dict:
    at = city.generation_site.location
    return {
        "code": code,
        "action": "pickup",
        "location": {"type": "Point", "coordinates": [at.x, at.y]},
        "scanned_at": (timezone.now() - datetime.timedelta(minutes=minutes_ago)).isoformat(),
        "idempotency_key": key,
        **extra,
    }
