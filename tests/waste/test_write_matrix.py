"""Who may write what: every write endpoint under /api/v1/ x every persona, with the status each
persona gets, and nothing written on a refusal.

Each persona's attempt runs in a savepoint that is rolled back afterwards, so that every persona
meets the same city. `test_it_covers_every_write_endpoint` fails when a write endpoint is added
without a row here. (Reads: tests/waste/test_scoping.py.)
"""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.logistics.helpers import TODAY
from tests.waste import test_scoping
from tests.waste.chain_helpers import manifest_new, now_iso, point_of
from tests.waste.test_parties_api import valid_uscc
from tests.waste.test_scoping import PERSONAS, api_v1_urls, dispatched

pytestmark = pytest.mark.django_db
chain = test_scoping.chain  # the city of the read matrix, as a fixture here too

OK = {200, 201, 202, 204}
AREA = {"type": "Polygon", "coordinates": [[[117.0, 39.0], [117.4, 39.0], [117.4, 39.3], [117.0, 39.0]]]}


def day(offset: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


# endpoint -> (request builder: chain -> (method, path, body), the personas whose write succeeds)
WRITES = {
    "organisation-list": (
        lambda c: (
            "post",
            reverse("organisation-list"),
            {
                "name": "New Co",
                "roles": ["generator"],
                "identifier_scheme": "cn_uscc",
                "identifier": valid_uscc(),
            },
        ),
        set(PERSONAS),
    ),
    "membership-list": (
        lambda c: (
            "post",
            reverse("membership-list", args=[c.generator_org.pk]),
            {
                "username": c.hauler.username,
                "role": "member",
            },
        ),
        {"generator"},
    ),
    "membership-pin": (
        lambda c: ("post", reverse("membership-pin", args=[c.generator_org.pk]), {"pin": "482913"}),
        {"generator"},
    ),
    "jurisdiction-list": (
        lambda c: (
            "post",
            reverse("jurisdiction-list"),
            {
                "organisation": c.regulator_org.pk,
                "name": "Heping",
                "district_code": "120101",
                "area": AREA,
            },
        ),
        set(),  # only a platform administrator assigns jurisdictions, not even the regulator itself
    ),
    "site-list": (
        lambda c: (
            "post",
            reverse("site-list"),
            {
                "organisation": c.generator_org.pk,
                "name": "Depot",
                "kind": "generation",
                "location": {"type": "Point", "coordinates": [117.2, 39.12]},
                "district_code": "120101",
            },
        ),
        {"generator"},
    ),
    "site-detail": (
        lambda c: ("patch", reverse("site-detail", args=[c.generation_site.pk]), {"name": "Renamed"}),
        {"generator"},
    ),
    "permit-list": (
        lambda c: (
            "post",
            reverse("permit-list", args=[c.transfer.pk]),
            {
                "number": "P-NEW",
                "codes": ["HW08"],
                "operations": ["R13"],
                "annual_quantity_kg": "1000",
                "valid_from": day(-1),
                "valid_until": day(365),
            },
        ),
        {"operator"},
    ),
    "batch-list": (
        lambda c: (
            "post",
            reverse("batch-list"),
            {
                "waste_code": "900-249-08",
                "quantity_kg": "10",
                "site": c.generation_site.pk,
                "description": "drum",
            },
        ),
        {"generator"},
    ),
    "batch-consolidate": (
        lambda c: ("post", reverse("batch-consolidate"), {"batches": [c.b, c.b2], "site": c.generation_site.pk}),
        set(),  # only a transfer station or plant holding the batches consolidates: 4xx for all
    ),
    "batch-split": (
        lambda c: ("post", reverse("batch-split", args=[c.b]), {"parts": ["20", "30"]}),
        {"generator"},
    ),
    "batch-treat": (
        lambda c: ("post", reverse("batch-treat", args=[c.a]), {"operation": "R9"}),
        set(),  # batch a was treated already by the fixture: a second treatment is refused to everyone
    ),
    "label-sheet": (
        lambda c: ("post", reverse("label-sheet"), {"batches": [c.b]}),
        {"generator", "regulator"},
    ),
    "manifest-list": (
        lambda c: (
            "post",
            reverse("manifest-list"),
            {
                "from_site": c.generation_site.pk,
                "to_site": c.plant.pk,
                "carriers": [c.hauler_org.pk],
                "batches": [c.b],
            },
        ),
        {"generator"},
    ),
    "manifest-sign": (
        lambda c: ("post", reverse("manifest-sign", args=[c.unsigned]), {"role": "consignor"}),
        {"generator"},
    ),
    "manifest-correct": (
        lambda c: ("post", reverse("manifest-correct", args=[c.manifest]), {"reason": "wrong quantity"}),
        set(),
    ),
    # The alert's enterprise and the regulator whose jurisdiction holds it both act on it.
    "alert-acknowledge": (
        lambda c: ("post", reverse("alert-acknowledge", args=[c.alert.pk]), {}),
        {"generator", "regulator"},
    ),
    "alert-resolve": (lambda c: ("post", reverse("alert-resolve", args=[c.alert.pk]), {}), {"generator", "regulator"}),
    "webhook-list": (
        lambda c: (
            "post",
            reverse("webhook-list"),
            {
                "organisation": c.generator_org.pk,
                "url": "https://example.com/other",
            },
        ),
        {"generator"},
    ),
    "export-list": (
        lambda c: (
            "post",
            reverse("export-list"),
            {
                "kind": "events",
                "format": "csv",
                "date_from": day(-7),
                "date_to": day(),
            },
        ),
        set(PERSONAS),
    ),
    "scan": (
        lambda c: (
            "post",
            reverse("scan"),
            {
                "code": c.b,
                "action": "store_in",
                "scanned_at": now_iso(),
                "location": point_of(c.generation_site),
            },
        ),
        {"generator"},
    ),
    "scan-bulk": (
        lambda c: (
            "post",
            reverse("scan-bulk"),
            {
                "scans": [
                    {
                        "code": c.b,
                        "action": "store_in",
                        "scanned_at": now_iso(),
                        "location": point_of(c.generation_site),
                        "idempotency_key": "bulk-1",
                    }
                ]
            },
        ),
        {"generator"},
    ),
    "vehicle-list": (
        lambda c: (
            "post",
            reverse("vehicle-list"),
            {
                "organisation": c.hauler_org.pk,
                "plate": "津A-NEW",
                "capacity_kg": "1000",
                "classes": ["general"],
                "depot": c.depot.pk,
                "shift_start": "07:00",
                "shift_end": "17:00",
            },
        ),
        {"hauler"},
    ),
    "licence-list": (
        lambda c: (
            "post",
            reverse("licence-list"),
            {
                "organisation": c.hauler_org.pk,
                "number": "L-NEW",
                "classes": ["general"],
                "valid_from": day(-1),
                "valid_until": day(365),
            },
        ),
        {"hauler"},
    ),
    "pickup-list": (
        lambda c: (
            "post",
            reverse("pickup-list"),
            {
                "date": TODAY.isoformat(),
                "site": c.generation_site.pk,
                "quantity_kg": "40",
                "waste_class": "general",
                "hauler": c.hauler_org.pk,
            },
        ),
        {"generator"},
    ),
    "pickup-from-batches": (
        lambda c: ("post", reverse("pickup-from-batches"), {"date": TODAY.isoformat(), "codes": [c.b2]}),
        {"generator"},
    ),
    "plan-create": (
        lambda c: ("post", reverse("plan-create"), {"date": TODAY.isoformat(), "hauler": c.hauler_org.pk}),
        {"hauler"},
    ),
    "plan-dispatch": (lambda c: ("post", reverse("plan-dispatch", args=[c.plan.pk]), {}), set()),
    "trip-stop-complete": (
        lambda c: ("post", reverse("trip-stop-complete", args=[c.trip.pk, 1]), {}),
        set(),  # a stop completes only through a scan of the batch's label: 4xx for everyone here
    ),
    "trip-stop-fail": (
        lambda c: ("post", reverse("trip-stop-fail", args=[c.trip.pk, 1]), {"reason": "closed"}),
        {"hauler"},
    ),
    "trip-replan": (lambda c: ("post", reverse("trip-replan", args=[c.trip.pk]), {}), {"hauler"}),
    "treatment-list": (
        lambda c: ("post", reverse("treatment-list"), {"batch": c.a, "operation": "R9", "quantity_kg": "10"}),
        set(),
    ),
    "capacity-list": (
        lambda c: (
            "post",
            reverse("capacity-list"),
            {
                "site": c.plant.pk,
                "codes": ["HW08"],
                "period_start": day(),
                "period_end": day(30),
                "capacity_kg": "5000",
            },
        ),
        {"recycler"},
    ),
    # ground control: devices, positions, telemetry
    "device-list": (
        lambda c: (
            "post",
            reverse("device-list"),
            {"identifier": "FILL-NEW", "site": c.generation_site.pk, "kind": "fill", "capacity_kg": "800"},
        ),
        {"generator"},
    ),
    "position": (
        lambda c: (
            "post",
            reverse("position"),
            {"vehicle": c.vehicle.pk, "time": now_iso(), "point": point_of(c.generation_site)},
        ),
        {"hauler"},
    ),
    "position-bulk": (
        lambda c: (
            "post",
            reverse("position-bulk"),
            {"positions": [{"vehicle": c.vehicle.pk, "time": now_iso(), "point": point_of(c.generation_site)}]},
        ),
        {"hauler"},
    ),
    "telemetry": (
        lambda c: (
            "post",
            reverse("telemetry"),
            {"device": test_scoping.devices(c).device.identifier, "kind": "fill", "time": now_iso(), "fill_pct": "40"},
        ),
        {"generator"},
    ),
    # emergency command
    "incident-list": (
        lambda c: ("post", reverse("incident-list"), {"kind": "spill", "point": point_of(c.generation_site)}),
        set(PERSONAS),
    ),
    "incident-action": (
        lambda c: (
            "post",
            reverse("incident-action", args=[test_scoping.incidents(c).incident.pk]),
            {"action": "acknowledge"},
        ),
        {"regulator"},
    ),
    "incident-note": (
        lambda c: (
            "post",
            reverse("incident-note", args=[test_scoping.incidents(c).incident.pk]),
            {"text": "Sand on the spill."},
        ),
        {"regulator"},  # the command log is the regulator's and the dispatched haulers'; none is dispatched yet
    ),
    "incident-dispatch": (
        lambda c: (
            "post",
            reverse("incident-dispatch", args=[test_scoping.incidents(c).incident.pk]),
            {"vehicle": c.vehicle.pk},
        ),
        {"regulator"},
    ),
    "trip-stop-incident": (
        lambda c: ("post", reverse("trip-stop-incident", args=[c.trip.pk, 1]), {"action": "arrived"}),
        set(),  # the chain's trip has no incident stop: 4xx for everyone here (tests/emergency/test_incident_stop.py)
    ),
    "offer-list": (lambda c: ("post", reverse("offer-list"), {"batch": c.b2}), {"generator"}),
    "offer-claim": (
        lambda c: ("post", reverse("offer-claim", args=[c.offer.pk]), {"capacity": c.capacity.pk}),
        {"recycler"},
    ),
}
# Token endpoints act on the caller's own tokens only: tests/waste/test_auth_api.py.
OWN_TOKENS = {"auth-token", "auth-token-revoke", "auth-token-revoke-all"}


def write_endpoints() -> set[str]:
    """Every /api/v1/ URL whose view answers POST, PUT, PATCH or DELETE."""
    from django.urls import URLPattern, URLResolver, get_resolver

    names = set(api_v1_urls())
    found = set()

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name in names:
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                if view is not None and any(hasattr(view, m) for m in ("post", "put", "patch", "delete")):
                    found.add(entry.name)

    walk(get_resolver().url_patterns)
    return found


def snapshot() -> dict:
    """Every row of the product's own tables, counted, and the states a write could move."""
    state = {
        model._meta.label: model.objects.count()
        for app in ("waste", "logistics", "recycling", "emergency")
        for model in apps.get_app_config(app).get_models()
    }
    for label, field in (
        ("waste.Site", "name"),
        ("waste.Batch", "status"),
        ("waste.Manifest", "status"),
        ("waste.Alert", "status"),
        ("waste.Membership", "pin_hash"),
        ("logistics.TripStop", "status"),
        ("recycling.BatchOffer", "status"),
    ):
        model = apps.get_model(label)
        if field in {f.name for f in model._meta.get_fields()}:
            state[f"{label}.{field}"] = sorted(map(str, model.objects.order_by("pk").values_list(field, flat=True)))
    return state


@pytest.fixture
def city_with_work(chain):
    from tests.year import driver as superuser_driver

    now = timezone.now()
    make = superuser_driver().make
    chain.b2 = make(chain.generation_site, "900-249-08", 40, now - datetime.timedelta(hours=3)).code
    b3 = make(chain.generation_site, "900-249-08", 20, now - datetime.timedelta(hours=3)).code
    chain.unsigned = manifest_new(
        client_for(chain.generator),
        from_site=chain.generation_site,
        to_site=chain.plant,
        carriers=[chain.hauler_org],
        codes=[b3],
        sign=False,
    )
    return dispatched(chain)


def attempt(chain, who: str, endpoint: str):
    build, _ = WRITES[endpoint]
    method, path, body = build(chain)
    client = client_for(getattr(chain, who))
    with transaction.atomic():
        before = snapshot()
        response = getattr(client, method)(path, body, format="json")
        after = snapshot()
        transaction.set_rollback(True)
    return response, before, after


def test_it_covers_every_write_endpoint():
    names = write_endpoints()

    assert sorted(names - OWN_TOKENS - set(WRITES)) == [], "add these write endpoints to WRITES"
    assert sorted(set(WRITES) - names) == [], "WRITES names endpoints that no longer write"


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_it_lets_only_the_right_personas_write(city_with_work, endpoint):
    _, allowed = WRITES[endpoint]
    outcomes = {}
    for who in PERSONAS:
        response, before, after = attempt(city_with_work, who, endpoint)
        outcomes[who] = response.status_code
        if endpoint in {"scan-bulk", "position-bulk"} and response.status_code == 200:
            # The batch answers 200 with a result per item: a refused item is "rejected" in it.
            created = response.json()["summary"]["created"]
            outcomes[who] = 201 if created else 403
            assert created or after == before, (who, "a refused scan changed", response.content[:300])
            continue
        if who in allowed:
            assert response.status_code in OK, (who, response.status_code, response.content[:300])
        else:
            assert 400 <= response.status_code < 500, (who, response.status_code, response.content[:300])
            assert after == before, (who, "a refused write changed", {k for k in after if after[k] != before[k]})
    assert {who for who, status in outcomes.items() if status in OK} == allowed, outcomes
