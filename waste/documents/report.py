"""The indicator report as PDF: figures with numerators and denominators, the mass balance,
charts (matplotlib) and a map drawn from the jurisdictions' and sites' own geometries (no tiles)."""

from __future__ import annotations

import datetime
import io

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import gettext_lazy, pgettext  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

from waste import indicators  # noqa: E402
from waste.documents.fonts import cjk_font, matplotlib_cjk  # noqa: E402
from waste.models import Jurisdiction, Site  # noqa: E402

NAMES = {
    "generation_intensity": gettext_lazy("Industrial solid waste generation intensity (t / 10,000 CNY)"),
    "general_utilisation_rate": gettext_lazy("General industrial solid waste comprehensive utilisation rate"),
    "hazardous_utilisation_disposal_rate": gettext_lazy("Industrial hazardous waste utilisation and disposal rate"),
    "household_recycling_rate": gettext_lazy("Household waste recycling rate"),
    "harmless_treatment_rate": gettext_lazy("Household waste harmless treatment rate"),
}
STREAMS = {
    "general": gettext_lazy("general industrial"),
    "hazardous": gettext_lazy("hazardous"),
    "household": gettext_lazy("household"),
}
FATES = {
    "utilised": gettext_lazy("utilised"),
    "disposed": gettext_lazy("disposed"),
    "stored": gettext_lazy("stored"),
    "dumped": gettext_lazy("dumped"),
    "residual": gettext_lazy("residual"),
}
FATE_COLOURS = {
    "utilised": "#2e7d32",
    "disposed": "#1565c0",
    "stored": "#f9a825",
    "dumped": "#c62828",
    "residual": "#9e9e9e",
}


def _png(fig) -> io.BytesIO:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    buffer.seek(0)
    return buffer


def _value(key: str, figure: dict) -> str:
    if figure["value"] is None:
        return _("n/a")
    return f"{figure['value']:.4f}" if key == "generation_intensity" else f"{figure['value'] * 100:.2f} %"


def _balance_chart(balance: dict) -> io.BytesIO:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    streams = list(balance)
    left = [0.0] * len(streams)
    for fate, colour in FATE_COLOURS.items():
        values = [max(balance[s][f"{fate}_kg"], 0) / 1000 for s in streams]
        ax.barh([str(STREAMS.get(s, s)) for s in streams], values, left=left, color=colour, label=str(FATES[fate]))
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel(_("tonnes (origins generated in the period)"))
    ax.set_title(_("Where the waste went: generated = utilised + disposed + stored + dumped"))
    ax.legend(ncol=5, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, -0.45))
    return _png(fig)


