"""Who sees what: every list and detail endpoint under /api/v1/ x every persona.

The matrix below must name every URL under /api/v1/ (or list it as public reference data / auth);
`test_it_covers_every_api_endpoint_in_the_matrix` fails when an endpoint is added without it.
"""

from __future__ import annotations

import datetime
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import UUIDConverter
from django.utils import timezone
from rest_framework.test import APIClient

from logistics.models import Pickup, RoutePlan, Trip, TripStop
from logistics.services.plans import plan_request
from logistics.services.trips import plan_dispatch
from recycling.models import BatchOffer, Claim, TreatmentRecord
from recycling.services import offer_create, treatment_record
from tests.conftest import client_for
from tests.factories import ELSEWHERE_BBOX, persona
from tests.logistics.helpers import TODAY, depot, driver, licence, pickup, run_inline, vehicle
from tests.recycling.helpers import capacity
from tests.waste.chain_helpers import now_iso, permit, point_of
from tests.year import driver as superuser_driver
from waste.alerts.notify import webhook_enqueue
from waste.alerts.rules import Hit
from waste.alerts.services import alert_raise
from waste.geo import bbox_polygon
from waste.models import (
    Alert,
    AlertRule,
    Batch,
    Jurisdiction,
    LedgerEntry,
    Manifest,
    Membership,
    Permit,
    Role,
    Site,
    Webhook,
)
from waste.scoping import district_prefix, visible_to
from waste.services.catalogs import catalogs_load_shipped
from waste.services.exports import export_link_token, export_request, export_run

PERSONAS = ["generator", "hauler", "operator", "recycler", "regulator", "outsider"]
CITY_ORGS = {"generator_org", "hauler_org", "operator_org", "recycler_org", "regulator_org"}
CITY_SITES = {"generation_site", "transfer", "plant"}

# What each persona may see. Organisations and sites are visible to their own members and to a
# regulator whose jurisdiction contains them; members and jurisdictions only to their own members.
OWN = {
    "generator": ({"generator_org"}, {"generation_site"}),
    "hauler": ({"hauler_org"}, set()),
    "operator": ({"operator_org"}, {"transfer"}),
    "recycler": ({"recycler_org"}, {"plant"}),
    "regulator": ({"regulator_org"}, set()),
    "outsider": ({"outsider_org"}, {"outsider_site"}),
}


def visible_orgs(who: str) -> set[str]:
    return CITY_ORGS if who == "regulator" else OWN[who][0]


def visible_sites(who: str) -> set[str]:
    return CITY_SITES if who == "regulator" else OWN[who][1]


# Reference data and authentication: every signed-in user may use them, whatever their organisation.
PUBLIC = {
    "auth-token",
    "auth-token-revoke",
    "auth-token-revoke-all",
    "me",
    "catalog-list",
    "catalog-entry-list",
    "waste-code-lookup",
}


@pytest.fixture
def world(city):
    """The city, a permit on every site, and a regulator of the outsider's region."""
    for label in (*CITY_SITES, "outsider_site"):
        site = getattr(city, label)
        permit = Permit.objects.create(
            site=site,
            number=f"P-{label}",
            codes=["HW08"],
            annual_quantity_kg=1000,
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
        )
        setattr(city, f"{label}_permit", permit)
    _, far_regulator_org, _ = persona("far_regulator", roles=[Role.REGULATOR], site_kind=None, district="650000")
    city.far_jurisdiction = Jurisdiction.objects.create(
        organisation=far_regulator_org,
        name="Urumqi",
        district_code="650000",
        area=MultiPolygon(bbox_polygon(*ELSEWHERE_BBOX)),
    )
    city.city_jurisdiction = Jurisdiction.objects.get(organisation=city.regulator_org)
    city.labels = {label: getattr(city, label) for label in (*CITY_ORGS, "outsider_org", *CITY_SITES, "outsider_site")}
    return city


def result_ids(response) -> set[int]:
    body = response.json()
    rows = body["features"] if "features" in body else body["results"]
    return {row["id"] for row in rows}


def ids_of(world, labels) -> set[int]:
    return {world.labels[label].id for label in labels}


# --- one checker per endpoint: (world, persona name, client) -> None ----------------------------------


def check_organisation_list(world, who, client):
    response = client.get(reverse("organisation-list"))
    assert response.status_code == 200
    assert result_ids(response) == ids_of(world, visible_orgs(who))


