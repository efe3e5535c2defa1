"""Treatment records at plants: outputs and residues as new batches, interim operations, balance."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from recycling.models import TreatmentRecord
from tests.conftest import client_for
from tests.recycling.helpers import BOTTOM_ASH, FLY_ASH, at_plant, error_of
from waste.models import Batch, BatchLink, LedgerEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/recycling/treatments/"


def treat(client, code, operation="D10", quantity="100.000", **extra):
    return client.post(URL, {"batch": code, "operation": operation, "quantity_kg": quantity, **extra}, format="json")


def test_it_records_outputs_and_residues_as_new_batches_in_the_lineage(city, plant):
    [code] = at_plant(city, "100.000")
    recycler = client_for(city.recycler)

    response = treat(
        recycler,
        code,
        "D10",
        "100.000",
        losses_kg="70.000",
        outputs=[
            {"kind": "residue", "material": "bottom ash", "quantity_kg": "25.000", "waste_code": BOTTOM_ASH},
            {"kind": "residue", "material": "fly ash", "quantity_kg": "3.000", "waste_code": FLY_ASH},
            {"kind": "secondary", "material": "scrap iron", "grade": "HMS2", "quantity_kg": "2.000"},
        ],
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["final"] is True and body["operation"] == "D10" and body["site"]["id"] == plant.pk
    outputs = {o["material"]: o for o in body["outputs"]}
    assert outputs["bottom ash"]["waste_code"] == "19 01 12"
    assert outputs["fly ash"]["waste_code"] == "772-002-18"
    assert outputs["scrap iron"]["waste_code"] == "900-249-08"  # no code given: keeps the input's
    children = Batch.objects.filter(code__in=[o["batch"] for o in body["outputs"]])
    assert {(c.status, c.current_site_id, c.holder_id) for c in children} == {
        ("received", plant.pk, plant.organisation_id)
    }
    assert Batch.objects.get(code=outputs["fly ash"]["batch"]).is_hazardous
    kinds = sorted(BatchLink.objects.filter(parent__code=code).values_list("kind", "quantity_kg"))
    assert kinds == [("output", Decimal("2.000")), ("residue", Decimal("3.000")), ("residue", Decimal("25.000"))]
    treated = LedgerEntry.objects.get(batch__code=code, event_type="treated")
    data = json.loads(treated.data)
    assert data["operation"] == "D10" and data["losses_kg"] == "70.000"
    assert sorted(o["batch"] for o in data["outputs"]) == sorted(o["batch"] for o in body["outputs"])
    assert LedgerEntry.objects.filter(batch__in=children, event_type="generated").count() == 3

    trace = client_for(city.generator).get(f"/api/v1/batches/{code}/trace/").json()
    [origin] = trace["origins"]
    assert origin["fates"] == [{"batch": code, "operation": "D10", "quantity_kg": "100.000"}]
    assert origin["pending_kg"] == "0.000"
    assert {e["kind"] for e in trace["edges"]} == {"output", "residue"}
    assert recycler.get(f"{URL}{body['id']}/").json()["batch"] == code


def test_it_keeps_a_batch_awaiting_its_final_fate_after_interim_r13(city, plant):
    [code] = at_plant(city, "100.000")
    recycler = client_for(city.recycler)

    response = treat(recycler, code, "R13")

    assert response.status_code == 201, response.json()
    assert response.json()["final"] is False
    batch = Batch.objects.get(code=code)
    assert batch.status == "received" and batch.final_operation == ""
    [origin] = client_for(city.generator).get(f"/api/v1/batches/{code}/trace/").json()["origins"]
    assert origin["fates"] == [] and origin["pending_kg"] == "100.000"
    assert treat(recycler, code, "R9").status_code == 201
    assert Batch.objects.get(code=code).final_operation == "R9"


def test_it_rejects_outputs_of_an_interim_operation(city, plant):
    [code] = at_plant(city, "100.000")

    error = error_of(
        treat(
            client_for(city.recycler),
            code,
            "R13",
            outputs=[{"kind": "secondary", "material": "oil", "quantity_kg": "10"}],
        ),
        400,
    )

    assert "outputs" in error["fields"]
    assert TreatmentRecord.objects.count() == 0


def test_it_rejects_outputs_and_losses_beyond_the_quantity_treated(city, plant):
    [code] = at_plant(city, "100.000")
    before = (Batch.objects.count(), LedgerEntry.objects.count())

    error = error_of(
        treat(
            client_for(city.recycler),
            code,
            "R9",
            "100.000",
            losses_kg="10",
            outputs=[{"kind": "secondary", "material": "base oil", "quantity_kg": "95.000"}],
        ),
        400,
    )

    assert error["code"] == "unbalanced" and "outputs" in error["fields"]
    assert (Batch.objects.count(), LedgerEntry.objects.count()) == before
    assert Batch.objects.get(code=code).status == "received"


@pytest.mark.parametrize(
    "body, field, status",
    [
        ({"batch": "ZW0000000000X", "operation": "R9", "quantity_kg": "1"}, "batch", 400),
        ({"batch": None, "operation": "R9", "quantity_kg": "1"}, "batch", 400),
        ({"operation": "X9", "quantity_kg": "1"}, "operation", 400),
        ({"operation": "R9", "quantity_kg": "-5"}, "quantity_kg", 400),
        ({"operation": "R9", "quantity_kg": "10", "losses_kg": "-1"}, "losses_kg", 400),
        (
            {
                "operation": "R9",
                "quantity_kg": "10",
                "outputs": [{"kind": "secondary", "material": "x", "quantity_kg": "-1"}],
            },
            "outputs.0.quantity_kg",
            400,
        ),
        (
            {
                "operation": "D10",
                "quantity_kg": "10",
                "outputs": [{"kind": "residue", "material": "ash", "quantity_kg": "1"}],
            },
            "outputs.0.waste_code",
            400,
        ),
        (
            {
                "operation": "D10",
                "quantity_kg": "10",
                "outputs": [{"kind": "residue", "material": "ash", "quantity_kg": "1", "waste_code": "999999"}],
            },
            "outputs.0.waste_code",
            400,
        ),
        (
            {
                "operation": "D10",
                "quantity_kg": "10",
                "outputs": [{"kind": "slag", "material": "ash", "quantity_kg": "1"}],
            },
            "outputs.0.kind",
            400,
        ),
    ],
)
def test_it_rejects_bad_input_with_field_paths(city, plant, body, field, status):
    [code] = at_plant(city, "100.000")
    body = {k: v for k, v in {"batch": code, **body}.items() if v is not None}

    error = error_of(client_for(city.recycler).post(URL, body, format="json"), status)

    assert field in error["fields"], error
    assert TreatmentRecord.objects.count() == 0


def test_it_refuses_another_organisations_batch(city, plant):
    [code] = at_plant(city, "100.000")

    outsider = error_of(treat(client_for(city.outsider), code), 404)
    generator = error_of(treat(client_for(city.generator), code), 403)

    assert outsider["fields"] == {"batch": ["No batch with this code."]}
    assert "batch" in generator["fields"]
    assert TreatmentRecord.objects.count() == 0
