"""Enterprise pages with Django's test client: bad input, scoping, and each action writing what it should."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from logistics.models import Pickup
from tests.waste.test_chain_e2e import permit
from waste.models import Batch, LedgerEntry, Manifest
from waste.services.batches import batch_create

pytestmark = pytest.mark.django_db

OIL = "900-249-08"


def logged_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def new_batch(city, quantity="100", **extra):
    return batch_create(
        user=city.generator, site=city.generation_site, waste_code=OIL, quantity_kg=Decimal(quantity), **extra
    )


def form_values(city, **overrides):
    return {
        "site": city.generation_site.pk,
        "waste_code": OIL,
        "quantity_kg": "120.5",
        "physical_form": "liquid",
        "container_type": "drum",
        "container_count": "2",
        "description": "Spent hydraulic oil",
        **overrides,
    }


def test_it_registers_a_batch_and_shows_it(city, catalogs):
    client = logged_in(city.generator)
    response = client.post(reverse("web:enterprise-batch-new"), form_values(city))
    batch = Batch.objects.get()
    assert response["Location"] == reverse("web:enterprise-batch", kwargs={"code": batch.code})
    assert batch.quantity_kg == 120.5 and batch.containers == [{"type": "drum", "count": 2, "volume_l": None}]
    page = client.get(response["Location"]).content.decode()
    assert batch.code in page and "900-249-08" in page and "Generated" in page


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("quantity_kg", "", "This field is required."),
        ("quantity_kg", "abc", "Enter a number."),
        ("quantity_kg", "-5", "greater than or equal to 0.001"),
        ("waste_code", "999-999-99", "Unknown code"),
        ("waste_code", "", "This field is required."),
    ],
)
def test_it_refuses_a_bad_batch_beside_the_field_and_keeps_what_was_typed(city, catalogs, field, value, message):
    values = form_values(city, **{field: value})
    response = logged_in(city.generator).post(reverse("web:enterprise-batch-new"), values)
    html = response.content.decode()
    assert response.status_code == 200
    block = re.search(rf'<div class="field[^"]*has-error[^"]*">\s*<label for="id_{field}">.*?</div>', html, re.S)
    assert block and message in block.group(0), html
    assert 'value="Spent hydraulic oil"' in html or "Spent hydraulic oil</textarea>" in html
    assert Batch.objects.count() == 0 and LedgerEntry.objects.count() == 0


def test_it_says_what_is_wrong_in_chinese(city, catalogs):
    client = logged_in(city.generator, language="zh-CN")
    html = client.post(reverse("web:enterprise-batch-new"), form_values(city, quantity_kg="")).content.decode()
    assert "该字段是必填项。" in html and "请更正以下" in html


def test_it_finds_waste_codes_by_code_and_by_chinese_or_english_name(city, catalogs):
    client = logged_in(city.generator)
    url = reverse("web:enterprise-waste-codes")
    for text in ("900-249", "废矿物油", "mineral oil"):
        html = client.get(url, {"waste_code": text}).content.decode()
        assert 'value="900-249-08"' in html, text


def test_it_lists_the_batches_by_tab_with_counters_and_filters(city, catalogs):
    oil = new_batch(city)
    new_batch(city, quantity="5")
    client = logged_in(city.generator)
    html = client.get(reverse("web:enterprise-batches")).content.decode()
    assert oil.code in html and re.search(r'To act on<span class="badge hot">2</span>', html)
    assert oil.code not in client.get(reverse("web:enterprise-batches"), {"tab": "closed"}).content.decode()
    assert oil.code not in client.get(reverse("web:enterprise-batches"), {"waste_code": "16 01"}).content.decode()
    assert oil.code in client.get(reverse("web:enterprise-batches"), {"waste_code": "900-249"}).content.decode()
    bad = client.get(reverse("web:enterprise-batches"), {"date_from": "2026-13-01"})
    assert "Enter a valid date." in bad.content.decode()


def test_it_never_lists_another_organisations_batches(city, catalogs):
    theirs = batch_create(user=city.outsider, site=city.outsider_site, waste_code=OIL, quantity_kg=Decimal("1"))
    client = logged_in(city.generator)
    assert theirs.code not in client.get(reverse("web:enterprise-batches")).content.decode()
    response = client.get(reverse("web:enterprise-batch", kwargs={"code": theirs.code}))
    assert response.status_code == 404 and "Page not found" in response.content.decode()
    assert client.get(reverse("web:enterprise-batch-label", kwargs={"code": theirs.code})).status_code == 404
    labels = client.post(reverse("web:enterprise-labels"), {"batches": [theirs.code]})
    assert labels.status_code == 302


def test_it_prints_the_labels_of_the_ticked_batches(city, catalogs):
    a, b = new_batch(city), new_batch(city)
    response = logged_in(city.generator).post(reverse("web:enterprise-labels"), {"batches": [a.code, b.code]})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_it_asks_to_tick_a_batch_before_printing(city, catalogs):
    client = logged_in(city.generator)
    response = client.post(reverse("web:enterprise-labels"), {}, follow=True)
    assert "Tick at least one batch first." in response.content.decode()


def test_it_requests_a_pickup_for_the_ticked_batches(city, catalogs):
    batch = new_batch(city)
    client = logged_in(city.generator)
    url = reverse("web:enterprise-pickup-new") + f"?batches={batch.code}"
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(url, {"batches": batch.code, "date": tomorrow.isoformat(), "hauler": city.hauler_org.pk})
    assert response.status_code == 302
    pickup = Pickup.objects.get()
    assert pickup.batch == batch and pickup.hauler == city.hauler_org and pickup.date == tomorrow


def test_it_refuses_a_pickup_in_the_past_or_with_a_backwards_window(city, catalogs):
    batch = new_batch(city)
    client = logged_in(city.generator)
    url = reverse("web:enterprise-pickup-new") + f"?batches={batch.code}"
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    html = client.post(
        url, {"batches": batch.code, "date": yesterday.isoformat(), "window_start": "14:00", "window_end": "09:00"}
    ).content.decode()
    assert "The pickup date is in the past." in html and "The time window ends before it starts." in html
    assert 'value="14:00"' in html
    assert Pickup.objects.count() == 0


def test_it_says_why_a_batch_cannot_be_picked_up_twice(city, catalogs):
    batch = new_batch(city)
    client = logged_in(city.generator)
    url = reverse("web:enterprise-pickup-new") + f"?batches={batch.code}"
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    client.post(url, {"batches": batch.code, "date": tomorrow})
    html = client.post(url, {"batches": batch.code, "date": tomorrow}).content.decode()
    assert "already has an open pickup request" in html
    assert Pickup.objects.count() == 1


def test_it_opens_a_manifest_and_signs_it_as_consignor(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    batch = new_batch(city)
    client = logged_in(city.generator)
    url = reverse("web:enterprise-manifest-new") + f"?batches={batch.code}"
    form = client.get(url).content.decode()
    assert f'<option value="{city.generation_site.pk}" selected>' in form
    response = client.post(
        url,
        {
            "batches": batch.code,
            "from_site": city.generation_site.pk,
            "to_site": city.transfer.pk,
            "carrier": city.hauler_org.pk,
        },
    )
    manifest = Manifest.objects.get()
    assert response["Location"] == reverse("web:enterprise-manifest", kwargs={"number": manifest.number})
    assert "Sign as consignor" in client.get(response["Location"]).content.decode()
    client.post(reverse("web:enterprise-manifest-sign", kwargs={"number": manifest.number}))
    manifest.refresh_from_db()
    assert manifest.status == "sealed" and manifest.consignor_signed_by == city.generator
    page = client.get(reverse("web:enterprise-manifest", kwargs={"number": manifest.number})).content.decode()
    assert "Sign as consignor" not in page
    again = client.post(reverse("web:enterprise-manifest-sign", kwargs={"number": manifest.number}), follow=True)
    assert "already signed" in again.content.decode()


def test_it_refuses_a_manifest_to_a_site_without_a_permit_beside_the_field(city, catalogs):
    batch = new_batch(city)
    url = reverse("web:enterprise-manifest-new") + f"?batches={batch.code}"
    html = (
        logged_in(city.generator)
        .post(
            url,
            {
                "batches": batch.code,
                "from_site": city.generation_site.pk,
                "to_site": city.transfer.pk,
                "carrier": "",
            },
        )
        .content.decode()
    )
    assert re.search(r'has-error[^"]*">\s*<label for="id_carrier">', html)
    assert Manifest.objects.count() == 0


def test_it_hides_another_organisations_manifest(city, catalogs):
    permit(city.transfer, ["HW08"], ["R13"])
    from waste.services.manifests import manifest_create

    theirs = batch_create(user=city.outsider, site=city.outsider_site, waste_code=OIL, quantity_kg=Decimal("1"))
    manifest = manifest_create(
        user=city.outsider,
        from_site=city.outsider_site,
        to_site=city.transfer,
        carriers=[city.hauler_org],
        batches=[theirs.code],
    )
    client = logged_in(city.generator)
    assert client.get(reverse("web:enterprise-manifest", kwargs={"number": manifest.number})).status_code == 404
    client.post(reverse("web:enterprise-manifest-sign", kwargs={"number": manifest.number}))
    manifest.refresh_from_db()
    assert manifest.status == "draft"


def test_it_shows_the_five_hj1259_tables_for_the_period(city, catalogs):
    batch = new_batch(city)
    html = logged_in(city.generator).get(reverse("web:enterprise-ledger")).content.decode()
    for title in ("Generation", "Storage in", "Storage out", "Own utilisation and disposal", "Outsourced"):
        assert title in html
    assert batch.code in html


def test_it_refuses_a_backwards_ledger_period(city, catalogs):
    html = (
        logged_in(city.generator)
        .get(reverse("web:enterprise-ledger"), {"date_from": "2026-03-01", "date_to": "2026-02-01"})
        .content.decode()
    )
    assert "The end date is before the start date." in html


def test_it_keeps_other_roles_out_of_the_enterprise_pages(city):
    assert logged_in(city.operator).get(reverse("web:enterprise-batches")).status_code == 403
    assert logged_in(city.regulator).get(reverse("web:enterprise-ledger")).status_code == 403


def test_it_draws_the_lineage_from_origins_to_fates():
    from web.views.enterprise import lineage_chart

    trace = {
        "nodes": [{"code": "A"}, {"code": "B"}, {"code": "C"}],
        "edges": [
            {"from": "A", "to": "C", "quantity_kg": "60.000"},
            {"from": "B", "to": "C", "quantity_kg": "40.000"},
        ],
        "origins": [
            {"batch": "A", "fates": [{"batch": "C", "operation": "R9", "quantity_kg": "60.000"}]},
            {"batch": "B", "fates": [{"batch": "C", "operation": "R9", "quantity_kg": "40.000"}]},
        ],
    }
    series = lineage_chart(trace)["series"][0]
    assert series["type"] == "sankey"
    assert [n["name"] for n in series["data"]] == ["A", "B", "C", "R9"]
    assert {"source": "C", "target": "R9", "value": 100.0} in series["links"]
    assert lineage_chart({"nodes": [{"code": "A"}], "edges": [], "origins": [{"batch": "A", "fates": []}]}) is None
