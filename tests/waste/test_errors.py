"""One error shape for every 4xx: {"error": {"code", "message", "fields": {"path": [...]}}}."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for

SITES = "/api/v1/sites/"


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for path, messages in error["fields"].items():
        assert isinstance(path, str)
        assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
    return error


def site_payload(org, **overrides):
    payload = {
        "organisation": org.id,
        "name": "Depot",
        "kind": "storage",
        "location": {"type": "Point", "coordinates": [117.2, 39.12]},
        "district_code": "120101",
    }
    payload.update(overrides)
    return payload


def test_it_rejects_malformed_json_with_400(city):
    response = client_for(city.operator).post(SITES, data='{"name": "Depot",', content_type="application/json")

    error = assert_error_shape(response, 400)
    assert error["code"] == "parse_error"


def test_it_rejects_a_json_array_body_with_400(city):
    response = client_for(city.operator).post(SITES, data="[1, 2]", content_type="application/json")

    assert_error_shape(response, 400)


def test_it_rejects_the_wrong_content_type_with_415(city):
    response = client_for(city.operator).post(SITES, data="name=Depot", content_type="text/plain")

    error = assert_error_shape(response, 415)
    assert error["code"] == "unsupported_media_type"


def test_it_answers_an_unknown_url_with_404_in_the_shape(city):
    response = client_for(city.operator).get(f"{SITES}999999/")

    error = assert_error_shape(response, 404)
    assert error["code"] == "not_found"


def test_it_answers_a_wrong_method_with_405_in_the_shape(city):
    response = client_for(city.operator).delete(f"{SITES}{city.transfer.id}/")

    error = assert_error_shape(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "PATCH" in response["Allow"]


def test_it_answers_anonymous_with_401_in_the_shape(db):
    response = APIClient().get(SITES)

    error = assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error["code"] == "not_authenticated"


def test_it_answers_forbidden_with_403_in_the_shape(city):
    response = client_for(city.generator).post(SITES, site_payload(city.operator_org), format="json")

    error = assert_error_shape(response, 403)
    assert error["fields"] == {"organisation": ["You are not a member of this organisation."]}


def test_it_reports_every_invalid_field_at_once_with_its_path(city):
    payload = site_payload(
        city.operator_org, storage_capacity_kg="lots", kind="volcano", active="maybe", annual_capacity_kg=-5
    )
    del payload["name"]

    response = client_for(city.operator).post(SITES, payload, format="json")

    error = assert_error_shape(response, 400)
    assert set(error["fields"]) == {"storage_capacity_kg", "kind", "active", "annual_capacity_kg", "name"}
    assert error["code"] == "invalid"
    assert error["message"].split(":")[0] in error["fields"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("storage_capacity_kg", "12,5"),
        ("storage_capacity_kg", {"kg": 1}),
        ("storage_capacity_kg", "1e400"),
        ("storage_capacity_kg", "NaN"),
        ("storage_capacity_kg", "Infinity"),
        ("storage_capacity_kg", "123456789012345678"),
        ("organisation", "abc"),
        ("organisation", 999999),
        ("organisation", [1]),
        ("name", ["a", "b"]),
        ("name", "x" * 201),
        ("district_code", 120101.5),
    ],
)
def test_it_rejects_wrongly_typed_fields_with_their_path(city, field, value):
    response = client_for(city.operator).post(SITES, site_payload(city.operator_org, **{field: value}), format="json")

    error = assert_error_shape(response, 400)
    assert field in error["fields"]


def test_it_names_nested_list_positions_in_field_paths(city):
    from waste.services.catalogs import catalogs_load_shipped

    catalogs_load_shipped()
    payload = {
        "number": "P",
        "codes": ["HW08", 12],
        "operations": ["R1", "X9"],
        "annual_quantity_kg": "1",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    }

    response = client_for(city.operator).post(f"{SITES}{city.transfer.id}/permits/", payload, format="json")

    error = assert_error_shape(response, 400)
    assert "operations.1" in error["fields"]


def test_it_rejects_an_unknown_query_parameter_in_the_shape(city):
    response = client_for(city.operator).get("/api/v1/organisations/", {"sort": "name", "role": "hauler"})

    error = assert_error_shape(response, 400)
    assert error["fields"] == {"sort": ["Unknown query parameter."]}


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "abc"}, {"page": "99"}])
def test_it_answers_a_bad_page_with_404_in_the_shape(city, params):
    response = client_for(city.operator).get(SITES, params)

    assert_error_shape(response, 404)


def test_it_answers_a_wrong_password_in_the_shape(city):
    response = APIClient().post("/api/v1/auth/token/", {"username": "operator", "password": "nope"}, format="json")

    assert_error_shape(response, 401)


def test_it_answers_a_lockout_in_the_shape(city):
    for _ in range(6):
        response = APIClient().post("/api/v1/auth/token/", {"username": "operator", "password": "nope"}, format="json")

    error = assert_error_shape(response, 429)
    assert error["code"] == "locked_out"


@pytest.mark.django_db
def test_it_normalises_odd_utc_offsets_in_date_filters_and_refuses_dates_out_of_range(city):
    from tests.conftest import client_for

    client = client_for(city.generator)
    # PostgreSQL refuses offsets beyond ±15:59; the filter converts to UTC first (found by schemathesis).
    assert client.get("/api/v1/batches/?generated_before=5536-10-15T17%3A56%3A28-20%3A37").status_code == 200
    refused = client.get("/api/v1/batches/?generated_before=9999-12-31T23%3A56%3A28-20%3A37")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["generated_before"]