def check_organisation_detail(world, who, client):
    for label in (*CITY_ORGS, "outsider_org"):
        response = client.get(reverse("organisation-detail", args=[world.labels[label].id]))
        assert response.status_code == (200 if label in visible_orgs(who) else 404), label


def check_membership_list(world, who, client):
    for label in (*CITY_ORGS, "outsider_org"):
        org = world.labels[label]
        response = client.get(reverse("membership-list", args=[org.id]))
        if label not in visible_orgs(who):
            assert response.status_code == 404, label
            continue
        assert response.status_code == 200, label
        # Member lists are private to the organisation, even from its regulator.
        expected = set(Membership.objects.filter(organisation=org).values_list("id", flat=True))
        assert result_ids(response) == (expected if label in OWN[who][0] else set()), label


def check_membership_pin(world, who, client):
    for label in (*CITY_ORGS, "outsider_org"):
        response = client.post(reverse("membership-pin", args=[world.labels[label].id]), {"pin": "1357"}, format="json")
        if label in OWN[who][0]:
            assert response.status_code == 204, label
        elif label in visible_orgs(who):
            assert response.status_code == 403, label
        else:
            assert response.status_code == 404, label


def check_site_list(world, who, client):
    response = client.get(reverse("site-list"))
    assert response.status_code == 200
    assert result_ids(response) == ids_of(world, visible_sites(who))


def check_site_detail(world, who, client):
    for label in (*CITY_SITES, "outsider_site"):
        response = client.get(reverse("site-detail", args=[world.labels[label].id]))
        assert response.status_code == (200 if label in visible_sites(who) else 404), label


def check_permit_list(world, who, client):
    for label in (*CITY_SITES, "outsider_site"):
        response = client.get(reverse("permit-list", args=[world.labels[label].id]))
        if label not in visible_sites(who):
            assert response.status_code == 404, label
            continue
        assert response.status_code == 200, label
        assert result_ids(response) == {getattr(world, f"{label}_permit").id}, label


def check_jurisdiction_list(world, who, client):
    response = client.get(reverse("jurisdiction-list"))
    assert response.status_code == 200
    expected = {world.city_jurisdiction.id} if who == "regulator" else set()
    assert result_ids(response) == expected


MATRIX = {
    "organisation-list": check_organisation_list,
    "organisation-detail": check_organisation_detail,
    "membership-list": check_membership_list,
    "membership-pin": check_membership_pin,
    "site-list": check_site_list,
    "site-detail": check_site_detail,
    "permit-list": check_permit_list,
    "jurisdiction-list": check_jurisdiction_list,
}


def api_v1_urls() -> dict[str, dict]:
    """Name -> path converters of every URL whose route starts with api/v1/, whichever urls.py declares it."""
    found: dict[str, dict] = {}

    def walk(patterns, prefix: str, params: dict) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            here = {**params, **entry.pattern.converters}
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, here)
            elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
                assert entry.name, f"every API URL needs a name: {route}"
                found[entry.name] = here

    walk(get_resolver().url_patterns, "", {})
    return found


def api_v1_url_names() -> set[str]:
    return set(api_v1_urls())


def test_it_covers_every_api_endpoint_in_the_matrix():
    names = api_v1_url_names()

    covered = set(MATRIX) | set(CHAIN_MATRIX) | set(WRITE_ONLY)
    missing_from_matrix = sorted(names - PUBLIC - covered)
    gone = sorted((covered | PUBLIC) - names)
    both = sorted((set(MATRIX) | set(CHAIN_MATRIX)) & set(WRITE_ONLY))

    assert missing_from_matrix == [], "add these endpoints to the scoping matrix"
    assert gone == [], "the matrix names endpoints that no longer exist"
    assert both == [], "an endpoint is either read (in a matrix) or write-only, not both"


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_it_scopes_every_endpoint_for_every_persona(world, endpoint, who):
    client = client_for(getattr(world, who))

    MATRIX[endpoint](world, who, client)


def test_it_shows_the_outsider_nothing_of_the_city(world):
    """The headline promise, stated on its own: an outsider's lists contain none of the city's rows."""
    client = client_for(world.outsider)

    orgs = result_ids(client.get(reverse("organisation-list")))
    sites = result_ids(client.get(reverse("site-list")))
    jurisdictions = result_ids(client.get(reverse("jurisdiction-list")))

    assert orgs == {world.outsider_org.id}
    assert sites == {world.outsider_site.id}
    assert jurisdictions == set()


