"""Sites as GeoJSON with kind, bbox, distance and district filters; geometry checks; permits."""

from __future__ import annotations

import math
from datetime import date

import pytest

from tests.conftest import client_for
from tests.factories import SiteFactory
from waste.geo import point
from waste.models import Permit, Site
from waste.services.catalogs import catalogs_load_shipped

SITES = "/api/v1/sites/"
# Tianjin, Heping district: inside the city's jurisdiction box of tests.factories.CITY_BBOX.
HEPING = (117.20, 39.12)


@pytest.fixture
def catalogs(db):
    catalogs_load_shipped()


def site_payload(org, **overrides):
    payload = {
        "organisation": org.id,
        "name": "Heping collection point",
        "kind": "collection_point",
        "location": {"type": "Point", "coordinates": list(HEPING)},
        "district_code": "120101",
        "storage_capacity_kg": "3000.000",
    }
    payload.update(overrides)
    return payload


def square(lon, lat, half=0.01):
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def haversine_m(a, b) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def ids(response) -> list[int]:
    return [feature["id"] for feature in response.json()["features"]]


def field_paths(response) -> set[str]:
    return set(response.json()["error"]["fields"])


# --- reading --------------------------------------------------------------------------------------


def test_it_lists_sites_as_a_geojson_feature_collection(city):
    response = client_for(city.generator).get(SITES)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 1
    (feature,) = body["features"]
    assert feature["type"] == "Feature"
    assert feature["id"] == city.generation_site.id
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx(list(city.generation_site.location.coords))
    assert feature["properties"]["kind"] == "generation"
    assert feature["properties"]["distance_m"] is None


def test_it_shows_one_site_as_a_feature(city):
    response = client_for(city.operator).get(f"{SITES}{city.transfer.id}/")

    assert response.status_code == 200
    assert response.json()["type"] == "Feature"
    assert response.json()["properties"]["name"] == city.transfer.name


def test_it_filters_sites_by_kind(city):
    client = client_for(city.regulator)

    one = client.get(SITES, {"kind": "transfer_station"})
    two = client.get(f"{SITES}?kind=transfer_station&kind=treatment")

    assert ids(one) == [city.transfer.id]
    assert set(ids(two)) == {city.transfer.id, city.plant.id}


def test_it_rejects_an_unknown_kind(city):
    response = client_for(city.regulator).get(SITES, {"kind": "volcano"})

    assert response.status_code == 400
    assert field_paths(response) == {"kind"}


def test_it_filters_sites_by_bbox(city):
    inside = SiteFactory(organisation=city.operator_org, location=point(117.15, 39.10))
    SiteFactory(organisation=city.operator_org, location=point(117.28, 39.18))

    response = client_for(city.operator).get(SITES, {"bbox": "117.14,39.09,117.16,39.11"})

    assert response.status_code == 200
    assert ids(response) == [inside.id]


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "117.2,39.1,117.1,39.2", "100,-95,120,40", "-200,10,10,20", ""])
def test_it_rejects_a_bad_bbox(city, bbox):
    response = client_for(city.regulator).get(SITES, {"bbox": bbox})

    if bbox == "":  # an empty filter value means "no filter"
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert field_paths(response) == {"bbox"}


def test_it_finds_sites_within_a_distance_sorted_by_distance(city):
    org = city.operator_org
    near = SiteFactory(organisation=org, name="near", location=point(117.201, 39.12))  # ~86 m
    nearer = SiteFactory(organisation=org, name="nearer", location=point(117.2003, 39.12))  # ~26 m
    SiteFactory(organisation=org, name="far", location=point(117.23, 39.12))  # ~2.6 km

    response = client_for(city.operator).get(SITES, {"near": "117.2,39.12", "within_m": "1000"})

    assert response.status_code == 200
    assert ids(response) == [nearer.id, near.id]
    distances = [f["properties"]["distance_m"] for f in response.json()["features"]]
    assert distances[0] == pytest.approx(haversine_m((117.2, 39.12), (117.2003, 39.12)), rel=0.02)
    assert distances[1] == pytest.approx(haversine_m((117.2, 39.12), (117.201, 39.12)), rel=0.02)


