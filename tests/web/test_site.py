"""The site operator's pages with Django's test client: incoming, receipt, stock, consolidation,
splitting, treatment, mass balance; bad input and other organisations' objects."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from recycling.models import TreatmentRecord
from tests.web.upstream import batches_made, on_the_way, received
from waste.models import Batch, BatchStatus, LedgerEntry, Manifest, ManifestLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(city, catalogs):
    client = Client()
    client.force_login(city.operator)
    return client


def ledger_size() -> int:
    return LedgerEntry.objects.count()


def test_it_lists_what_is_on_its_way_with_a_counter_and_nothing_of_others(city, operator):
    number, [code] = on_the_way(city, "100")
    response = operator.get("/site/")
    html = response.content.decode()
    assert response.status_code == 200
    assert number in html and code in html
    assert re.search(r"To receive<span class=\"badge hot\">1</span>", html)
    # Once signed for, it moves to the "signed for" list.
    signed = operator.post(f"/site/manifests/{number}/", {"decision": "accept", **line_data(number, weighed="100")})
    assert "signed as receiver" in operator.get(signed["Location"]).content.decode()
    assert number not in operator.get("/site/").content.decode()
    assert number in operator.get("/site/?tab=received").content.decode()


def line_data(number: str, **values) -> dict:
    """POST data for every line of manifest ``number`` (same values on each)."""
    data = {}
    for line in ManifestLine.objects.filter(manifest__number=number):
        for key in ("weighed", "refused", "reason"):
            if key in values:
                data[f"line-{line.pk}-{key}{'_kg' if key != 'reason' else ''}"] = values[key]
    return data


def test_it_receives_with_a_partial_refusal_and_signs_as_receiver(city, operator):
    number, [code] = on_the_way(city, "100")
    response = operator.post(
        f"/site/manifests/{number}/",
        {"decision": "partial", **line_data(number, weighed="98.5", refused="20", reason="leaking drum")},
    )
    assert response.status_code == 302
    line = ManifestLine.objects.get(manifest__number=number)
    assert (line.received_kg, line.refused_kg, line.refusal_reason) == (Decimal("78.5"), Decimal("20"), "leaking drum")
    manifest = Manifest.objects.get(number=number)
    assert manifest.status == "partial" and manifest.receiver_signed_by == city.operator
    assert Batch.objects.get(code=code).status == BatchStatus.RECEIVED
    page = operator.get(response["Location"]).content.decode()
    assert "Partially accepted" in page and "leaking drum" in page and "Sign as receiver" not in page


def test_it_signs_once_when_the_form_is_sent_twice(city, operator):
    number, _ = on_the_way(city, "100")
    data = {"decision": "accept", **line_data(number, weighed="100")}
    assert operator.post(f"/site/manifests/{number}/", data).status_code == 302
    before = ledger_size()
    again = operator.post(f"/site/manifests/{number}/", data, follow=True)
    assert "no longer waiting for your signature" in again.content.decode()
    assert ledger_size() == before


def test_it_refuses_a_refusal_without_reason_in_chinese_keeping_what_was_typed(city, operator):
    number, _ = on_the_way(city, "100")
    before = ledger_size()
    response = operator.post(
        f"/site/manifests/{number}/",
        {"decision": "partial", **line_data(number, weighed="99", refused="30")},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "请说明拒收部分批次的原因" in html
    assert re.search(r'name="line-\d+-weighed_kg"[^>]*value="99"', html)
    assert re.search(r'value="partial"[^>]*checked|checked[^>]*value="partial"', html)
    assert ledger_size() == before and Manifest.objects.get(number=number).receiver_signed_at is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"decision": "accept", "weighed": "abc"}, "weighed_kg", "Enter a number."),
        (
            {"decision": "partial", "weighed": "50", "refused": "60", "reason": "x"},
            "refused_kg",
            "more than the weighed",
        ),
        ({"decision": "accept", "weighed": "100", "refused": "5"}, "refused_kg", "choose a partial acceptance"),
        ({"decision": "partial", "weighed": "100"}, "decision", "Nothing is refused"),
        ({"decision": "accept"}, "weighed_kg", "Enter the weight shown by the weighbridge."),
        ({"decision": "maybe", "weighed": "100"}, "decision", "Select a valid choice."),
    ],
)
def test_it_puts_each_receipt_error_beside_its_field_and_signs_nothing(city, operator, data, field, message):
    number, _ = on_the_way(city, "100")
    decision = data.pop("decision")
    response = operator.post(f"/site/manifests/{number}/", {"decision": decision, **line_data(number, **data)})
    html = response.content.decode()
    assert response.status_code == 400
    error = re.search(
        rf'id="id_(?:line-\d+-)?{field}[^"]*_error">([^<]*)<|class="field-error">([^<]*{re.escape(message)}[^<]*)<',
        html,
    )
    assert error, html
    assert message in html
    assert Manifest.objects.get(number=number).receiver_signed_at is None


def test_it_shows_a_service_refusal_beside_the_form(city, operator):
    number, _ = on_the_way(city, "100", picked_up=False)  # sealed, never picked up: still receivable
    line = ManifestLine.objects.get(manifest__number=number)
    ManifestLine.objects.filter(pk=line.pk).update(quantity_kg=Decimal("10"))  # the manifest says 10 kg
    response = operator.post(
        f"/site/manifests/{number}/",
        {"decision": "partial", **line_data(number, weighed="100", refused="50", reason="wet")},
    )
    assert response.status_code == 400
    assert "Between 0 and the manifest quantity." in response.content.decode()
    assert Manifest.objects.get(number=number).receiver_signed_at is None


def test_it_answers_another_organisations_manifest_and_batch_with_a_framed_404(city, operator):
    from tests.factories import persona
    from waste.models import Role, SiteKind

    number, [code] = on_the_way(city, "100")
    other, _, _ = persona("station2", roles=[Role.SITE_OPERATOR], site_kind=SiteKind.TRANSFER_STATION)
    client = Client()
    client.force_login(other)
    for url in (f"/site/manifests/{number}/", f"/site/stock/{code}/split/", f"/site/stock/{code}/treat/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert 'class="brand"' in response.content.decode()
    before = ledger_size()
    assert client.post(f"/site/manifests/{number}/", {"decision": "refuse"}).status_code == 404
    assert ledger_size() == before
    # The generator is no site operator: a framed 403.
    generator = Client()
    generator.force_login(city.generator)
    assert generator.get("/site/stock/").status_code == 403


def test_it_shows_stock_oldest_first_with_days_and_highlights_what_nears_the_limit(city, operator, settings):
    settings.HAZARDOUS_STORAGE_LIMIT_DAYS = 60
    old, fresh = received(city, "40", "60")
    Batch.objects.filter(code=old).update(generated_at=timezone.now() - dt.timedelta(days=45))
    html = operator.get("/site/stock/").content.decode()
    assert html.index(old) < html.index(fresh)
    row = re.search(rf'<tr class="row-warn">.*?{old}.*?</tr>', html, re.S)
    assert row and "45" in row.group(0) and "15 days left" in row.group(0)
    assert re.search(r"Stock<span class=\"badge hot\"[^>]*>1</span>", html)
    Batch.objects.filter(code=old).update(generated_at=timezone.now() - dt.timedelta(days=70))
    assert re.search(
        rf'<tr class="row-danger">.*?{old}.*?beyond the limit', operator.get("/site/stock/").content.decode(), re.S
    )


def test_it_says_what_to_do_when_nothing_is_in_stock(operator):
    assert "Nothing is held on your sites" in operator.get("/site/stock/").content.decode()


def test_it_consolidates_selected_batches_into_one(city, operator):
    codes = received(city, "40", "60")
    response = operator.post("/site/stock/consolidate/", {"batches": codes})
    assert response.status_code == 302
    child = Batch.objects.get(parent_links__parent__code=codes[0])
    assert child.quantity_kg == Decimal("100") and child.current_site == city.transfer
    assert set(Batch.objects.filter(code__in=codes).values_list("status", flat=True)) == {"consolidated"}


def test_it_refuses_to_consolidate_a_single_batch_or_anothers(city, operator):
    codes = received(city, "40", "60")
    [foreign] = batches_made(city, "10")  # still at the generator
    before = ledger_size()
    response = operator.post("/site/stock/consolidate/", {"batches": codes[:1]})
    assert response.status_code == 400 and "Choose at least two batches." in response.content.decode()
    response = operator.post("/site/stock/consolidate/", {"batches": [codes[0], foreign.code]})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    assert ledger_size() == before


def test_it_splits_a_batch_and_keeps_unbalanced_parts_with_the_error(city, operator):
    [code] = received(city, "100")
    before = ledger_size()
    response = operator.post(f"/site/stock/{code}/split/", {"parts": "30, 60"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "add up to 90 kg, the batch weighs 100" in html and 'value="30, 60"' in html
    assert ledger_size() == before
    response = operator.post(f"/site/stock/{code}/split/", {"parts": "30，70"})
    assert response.status_code == 302
    assert sorted(Batch.objects.filter(parent_links__parent__code=code).values_list("quantity_kg", flat=True)) == [
        Decimal("30"),
        Decimal("70"),
    ]
    response = operator.post(f"/site/stock/{code}/split/", {"parts": "a, b"})
    assert response.status_code == 404  # split already: no longer in stock


def test_it_records_a_treatment_with_its_outputs_as_new_batches(city, operator):
    [code] = received(city, "100")
    response = operator.post(
        f"/site/stock/{code}/treat/",
        {
            "operation": "R9",
            "quantity_kg": "100",
            "losses_kg": "5",
            "output-0-kind": "secondary",
            "output-0-material": "re-refined base oil",
            "output-0-quantity_kg": "80",
            "output-1-kind": "residue",
            "output-1-material": "still bottoms",
            "output-1-quantity_kg": "15",
            "output-1-waste_code": "900-249-08",
            "output-2-kind": "secondary",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record = TreatmentRecord.objects.get(batch__code=code)
    assert (record.operation, record.losses_kg) == ("R9", Decimal("5"))
    assert sorted(o.quantity_kg for o in record.outputs.all()) == [Decimal("15"), Decimal("80")]
    listing = operator.get("/site/treatments/").content.decode()
    assert "re-refined base oil" in listing and "still bottoms" in listing


def test_it_refuses_a_treatment_that_creates_mass_and_keeps_the_rows(city, operator):
    [code] = received(city, "100")
    before = ledger_size()
    data = {
        "operation": "R9",
        "quantity_kg": "100",
        "output-0-kind": "secondary",
        "output-0-material": "oil",
        "output-0-quantity_kg": "120",
        "output-1-kind": "residue",
        "output-1-quantity_kg": "3",
    }
    response = operator.post(f"/site/stock/{code}/treat/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_output-1-material_error">Name the material.<', html) and 'value="120"' in html
    response = operator.post(f"/site/stock/{code}/treat/", {**data, "output-1-material": "sludge"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "a treatment cannot create mass" in html and 'value="sludge"' in html
    assert ledger_size() == before and not TreatmentRecord.objects.exists()


def test_it_shows_the_mass_balance_of_a_period_and_refuses_a_reversed_one(city, operator):
    received(city, "100")
    today = timezone.localdate()
    response = operator.get("/site/balance/", {"site": city.transfer.pk, "date_from": today, "date_to": today})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"Received</th><td[^>]*>100<", html) and re.search(r"Closing stock</th><td[^>]*>100<", html)
    response = operator.get(
        "/site/balance/", {"site": city.transfer.pk, "date_from": today, "date_to": today - dt.timedelta(days=1)}
    )
    assert response.status_code == 400 and "Is before the start of the period." in response.content.decode()
    response = operator.get("/site/balance/", {"site": city.plant.pk, "date_from": today, "date_to": today})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_walks_the_station_through_a_partial_refusal_in_the_browser(page, city, catalogs, login, shot):
    number, [code] = on_the_way(city, "100")
    login(page, city.operator)
    assert page.locator("main h1").inner_text() == "待接收"
    assert page.locator(".tabs .badge").first.inner_text() == "1"
    shot(page, "incoming")

    page.get_by_role("link", name=number).click()
    assert page.locator("main h1").inner_text() == f"联单 {number}"
    shot(page, "manifest")

    page.allow_console(r"status of 400")  # the form comes back with 400 when it is incomplete
    page.get_by_label("称重（千克）").fill("98.5")
    page.get_by_label("拒收（千克）").fill("20")
    page.get_by_label("部分接收，其余拒收").check()
    page.get_by_role("button", name="以接收单位身份签字").click()
    # Forgot the reason: said beside the field, what was typed kept, nothing signed.
    assert "请说明拒收部分批次的原因" in page.locator(".field.has-error").inner_text()
    assert page.get_by_label("称重（千克）").input_value() == "98.5"
    assert page.get_by_label("部分接收，其余拒收").is_checked()
    shot(page, "missing-reason")

    page.get_by_label("拒收原因").fill("桶体渗漏")
    page.get_by_role("button", name="以接收单位身份签字").click()
    assert f"已以接收单位身份签署联单 {number}" in page.locator(".messages").inner_text()
    assert page.get_by_role("button", name="以接收单位身份签字").count() == 0
    assert re.search(r"78\.5\s+20\s+桶体渗漏", page.locator("table tbody").inner_text())
    shot(page, "signed")

    page.get_by_role("link", name="库存").click()
    row = page.locator("tr", has_text=code)
    assert "78.5" in row.inner_text()
    shot(page, "stock")

    row.get_by_role("link", name="记录利用/处置").click()
    page.get_by_label("利用/处置方式（R/D 代码）").select_option("R9")
    page.get_by_label("损耗（千克）").fill("3.5")
    first = page.locator("fieldset", has_text="产出 1")
    first.get_by_label("物料").fill("再生基础油")
    first.get_by_label("数量（千克）").fill("70")
    shot(page, "treat")
    page.get_by_role("button", name="记录利用/处置").click()
    assert "产出形成的新批次" in page.locator(".messages").inner_text()
    assert "再生基础油" in page.locator("#treatments").inner_text()
    shot(page, "treatments")

    page.get_by_role("link", name="物料平衡").click()
    page.get_by_role("button", name="查看物料平衡").click()
    balance = page.locator("table.balance").inner_text()
    assert re.search(r"接收量\s+78\.5", balance) and re.search(r"再生原料\s+70", balance)
    shot(page, "balance")
    line = ManifestLine.objects.get(manifest__number=number)
    assert (line.received_kg, line.refused_kg, line.refusal_reason) == (Decimal("78.5"), Decimal("20"), "桶体渗漏")


def test_it_lets_a_recycler_receive_and_treat_at_its_plant(city, catalogs):
    number, [code] = on_the_way(city, "100", to_site=city.plant)
    recycler = Client()
    recycler.force_login(city.recycler)
    assert "Receiving and treatment" in recycler.get("/recycler/").content.decode()
    assert number in recycler.get("/site/").content.decode()
    response = recycler.post(f"/site/manifests/{number}/", {"decision": "accept", **line_data(number, weighed="100")})
    assert response.status_code == 302
    assert code in recycler.get("/site/stock/").content.decode()


def test_it_sends_the_stock_filters_back_to_the_stock_page(operator):
    response = operator.get("/site/stock/consolidate/", {"site": "3", "page": "2"})
    assert response.status_code == 302 and response["Location"] == "/site/stock/?site=3&page=2"