def test_it_shows_a_generator_its_own_site_but_not_the_transfer_station(world):
    client = client_for(world.generator)

    own = client.get(reverse("site-detail", args=[world.generation_site.id]))
    other = client.get(reverse("site-detail", args=[world.transfer.id]))

    assert own.status_code == 200
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"


def test_it_shows_a_regulator_the_city_but_not_the_outsider(world):
    client = client_for(world.regulator)

    sites = result_ids(client.get(reverse("site-list")))
    orgs = result_ids(client.get(reverse("organisation-list")))

    assert sites == ids_of(world, CITY_SITES)
    assert world.outsider_site.id not in sites
    assert world.outsider_org.id not in orgs


def test_it_shows_a_regulator_a_site_by_district_code_outside_the_polygon(world):
    """A site registered in a district of the jurisdiction is visible even if its point lies outside."""
    stray = Site.objects.create(
        organisation=world.outsider_org,
        name="Mis-geocoded",
        kind="generation",
        location=world.outsider_site.location,
        district_code="120104",
    )

    sites = result_ids(client_for(world.regulator).get(reverse("site-list")))

    assert stray.id in sites
    assert world.outsider_site.id not in sites


def test_it_lets_a_superuser_see_everything(world):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="root-password-123")

    sites = result_ids(client_for(root).get(reverse("site-list")))

    assert sites == ids_of(world, CITY_SITES | {"outsider_site"})


def test_it_shows_anonymous_users_nothing_through_the_scoping_function(world):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_to(Site.objects.all(), AnonymousUser()).exists()


@pytest.mark.parametrize(("code", "prefix"), [("120000", "12"), ("120100", "1201"), ("120101", "120101")])
def test_it_turns_a_district_code_into_its_prefix(code, prefix):
    assert district_prefix(code) == prefix


# --- reference data and anonymous access --------------------------------------------------------------


def sample_url(name: str) -> str:
    samples = {UUIDConverter: "00000000-0000-0000-0000-000000000001"}
    converters = api_v1_urls()[name]
    return reverse(name, kwargs={param: samples.get(type(c), "1") for param, c in converters.items()})


@pytest.mark.parametrize("name", sorted(api_v1_url_names() - {"auth-token"}))
def test_it_rejects_anonymous_requests_everywhere(db, name):
    client = APIClient()

    responses = [client.get(sample_url(name)), client.post(sample_url(name), {}, format="json")]

    assert [r.status_code for r in responses] == [401, 401]
    assert all(r.json()["error"]["code"] == "not_authenticated" for r in responses)


@pytest.mark.parametrize("who", PERSONAS)
def test_it_serves_reference_data_to_every_signed_in_user(city, who):
    catalogs_load_shipped()
    client = client_for(getattr(city, who))

    catalogs = client.get(reverse("catalog-list"))
    entries = client.get(reverse("catalog-entry-list"), {"catalog": "cn-hw-categories"})
    code = client.get(reverse("waste-code-lookup", kwargs={"code": "900-249-08"}))

    assert catalogs.status_code == entries.status_code == code.status_code == 200
    assert catalogs.json()["count"] >= 7
    assert entries.json()["count"] == 46
    assert code.json()["code"] == "900-249-08"


def test_it_keeps_the_world_fixture_honest(world):
    """The scoping matrix relies on these facts about the personas' places."""
    regulator_area = world.city_jurisdiction.area

    assert all(regulator_area.contains(getattr(world, s).location) for s in CITY_SITES)
    assert not regulator_area.intersects(world.outsider_site.location)
    assert world.outsider_org.district_code == "650102"


# --- the waste chain, logistics and recycling -------------------------------------------------------
#
# One small chain through the city, built with the services:
#   A: 100 kg of oil generated at the generator's site, carried by the hauler on manifest M to the
#      recycler's plant, received and treated (R9): parties generator, hauler, recycler.
#   B: 50 kg still at the generator's site, offered on the market, requested for pickup by the hauler,
#      the subject of an alert.
#   O: 30 kg at the outsider's own site, so an outsider's lists are not empty for want of data.
# The operator (transfer station) takes part in none of it; the regulator sees all of it through its
# jurisdiction, except what belongs to a user or a fleet (exports, webhooks, trips).