def test_it_honours_the_distance_in_metres(city):
    site = SiteFactory(organisation=city.operator_org, location=point(117.21, 39.12))  # ~863 m east
    client = client_for(city.operator)

    too_short = client.get(SITES, {"near": "117.2,39.12", "within_m": "800"})
    long_enough = client.get(SITES, {"near": "117.2,39.12", "within_m": "900"})

    assert site.id not in ids(too_short)
    assert site.id in ids(long_enough)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "117.2,39.12"}, "within_m"),
        ({"within_m": "100"}, "near"),
        ({"near": "117.2", "within_m": "100"}, "near"),
        ({"near": "abc,def", "within_m": "100"}, "near"),
        ({"near": "190,39", "within_m": "100"}, "near"),
        ({"near": "117.2,39.12", "within_m": "-5"}, "within_m"),
        ({"near": "117.2,39.12", "within_m": "lots"}, "within_m"),
        ({"near": "117.2,39.12", "within_m": "1e99"}, "within_m"),
    ],
)
def test_it_rejects_a_bad_distance_filter(city, params, field):
    response = client_for(city.operator).get(SITES, params)

    assert response.status_code == 400
    assert field in field_paths(response)


def test_it_filters_sites_by_district_code_prefix(city):
    hexi = SiteFactory(organisation=city.operator_org, district_code="120103")

    exact = client_for(city.regulator).get(SITES, {"district_code": "120103"})
    city_wide = client_for(city.regulator).get(SITES, {"district_code": "1201"})

    assert ids(exact) == [hexi.id]
    assert hexi.id in ids(city_wide) and city.transfer.id in ids(city_wide)


def test_it_rejects_an_unknown_query_parameter_naming_it(city):
    response = client_for(city.generator).get(SITES, {"colour": "green"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"colour": ["Unknown query parameter."]}


def test_it_paginates_sites(city):
    for _ in range(3):
        SiteFactory(organisation=city.operator_org)

    response = client_for(city.operator).get(SITES, {"page_size": 2})

    assert response.json()["count"] == 4
    assert len(response.json()["features"]) == 2
    assert response.json()["next"]


# --- writing --------------------------------------------------------------------------------------


def test_it_creates_a_site_with_a_point(city):
    response = client_for(city.operator).post(SITES, site_payload(city.operator_org), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "Feature"
    assert body["geometry"] == {"type": "Point", "coordinates": list(HEPING)}
    site = Site.objects.get(pk=body["id"])
    assert (site.location.x, site.location.y, site.location.srid) == (*HEPING, 4326)
    assert site.organisation == city.operator_org


def test_it_creates_a_site_with_an_area_around_its_location(city):
    payload = site_payload(city.operator_org, area=square(*HEPING))

    response = client_for(city.operator).post(SITES, payload, format="json")

    assert response.status_code == 201
    assert response.json()["properties"]["area"]["type"] == "Polygon"


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("POINT(117 39)", "not a GeoJSON object"),
        ({"type": "Point"}, "no coordinates"),
        ({"type": "Point", "coordinates": "117,39"}, "coordinates as a string"),
        ({"type": "Point", "coordinates": [117]}, "one coordinate"),
        ({"type": "Point", "coordinates": ["a", "b"]}, "non-numeric"),
        ({"type": "Pointy", "coordinates": [117, 39]}, "unknown type"),
        ({"type": "Point", "coordinates": [[117, 39]]}, "nested"),
        ({"type": "Point", "coordinates": []}, "empty"),
        (None, "null"),
        (42, "a number"),
    ],
)
def test_it_rejects_malformed_geojson(city, location, why):
    response = client_for(city.operator).post(SITES, site_payload(city.operator_org, location=location), format="json")

    assert response.status_code == 400, why
    assert field_paths(response) == {"location"}


