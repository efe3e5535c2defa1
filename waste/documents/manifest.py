"""The manifest (联单) as a printable A4 PDF, in Chinese with English beside, like every document the
parties share (the labels and the HJ 1259 exports): the same sheet whoever prints it. The field
names are therefore fixed bilingual text, not gettext, as in waste/exports/tables.py."""

from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from waste.documents.fonts import cjk_font
from waste.models import Manifest

STATUS_ZH = {
    "draft": "待移出单位签字 Draft",
    "sealed": "移出单位已签字 Signed by the consignor",
    "in_transit": "运输中 In transit",
    "received": "已接收 Received",
    "partial": "部分接收 Partially accepted",
    "refused": "拒收 Refused",
    "superseded": "已被更正版本取代 Superseded",
}
FORM_ZH = {
    "solid": "固态",
    "liquid": "液态",
    "sludge": "污泥",
    "powder": "粉末",
    "paste": "膏状",
    "gas": "气态",
    "mixed": "混合",
}


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _person(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.username


def manifest_pdf(manifest: Manifest) -> bytes:
    font = cjk_font()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font  # the CJK font also holds Latin glyphs
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    lines = list(manifest.lines.select_related("batch__waste").order_by("id"))
    carriers = list(manifest.carriers.select_related("organisation", "signed_by", "driver").order_by("order"))
    hazardous = any(line.batch.is_hazardous for line in lines)
    title = "危险废物转移联单" if hazardous else "固体废物转移联单"
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{title} {manifest.number}",
    )

    def grid(rows, widths, header=True):
        table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("FONT", (0, 0), (-1, -1), font, 8.5),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
        else:
            style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")))
        table.setStyle(TableStyle(style))
        return table

    def p(text) -> Paragraph:
        return Paragraph(str(text), small)

    story = [
        Paragraph(f"{title} <font size=10>Transfer manifest</font>", styles["Title"]),
        p(
            f"联单编号 Manifest No.: <b>{manifest.number}</b>　版本 Version: {manifest.version}　"
            f"状态 Status: {STATUS_ZH.get(manifest.status, manifest.status)}"
        ),
        Spacer(1, 3 * mm),
    ]
    consignor, receiver = manifest.consignor, manifest.receiver
    story.append(
        grid(
            [
                [p("移出单位 Consignor"), p(consignor.name)],
                [p("移出地点 From"), p(f"{manifest.from_site.name}　{consignor.address}")],
                [p("联系人 / 电话 Contact"), p(f"{consignor.contact_name}　{consignor.contact_phone}")],
                [p("接受单位 Receiver"), p(receiver.name)],
                [p("目的地 Destination"), p(f"{manifest.to_site.name}　{receiver.address}")],
                [p("接收期限 Receipt due"), p(manifest.receipt_due.isoformat() if manifest.receipt_due else "—")],
            ],
            [42 * mm, 138 * mm],
            header=False,
        )
    )
    story += [Spacer(1, 3 * mm), p("<b>废物 Waste</b>")]
    rows = [
        [
            p("批次编号 Batch"),
            p("废物代码 Code"),
            p("废物名称 Name"),
            p("形态 Form"),
            p("危险特性 Traits"),
            p("数量 Quantity (kg)"),
            p("实收 Received (kg)"),
        ]
    ]
    total = 0
    for line in lines:
        batch = line.batch
        total += line.quantity_kg
        rows.append(
            [
                p(batch.code),
                p(batch.waste.display_code),
                p(batch.waste.name),
                p(FORM_ZH.get(batch.physical_form, batch.physical_form)),
                p(",".join(batch.traits) or "—"),
                p(f"{line.quantity_kg:.3f}"),
                p("—" if line.received_kg is None else f"{line.received_kg:.3f}"),
            ]
        )
    rows.append([p("合计 Total"), "", "", "", "", p(f"{total:.3f}"), ""])
    story.append(grid(rows, [32 * mm, 22 * mm, 46 * mm, 14 * mm, 18 * mm, 24 * mm, 24 * mm]))
    story += [Spacer(1, 3 * mm), p("<b>运输 Transport</b>")]
    rows = [[p("顺序 Leg"), p("运输单位 Carrier"), p("车牌号 Plate"), p("驾驶员 Driver"), p("签字 Signed")]]
    for carrier in carriers:
        rows.append(
            [
                p(str(carrier.order)),
                p(carrier.organisation.name),
                p(carrier.vehicle_plate or "—"),
                p(_person(carrier.driver)),
                p(
                    f"{_person(carrier.signed_by)}　{_when(carrier.signed_at)}"
                    if carrier.signed_at
                    else "未签 not signed"
                ),
            ]
        )
    story.append(grid(rows, [16 * mm, 56 * mm, 28 * mm, 30 * mm, 50 * mm]))
    story += [Spacer(1, 3 * mm), p("<b>签字 Signatures</b>")]
    rows = [
        [p("移出单位 Consignor"), p(_person(manifest.consignor_signed_by)), p(_when(manifest.consignor_signed_at))],
        [p("接受单位 Receiver"), p(_person(manifest.receiver_signed_by)), p(_when(manifest.receiver_signed_at))],
    ]
    story.append(grid([[p("角色 Role"), p("签字人 Signer"), p("时间 Time")], *rows], [50 * mm, 70 * mm, 60 * mm]))
    if manifest.correction_reason:
        story += [Spacer(1, 2 * mm), p(f"更正原因 Correction: {manifest.correction_reason}")]
    story += [
        Spacer(1, 4 * mm),
        p(
            f"打印时间 Printed {_when(timezone.now())}　"
            "本联单由系统生成，签字记录见账本。 Signatures are recorded in the ledger."
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
