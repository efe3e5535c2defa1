"""A hazardous manifest needs a carrier licensed for its waste and a vehicle allowed to carry it; the
carrier's signature at pickup names the vehicle (plate) and the driver."""

from __future__ import annotations

import datetime

import pytest

from logistics.models import HaulerLicence
from tests.conftest import client_for
from tests.logistics.helpers import TODAY, depot, vehicle
from tests.logistics.round_helpers import round_today
from tests.waste.chain_helpers import batch_new, now_iso, permit
from waste.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def generator(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    return client_for(city.generator)


def create(generator, city, code):
    return generator.post(
        "/api/v1/manifests/",
        {
            "from_site": city.generation_site.pk,
            "to_site": city.transfer.pk,
            "carriers": [city.hauler_org.pk],
            "batches": [code],
        },
        format="json",
    )


def oil(generator, city) -> str:
    return batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"]


def signed_manifest(generator, city) -> tuple[str, str]:
    code = oil(generator, city)
    made = create(generator, city, code)
    assert made.status_code == 201, made.content
    number = made.json()["number"]
    assert generator.post(f"/api/v1/manifests/{number}/sign/", {"role": "consignor"}, format="json").status_code == 200
    return number, code


def test_it_refuses_a_hazardous_manifest_whose_carrier_holds_no_licence_in_force(city, generator):
    HaulerLicence.objects.filter(organisation=city.hauler_org).update(
        valid_until=TODAY - datetime.timedelta(days=1), valid_from=TODAY - datetime.timedelta(days=400)
    )

    refused = create(generator, city, oil(generator, city))

    assert refused.status_code == 400, refused.content
    error = refused.json()["error"]
    assert error["code"] == "no_licence"
    assert "Hauler Ltd" in error["fields"]["carriers.0"][0] and "900-249-08" in error["fields"]["carriers.0"][0]


def test_it_refuses_a_licence_for_other_hazardous_codes_and_accepts_one_for_the_category(city, generator):
    HaulerLicence.objects.filter(organisation=city.hauler_org).update(codes=["HW49"])
    code = oil(generator, city)
    assert create(generator, city, code).json()["error"]["code"] == "no_licence"

    HaulerLicence.objects.filter(organisation=city.hauler_org).update(codes=["HW49", "HW08"])
    assert create(generator, city, code).status_code == 201


def test_it_says_why_in_chinese(city, generator):
    HaulerLicence.objects.filter(organisation=city.hauler_org).delete()
    refused = generator.post(
        "/api/v1/manifests/",
        {
            "from_site": city.generation_site.pk,
            "to_site": city.transfer.pk,
            "carriers": [city.hauler_org.pk],
            "batches": [oil(generator, city)],
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert refused.status_code == 400
    assert "危险废物运输资质" in refused.json()["error"]["fields"]["carriers.0"][0]


def test_it_refuses_a_carrier_signature_with_a_vehicle_not_allowed_hazardous_waste(city, generator):
    number, _code = signed_manifest(generator, city)
    vehicle(city.hauler_org, depot(city.hauler_org), "津A·G0001", classes=["general"])
    hauler = client_for(city.hauler)

    general = hauler.post(
        f"/api/v1/manifests/{number}/sign/", {"role": "carrier", "vehicle": "津A·G0001"}, format="json"
    )
    unknown = hauler.post(
        f"/api/v1/manifests/{number}/sign/", {"role": "carrier", "vehicle": "津Z·99999"}, format="json"
    )
    none = hauler.post(f"/api/v1/manifests/{number}/sign/", {"role": "carrier"}, format="json")

    assert general.status_code == 400 and general.json()["error"]["code"] == "vehicle_not_hazardous"
    assert "津A·G0001" in general.json()["error"]["fields"]["vehicle"][0]
    assert unknown.json()["error"]["code"] == "unknown_vehicle"
    assert none.json()["error"]["code"] == "vehicle_required"
    manifest = generator.get(f"/api/v1/manifests/{number}/").json()
    assert manifest["carriers"][0]["signed_at"] is None  # nothing written


def test_it_names_the_vehicle_and_driver_of_today_s_trip_in_the_carrier_signature(city, generator):
    number, code = signed_manifest(generator, city)
    trip = round_today(city, batches=[code], plate="津A·H0001", classes=("general", "hazardous"))
    driver = client_for(trip.driver)

    signed = driver.post(f"/api/v1/manifests/{number}/sign/", {"role": "carrier"}, format="json")

    assert signed.status_code == 200, signed.content
    [carrier] = signed.json()["carriers"]
    assert carrier["vehicle_plate"] == "津A·H0001" and carrier["driver"] == "driver"
    event = LedgerEntry.objects.filter(event_type="signed").order_by("-id").first()
    assert '"vehicle":"津A·H0001"' in event.data and '"driver":"driver"' in event.data


def test_it_lists_who_may_sign_with_a_pin_to_the_carrier_only(city, generator):
    from waste.models import Membership

    code = oil(generator, city)
    number = create(generator, city, code).json()["number"]
    membership = Membership.objects.get(user=city.generator)
    membership.set_pin("482915")
    membership.save()

    seen = client_for(city.hauler).get(f"/api/v1/manifests/{number}/").json()
    assert seen["pin_signers"] == [{"username": "generator", "name": "generator"}]
    assert seen["names"]["consignor"] == city.generator_org.name
    assert client_for(city.regulator).get(f"/api/v1/manifests/{number}/").json()["pin_signers"] == []
