"""Upstream state for the site and recycler pages, built with the domain services (not the pages)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from tests.waste.test_chain_e2e import permit
from waste.models import Batch
from waste.services.batches import batch_create
from waste.services.manifests import manifest_create, manifest_sign
from waste.services.transitions import Act, batch_act

OIL = "900-249-08"  # HW08: hazardous, traits T and I


def batches_made(city, *quantities: str, waste_code: str = OIL) -> list[Batch]:
    return [
        batch_create(user=city.generator, site=city.generation_site, waste_code=waste_code, quantity_kg=Decimal(q))
        for q in quantities
    ]


def on_the_way(city, *quantities: str, to_site=None, picked_up: bool = True) -> tuple[str, list[str]]:
    """Batches generated, on a manifest to the transfer station signed by consignor and carrier, picked up."""
    to_site = to_site or city.transfer
    if not to_site.permits.exists():
        permit(to_site, ["HW08", "HW18", "SW17"], ["R4", "R9", "R13", "D10", "D1"])
    batches = batches_made(city, *quantities)
    codes = [b.code for b in batches]
    manifest = manifest_create(
        user=city.generator, from_site=city.generation_site, to_site=to_site, carriers=[city.hauler_org], batches=codes
    )
    manifest_sign(user=city.generator, number=manifest.number, role="consignor")
    if picked_up:
        for code in codes:  # the carrier signs its part by scanning at pickup
            batch_act(code=code, act=Act(user=city.hauler, action="pickup", event_time=timezone.now()))
    return manifest.number, codes


def received(city, *quantities: str, to_site=None) -> list[str]:
    """Batches received (and signed for) at ``to_site``: stock on that site."""
    to_site = to_site or city.transfer
    receiver = city.operator if to_site.organisation_id == city.operator_org.pk else city.recycler
    number, codes = on_the_way(city, *quantities, to_site=to_site)
    manifest_sign(user=receiver, number=number, role="receiver", decision="accept")
    return codes
