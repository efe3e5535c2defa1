"""Shared steps of the emergency-command tests: a spill near two haulers' trucks and three sites."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.utils import timezone

from logistics.models import HaulerLicence
from tests.factories import SiteFactory, persona
from tests.logistics.helpers import depot, driver, permit, vehicle
from waste.geo import point
from waste.models import Role, SiteKind

SPILL = (117.200, 39.120)
OIL = "900-249-08"  # HW08


def east(metres: float, lon: float = SPILL[0]) -> float:
    return lon + metres / (111_320 * 0.7760)


def fix(client, v, lon, lat=SPILL[1], minutes_ago: float = 2):
    time = (timezone.now() - datetime.timedelta(minutes=minutes_ago)).replace(microsecond=0)
    answer = client.post(
        "/api/v1/positions/",
        {"vehicle": v.pk, "time": time.isoformat(), "point": {"type": "Point", "coordinates": [lon, lat]}},
        format="json",
    )
    assert answer.status_code in (200, 201), answer.content


def hazardous_licence(org):
    today = timezone.localdate()
    return HaulerLicence.objects.create(
        organisation=org,
        number=f"HW-{org.pk}",
        classes=["hazardous"],
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=300),
    )


def scene(city):
    """City's hauler (licensed for hazardous waste) with three trucks, a rogue hauler (no licence) with
    the nearest truck of all, a permitted transfer station, a nearer unpermitted one, a farther permitted
    disposal site."""
    from tests.conftest import client_for

    hazardous_licence(city.hauler_org)
    home = depot(city.hauler_org, east(5000), SPILL[1])
    ana = driver(city.hauler_org, "ana")
    bo = driver(city.hauler_org, "bo")
    fitted = vehicle(city.hauler_org, home, "津A·H0001", classes=("general", "hazardous"), default_driver=ana)
    farther = vehicle(city.hauler_org, home, "津A·H0002", classes=("general", "hazardous"), default_driver=bo)
    unfitted = vehicle(city.hauler_org, home, "津A·G0003", classes=("general",), default_driver=bo)
    _, rogue_org, _ = persona("rogue", roles=[Role.HAULER], site_kind=None)
    rogue_depot = depot(rogue_org, SPILL[0], SPILL[1])
    rogue = vehicle(rogue_org, rogue_depot, "津A·R0001", classes=("hazardous",))
    hauler = client_for(city.hauler)
    fix(hauler, fitted, east(800))
    fix(hauler, farther, east(4000))
    fix(hauler, unfitted, east(300))
    fix(client_for(persona_user(rogue_org)), rogue, east(100))
    city.transfer.location = point(east(2000), SPILL[1])
    city.transfer.save()
    permit(city.transfer, ["HW08"])
    unpermitted = SiteFactory(
        organisation=city.operator_org, kind=SiteKind.TRANSFER_STATION, location=point(east(500), SPILL[1])
    )
    far_site = SiteFactory(organisation=city.operator_org, kind=SiteKind.DISPOSAL, location=point(east(9000), SPILL[1]))
    permit(far_site, [OIL])
    return SimpleNamespace(
        fitted=fitted,
        farther=farther,
        unfitted=unfitted,
        rogue=rogue,
        rogue_org=rogue_org,
        permitted=city.transfer,
        unpermitted=unpermitted,
        far_site=far_site,
        ana=ana,
    )


def persona_user(org):
    return org.memberships.first().user


def spill(client, **extra) -> dict:
    body = {
        "kind": "spill",
        "point": {"type": "Point", "coordinates": list(SPILL)},
        "waste_code": OIL,
        "quantity_kg": "300",
        "description": "Oil drums leaking at the roadside",
        **extra,
    }
    answer = client.post("/api/v1/incidents/", body, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()