def test_it_rejects_a_point_with_a_height(city):
    payload = site_payload(city.operator_org, location={"type": "Point", "coordinates": [117.2, 39.12, 10]})

    response = client_for(city.operator).post(SITES, payload, format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"location"}
    assert not Site.objects.filter(name="Heping collection point").exists()


def test_it_rejects_the_wrong_geometry_type(city):
    payload = site_payload(city.operator_org, location=square(*HEPING))

    response = client_for(city.operator).post(SITES, payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["location"] == ["Expected a Point, got Polygon."]


@pytest.mark.parametrize("coordinates", [[181, 39], [117, 91], [-180.5, 0], [0, -90.01]])
def test_it_rejects_coordinates_outside_the_world(city, coordinates):
    payload = site_payload(city.operator_org, location={"type": "Point", "coordinates": coordinates})

    response = client_for(city.operator).post(SITES, payload, format="json")

    assert response.status_code == 400
    assert "outside the world" in response.json()["error"]["fields"]["location"][0]


def test_it_rejects_an_area_that_does_not_contain_the_location(city):
    payload = site_payload(city.operator_org, area=square(117.30, 39.20))

    response = client_for(city.operator).post(SITES, payload, format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"area"}


def test_it_rejects_a_self_intersecting_area(city):
    lon, lat = HEPING
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 0.01, lat - 0.01],
                [lon + 0.01, lat + 0.01],
                [lon + 0.01, lat - 0.01],
                [lon - 0.01, lat + 0.01],
                [lon - 0.01, lat - 0.01],
            ]
        ],
    }

    response = client_for(city.operator).post(SITES, site_payload(city.operator_org, area=bowtie), format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"area"}


def test_it_rejects_an_unclosed_area_ring(city):
    lon, lat = HEPING
    ring = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01]]

    response = client_for(city.operator).post(
        SITES, site_payload(city.operator_org, area={"type": "Polygon", "coordinates": [ring]}), format="json"
    )

    assert response.status_code == 400
    assert field_paths(response) == {"area"}


@pytest.mark.parametrize("code", ["12010", "1201011", "12O101", "abcdef"])
def test_it_rejects_a_bad_district_code(city, code):
    response = client_for(city.operator).post(SITES, site_payload(city.operator_org, district_code=code), format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"district_code"}


def test_it_rejects_a_site_for_an_organisation_i_do_not_belong_to(city):
    response = client_for(city.generator).post(SITES, site_payload(city.operator_org), format="json")

    assert response.status_code == 403
    assert not Site.objects.filter(name="Heping collection point").exists()