ALL = set(PERSONAS)
CHAIN_PARTIES = {"generator", "hauler", "recycler", "regulator"}  # who sees A and M


@pytest.fixture
def chain(city, catalogs, settings):
    settings.ROUTING_SOLVER_SECONDS = 0.2  # one pickup, one vehicle: the first solution is the best
    permit(city.plant, ["HW08"], ["R9", "R13"])
    d = superuser_driver()
    now = timezone.now()
    a = d.make(city.generation_site, "900-249-08", 100, now - datetime.timedelta(hours=6))
    [a] = d.ship([a], to=city.plant, carrier=city.hauler_org, when=now - datetime.timedelta(hours=5))
    city.manifest = Manifest.objects.get(lines__batch=a, correction__isnull=True).number
    city.treatment = treatment_record(user=city.recycler, code=a.code, operation="R9", quantity_kg=Decimal(100))
    city.a = a.code
    b = d.make(city.generation_site, "900-249-08", 50, now - datetime.timedelta(hours=4))
    city.b = b.code
    city.o = d.make(city.outsider_site, "900-249-08", 30, now - datetime.timedelta(hours=4)).code
    city.offer = offer_create(user=city.generator, code=b.code)
    city.capacity = capacity(city.recycler_org, city.plant)
    city.alert, _ = alert_raise(
        rule=AlertRule.STORAGE_TOO_LONG,
        hit=Hit(
            cause=f"scoping:{b.code}",
            message="stored too long",
            organisation=city.generator_org,
            site=city.generation_site,
            batch=b,
        ),
    )
    city.webhook = Webhook.objects.create(
        organisation=city.generator_org, url="https://example.com/hook", secret="s" * 32
    )
    city.delivery = webhook_enqueue(webhook=city.webhook, event="alert", payload={"id": city.alert.pk})
    job = export_request(
        user=city.generator,
        kind="events",
        format="csv",
        date_from=now.date().replace(day=1),
        date_to=timezone.localdate(),
    )
    export_run(job_id=job.pk)
    job.refresh_from_db()
    city.export = job
    city.licence = licence(city.hauler_org)
    city.depot = depot(city.hauler_org)
    city.driver = driver(city.hauler_org)
    city.vehicle = vehicle(
        city.hauler_org,
        city.depot,
        "T-1",
        classes=("hazardous", "general"),
        shift=("00:00", "23:59"),
        default_driver=city.driver,
    )
    city.pickup = pickup(
        city.hauler_org, city.generation_site, kg=50, klass="hazardous", code="900-249-08", category="HW08", batch=b
    )
    return city


def dispatched(chain):
    """A plan of the hauler's day, solved in this process and dispatched to its driver (built on demand:
    the solver is the slowest part of the chain)."""
    if not hasattr(chain, "plan"):
        plan = run_inline(plan_request(user=chain.hauler, hauler=chain.hauler_org, date=TODAY).id)
        assert plan.status == "done", plan.error
        [chain.trip] = plan_dispatch(user=chain.hauler, plan=plan)
        chain.plan = plan
    return chain


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["features"] if "features" in body else body["results"]


def listed(client, name, key="id", **query) -> set:
    return {row[key] for row in rows(client.get(reverse(name), query))}


def check_listed(name, key, expected, query=None):
    """A list endpoint: each persona sees exactly ``expected(chain)[persona]`` (absent: nothing)."""

    def check(chain, who, client):
        want = expected(chain).get(who, set())
        assert listed(client, name, key, **(query(chain) if query else {})) == want, who

    return check


def check_status(name, args, seen_by, ok=200, method="get", body=None):
    """A detail (or per-object report) endpoint: ``ok`` for the personas in ``seen_by``, else 404."""

    def check(chain, who, client):
        url = reverse(name, args=args(chain))
        response = client.post(url, body(chain), format="json") if method == "post" else client.get(url)
        expected = ok if who in seen_by else 404
        assert response.status_code == expected, (who, response.status_code, response.content[:300])

    return check


def batch_check(name, ok_type=None):
    """Every view of one batch: the parties of A and the regulator see it; the outsider sees only O."""

    def check(chain, who, client):
        for code, seen_by in ((chain.a, CHAIN_PARTIES), (chain.o, {"outsider"})):
            response = client.get(reverse(name, args=[code]))
            assert response.status_code == (200 if who in seen_by else 404), (who, code, response.status_code)
            if ok_type and response.status_code == 200:
                assert response["Content-Type"].startswith(ok_type)

    return check


