"""The enterprise's main flow in Chromium, through the pages alone: register a batch with the waste-code
picker, print its QR label (decoded back from the PDF), open a manifest and sign it as consignor, then
download the HJ 1259 ledger through the export job and its progress bar."""

from __future__ import annotations

import re
import subprocess

import pytest
import zxingcpp
from PIL import Image

from tests.waste.test_chain_e2e import permit
from waste.labels import public_url
from waste.models import Batch, Manifest

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def qr_in_pdf(path, tmp_path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    return [found.text for found in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]


def test_it_registers_labels_ships_and_keeps_the_ledger(page, city, catalogs, celery_worker, login, shot, tmp_path):
    permit(city.transfer, ["HW08"], ["R13"])
    login(page, city.generator)
    assert page.locator("main h1").inner_text() == "批次台账"
    assert "没有待您处理的批次" in page.locator(".empty-state").inner_text()
    shot(page, "empty-log")

    # Register a batch: the picker finds the code by its Chinese name.
    page.get_by_role("link", name="登记批次").click()
    page.get_by_label("废物代码").press_sequentially("废矿物油", delay=20)
    page.wait_for_selector('#waste-code-options option[value="900-249-08"]', state="attached")
    page.get_by_label("废物代码").fill("900-249-08")
    page.get_by_role("button", name="登记该批次").click()
    assert "请更正以下 1 处错误" in page.locator(".form-summary").inner_text()
    assert page.locator("#id_quantity_kg_error").inner_text() == "该字段是必填项。"
    assert page.get_by_label("废物代码").input_value() == "900-249-08"
    shot(page, "new-batch-error")
    page.get_by_label("数量（千克）").fill("120.5")
    page.get_by_label("废物形态").select_option("liquid")
    page.get_by_label("包装容器类型").fill("drum")
    page.get_by_label("容器数量").fill("1")
    page.get_by_role("button", name="登记该批次").click()
    batch = Batch.objects.get()
    assert page.locator("main h1").inner_text() == f"批次 {batch.code}"
    assert "已登记" in page.locator(".messages").inner_text()
    assert page.locator(".timeline li").count() == 1
    shot(page, "batch-detail")

    # Print its label from the batch log: the QR in the PDF reads back as the batch's public URL.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="批次").click()
    assert page.locator(".tabs a[aria-current=page] .badge").inner_text() == "1"
    page.get_by_label(f"选择批次 {batch.code}").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="打印标签").click()
    pdf = tmp_path / "labels.pdf"
    download.value.save_as(pdf)
    assert qr_in_pdf(pdf, tmp_path) == [public_url(batch.code)]
    shot(page, "log")

    # Open a manifest to the transfer station and sign it as consignor.
    page.get_by_label(f"选择批次 {batch.code}").check()
    page.get_by_role("button", name="新建联单").click()
    page.get_by_label("目的地（接收场所）").select_option(str(city.transfer.pk))
    page.get_by_label("运输单位").select_option(str(city.hauler_org.pk))
    shot(page, "new-manifest")
    page.get_by_role("button", name="新建联单").click()
    manifest = Manifest.objects.get()
    assert page.locator("main h1").inner_text() == f"联单 {manifest.number}"
    page.get_by_role("button", name="以移出单位身份签字").click()
    assert "已封存" in page.locator(".messages").inner_text()
    assert page.get_by_role("button", name="以移出单位身份签字").count() == 0
    manifest.refresh_from_db()
    assert manifest.status == "sealed" and manifest.consignor_signed_by == city.generator
    shot(page, "signed-manifest")

    # The HJ 1259 ledger: the batch in the generation table; the file through the export job.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="台账").click()
    generation = page.locator("#table-generation + .table-wrap")
    assert batch.code in generation.inner_text()
    page.get_by_label("文件格式").select_option("csv")
    page.get_by_role("button", name="下载台账").click()
    page.wait_for_selector(".job-progress progress")
    shot(page, "ledger-running")
    link = page.locator(".job-progress").get_by_role("link", name="下载文件")
    link.wait_for(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    download.value.save_as(tmp_path / "ledger.csv")
    content = (tmp_path / "ledger.csv").read_bytes()
    assert batch.code.encode() in content and re.search(rb"\xe4\xba\xa7\xe7\x94\x9f|generation", content)
    shot(page, "ledger-done")
