"""Manifests: numbers, signatures in turn (logged in or by PIN), receipt, corrections, deadlines."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.conftest import client_for
from tests.waste.chain_helpers import (
    batch_new,
    manifest_new,
    now_iso,
    permit,
    point_of,
    scan,
    second_hauler,
)
from waste.models import Batch, LedgerEntry, Manifest, Membership
from waste.services.manifests import working_days_after

pytestmark = pytest.mark.django_db


@pytest.fixture
def parties(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    return SimpleNamespace(
        generator=client_for(city.generator), hauler=client_for(city.hauler), operator=client_for(city.operator)
    )


def new_manifest(city, parties, *, batches=1, sign=False, carriers=None):
    codes = [
        batch_new(parties.generator, city.generation_site, quantity="100.000", generated_at=now_iso(-60))["code"]
        for _ in range(batches)
    ]
    number = manifest_new(
        parties.generator,
        from_site=city.generation_site,
        to_site=city.transfer,
        carriers=carriers or [city.hauler_org],
        codes=codes,
        sign=sign,
    )
    return number, codes


def sign(client, number, **body):
    return client.post(f"/api/v1/manifests/{number}/sign/", body, format="json")


def in_transit(city, parties, number, codes):
    assert sign(parties.generator, number, role="consignor").status_code == 200
    for code in codes:
        assert scan(parties.hauler, code, "pickup", location=point_of(city.generation_site)).status_code == 201


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


# --- numbers ------------------------------------------------------------------------------------


def test_it_numbers_manifests_by_year_area_and_serial(city, parties):
    first, _ = new_manifest(city, parties)
    second, _ = new_manifest(city, parties)

    year = timezone.localdate().year
    assert re.fullmatch(rf"{year}120101\d{{6}}", first)
    assert int(second[-6:]) == int(first[-6:]) + 1
    assert second[:10] == first[:10]


def test_it_rejects_a_batch_already_on_an_open_manifest(city, parties):
    _, [code] = new_manifest(city, parties)

    again = parties.generator.post(
        "/api/v1/manifests/",
        {
            "from_site": city.generation_site.pk,
            "to_site": city.transfer.pk,
            "carriers": [city.hauler_org.pk],
            "batches": [code],
        },
        format="json",
    )

    assert error_of(again, 409)["fields"].keys() == {"batches.0"}


def test_it_rejects_a_carrier_that_is_not_a_hauler(city, parties):
    code = batch_new(parties.generator, city.generation_site)["code"]

    response = parties.generator.post(
        "/api/v1/manifests/",
        {
            "from_site": city.generation_site.pk,
            "to_site": city.transfer.pk,
            "carriers": [city.recycler_org.pk],
            "batches": [code],
        },
        format="json",
    )

    assert error_of(response, 400)["code"] == "wrong_role"
    assert not Manifest.objects.exists()


# --- consignor ----------------------------------------------------------------------------------


def test_it_seals_the_consignors_part_when_signed(city, parties):
    number, _ = new_manifest(city, parties)

    signed = sign(parties.generator, number, role="consignor")
    again = sign(parties.generator, number, role="consignor")

    assert signed.status_code == 200
    assert signed.json()["status"] == "sealed"
    assert signed.json()["consignor_signed_at"]
    assert error_of(again, 409)["code"] == "sealed"
    assert LedgerEntry.objects.filter(event_type="signed").count() == 1


def test_it_refuses_a_consignor_signature_from_another_organisation(city, parties):
    number, _ = new_manifest(city, parties)

    response = sign(parties.hauler, number, role="consignor")

    assert error_of(response, 403)["fields"].keys() == {"role"}
    assert Manifest.objects.get(number=number).status == "draft"


def set_pin(user, organisation, pin):
    membership = Membership.objects.get(user=user, organisation=organisation)
    membership.set_pin(pin)
    membership.save()
    return membership


def test_it_lets_the_driver_capture_the_consignors_signature_with_a_pin(city, parties):
    set_pin(city.generator, city.generator_org, "482915")
    number, _ = new_manifest(city, parties)

    signed = sign(parties.hauler, number, role="consignor", pin="482915", signer="generator")

    assert signed.status_code == 200, signed.json()
    assert signed.json()["status"] == "sealed"
    manifest = Manifest.objects.get(number=number)
    assert manifest.consignor_signed_by == city.generator
    event = LedgerEntry.objects.get(event_type="signed")
    assert '"method":"pin"' in event.data and '"captured_by":"hauler"' in event.data


@pytest.mark.django_db(transaction=True)
def test_it_locks_the_pin_after_five_failures(city, parties):
    set_pin(city.generator, city.generator_org, "482915")
    number, _ = new_manifest(city, parties)

    for attempt in range(1, 6):
        wrong = sign(parties.hauler, number, role="consignor", pin="000000", signer="generator")
        assert error_of(wrong, 403)["code"] == "wrong_pin"
        assert Membership.objects.get(user=city.generator).pin_failures == attempt  # kept although refused
    right = sign(parties.hauler, number, role="consignor", pin="482915", signer="generator")

    assert error_of(right, 423)["code"] == "pin_locked"
    assert Manifest.objects.get(number=number).status == "draft"


def test_it_resets_the_pin_failures_after_a_right_pin(city, parties):
    set_pin(city.generator, city.generator_org, "482915")
    number, _ = new_manifest(city, parties)
    for _ in range(3):
        sign(parties.hauler, number, role="consignor", pin="000000", signer="generator")

    assert sign(parties.hauler, number, role="consignor", pin="482915", signer="generator").status_code == 200
    assert Membership.objects.get(user=city.generator).pin_failures == 0


def test_it_rejects_a_pin_for_a_signer_outside_the_consignor(city, parties):
    set_pin(city.operator, city.operator_org, "111111")
    number, _ = new_manifest(city, parties)

    response = sign(parties.hauler, number, role="consignor", pin="111111", signer="operator")

    assert "signer" in error_of(response, 400)["fields"]


# --- carriers -----------------------------------------------------------------------------------


def test_it_makes_carriers_sign_in_order(city, parties):
    from tests.logistics.helpers import depot, vehicle

    hauler2, hauler2_org = second_hauler()
    vehicle(city.hauler_org, depot(city.hauler_org), "津A·00001", classes=["hazardous"])
    vehicle(hauler2_org, depot(hauler2_org), "津A·00002", classes=["hazardous"])
    number, _ = new_manifest(city, parties, carriers=[city.hauler_org, hauler2_org], sign=True)
    second = client_for(hauler2)

    early = sign(second, number, role="carrier", vehicle="津A·00002")
    first = sign(parties.hauler, number, role="carrier", vehicle="津A·00001")
    then = sign(second, number, role="carrier", vehicle="津A·00002")

    assert error_of(early, 403)["code"] == "not_your_turn"
    assert first.status_code == 200
    assert then.status_code == 200
    assert [c["signed_at"] is not None for c in then.json()["carriers"]] == [True, True]
    assert [c["vehicle_plate"] for c in then.json()["carriers"]] == ["津A·00001", "津A·00002"]
    assert error_of(sign(second, number, role="carrier", vehicle="津A·00002"), 409)["code"] == "sealed"


def test_it_refuses_carrier_signatures_before_the_consignor(city, parties):
    number, _ = new_manifest(city, parties)
    assert error_of(sign(parties.hauler, number, role="carrier"), 409)["code"] == "out_of_order"


# --- receiver -----------------------------------------------------------------------------------


def test_it_records_a_partial_acceptance(city, parties):
    number, (kept, refused) = new_manifest(city, parties, batches=2)
    in_transit(city, parties, number, [kept, refused])

    response = sign(
        parties.operator,
        number,
        role="receiver",
        decision="partial",
        lines=[
            {"batch": kept, "received_kg": "95.000", "refused_kg": "5.000", "reason": "wet"},
            {"batch": refused, "refused_kg": "100.000", "reason": "leaking drum"},
        ],
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "partial"
    lines = {line["batch"]: line for line in body["lines"]}
    assert (lines[kept]["received_kg"], lines[kept]["refused_kg"]) == ("95.000", "5.000")
    assert (lines[refused]["received_kg"], lines[refused]["refused_kg"]) == ("0.000", "100.000")
    assert lines[refused]["refusal_reason"] == "leaking drum"
    assert Batch.objects.get(code=kept).status == "received"
    assert Batch.objects.get(code=refused).status == "rejected"


def test_it_does_not_flag_the_refused_part_of_a_partial_acceptance_as_missing_weight(city, parties):
    number, [code] = new_manifest(city, parties)
    in_transit(city, parties, number, [code])

    response = sign(
        parties.operator,
        number,
        role="receiver",
        decision="partial",
        lines=[{"batch": code, "received_kg": "60.000", "refused_kg": "40.000", "reason": "mixed with soil"}],
    )

    assert response.status_code == 200, response.json()
    receipt = LedgerEntry.objects.filter(batch__code=code, event_type="received").get()
    assert "weight_mismatch" not in receipt.flags
    assert json.loads(receipt.data)["refused_kg"] == "40.000"


def test_it_records_a_refusal(city, parties):
    number, codes = new_manifest(city, parties, batches=2)
    in_transit(city, parties, number, codes)

    response = sign(parties.operator, number, role="receiver", decision="refuse")

    assert response.json()["status"] == "refused"
    assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"rejected"}


def test_it_rejects_an_acceptance_that_refused_quantities(city, parties):
    number, [code] = new_manifest(city, parties)
    in_transit(city, parties, number, [code])

    response = sign(
        parties.operator, number, role="receiver", decision="accept", lines=[{"batch": code, "refused_kg": "3"}]
    )

    assert "decision" in error_of(response, 400)["fields"]
    assert Batch.objects.get(code=code).status == "in_transit"
    assert Manifest.objects.get(number=number).receiver_signed_at is None


def test_it_refuses_a_receiver_signature_from_the_carrier(city, parties):
    number, [code] = new_manifest(city, parties)
    in_transit(city, parties, number, [code])

    response = sign(parties.hauler, number, role="receiver", decision="accept")

    assert response.status_code == 403
    assert Manifest.objects.get(number=number).receiver_signed_at is None


# --- corrections --------------------------------------------------------------------------------


def test_it_corrects_by_a_new_version_and_keeps_the_old_one(city, parties):
    number, [code] = new_manifest(city, parties, sign=True)
    v1_before = Manifest.objects.get(number=number, version=1)

    corrected = parties.generator.post(
        f"/api/v1/manifests/{number}/correct/",
        {"reason": "weighed again", "quantities": {code: "98.500"}},
        format="json",
    )

    assert corrected.status_code == 201, corrected.json()
    assert (corrected.json()["version"], corrected.json()["lines"][0]["quantity_kg"]) == (2, "98.500")
    versions = parties.generator.get(f"/api/v1/manifests/{number}/versions/").json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "sealed")]
    assert versions[0]["lines"][0]["quantity_kg"] == "100.000"
    v1 = Manifest.objects.get(number=number, version=1)
    assert (v1.consignor_signed_at, v1.receipt_due, v1.to_site_id) == (
        v1_before.consignor_signed_at,
        v1_before.receipt_due,
        v1_before.to_site_id,
    )
    assert parties.generator.get(f"/api/v1/manifests/{number}/").json()["version"] == 2
    assert [m["version"] for m in parties.generator.get("/api/v1/manifests/").json()["results"]] == [2]


def test_it_ships_on_the_corrected_version(city, parties):
    number, [code] = new_manifest(city, parties, sign=True)
    parties.generator.post(f"/api/v1/manifests/{number}/correct/", {"reason": "typo"}, format="json")

    picked = scan(parties.hauler, code, "pickup", location=point_of(city.generation_site))

    assert picked.status_code == 201, picked.json()
    assert Manifest.objects.get(number=number, version=2).status == "in_transit"
    assert Manifest.objects.get(number=number, version=1).status == "superseded"


def test_it_refuses_to_correct_a_received_manifest(city, parties):
    number, [code] = new_manifest(city, parties)
    in_transit(city, parties, number, [code])
    sign(parties.operator, number, role="receiver", decision="accept")

    response = parties.generator.post(f"/api/v1/manifests/{number}/correct/", {"reason": "late"}, format="json")

    assert error_of(response, 409)["code"] == "sealed"
    assert Manifest.objects.filter(number=number).count() == 1


# --- deadlines ----------------------------------------------------------------------------------


def test_it_counts_working_days_over_weekends():
    friday = datetime.date(2025, 6, 6)

    assert working_days_after(friday, 5) == datetime.date(2025, 6, 13)
    assert working_days_after(friday, 1) == datetime.date(2025, 6, 9)
    assert working_days_after(datetime.date(2025, 6, 7), 5) == datetime.date(2025, 6, 13)  # Saturday
    assert working_days_after(datetime.date(2025, 6, 9), 5) == datetime.date(2025, 6, 16)  # Monday


def test_it_sets_receipt_due_five_working_days_after_the_consignor_signs(city, parties):
    number, _ = new_manifest(city, parties)

    signed = sign(parties.generator, number, role="consignor").json()

    signed_on = timezone.localdate(datetime.datetime.fromisoformat(signed["consignor_signed_at"]))
    assert signed["receipt_due"] == working_days_after(signed_on, 5).isoformat()
    assert signed["overdue"] is False


def test_it_marks_a_manifest_overdue_after_its_receipt_is_due(city, parties):
    number, _ = new_manifest(city, parties, sign=True)
    Manifest.objects.filter(number=number).update(receipt_due=timezone.localdate() - datetime.timedelta(days=1))

    assert parties.generator.get(f"/api/v1/manifests/{number}/").json()["overdue"] is True
    Manifest.objects.filter(number=number).update(receipt_due=timezone.localdate())
    assert parties.generator.get(f"/api/v1/manifests/{number}/").json()["overdue"] is False


def test_it_does_not_mark_a_received_manifest_overdue(city, parties):
    number, [code] = new_manifest(city, parties)
    in_transit(city, parties, number, [code])
    sign(parties.operator, number, role="receiver", decision="accept")
    Manifest.objects.filter(number=number).update(receipt_due=timezone.localdate() - datetime.timedelta(days=30))

    assert parties.generator.get(f"/api/v1/manifests/{number}/").json()["overdue"] is False


def test_it_keeps_quantities_in_kilograms_with_three_decimals(city, parties):
    number, [code] = new_manifest(city, parties)
    line = parties.generator.get(f"/api/v1/manifests/{number}/").json()["lines"][0]
    assert (line["batch"], Decimal(line["quantity_kg"])) == (code, Decimal("100"))