def check_label_sheet(chain, who, client):
    for code, seen_by in ((chain.a, CHAIN_PARTIES), (chain.o, {"outsider"})):
        response = client.post(reverse("label-sheet"), {"batches": [code]}, format="json")
        assert response.status_code == (200 if who in seen_by else 404), (who, code)


def check_manifest_versions(chain, who, client):
    response = client.get(reverse("manifest-versions", args=[chain.manifest]))
    if who in CHAIN_PARTIES:
        assert response.status_code == 200
        assert {m["number"] for m in response.json()} == {chain.manifest}
    else:
        assert response.status_code == 404, who


def check_export_list(chain, who, client):
    """Requesting an export of the generator's ledger: its members and its regulator only."""
    response = client.post(
        reverse("export-list"),
        {
            "kind": "events",
            "format": "csv",
            "from": "2026-11-01",
            "to": "2026-11-02",
            "organisation": chain.generator_org.pk,
        },
        format="json",
    )
    assert response.status_code == (202 if who in {"generator", "regulator"} else 403), (who, response.content)


def check_export_download(chain, who, client):

    url = reverse("export-download", args=[chain.export.pk])
    response = client.get(url, {"token": export_link_token(job=chain.export)})
    assert response.status_code == (200 if who == "generator" else 404), who
    if who == "generator":
        assert b"".join(response.streaming_content)


def hazardous_generated(client, **query):
    response = client.get(reverse("report-indicators"), query)
    assert response.status_code == 200, response.content
    return response.json()["balance"]["hazardous"]["generated_kg"]


def check_report_indicators(chain, who, client):
    # By default a user's report covers their organisations and, for a regulator, its jurisdiction.
    own = {"generator": 150, "regulator": 150, "outsider": 30}
    assert hazardous_generated(client) == own.get(who, 0), who
    # Naming a city enterprise or the city's district is refused to those who may not see it.
    by_org = client.get(reverse("report-indicators"), {"organisation": chain.generator_org.pk})
    assert by_org.status_code == (200 if who in {"generator", "regulator"} else 403), who
    by_district = client.get(reverse("report-indicators"), {"district": "120000"})
    assert by_district.status_code == (200 if who == "regulator" else 403), who
    if who in {"generator", "regulator"}:
        assert by_org.json()["balance"]["hazardous"]["generated_kg"] == 150


def check_report_indicators_pdf(chain, who, client):
    response = client.get(reverse("report-indicators-pdf"), {"organisation": chain.generator_org.pk})
    assert response.status_code == (200 if who in {"generator", "regulator"} else 403), who
    if response.status_code == 200:
        assert response["Content-Type"] == "application/pdf"


def check_webhook_deliveries(chain, who, client):
    response = client.get(reverse("webhook-deliveries", args=[chain.webhook.pk]))
    if who == "generator":
        assert result_ids(response) == {chain.delivery.pk}
    else:
        assert response.status_code == 404, who


def check_trips_today(chain, who, client):
    dispatched(chain)
    assert rows(client.get(reverse("trips-today"))) == [], who
    mine = rows(client_for(chain.driver).get(reverse("trips-today")))
    assert [t["id"] for t in mine] == [chain.trip.pk]


def check_trip_detail(chain, who, client):
    dispatched(chain)
    response = client.get(reverse("trip-detail", args=[chain.trip.pk]))
    assert response.status_code == (200 if who == "hauler" else 404), who


def check_plan_detail(chain, who, client):
    dispatched(chain)
    response = client.get(reverse("plan-detail", args=[chain.plan.pk]))
    assert response.status_code == (200 if who in {"hauler", "regulator"} else 404), who


def check_mass_balance(chain, who, client):
    for site, seen_by in ((chain.plant, {"recycler", "regulator"}), (chain.outsider_site, {"outsider"})):
        response = client.get(reverse("mass-balance"), {"site": site.pk, "from": "2026-11-01", "to": "2026-11-30"})
        assert response.status_code == (200 if who in seen_by else 404), (who, site.name)