def _rates_chart(figures: dict) -> io.BytesIO:
    keys = [k for k in NAMES if k != "generation_intensity"]
    values = [(figures[k]["value"] or 0) * 100 for k in keys]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    bars = ax.bar(
        [
            _("general\nutilisation"),
            _("hazardous\nutil.+disposal"),
            _("household\nrecycling"),
            _("household\nharmless"),
        ],
        values,
        color=["#2e7d32", "#6a1b9a", "#00838f", "#1565c0"],
    )
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(f"{value:.1f} %", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title(_("Zero-waste-city indicators"))
    return _png(fig)


def _map(*, jurisdictions, sites: list[tuple[Site, float]]) -> io.BytesIO:
    fig, ax = plt.subplots(figsize=(7, 5.5))
    for j in jurisdictions:
        for polygon in j.area:
            xs, ys = zip(*polygon.exterior_ring.coords, strict=True)
            ax.fill(xs, ys, alpha=0.08, color="#1565c0")
            ax.plot(xs, ys, color="#1565c0", linewidth=1)
        centre = j.area.centroid
        ax.annotate(f"{j.name} ({j.district_code})", (centre.x, centre.y), fontsize=7, color="#1565c0", ha="center")
    biggest = max([kg for _, kg in sites] or [1]) or 1
    for site, kg in sites:
        size = 20 + 600 * kg / biggest
        ax.scatter(
            [site.location.x],
            [site.location.y],
            s=size,
            alpha=0.6,
            color="#c62828" if kg else "#616161",
            edgecolors="black",
            linewidths=0.5,
        )
        ax.annotate(
            f"{site.pk}: {kg / 1000:.1f} t",
            (site.location.x, site.location.y),
            fontsize=6,
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    ax.set_xlabel(_("longitude (°E)"))
    ax.set_ylabel(_("latitude (°N)"))
    ax.set_aspect(1.25)
    ax.set_title(_("Waste generated by origin site (circle area) in the jurisdiction"))
    return _png(fig)


def _site_totals(scope, result) -> list[tuple[Site, float]]:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(datetime.date.fromisoformat(result["from"]), datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(datetime.date.fromisoformat(result["to"]), datetime.time.max, tzinfo=tz)
    flows = indicators.flows_query(scope=scope, start=start, end=end, group="site")
    totals = {int(k): sum(f.generated.values()) for k, f in flows.items() if k}
    return [(site, totals.get(site.pk, 0.0)) for site in Site.objects.filter(pk__in=totals)]


def indicator_report_pdf(*, result: dict, scope, user) -> bytes:
    matplotlib_cjk()
    font = cjk_font()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font  # the CJK font also holds Latin glyphs
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Zero-waste city indicators"),
    )
    names = {
        "district": _("district"),
        "organisation": _("organisation"),
        "code": _("waste code"),
        "group": _("grouped by"),
    }
    filters = "、".join(f"{names.get(k, k)} {v}" for k, v in result.get("filters", {}).items() if v) or _("whole scope")
    story = [
        Paragraph(_("Zero-waste city indicators"), styles["Title"]),
        Paragraph(
            _("Period %(start)s to %(end)s · %(filters)s · figures as of %(as_of)s")
            % {"start": result["from"], "end": result["to"], "filters": filters, "as_of": result["as_of"][:16]},
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [[_("Indicator"), _("Value"), _("Numerator"), _("Denominator")]]
    for key, name in NAMES.items():
        figure = result["indicators"][key]
        if key == "generation_intensity":
            numerator = f"{figure['numerator_t']:.3f} t"
            denominator = (
                _("%(value)s × 10,000 CNY") % {"value": f"{figure['denominator_10k_cny']:.1f}"}
                if figure.get("denominator_10k_cny") is not None
                else "—"
            )
        else:
            numerator, denominator = f"{figure['numerator_kg']:.3f} kg", f"{figure['denominator_kg']:.3f} kg"
        rows.append([Paragraph(str(name), small), _value(key, figure), numerator, denominator])
    table = Table(rows, colWidths=[80 * mm, 28 * mm, 36 * mm, 36 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2fd")),
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [table, Spacer(1, 2 * mm)]
    for key in NAMES:
        note = result["indicators"][key].get("note")
        if note:
            story.append(Paragraph(f"{NAMES[key]}: {note}", small))  # the note is already translated
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            _("Mass balance (kg): generated = utilised + disposed + stored + dumped + residual"), styles["Heading3"]
        )
    )
    balance = result["balance"]
    rows = [
        [
            _("Stream"),
            pgettext("mass balance column", "Generated"),
            _("Utilised"),
            _("Disposed"),
            _("Stored"),
            _("Dumped"),
            _("Residual"),
        ]
    ]
    for stream, b in balance.items():
        rows.append(
            [str(STREAMS.get(stream, stream))]
            + [
                f"{b[k]:.3f}"
                for k in ("generated_kg", "utilised_kg", "disposed_kg", "stored_kg", "dumped_kg", "residual_kg")
            ]
        )
    table = Table(rows)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2fd")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 4 * mm),
        Image(_rates_chart(result["indicators"]), width=170 * mm, height=68 * mm),
        PageBreak(),
        Image(_balance_chart(balance), width=170 * mm, height=85 * mm),
        Spacer(1, 4 * mm),
    ]
    if user.is_superuser:
        jurisdictions = list(Jurisdiction.objects.all())
    else:
        jurisdictions = list(
            Jurisdiction.objects.filter(organisation__memberships__user=user, organisation__is_regulator=True)
        )
    sites = _site_totals(scope, result)
    if jurisdictions or sites:
        story.append(Image(_map(jurisdictions=jurisdictions, sites=sites), width=170 * mm, height=130 * mm))
    story.append(
        Paragraph(
            _("Definitions: see waste.indicators (origin batches, fates through the lineage, prior years' stock)."),
            small,
        )
    )
    doc.build(story)
    return buffer.getvalue()
