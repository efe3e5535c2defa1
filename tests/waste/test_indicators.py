"""Indicators against hand-computed values on a small scripted dataset, scoping, and the year's identity."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.conftest import client_for
from tests.waste.test_chain_e2e import permit
from tests.year import at, demo_year, driver  # noqa: F401 - demo_year is a fixture
from waste.models import IndicatorInput

Y = datetime.date.today().year - 1  # the reported year; Y - 1 holds the prior years' stock
PERIOD = {"from": f"{Y}-01-01", "to": f"{Y}-12-31"}


@pytest.fixture
def scripted(city, catalogs):
    """Every quantity below is in the hand computation of the tests.

    general:   P1 1000 (Y-1, utilised R4 in Y: prior stock), A 2000 (R4), B 1000 (stays), G 400 (R4 next year)
    hazardous: P2 500 (Y-1, D10 in Y-1: not in Y), C 300 + D 200 consolidated, then split 400/100:
               400 → R9, 100 → D10; E 250 picked up, never received; F 150 received weighing 140
    household: H1 1000 HH-R → R3, H2 500 HH-K → R1, H3 500 HH-O → D1, H4 200 HH-O stays
    """
    for site in (city.transfer, city.plant):
        permit(site, ["HW08", "SW17", "HH-R", "HH-K", "HH-O"], ["R1", "R3", "R4", "R9", "D1", "D10"])
    d = driver()
    gen, plant, transfer, carrier = city.generation_site, city.plant, city.transfer, city.hauler_org
    p1 = d.make(gen, "SW17", 1000, at(Y - 1, 6, 1))
    [p1] = d.ship([p1], to=plant, carrier=carrier, when=at(Y - 1, 6, 2))
    d.treat(p1, "R4", at(Y, 3, 1))
    p2 = d.make(gen, "900-249-08", 500, at(Y - 1, 7, 1))
    [p2] = d.ship([p2], to=plant, carrier=carrier, when=at(Y - 1, 7, 2))
    d.treat(p2, "D10", at(Y - 1, 12, 1))
    a = d.make(gen, "SW17", 2000, at(Y, 2, 1))
    [a] = d.ship([a], to=plant, carrier=carrier, when=at(Y, 2, 2), weights={a.code: 2000})
    d.treat(a, "R4", at(Y, 4, 1))
    d.make(gen, "SW17", 1000, at(Y, 5, 1))
    g = d.make(gen, "SW17", 400, at(Y, 12, 1))
    [g] = d.ship([g], to=plant, carrier=carrier, when=at(Y, 12, 2))
    d.treat(g, "R4", at(Y + 1, 1, 5))
    c = d.make(gen, "900-249-08", 300, at(Y, 3, 1))
    dd = d.make(gen, "900-249-08", 200, at(Y, 3, 1))
    c, dd = d.ship([c, dd], to=transfer, carrier=carrier, when=at(Y, 3, 2))
    merged = d.consolidate([c, dd], transfer, at(Y, 3, 3))
    [merged] = d.ship([merged], to=plant, carrier=carrier, when=at(Y, 3, 4))
    big, small = d.split(merged, [400, 100], at(Y, 3, 5))
    d.treat(big, "R9", at(Y, 6, 1))
    d.treat(small, "D10", at(Y, 6, 2))
    e = d.make(gen, "900-249-08", 250, at(Y, 8, 1))
    d.ship([e], to=plant, carrier=carrier, when=at(Y, 8, 2), receive=False)
    f = d.make(gen, "900-249-08", 150, at(Y, 9, 1))
    d.ship([f], to=plant, carrier=carrier, when=at(Y, 9, 2), weights={f.code: 140})
    for code, kg, op in [("HH-R", 1000, "R3"), ("HH-K", 500, "R1"), ("HH-O", 500, "D1"), ("HH-O", 200, None)]:
        h = d.make(gen, code, kg, at(Y, 4, 1))
        if op:
            [h] = d.ship([h], to=plant, carrier=carrier, when=at(Y, 4, 2))
            d.treat(h, op, at(Y, 4, 3))
    IndicatorInput.objects.create(
        district_code="120101", year=Y, name="industrial_value_added_cny", value=Decimal("10000000")
    )
    return city


def get(client, **params):
    response = client.get("/api/v1/reports/indicators/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_it_computes_every_indicator_by_hand(scripted):
    body = get(client_for(scripted.regulator), **PERIOD)
    ind = body["indicators"]
    # general: (A 2000 + prior P1 1000) / (generated 3400 + prior 1000)
    assert ind["general_utilisation_rate"]["numerator_kg"] == 3000
    assert ind["general_utilisation_rate"]["denominator_kg"] == 4400
    assert ind["general_utilisation_rate"]["value"] == round(3000 / 4400, 4)
    assert ind["general_utilisation_rate"]["prior_stock_utilised_kg"] == 1000
    # hazardous: (R9 400 + D10 100) / generated 900 (P2's disposal was the year before)
    assert ind["hazardous_utilisation_disposal_rate"]["numerator_kg"] == 500
    assert ind["hazardous_utilisation_disposal_rate"]["denominator_kg"] == 900
    # household: recycled (R3) 1000 of 2200; harmless (any final fate) 2000 of 2200
    assert ind["household_recycling_rate"]["value"] == round(1000 / 2200, 4)
    assert ind["harmless_treatment_rate"]["numerator_kg"] == 2000
    assert ind["harmless_treatment_rate"]["denominator_kg"] == 2200
    # intensity: industrial 3400 + 900 kg = 4.3 t over 10,000,000 CNY = 1000 × 10k CNY
    assert ind["generation_intensity"]["numerator_t"] == 4.3
    assert ind["generation_intensity"]["denominator_10k_cny"] == 1000
    assert ind["generation_intensity"]["value"] == 0.0043


def test_it_reconciles_generated_with_the_fates(scripted):
    balance = get(client_for(scripted.regulator), **PERIOD)["balance"]
    assert balance["general"] == {
        "generated_kg": 3400,
        "utilised_kg": 2000,
        "disposed_kg": 0,
        "stored_kg": 1400,
        "dumped_kg": 0,
        "residual_kg": 0,
    }
    # C 300 and D 200 follow the consolidated batch and its split: 4/5 utilised, 1/5 disposed;
    # F was weighed at 140: the 10 kg difference is the residual.
    assert balance["hazardous"] == {
        "generated_kg": 900,
        "utilised_kg": 400,
        "disposed_kg": 100,
        "stored_kg": 140,
        "dumped_kg": 250,
        "residual_kg": 10,
    }
    assert balance["household"] == {
        "generated_kg": 2200,
        "utilised_kg": 1500,
        "disposed_kg": 500,
        "stored_kg": 200,
        "dumped_kg": 0,
        "residual_kg": 0,
    }


def test_it_filters_by_code_and_category(scripted):
    regulator = client_for(scripted.regulator)
    hw08 = get(regulator, code="HW08", **PERIOD)
    assert hw08["balance"]["hazardous"]["generated_kg"] == 900
    assert hw08["balance"]["general"]["generated_kg"] == 0
    sw = get(regulator, code="SW17", **PERIOD)
    assert sw["indicators"]["general_utilisation_rate"]["numerator_kg"] == 3000


def test_it_breaks_down_by_organisation_and_district(scripted):
    body = get(client_for(scripted.regulator), group="district", **PERIOD)
    assert [g["key"] for g in body["groups"]] == ["120101"]
    assert body["groups"][0]["balance"]["hazardous"]["generated_kg"] == 900
    by_org = get(client_for(scripted.regulator), group="organisation", **PERIOD)
    assert [g["key"] for g in by_org["groups"]] == [str(scripted.generator_org.pk)]


def test_it_reports_missing_value_added_as_null_with_a_note(scripted):
    IndicatorInput.objects.all().delete()
    intensity = get(client_for(scripted.regulator), **PERIOD)["indicators"]["generation_intensity"]
    assert intensity["value"] is None
    assert str(Y) in intensity["note"]


def test_it_counts_a_period_before_the_treatment_as_stored(scripted):
    balance = get(client_for(scripted.regulator), **{"from": f"{Y}-01-01", "to": f"{Y}-03-31"})["balance"]
    # A (2000) generated in February is treated only in April: stored at the end of March.
    assert balance["general"]["generated_kg"] == 2000
    assert balance["general"]["stored_kg"] == 2000


def test_it_shows_an_enterprise_only_its_own_figures(scripted):
    generator = get(client_for(scripted.generator), **PERIOD)
    assert generator["balance"]["general"]["generated_kg"] == 3400
    outsider = get(client_for(scripted.outsider), **PERIOD)
    assert all(b["generated_kg"] == 0 for b in outsider["balance"].values())
    assert outsider["indicators"]["general_utilisation_rate"]["numerator_kg"] == 0


def test_it_rejects_a_district_the_regulator_does_not_hold(scripted):
    response = client_for(scripted.regulator).get("/api/v1/reports/indicators/", {"district": "650102"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_district"
    assert client_for(scripted.outsider).get("/api/v1/reports/indicators/", {"district": "120101"}).status_code == 403


def test_it_rejects_an_enterprise_outside_scope(scripted):
    outsider = client_for(scripted.outsider)
    response = outsider.get("/api/v1/reports/indicators/", {"organisation": scripted.generator_org.pk})
    assert response.status_code == 403
    assert outsider.get("/api/v1/reports/indicators/", {"organisation": 999999}).status_code == 404


def test_it_rejects_unknown_codes_and_periods(scripted):
    regulator = client_for(scripted.regulator)
    assert regulator.get("/api/v1/reports/indicators/", {"code": "HW99"}).status_code == 400
    assert regulator.get("/api/v1/reports/indicators/", {"code": "not a code"}).status_code == 400
    assert regulator.get("/api/v1/reports/indicators/", {"from": "2025-13-01"}).status_code == 400
    assert regulator.get("/api/v1/reports/indicators/", {"from": "2025-05-01", "to": "2025-04-01"}).status_code == 400
    bad = regulator.get("/api/v1/reports/indicators/", {"period": "2025"})
    assert bad.status_code == 400 and "period" in bad.json()["error"]["fields"]


def test_it_reconciles_a_year_of_the_demo_city(demo_year):  # noqa: F811
    regulator = client_for(demo_year.city.users["regulator"])
    body = get(regulator, **{"from": f"{demo_year.year}-01-01", "to": f"{demo_year.year}-12-31"})
    for stream, expected in demo_year.expected.items():
        got = body["balance"][stream]
        for fate, kg in expected.items():
            assert got[f"{fate}_kg"] == pytest.approx(float(kg), abs=0.01), (stream, fate)
        assert got["residual_kg"] == pytest.approx(0, abs=0.01)
    assert demo_year.batches == 72
    assert body["indicators"]["generation_intensity"]["value"] is not None