def check_matches(chain, who, client):
    for code, seen_by in ((chain.b, {"generator", "regulator"}), (chain.o, {"outsider"})):
        response = client.get(reverse("matches"), {"batch": code})
        assert response.status_code == (200 if who in seen_by else 404), (who, code, response.content[:200])


def check_trips_load(chain, who, client):
    dispatched(chain)
    # Only a driver carries a load: no persona of the matrix drives, so each sees nothing on board.
    assert rows(client.get(reverse("trips-load"))) == [], who
    assert client_for(chain.driver).get(reverse("trips-load")).status_code == 200


def check_fleet_live(chain, who, client):
    seen = {f["properties"]["vehicle"] for f in rows(client.get(reverse("fleet-live")))}
    assert seen == ({chain.vehicle.pk} if who in {"hauler", "regulator"} else set()), who


def devices(chain):
    from logistics.models import Device, DeviceKind

    if not hasattr(chain, "device"):
        chain.device = Device.objects.create(identifier="FILL-CITY", site=chain.generation_site, kind=DeviceKind.FILL)
        chain.outsider_device = Device.objects.create(
            identifier="FILL-OUT", site=chain.outsider_site, kind=DeviceKind.FILL
        )
    return chain


def check_device_list(chain, who, client):
    devices(chain)
    want = {
        "generator": {chain.device.pk},
        "regulator": {chain.device.pk},
        "outsider": {chain.outsider_device.pk},
    }.get(who, set())
    assert listed(client, "device-list") == want, who


def incidents(chain):
    from emergency.models import Incident, IncidentKind

    if not hasattr(chain, "incident"):
        kind = IncidentKind.values[0]
        chain.incident = Incident.objects.create(
            kind=kind,
            point=chain.generation_site.location,
            occurred_at=timezone.now(),
            organisation=chain.generator_org,
            reported_by=chain.generator,
        )
        chain.outsider_incident = Incident.objects.create(
            kind=kind,
            point=chain.outsider_site.location,
            occurred_at=timezone.now(),
            organisation=chain.outsider_org,
            reported_by=chain.outsider,
        )
    return chain


def check_incident_list(chain, who, client):
    incidents(chain)
    want = {
        "generator": {chain.incident.pk},
        "regulator": {chain.incident.pk},
        "outsider": {chain.outsider_incident.pk},
    }.get(who, set())
    assert listed(client, "incident-list") == want, who


def incident_check(name):
    def check(chain, who, client):
        incidents(chain)
        for incident, seen_by in (
            (chain.incident, {"generator", "regulator"}),
            (chain.outsider_incident, {"outsider"}),
        ):
            response = client.get(reverse(name, args=[incident.pk]))
            assert response.status_code == (200 if who in seen_by else 404), (who, name, response.content[:300])

    return check


