"""The regulator's pages: dashboard, alerts, indicators, search and trace, exports, the verifier.

Focused tests use Django's test client; one browser test walks the regulator's main flow end to end
with the real Celery worker."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import SiteFactory
from tests.waste.export_helpers import history
from tests.web.conftest import PASSWORD
from waste.models import Alert, AlertStatus, ExportJob
from waste.services.exports import export_run


@pytest.fixture
def regulator(client, city):
    client.force_login(city.regulator)
    return client


@pytest.fixture
def chain(city, catalogs):
    return history(city)


def alert_for(site, *, rule="capacity_exceeded", cause="c1", status=AlertStatus.OPEN) -> Alert:
    return Alert.objects.create(
        rule=rule,
        cause=cause,
        message=f"Site {site.name} holds more than its storage capacity.",
        organisation=site.organisation,
        site=site,
        location=site.location,
        status=status,
    )


def test_it_shows_the_dashboard_with_counters_map_and_open_alerts(regulator, city):
    alert_for(city.transfer)
    alert_for(city.outsider_site, cause="elsewhere")
    response = regulator.get("/regulator/")
    assert response.status_code == 200
    html = response.content.decode()
    counters = {c["label"]: c["count"] for c in response.context["counters"]}
    assert counters["Alerts to acknowledge"] == 1  # the outsider's alert lies outside the jurisdiction
    layers = {layer["id"]: layer for layer in response.context["site_map"]["layers"]}
    assert len(layers["jurisdiction"]["data"]["features"]) == 1
    assert len(layers["alerts"]["data"]["features"]) == 1
    titles = {f["properties"]["title"] for f in layers["sites"]["data"]["features"]}
    assert city.transfer.name in titles and city.outsider_site.name not in titles
    assert "holds more than its storage capacity" in html


def test_it_lists_the_manifests_and_batches_behind_the_counters(regulator, chain):
    from waste.models import Manifest

    Manifest.objects.filter(number=chain.manifest).update(
        receiver_signed_at=None, receipt_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    dashboard = regulator.get("/regulator/")
    overdue = next(c for c in dashboard.context["counters"] if c["label"] == "Manifests overdue")
    assert overdue["count"] == 1
    page = regulator.get(overdue["url"])
    assert page.status_code == 200 and chain.manifest in page.content.decode()
    page = regulator.get("/regulator/batches/?tab=all")
    assert chain.a in page.content.decode() and chain.b in page.content.decode()
    assert chain.a not in regulator.get("/regulator/batches/?tab=in_transit").content.decode()


def test_it_is_refused_to_other_roles(client, city):
    client.force_login(city.generator)
    assert client.get("/regulator/").status_code == 403
    assert client.get("/regulator/exports/").status_code == 403


def test_it_acknowledges_then_resolves_an_alert(regulator, city):
    alert = alert_for(city.transfer)
    response = regulator.post(f"/regulator/alerts/{alert.pk}/acknowledge/", {"next": "/regulator/alerts/"})
    assert response.status_code == 302 and response["Location"] == "/regulator/alerts/"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == city.regulator
    page = regulator.get("/regulator/alerts/?status=acknowledged")
    assert alert.message in page.content.decode()
    regulator.post(f"/regulator/alerts/{alert.pk}/resolve/")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_it_says_so_when_an_alert_was_already_resolved(regulator, city):
    alert = alert_for(city.transfer, status=AlertStatus.RESOLVED)
    response = regulator.post(f"/regulator/alerts/{alert.pk}/acknowledge/", follow=True)
    assert response.status_code == 200
    assert "resolved" in str(list(response.context["messages"])[0])
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_it_does_not_find_an_alert_outside_the_jurisdiction(regulator, city):
    alert = alert_for(city.outsider_site)
    response = regulator.post(f"/regulator/alerts/{alert.pk}/resolve/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_it_shows_a_viewer_the_alerts_without_letting_them_change_one(client, city):
    from tests.factories import MembershipFactory

    viewer = MembershipFactory(organisation=city.regulator_org, role="viewer").user
    alert = alert_for(city.transfer)
    client.force_login(viewer)
    page = client.get("/regulator/alerts/")
    assert alert.message in page.content.decode()
    assert f"/regulator/alerts/{alert.pk}/resolve/" not in page.content.decode()
    assert client.post(f"/regulator/alerts/{alert.pk}/resolve/").status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_it_finds_a_batch_by_code_and_shows_its_trace(regulator, chain):
    response = regulator.get("/regulator/search/", {"q": chain.a.lower()})
    assert response.status_code == 302 and response["Location"] == f"/regulator/batches/{chain.a}/"
    page = regulator.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    events = [e.event_type for e in page.context["events"]]
    assert events[0] == "generated" and "treated" in events
    assert chain.manifest in html  # the manifest it travelled on
    assert page.context["trace"]["origins"][0]["fates"][0]["operation"] == "R9"


def test_it_draws_the_lineage_of_a_consolidated_batch(regulator, city, catalogs):
    from tests.conftest import client_for
    from tests.waste.chain_helpers import batch_new, now_iso, permit, store_in
    from tests.waste.test_lineage import consolidate

    operator = client_for(city.operator)
    permit(city.transfer, ["HW08"], ["R13", "R9"])
    codes = []
    for _ in range(2):
        code = batch_new(operator, city.transfer, generated_at=now_iso(-60))["code"]
        store_in(operator, code, city.transfer)
        codes.append(code)
    merged = consolidate(operator, codes, city.transfer).json()["code"]
    page = regulator.get(f"/regulator/batches/{merged}/")
    assert page.status_code == 200
    graph = page.context["lineage_chart"]["series"][0]
    positions = {n["name"]: n["x"] for n in graph["data"]}
    assert positions[codes[0]] == positions[codes[1]] == 0 and positions[merged] == 200
    assert {"source": codes[1], "target": merged, "value": "100.000"} in graph["links"]
    assert 'data-chart="lineage-graph"' in page.content.decode()


def test_it_finds_a_manifest_by_number_and_an_organisation_by_credit_code(regulator, city, chain):
    response = regulator.get("/regulator/search/", {"q": chain.manifest})
    assert response["Location"] == f"/regulator/manifests/{chain.manifest}/"
    page = regulator.get(response["Location"])
    assert page.status_code == 200 and chain.a in page.content.decode()
    response = regulator.get("/regulator/search/", {"q": city.generator_org.identifier.lower()})
    assert response["Location"] == f"/regulator/organisations/{city.generator_org.pk}/"
    page = regulator.get(response["Location"])
    assert page.status_code == 200 and chain.a in page.content.decode()


def test_it_does_not_find_an_organisation_outside_the_jurisdiction(regulator, city):
    response = regulator.get("/regulator/search/", {"q": city.outsider_org.identifier})
    assert response.status_code == 200
    assert response.context["results"]["organisations"] == []
    assert "No organisation in your jurisdiction" in response.content.decode()
    response = regulator.get(f"/regulator/organisations/{city.outsider_org.pk}/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_it_does_not_trace_a_batch_outside_the_jurisdiction(regulator, city, catalogs):
    from tests.conftest import client_for
    from tests.waste.chain_helpers import batch_new

    code = batch_new(client_for(city.outsider), city.outsider_site)["code"]
    assert regulator.get(f"/regulator/batches/{code}/").status_code == 404
    assert regulator.get("/regulator/search/", {"q": code}).context["results"]["batches"] == []


def test_it_does_not_find_a_manifest_or_an_export_it_cannot_see(regulator, city):
    assert regulator.get("/regulator/manifests/2026999999999999/").status_code == 404
    job = ExportJob.objects.create(
        requested_by=city.outsider, kind="register", format="csv", date_from="2026-01-01", date_to="2026-01-31"
    )
    assert regulator.get(f"/regulator/exports/?job={job.pk}").status_code == 404
    assert regulator.get("/regulator/exports/?job=not-a-uuid").status_code == 404


def test_it_refuses_a_search_too_short_in_chinese(regulator, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = regulator.get("/regulator/search/", {"q": " x "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请至少输入 2 个字符" in html
    assert 'value="x"' in html or 'value=" x "' in html


def test_it_shows_indicators_with_charts_and_the_flow_sankey(regulator, chain):
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    response = regulator.get("/regulator/indicators/", {"date_from": last_month.isoformat(), "date_to": today})
    assert response.status_code == 200
    rows = {r["label"]: r for r in response.context["rows"]}
    hazardous = rows["Hazardous waste utilisation and disposal rate"]
    assert hazardous["numerator_kg"] == 150.0 and hazardous["percent"] == 100.0
    sankey = response.context["sankey"]["series"][0]
    names = {n["name"] for n in sankey["data"]}
    assert {"Hazardous waste", "Utilised", "Disposed of"} <= names
    assert {"source": "Hazardous waste", "target": "Utilised", "value": 0.1} in sankey["links"]
    assert len(response.context["generated_chart"]["xAxis"]["data"]) == 2  # two months
    assert 'data-chart="flow-sankey"' in response.content.decode()


def test_it_refuses_bad_indicator_filters_beside_their_fields(regulator, city):
    response = regulator.get(
        "/regulator/indicators/", {"date_from": "2026-03-01", "date_to": "2026-02-01", "district": "12x"}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "date_to" in form.errors and "district" in form.errors
    assert 'value="2026-03-01"' in response.content.decode()  # what was typed stays
    ancient = regulator.get("/regulator/indicators/", {"date_from": "0001-01-01", "date_to": "0001-02-01"})
    assert ancient.status_code == 400 and "date_from" in ancient.context["form"].errors
    outside = regulator.get(
        "/regulator/indicators/", {"date_from": "2026-01-01", "date_to": "2026-02-01", "district": "650102"}
    )
    assert outside.status_code == 400  # the outsider's district is not among the choices
    assert "district" in outside.context["form"].errors
    inside = regulator.get(
        "/regulator/indicators/", {"date_from": "2026-01-01", "date_to": "2026-02-01", "district": "120101"}
    )
    assert inside.status_code == 200
    assert [code for code, _label in inside.context["form"].fields["district"].choices] == ["", "120000", "120101"]


def test_it_requests_an_export_and_shows_its_progress(regulator, city, chain):
    today = timezone.localdate().isoformat()
    data = {"kind": "register", "format": "csv", "date_from": today, "date_to": today}
    response = regulator.post("/regulator/exports/", data)
    job = ExportJob.objects.get(requested_by=city.regulator)
    assert response.status_code == 302 and response["Location"] == f"/regulator/exports/?job={job.pk}"
    page = regulator.get(response["Location"])
    assert page.context["current"].status == "queued"
    assert f"/exports/{job.pk}/progress/" in page.content.decode()  # htmx polls the frame's progress view
    export_run(job_id=job.pk)
    progress = regulator.get(f"/exports/{job.pk}/progress/")
    assert f"/api/v1/exports/{job.pk}/download/?token=" in progress.content.decode()


def test_it_refuses_a_bad_export_request_and_keeps_what_was_typed(regulator, city, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    data = {
        "kind": "hj1259",
        "format": "xml",
        "date_from": "2026-02-30",
        "date_to": "2026-01-01",
        "organisation": str(city.outsider_org.pk),
    }
    response = regulator.post("/regulator/exports/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {"format", "date_from", "organisation"}
    html = response.content.decode()
    assert 'value="2026-02-30"' in html
    assert "有效的选项" in str(errors["organisation"])  # the outsider is not among the choices
    assert not ExportJob.objects.exists()


def test_it_names_the_service_refusal_beside_the_field(regulator, city):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = regulator.post(
        "/regulator/exports/", {"kind": "register", "format": "csv", "date_from": future, "date_to": future}
    )
    assert response.status_code == 400
    assert "date_from" in response.context["form"].errors
    assert not ExportJob.objects.exists()


def test_it_verifies_an_uploaded_export_and_names_the_first_bad_row(regulator, city, chain):
    from django.core.files.uploadedfile import SimpleUploadedFile

    today = timezone.localdate()
    job = ExportJob.objects.create(
        requested_by=city.regulator, kind="register", format="csv", date_from=today, date_to=today, fingerprint="t"
    )
    job = export_run(job_id=job.pk)
    content = (settings.MEDIA_ROOT / job.file).read_bytes()
    response = regulator.post("/regulator/verify/", {"file": SimpleUploadedFile("register.csv", content)})
    assert response.status_code == 200
    assert response.context["result"]["verdict"] == "intact"
    assert response.context["result"]["rows"] == job.rows

    edited = edit_second_row_quantity(content)
    response = regulator.post("/regulator/verify/", {"file": SimpleUploadedFile("edited.csv", edited)})
    result = response.context["result"]
    assert result["verdict"] == "tampered" and result["row"] == 2, result
    assert "the first bad row is row 2" in response.content.decode()

    response = regulator.post("/regulator/verify/", {"file": SimpleUploadedFile("notes.txt", b"hello")})
    assert response.context["result"]["verdict"] == "unreadable"


def test_it_refuses_a_verification_without_a_file(regulator, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = regulator.post("/regulator/verify/", {})
    assert response.status_code == 400
    assert "必填" in response.content.decode()


def edit_second_row_quantity(content: bytes) -> bytes:
    """Row 2 of a CSV export with its quantity changed by one kilogram (the ledger hash left as it was)."""
    import csv
    import io

    lines = content.decode("utf-8-sig").splitlines(keepends=True)
    data = [i for i, line in enumerate(lines) if not line.startswith("#")]
    header = next(csv.reader([lines[data[0]]]))
    quantity = next(i for i, name in enumerate(header) if re.search(r"quantity_kg|Quantity \(kg\)", name))
    values = next(csv.reader([lines[data[2]]]))
    values[quantity] = f"{float(values[quantity]) + 1:.3f}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    lines[data[2]] = out.getvalue()
    return "".join(lines).encode()


# --- The regulator's main flow in Chromium, with the real worker ------------------------------------


@pytest.mark.browser
@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_it_walks_the_regulators_flow_in_the_browser(page, city, catalogs, celery_worker, login, shot, tmp_path):
    chain = history(city)
    SiteFactory(organisation=city.operator_org, kind="collection_point")
    Alert.objects.create(
        rule="capacity_exceeded",
        cause="browser",
        message="Storage capacity exceeded.",
        organisation=city.operator_org,
        site=city.transfer,
        location=city.transfer.location,
    )
    login(page, city.regulator, PASSWORD)
    assert page.locator("main h1").inner_text() == "监管看板"
    page.wait_for_selector("[data-map='jurisdiction-map'][data-loaded]")
    assert "待确认的预警" in page.locator(".counters").inner_text()
    shot(page, "dashboard")

    # Acknowledge the open alert; the indicators with their charts and the flow Sankey.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="预警").click()
    page.get_by_role("button", name="确认").click()
    assert "预警已确认" in page.locator(".messages").inner_text()
    shot(page, "alert-acknowledged")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="指标").click()
    page.wait_for_selector("[data-chart='flow-sankey'][data-loaded]")
    page.wait_for_selector("[data-chart='rates-series'][data-loaded]")
    assert "危险废物利用处置率" in page.locator("#indicator-table").inner_text()
    shot(page, "indicators")

    # Find the batch by its code, see its trace.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="搜索").click()
    page.get_by_label(re.compile("批次编码")).fill(chain.a)
    page.locator("main").get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(rf"/regulator/batches/{chain.a}/$"))
    assert chain.a in page.locator("main h1").inner_text()
    assert page.locator("#timeline li").count() >= 5
    assert chain.manifest in page.locator("main").inner_text()
    shot(page, "trace")

    # Request a register export, watch its progress, download it.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="导出").click()
    page.get_by_label("内容").select_option("register")
    page.get_by_label("格式").select_option("csv")
    page.get_by_role("button", name="申请导出").click()
    page.locator("#current-export .job-progress").wait_for()
    shot(page, "export-requested")
    download_link = page.locator("#current-export .job-progress a.button")
    download_link.wait_for(timeout=60_000)
    assert page.locator("#current-export progress").get_attribute("value") == "100"
    shot(page, "export-done")
    with page.expect_download() as info:
        download_link.click()
    exported = tmp_path / "register.csv"
    info.value.save_as(exported)

    # Upload it to the verifier: intact. Then an edited copy: the row is named.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="核验").click()
    page.get_by_label("导出文件").set_input_files(str(exported))
    page.get_by_role("button", name="核验", exact=True).click()
    assert page.locator("#verdict h2").inner_text() == "完好"
    shot(page, "intact")
    edited = tmp_path / "register-edited.csv"
    edited.write_bytes(edit_second_row_quantity(Path(exported).read_bytes()))
    page.get_by_label("导出文件").set_input_files(str(edited))
    page.get_by_role("button", name="核验", exact=True).click()
    assert page.locator("#verdict h2").inner_text() == "已被篡改"
    assert "第 2 行" in page.locator("#verdict .first-bad-row").inner_text()
    shot(page, "tampered")

    # The dashboard as it looks on an office screen.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="监管看板").click()
    page.wait_for_selector("[data-map='jurisdiction-map'][data-loaded]")
    shot(page, "dashboard-desktop")