def test_it_rejects_a_site_for_a_regulator_organisation(city):
    response = client_for(city.regulator).post(SITES, site_payload(city.regulator_org), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_role"


def test_it_rejects_a_site_by_a_viewer(city):
    from waste.models import Membership

    Membership.objects.filter(user=city.operator).update(role="viewer")

    response = client_for(city.operator).post(SITES, site_payload(city.operator_org), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only"


def test_it_updates_a_site_partially(city):
    url = f"{SITES}{city.transfer.id}/"

    response = client_for(city.operator).patch(url, {"storage_capacity_kg": "125000"}, format="json")

    assert response.status_code == 200
    city.transfer.refresh_from_db()
    assert city.transfer.storage_capacity_kg == 125000


def test_it_rejects_an_update_moving_the_site_out_of_its_area(city):
    url = f"{SITES}{city.transfer.id}/"
    client = client_for(city.operator)
    loc = city.transfer.location
    client.patch(url, {"area": square(loc.x, loc.y)}, format="json")

    response = client.patch(url, {"location": {"type": "Point", "coordinates": [117.0, 39.0]}}, format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"area"}


def test_it_rejects_an_update_by_a_regulator(city):
    response = client_for(city.regulator).patch(f"{SITES}{city.transfer.id}/", {"name": "Mine now"}, format="json")

    assert response.status_code == 403
    city.transfer.refresh_from_db()
    assert city.transfer.name != "Mine now"


# --- permits --------------------------------------------------------------------------------------


def permits_url(site) -> str:
    return f"{SITES}{site.id}/permits/"


def permit_payload(**overrides):
    payload = {
        "number": "TJ-WX-2026-001",
        "codes": ["HW08", "16 01 04*"],
        "operations": ["R13", "D15"],
        "annual_quantity_kg": "2000000",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    }
    payload.update(overrides)
    return payload


def test_it_creates_a_permit_with_canonical_codes(city, catalogs):
    response = client_for(city.operator).post(permits_url(city.transfer), permit_payload(), format="json")

    assert response.status_code == 201
    assert response.json()["codes"] == ["HW08", "160104"]
    assert Permit.objects.get(site=city.transfer).valid_until == date(2026, 12, 31)


def test_it_lists_the_permits_of_a_site(city, catalogs):
    client = client_for(city.operator)
    client.post(permits_url(city.transfer), permit_payload(), format="json")

    response = client.get(permits_url(city.transfer))

    assert response.status_code == 200
    assert [p["number"] for p in response.json()["results"]] == ["TJ-WX-2026-001"]


def test_it_rejects_an_overlapping_permit_for_the_same_code(city, catalogs):
    client = client_for(city.operator)
    client.post(permits_url(city.transfer), permit_payload(), format="json")

    response = client.post(
        permits_url(city.transfer),
        permit_payload(
            number="TJ-WX-2026-002", codes=["HW49", "160104"], valid_from="2026-06-01", valid_until="2027-05-31"
        ),
        format="json",
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "overlapping_permit"
    assert "160104" in error["message"] and "TJ-WX-2026-001" in error["message"]
    assert Permit.objects.filter(site=city.transfer).count() == 1


def test_it_accepts_a_permit_for_the_same_code_in_a_later_period(city, catalogs):
    client = client_for(city.operator)
    client.post(permits_url(city.transfer), permit_payload(), format="json")

    response = client.post(
        permits_url(city.transfer),
        permit_payload(number="TJ-WX-2027-001", valid_from="2027-01-01", valid_until="2027-12-31"),
        format="json",
    )

    assert response.status_code == 201


def test_it_accepts_an_overlapping_permit_for_other_codes(city, catalogs):
    client = client_for(city.operator)
    client.post(permits_url(city.transfer), permit_payload(), format="json")

    response = client.post(permits_url(city.transfer), permit_payload(number="B", codes=["HW49"]), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("code", ["not-a-code", "99 99 99", "HW99", "900-999-99", ""])
def test_it_rejects_an_unknown_waste_code_naming_its_position(city, catalogs, code):
    response = client_for(city.operator).post(permits_url(city.transfer), permit_payload(codes=[code]), format="json")

    assert response.status_code == 400
    assert field_paths(response) == {"codes.0"}
    assert not Permit.objects.exists()


def test_it_names_the_position_of_the_second_bad_code(city, catalogs):
    response = client_for(city.operator).post(
        permits_url(city.transfer), permit_payload(codes=["HW08", "HW77"]), format="json"
    )

    assert response.status_code == 400
    assert field_paths(response) == {"codes.1"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_until": "2025-12-31"}, "valid_until"),
        ({"valid_from": "31/12/2026"}, "valid_from"),
        ({"annual_quantity_kg": "0"}, "annual_quantity_kg"),
        ({"annual_quantity_kg": "-1"}, "annual_quantity_kg"),
        ({"annual_quantity_kg": "lots"}, "annual_quantity_kg"),
        ({"codes": []}, "codes"),
        ({"codes": "HW08"}, "codes"),
        ({"operations": ["R14"]}, "operations.0"),
    ],
)
def test_it_rejects_bad_permit_fields_with_their_path(city, catalogs, overrides, field):
    response = client_for(city.operator).post(permits_url(city.transfer), permit_payload(**overrides), format="json")

    assert response.status_code == 400
    assert field in field_paths(response)


def test_it_rejects_a_permit_by_another_organisation(city, catalogs):
    response = client_for(city.regulator).post(permits_url(city.transfer), permit_payload(), format="json")

    assert response.status_code == 403
    assert not Permit.objects.exists()
