"""Organisations (identifiers, roles), members and jurisdictions through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from stdnum.cn import uscc

from tests.conftest import client_for
from tests.factories import UserFactory
from waste.models import Jurisdiction, Membership, Organisation

ORGS = "/api/v1/organisations/"


def valid_uscc(org_code: str = "MA05T0001") -> str:
    body = f"91120101{org_code}"  # registering body + district + 9-character organisation code
    return body + uscc.calc_check_digit(body)


def org_payload(**overrides):
    payload = {
        "name": "Tianjin Test Metals Co.",
        "roles": ["generator"],
        "identifier_scheme": "cn_uscc",
        "identifier": valid_uscc(),
        "district_code": "120101",
    }
    payload.update(overrides)
    return payload


def members_url(org) -> str:
    return f"{ORGS}{org.id}/members/"


# --- organisations --------------------------------------------------------------------------------


def test_it_creates_an_organisation_with_a_valid_uscc(city):
    client = client_for(city.generator)

    response = client.post(ORGS, org_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["identifier"] == valid_uscc()
    assert body["roles"] == ["generator"]
    org = Organisation.objects.get(pk=body["id"])
    assert Membership.objects.get(organisation=org, user=city.generator).role == "admin"


def test_it_normalises_a_lower_case_spaced_uscc(city):
    code = valid_uscc()

    response = client_for(city.generator).post(
        ORGS, org_payload(identifier=f" {code[:9].lower()} {code[9:]} "), format="json"
    )

    assert response.status_code == 201
    assert response.json()["identifier"] == code


def test_it_rejects_a_uscc_with_a_wrong_check_character(city):
    code = valid_uscc()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")

    response = client_for(city.generator).post(ORGS, org_payload(identifier=wrong), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_identifier"
    assert list(error["fields"]) == ["identifier"]
    assert not Organisation.objects.filter(name="Tianjin Test Metals Co.").exists()


def test_it_rejects_a_uscc_of_the_wrong_length(city):
    response = client_for(city.generator).post(ORGS, org_payload(identifier="91120101MA05T"), format="json")

    assert response.status_code == 400
    assert "identifier" in response.json()["error"]["fields"]


def test_it_accepts_an_eu_vat_number(city):
    response = client_for(city.recycler).post(
        ORGS,
        org_payload(identifier_scheme="eu_vat", identifier="de 136 695 976", roles=["recycler"]),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["identifier"] == "DE136695976"


def test_it_rejects_an_invalid_eu_vat_number(city):
    response = client_for(city.recycler).post(
        ORGS, org_payload(identifier_scheme="eu_vat", identifier="DE136695978"), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["identifier"]


def test_it_accepts_a_us_epa_id(city):
    response = client_for(city.hauler).post(
        ORGS,
        org_payload(identifier_scheme="us_epa_id", identifier="txd987654321", roles=["hauler"]),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["identifier"] == "TXD987654321"


def test_it_rejects_a_malformed_us_epa_id(city):
    response = client_for(city.hauler).post(
        ORGS, org_payload(identifier_scheme="us_epa_id", identifier="TX-12"), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["identifier"]


def test_it_rejects_an_unknown_identifier_scheme(city):
    response = client_for(city.hauler).post(ORGS, org_payload(identifier_scheme="duns"), format="json")

    assert response.status_code == 400
    assert "identifier_scheme" in response.json()["error"]["fields"]


def test_it_rejects_a_duplicate_identifier_with_409(city):
    client = client_for(city.generator)
    client.post(ORGS, org_payload(), format="json")

    response = client_for(city.hauler).post(ORGS, org_payload(name="Copycat"), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate"
    assert "identifier" in response.json()["error"]["fields"]
    assert Organisation.objects.filter(identifier=valid_uscc()).count() == 1


def test_it_rejects_the_regulator_role_for_a_non_superuser(city):
    response = client_for(city.generator).post(ORGS, org_payload(roles=["regulator"]), format="json")

    assert response.status_code == 403
    assert "roles" in response.json()["error"]["fields"]
    assert not Organisation.objects.filter(identifier=valid_uscc()).exists()


def test_it_lets_a_superuser_register_a_regulator(city):
    admin = get_user_model().objects.create_superuser("root", password="root-password-123")

    response = client_for(admin).post(ORGS, org_payload(roles=["regulator"]), format="json")

    assert response.status_code == 201
    assert response.json()["roles"] == ["regulator"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"roles": []}, "roles"),
        ({"roles": ["smuggler"]}, "roles.0"),
        ({"district_code": "12AB"}, "district_code"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"name": ""}, "name"),
    ],
)
def test_it_rejects_bad_organisation_fields_with_their_path(city, overrides, field):
    response = client_for(city.generator).post(ORGS, org_payload(**overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_it_filters_organisations_by_role(city):
    response = client_for(city.regulator).get(ORGS, {"role": "hauler"})

    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [city.hauler_org.id]


# --- members --------------------------------------------------------------------------------------


def test_it_lists_the_members_of_my_organisation(city):
    response = client_for(city.generator).get(members_url(city.generator_org))

    assert response.status_code == 200
    assert [(m["username"], m["role"]) for m in response.json()["results"]] == [("generator", "admin")]


def test_it_lets_an_admin_add_a_member(city):
    UserFactory(username="driver1")

    response = client_for(city.hauler).post(
        members_url(city.hauler_org), {"username": "driver1", "role": "driver"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "driver"
    assert Membership.objects.get(user__username="driver1").organisation == city.hauler_org


def test_it_changes_the_role_of_an_existing_member(city):
    UserFactory(username="driver1")
    client = client_for(city.hauler)
    client.post(members_url(city.hauler_org), {"username": "driver1", "role": "driver"}, format="json")

    response = client.post(members_url(city.hauler_org), {"username": "driver1", "role": "viewer"}, format="json")

    assert response.status_code == 201
    assert Membership.objects.get(user__username="driver1").role == "viewer"


def test_it_rejects_adding_a_member_by_a_non_admin(city):
    member = UserFactory(username="plain")
    Membership.objects.create(user=member, organisation=city.hauler_org, role="member")
    UserFactory(username="driver1")

    response = client_for(member).post(
        members_url(city.hauler_org), {"username": "driver1", "role": "driver"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_admin"
    assert not Membership.objects.filter(user__username="driver1").exists()


def test_it_rejects_adding_a_member_to_another_organisation(city):
    UserFactory(username="driver1")

    response = client_for(city.generator).post(
        members_url(city.hauler_org), {"username": "driver1", "role": "driver"}, format="json"
    )

    assert response.status_code == 404  # the hauler's organisation is not visible to the generator


def test_it_rejects_a_regulator_adding_members_to_an_organisation_it_oversees(city):
    UserFactory(username="spy")

    response = client_for(city.regulator).post(
        members_url(city.generator_org), {"username": "spy", "role": "admin"}, format="json"
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="spy").exists()


def test_it_rejects_an_unknown_username(city):
    response = client_for(city.hauler).post(
        members_url(city.hauler_org), {"username": "ghost", "role": "driver"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"username": ["No user with this username."]}


def test_it_rejects_an_unknown_member_role(city):
    UserFactory(username="driver1")

    response = client_for(city.hauler).post(
        members_url(city.hauler_org), {"username": "driver1", "role": "king"}, format="json"
    )

    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


# --- PINs and jurisdictions -------------------------------------------------------------------------


def test_it_sets_a_pin_for_my_membership(city):
    response = client_for(city.generator).post(f"{ORGS}{city.generator_org.id}/pin/", {"pin": "2468"}, format="json")

    assert response.status_code == 204
    assert Membership.objects.get(user=city.generator).pin_matches("2468")


def test_it_rejects_a_pin_that_is_not_digits(city):
    response = client_for(city.generator).post(f"{ORGS}{city.generator_org.id}/pin/", {"pin": "12ab"}, format="json")

    assert response.status_code == 400
    assert "pin" in response.json()["error"]["fields"]


def test_it_lets_only_a_superuser_assign_a_jurisdiction(city):
    area = {"type": "Polygon", "coordinates": [[[117.0, 39.0], [117.4, 39.0], [117.4, 39.3], [117.0, 39.0]]]}
    payload = {"organisation": city.regulator_org.id, "name": "Heping", "district_code": "120101", "area": area}
    admin = get_user_model().objects.create_superuser("root", password="root-password-123")

    refused = client_for(city.regulator).post("/api/v1/jurisdictions/", payload, format="json")
    created = client_for(admin).post("/api/v1/jurisdictions/", payload, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["geometry"]["type"] == "MultiPolygon"
    assert Jurisdiction.objects.filter(organisation=city.regulator_org).count() == 2


def test_it_rejects_a_jurisdiction_for_a_non_regulator(city):
    admin = get_user_model().objects.create_superuser("root", password="root-password-123")
    area = {"type": "Polygon", "coordinates": [[[117.0, 39.0], [117.4, 39.0], [117.4, 39.3], [117.0, 39.0]]]}

    response = client_for(admin).post(
        "/api/v1/jurisdictions/",
        {"organisation": city.generator_org.id, "name": "X", "district_code": "120101", "area": area},
        format="json",
    )

    assert response.status_code == 400
    assert "organisation" in response.json()["error"]["fields"]