CHAIN_MATRIX = {
    # batches
    "batch-list": check_listed(
        "batch-list",
        "code",
        lambda c: {
            "generator": {c.a, c.b},
            "hauler": {c.a},
            "recycler": {c.a},
            "regulator": {c.a, c.b},
            "outsider": {c.o},
        },
    ),
    "batch-detail": batch_check("batch-detail"),
    "batch-trace": batch_check("batch-trace"),
    "batch-events-jsonld": batch_check("batch-events-jsonld", "application/ld+json"),
    "batch-qr-png": batch_check("batch-qr-png", "image/png"),
    "batch-qr-svg": batch_check("batch-qr-svg", "image/svg+xml"),
    "batch-label-pdf": batch_check("batch-label-pdf", "application/pdf"),
    "label-sheet": check_label_sheet,
    # manifests
    "manifest-list": check_listed("manifest-list", "number", lambda c: dict.fromkeys(CHAIN_PARTIES, {c.manifest})),
    "manifest-detail": check_status("manifest-detail", lambda c: [c.manifest], CHAIN_PARTIES),
    "manifest-versions": check_manifest_versions,
    # compliance: alerts, webhooks, exports, reports
    "alert-list": check_listed("alert-list", "id", lambda c: dict.fromkeys({"generator", "regulator"}, {c.alert.pk})),
    "webhook-list": check_listed("webhook-list", "id", lambda c: {"generator": {c.webhook.pk}}),
    "webhook-deliveries": check_webhook_deliveries,
    "export-list": check_export_list,
    "export-detail": check_status("export-detail", lambda c: [c.export.pk], {"generator"}),
    "export-download": check_export_download,
    "report-indicators": check_report_indicators,
    "report-indicators-pdf": check_report_indicators_pdf,
    # logistics
    "vehicle-list": check_listed(
        "vehicle-list", "id", lambda c: dict.fromkeys({"hauler", "regulator"}, {c.vehicle.pk})
    ),
    "licence-list": check_listed(
        "licence-list",
        "id",
        lambda c: dict.fromkeys({"hauler", "regulator"}, set(c.hauler_org.licences.values_list("pk", flat=True))),
    ),
    "pickup-list": check_listed(
        "pickup-list", "id", lambda c: dict.fromkeys({"generator", "hauler", "regulator"}, {c.pickup.pk})
    ),
    "plan-detail": check_plan_detail,
    "trips-today": check_trips_today,
    "trips-load": check_trips_load,
    "vehicle-track": check_status("vehicle-track", lambda c: [c.vehicle.pk], {"hauler", "regulator"}),
    "fleet-live": check_fleet_live,
    "device-list": check_device_list,
    # emergency
    "incident-list": check_incident_list,
    "incident-detail": incident_check("incident-detail"),
    "incident-resources": incident_check("incident-resources"),
    "trip-detail": check_trip_detail,
    # recycling
    "treatment-list": check_listed(
        "treatment-list", "id", lambda c: dict.fromkeys({"generator", "recycler", "regulator"}, {c.treatment.pk})
    ),
    "treatment-detail": check_status(
        "treatment-detail", lambda c: [c.treatment.pk], {"generator", "recycler", "regulator"}
    ),
    "capacity-list": check_listed(
        "capacity-list", "id", lambda c: dict.fromkeys({"recycler", "regulator"}, {c.capacity.pk})
    ),
    # Open offers are the recyclers' market: every recycler sees them, on purpose.
    "offer-list": check_listed(
        "offer-list", "id", lambda c: dict.fromkeys({"generator", "recycler", "regulator"}, {c.offer.pk})
    ),
    "offer-detail": check_status("offer-detail", lambda c: [c.offer.pk], {"generator", "recycler", "regulator"}),
    "mass-balance": check_mass_balance,
    "matches": check_matches,
}

# Endpoints that only act on something; what they act on is looked up through the same scoped
# selectors as the reads above. Each family has a test below: an outsider acting on the city's
# object is refused and nothing is written.
WRITE_ONLY = {
    "batch-consolidate": "merges batches the user holds; codes resolved through the user's batches",
    "batch-split": "splits a batch; looked up with batch_visible like batch-detail",
    "batch-treat": "records an operation; looked up with batch_visible like batch-detail",
    "manifest-sign": "signs in turn; looked up with manifest_visible like manifest-detail",
    "manifest-correct": "new version of a manifest; looked up with manifest_visible",
    "alert-acknowledge": "moves an alert the user sees (alert-list's queryset)",
    "alert-resolve": "moves an alert the user sees (alert-list's queryset)",
    "scan": "appends a ledger event for a batch the scanner may act on; answers only about that event",
    "scan-bulk": "the same as scan, many at once",
    "pickup-from-batches": "requests pickups of batches the user holds",
    "plan-create": "queues a plan for a hauler the user belongs to; answers only the plan's id",
    "plan-dispatch": "turns a plan the user sees (plan-detail's selector) into trips",
    "trip-stop-fail": "acts on a stop of a trip the user sees (trip-detail's selector)",
    "trip-stop-complete": "acts on a stop of a trip the user sees (trip-detail's selector)",
    "trip-replan": "re-plans a trip the user sees (trip-detail's selector)",
    "offer-claim": "books an offer the user sees on the user's own capacity",
    "position": "records a fix of a vehicle of the user's own organisation; answers only about that fix",
    "position-bulk": "the same as position, many at once",
    "telemetry": "records a reading of a registered device; answers only about that reading",
    "incident-action": "moves an incident the user sees (incident-detail's selector)",
    "incident-dispatch": "sends resources to an incident the user sees (incident-detail's selector)",
    "incident-note": "adds a note to an incident the user sees (incident-detail's selector)",
    "trip-stop-incident": "acts on an incident stop of a trip the user sees (trip-detail's selector)",
}


@pytest.mark.parametrize("endpoint", sorted(CHAIN_MATRIX))
def test_it_scopes_every_chain_endpoint_for_every_persona(chain, endpoint):
    for who in PERSONAS:
        CHAIN_MATRIX[endpoint](chain, who, client_for(getattr(chain, who)))


# --- write-only actions: an outsider acting on the city's objects is refused, nothing is written ---


def written(chain) -> tuple:

    return (
        Batch.objects.count(),
        LedgerEntry.objects.count(),
        Manifest.objects.count(),
        TreatmentRecord.objects.count(),
        list(Alert.objects.values_list("status", flat=True)),
        Pickup.objects.count(),
        RoutePlan.objects.count(),
        Trip.objects.count(),
        list(TripStop.objects.values_list("status", flat=True)),
        Claim.objects.count(),
        list(BatchOffer.objects.values_list("status", flat=True)),
    )


def refused(response, *, statuses=(403, 404)):
    assert response.status_code in statuses, (response.status_code, response.content[:300])


@pytest.fixture
def outsider(chain):
    return client_for(chain.outsider)


def test_it_refuses_an_outsider_acting_on_the_city_batches(chain, outsider):
    before = written(chain)

    refused(outsider.post(reverse("batch-split", args=[chain.b]), {"parts": ["20", "30"]}, format="json"))
    refused(outsider.post(reverse("batch-treat", args=[chain.a]), {"operation": "R9"}, format="json"))
    refused(
        outsider.post(
            reverse("batch-consolidate"), {"batches": [chain.b, chain.o], "site": chain.outsider_site.pk}, format="json"
        ),
        statuses=(400, 403, 404),
    )

    assert written(chain) == before


def test_it_refuses_an_outsider_signing_or_correcting_the_city_manifest(chain, outsider):
    before = written(chain)

    refused(outsider.post(reverse("manifest-sign", args=[chain.manifest]), {"role": "carrier"}, format="json"))
    refused(outsider.post(reverse("manifest-correct", args=[chain.manifest]), {"reason": "mine now"}, format="json"))

    assert written(chain) == before


def test_it_refuses_an_outsider_moving_the_city_alert(chain, outsider):
    before = written(chain)

    refused(outsider.post(reverse("alert-acknowledge", args=[chain.alert.pk])))
    refused(outsider.post(reverse("alert-resolve", args=[chain.alert.pk])))

    assert written(chain) == before


def test_it_refuses_an_outsider_scanning_the_city_batch(chain, outsider):

    before = written(chain)
    body = {"code": chain.b, "action": "pickup", "scanned_at": now_iso(), "location": point_of(chain.generation_site)}

    single = outsider.post(reverse("scan"), body, format="json")
    bulk = outsider.post(reverse("scan-bulk"), {"scans": [body]}, format="json")

    # A lifecycle refusal (409) may come first: a batch's code and status are public on its QR page anyway.
    refused(single, statuses=(403, 404, 409))
    assert "batch" not in single.json()
    assert bulk.status_code in (200, 207, 400, 403, 404, 409), bulk.content
    assert written(chain) == before


def test_it_refuses_an_outsider_acting_on_the_city_logistics(chain, outsider):

    dispatched(chain)
    before = written(chain)

    refused(
        outsider.post(reverse("pickup-from-batches"), {"codes": [chain.b], "date": TODAY.isoformat()}, format="json"),
        statuses=(400, 403, 404),
    )
    refused(
        outsider.post(
            reverse("plan-create"), {"date": TODAY.isoformat(), "hauler": chain.hauler_org.pk}, format="json"
        ),
        statuses=(400, 403, 404),
    )
    refused(outsider.post(reverse("plan-dispatch", args=[chain.plan.pk]), {}, format="json"))
    refused(outsider.post(reverse("trip-stop-complete", args=[chain.trip.pk, 1])))
    refused(outsider.post(reverse("trip-stop-fail", args=[chain.trip.pk, 1]), {"reason": "closed"}, format="json"))
    refused(outsider.post(reverse("trip-replan", args=[chain.trip.pk])))
    refused(outsider.post(reverse("trip-stop-incident", args=[chain.trip.pk, 1]), {"action": "done"}, format="json"))

    assert written(chain) == before


def test_it_refuses_an_outsider_claiming_the_city_offer(chain, outsider):

    own = capacity(chain.outsider_org, chain.outsider_site)
    before = written(chain)

    refused(outsider.post(reverse("offer-claim", args=[chain.offer.pk]), {"capacity": own.pk}, format="json"))

    assert written(chain) == before
