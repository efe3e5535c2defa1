"""The regulator's pages: a dashboard of the jurisdiction (what needs attention, a map of sites with their
open alerts), alerts to acknowledge and resolve, the zero-waste-city indicators with charts and the flow
Sankey, search and trace of batches, manifests and organisations, exports with progress, and the offline
verifier run on an uploaded export.

Every read goes through the domain selectors (scoped by ``waste.scoping.visible_to``); writes through
``waste.alerts.services`` and ``waste.services.exports``. What lies outside the jurisdiction is "not found".
"""

from __future__ import annotations

import datetime
import re
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from waste import indicators, ledger
from waste import verify as export_verifier
from waste.alerts.services import alert_acknowledge, alert_resolve
from waste.errors import AppError, NotFound
from waste.models import (
    Alert,
    AlertStatus,
    BatchStatus,
    ExportJob,
    Jurisdiction,
    ManifestStatus,
    Role,
    Site,
    SiteKind,
)
from waste.scoping import visible_to
from waste.selectors.alerts import alert_get_for_change, alert_list
from waste.selectors.batches import batch_events, batch_list, batch_trace, batch_visible_get
from waste.selectors.manifests import manifest_list, manifest_visible_get
from waste.selectors.parties import organisation_list
from waste.selectors.search import organisation_get, search
from waste.services.exports import export_request
from waste.services.manifests import manifest_overdue
from web.acting import acting_membership, role_required
from web.components import paginate
from web.forms.regulator import ExportForm, IndicatorForm, SearchForm, VerifyForm
from web.maps import SITE_KIND_COLOURS, feature, layer, map_config
from web.views.frame import export_job_progress, safe_next

ALERT_COLOUR = "#f97066"  # a light red halo: apart from the disposal sites' dark red
JURISDICTION_COLOUR = "#1f7a4d"
STREAM_LABELS = {
    "general": gettext_lazy("General industrial solid waste"),
    "hazardous": gettext_lazy("Hazardous waste"),
    "household": gettext_lazy("Household waste"),
}
FATE_LABELS = {
    "utilised": gettext_lazy("Utilised"),
    "disposed": gettext_lazy("Disposed of"),
    "stored": gettext_lazy("Stored, no fate yet"),
    "dumped": gettext_lazy("Lost in transit"),
    "residual_kg": gettext_lazy("Weighing difference"),
}
INDICATOR_LABELS = {
    "general_utilisation_rate": gettext_lazy("General industrial solid waste comprehensive utilisation rate"),
    "hazardous_utilisation_disposal_rate": gettext_lazy("Hazardous waste utilisation and disposal rate"),
    "household_recycling_rate": gettext_lazy("Household waste recycling rate"),
    "harmless_treatment_rate": gettext_lazy("Household waste harmless treatment rate"),
}
ALERT_TABS = [
    (AlertStatus.OPEN, gettext_lazy("To acknowledge")),
    (AlertStatus.ACKNOWLEDGED, gettext_lazy("To resolve")),
    (AlertStatus.RESOLVED, gettext_lazy("Resolved")),
]
MAX_SERIES_POINTS = 24  # months in a time series; a longer period is shown by year
# Charts here are read, not watched: no animation, so what a screenshot or a printout shows is the final drawing.


def alert_text(alert: Alert) -> str:
    # Alerts render their text in the reader's language where the model can (Alert.text); else as raised.
    text = getattr(alert, "text", None)
    return text() if callable(text) else alert.message


# --- Dashboard ---------------------------------------------------------------------------------------


def manifest_tabs(user) -> dict[str, tuple]:
    """Manifests a regulator watches: overdue (receiver has not signed by the deadline), in transit, all."""
    manifests = manifest_list(user=user).order_by("-created_at", "-id")
    return {
        "overdue": (
            _("Overdue"),
            manifests.filter(receiver_signed_at__isnull=True, receipt_due__lt=timezone.localdate()),
        ),
        "in_transit": (
            _("In transit"),
            manifests.filter(status__in=[ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT]),
        ),
        "all": (_("All"), manifests),
    }


def batch_tabs(user) -> dict[str, tuple]:
    batches = batch_list(user=user)
    return {
        "in_transit": (_("In transit"), batches.filter(status=BatchStatus.IN_TRANSIT)),
        "stored": (_("In storage"), batches.filter(status=BatchStatus.STORED)),
        "all": (_("All"), batches),
    }


def attention_counts(user) -> list[dict]:
    """The dashboard's counters, in the order a regulator acts on them."""
    alerts_url, manifests_url = reverse("web:regulator-alerts"), reverse("web:regulator-manifests")
    manifests, batches = manifest_tabs(user), batch_tabs(user)
    return [
        {
            "label": _("Alerts to acknowledge"),
            "count": alert_list(user=user, status=AlertStatus.OPEN).count(),
            "url": alerts_url + "?status=open",
            "hot": True,
        },
        {
            "label": _("Alerts to resolve"),
            "count": alert_list(user=user, status=AlertStatus.ACKNOWLEDGED).count(),
            "url": alerts_url + "?status=acknowledged",
            "hot": False,
        },
        {
            "label": _("Manifests overdue"),
            "count": manifests["overdue"][1].count(),
            "url": manifests_url + "?tab=overdue",
            "hot": True,
        },
        {
            "label": _("Manifests in transit"),
            "count": manifests["in_transit"][1].count(),
            "url": manifests_url + "?tab=in_transit",
            "hot": False,
        },
        {
            "label": _("Batches in transit"),
            "count": batches["in_transit"][1].count(),
            "url": reverse("web:regulator-batches") + "?tab=in_transit",
            "hot": False,
        },
    ]


def jurisdiction_map(user) -> dict:
    """The jurisdiction polygons, unresolved alerts (a red halo under their site) and sites coloured by kind."""
    areas = [
        feature(j.area, title=j.name, district=j.district_code) for j in visible_to(Jurisdiction.objects.all(), user)
    ]
    open_alerts: dict[int, int] = {}
    alert_points = []
    for alert in alert_list(user=user).exclude(status=AlertStatus.RESOLVED).exclude(location__isnull=True)[:500]:
        if alert.site_id:
            open_alerts[alert.site_id] = open_alerts.get(alert.site_id, 0) + 1
        alert_points.append(feature(alert.location, title=str(alert.get_rule_display()), message=alert_text(alert)))
    sites = []
    kinds = dict(SiteKind.choices)
    for site in visible_to(Site.objects.filter(active=True).select_related("organisation"), user)[:2000]:
        sites.append(
            feature(
                site.location,
                title=site.name,
                kind=site.kind,
                kind_label=str(kinds.get(site.kind, site.kind)),
                organisation=site.organisation.name,
                alerts=open_alerts.get(site.pk, 0) or "",
            )
        )
    alert_layer = layer(
        "alerts",
        "point",
        alert_points,
        color=ALERT_COLOUR,
        popup_fields=[("message", _("Alert"))],
        legend=[(_("Unresolved alert"), ALERT_COLOUR)],
    )
    alert_layer["radius"] = 13  # drawn under the sites: a red ring around each site with an open alert
    return map_config(
        layer("jurisdiction", "polygon", areas, color=JURISDICTION_COLOUR),
        alert_layer,
        layer(
            "sites",
            "point",
            sites,
            color_property="kind",
            colors=SITE_KIND_COLOURS,
            popup_fields=[
                ("kind_label", _("Kind")),
                ("organisation", _("Organisation")),
                ("alerts", _("Unresolved alerts")),
            ],
            legend=[(kinds[k], colour) for k, colour in SITE_KIND_COLOURS.items() if k in kinds],
        ),
    )


@role_required(Role.REGULATOR)
def dashboard(request):
    alerts = list(alert_list(user=request.user, status=AlertStatus.OPEN)[:5])
    for alert in alerts:
        alert.display_text = alert_text(alert)
    return render(
        request,
        "web/regulator/dashboard.html",
        {
            "title": _("Dashboard"),
            "counters": attention_counts(request.user),
            "site_map": jurisdiction_map(request.user),
            "alerts": alerts,
            "search_form": SearchForm(),
        },
    )


# --- Alerts ------------------------------------------------------------------------------------------


@role_required(Role.REGULATOR)
def alerts(request):
    statuses = [status for status, _label in ALERT_TABS]
    status = request.GET.get("status") or AlertStatus.OPEN
    if status not in statuses:
        status = AlertStatus.OPEN
    tabs = [
        {
            "status": value,
            "label": label,
            "count": alert_list(user=request.user, status=value).count(),
            "active": value == status,
        }
        for value, label in ALERT_TABS
    ]
    page = paginate(request, alert_list(user=request.user, status=status))
    for alert in page.object_list:
        alert.display_text = alert_text(alert)
    empty = {
        AlertStatus.OPEN: _("No open alerts: nothing to acknowledge. New warnings appear here as the rules find them."),
        AlertStatus.ACKNOWLEDGED: _("No acknowledged alerts waiting to be resolved."),
        AlertStatus.RESOLVED: _("No resolved alerts yet."),
    }[status]
    return render(
        request,
        "web/regulator/alerts.html",
        {
            "title": _("Alerts"),
            "tabs": tabs,
            "status": status,
            "page": page,
            "empty": empty,
            "columns": [_("Raised"), _("Warning"), _("Where"), _("What"), _("Action")],
            # Viewers see the alerts but may not change them (waste.selectors.alerts.alert_get_for_change).
            "can_change": acting_membership(request).can_write,
        },
    )


def _alert_change(request, pk: int, service, done: str):
    fallback = reverse("web:regulator-alerts")
    try:
        alert = alert_get_for_change(user=request.user, alert_id=pk)
    except NotFound:
        raise Http404 from None
    except AppError as error:
        if error.status == 403:
            raise PermissionDenied from None
        raise
    try:
        service(alert=alert, user=request.user)
    except AppError as error:  # another regulator got there first
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(safe_next(request, fallback))


@require_POST
@role_required(Role.REGULATOR)
def alert_acknowledge_view(request, pk: int):
    return _alert_change(request, pk, alert_acknowledge, _("Alert acknowledged."))


@require_POST
@role_required(Role.REGULATOR)
def alert_resolve_view(request, pk: int):
    return _alert_change(request, pk, alert_resolve, _("Alert resolved."))


# --- Indicators --------------------------------------------------------------------------------------


def _series_buckets(start: datetime.date, end: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    """(label, first day, last day) per month, or per year when there would be too many months."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    buckets = []
    if months <= MAX_SERIES_POINTS:
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            first = max(start, datetime.date(year, month, 1))
            nxt = datetime.date(year + month // 12, month % 12 + 1, 1)
            buckets.append((f"{year}-{month:02d}", first, min(end, nxt - datetime.timedelta(days=1))))
            year, month = nxt.year, nxt.month
    else:
        for year in range(start.year, end.year + 1):
            first, last = max(start, datetime.date(year, 1, 1)), min(end, datetime.date(year, 12, 31))
            buckets.append((str(year), first, last))
    return buckets


def _percent(value) -> float | None:
    return None if value is None else round(value * 100, 2)


def _tonnes(kg) -> float:
    return round(float(kg) / 1000, 3)


def district_names(user) -> dict[str, str]:
    return {j.district_code: j.name for j in visible_to(Jurisdiction.objects.all(), user)}


def district_choices(user) -> list[tuple[str, str]]:
    """(GB/T 2260 code, label) of the jurisdictions and of the districts of the sites the user sees."""
    names = district_names(user)
    codes = set(names) | set(
        visible_to(Site.objects.all(), user).order_by().values_list("district_code", flat=True).distinct()
    )
    return [(code, f"{names[code]} ({code})" if code in names else code) for code in sorted(codes) if code]


def _axis_chart(*, categories: list, y_axis: dict, series: list, top: int = 24, bottom: int = 56) -> dict:
    """ECharts options for bars or lines over categories: no animation (screenshots and slow phones),
    legend at the bottom, axis tooltip."""
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 40, "right": 16, "top": top, "bottom": bottom, "containLabel": True},
        "xAxis": {"type": "category", "data": categories},
        "yAxis": y_axis,
        "series": series,
    }


def rates_by_district_chart(result: dict, names: dict[str, str]) -> dict:
    groups = result.get("groups", [])
    districts = [names.get(g["key"], g["key"] or _("(no district)")) for g in groups]
    return _axis_chart(
        categories=districts,
        y_axis={"type": "value", "name": "%", "max": 100},
        series=[
            {
                "type": "bar",
                "name": str(label),
                "data": [_percent(g["indicators"][key]["value"]) for g in groups],
            }
            for key, label in INDICATOR_LABELS.items()
        ],
        top=16,
        bottom=64,
    )


def time_series_charts(*, scope, date_from: datetime.date, date_to: datetime.date) -> tuple[dict, dict]:
    """Generated tonnes per stream (stacked bars) and the rates (lines), per month or year."""
    buckets = _series_buckets(date_from, date_to)
    rows = [
        indicators.indicators_compute(scope=scope, date_from=first, date_to=last) for _label, first, last in buckets
    ]
    labels = [label for label, _first, _last in buckets]
    generated = _axis_chart(
        categories=labels,
        y_axis={"type": "value", "name": _("t")},
        series=[
            {
                "type": "bar",
                "stack": "generated",
                "name": str(label),
                "data": [_tonnes(r["balance"][stream]["generated_kg"]) for r in rows],
            }
            for stream, label in STREAM_LABELS.items()
        ],
    )
    rates = _axis_chart(
        categories=labels,
        y_axis={"type": "value", "name": "%", "max": 100},
        series=[
            {
                "type": "line",
                "connectNulls": False,
                "showAllSymbol": True,
                "name": str(label),
                "data": [_percent(r["indicators"][key]["value"]) for r in rows],
            }
            for key, label in INDICATOR_LABELS.items()
        ],
    )
    return generated, rates


def flow_sankey(result: dict, names: dict[str, str]) -> dict | None:
    """Districts → waste streams → fates, in tonnes, from the per-district balance of the period's origins."""
    nodes: dict[str, dict] = {}
    links: dict[tuple[str, str], float] = {}

    def node(name: str, depth: int) -> str:
        nodes.setdefault(name, {"name": name, "depth": depth})
        return name

    for group in result.get("groups", []):
        district = node(names.get(group["key"], group["key"] or _("(no district)")), 0)
        for stream, label in STREAM_LABELS.items():
            balance = group["balance"][stream]
            if balance["generated_kg"] <= 0:
                continue
            source = node(str(label), 1)
            links[(district, source)] = links.get((district, source), 0) + balance["generated_kg"]
            for fate, fate_label in FATE_LABELS.items():
                kg = balance[fate if fate.endswith("_kg") else f"{fate}_kg"]
                if kg > 0:
                    target = node(str(fate_label), 2)
                    links[(source, target)] = links.get((source, target), 0) + kg
    if not links:
        return None
    return {
        "animation": False,
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "sankey",
                "emphasis": {"focus": "adjacency"},
                "nodeAlign": "left",
                "left": 8,
                "right": 110,
                "data": list(nodes.values()),
                "links": [
                    {"source": s, "target": t, "value": _tonnes(kg)} for (s, t), kg in links.items() if _tonnes(kg) > 0
                ],
                "lineStyle": {"color": "gradient", "curveness": 0.5},
                "label": {"fontSize": 12},
            }
        ],
    }


@role_required(Role.REGULATOR)
def indicators_page(request):
    bound = {"date_from", "date_to", "district"} & set(request.GET)
    data = request.GET if bound else IndicatorForm.initial_period()
    form = IndicatorForm(data, districts=district_choices(request.user))
    context = {"title": _("Indicators"), "form": form}
    if form.is_valid():
        values = form.cleaned_data
        try:
            scope = indicators.indicator_scope(user=request.user, district=values["district"] or None)
        except AppError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
            return render(request, "web/regulator/indicators.html", context, status=error.status)
        start, end = values["date_from"], values["date_to"]
        result = indicators.indicators_compute(scope=scope, date_from=start, date_to=end)
        by_district = indicators.indicators_compute(scope=scope, date_from=start, date_to=end, group="district")
        names = district_names(request.user)
        generated_chart, rates_chart = time_series_charts(scope=scope, date_from=start, date_to=end)
        context.update(
            {
                "rows": [
                    {
                        "label": label,
                        **result["indicators"][key],
                        "percent": _percent(result["indicators"][key]["value"]),
                    }
                    for key, label in INDICATOR_LABELS.items()
                ],
                "intensity": result["indicators"]["generation_intensity"],
                "balance": [
                    {"label": label, **{k: _tonnes(v) for k, v in result["balance"][stream].items()}}
                    for stream, label in STREAM_LABELS.items()
                ],
                "district_chart": rates_by_district_chart(by_district, names),
                "generated_chart": generated_chart,
                "rates_chart": rates_chart,
                "sankey": flow_sankey(by_district, names),
                "report_query": f"from={start}&to={end}"
                + (f"&district={values['district']}" if values["district"] else ""),
            }
        )
    return render(request, "web/regulator/indicators.html", context, status=200 if form.is_valid() else 400)


# --- Search and trace --------------------------------------------------------------------------------


@role_required(Role.REGULATOR)
def search_page(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = search(user=request.user, query=form.cleaned_data["q"])
        found = [*results["batches"], *results["manifests"], *results["organisations"]]
        if len(found) == 1:  # one thing named exactly: straight to it
            only = found[0]
            if only in results["batches"]:
                return redirect("web:regulator-batch", code=only.code)
            if only in results["manifests"]:
                return redirect("web:regulator-manifest", number=only.number)
            return redirect("web:regulator-organisation", pk=only.pk)
    return render(
        request,
        "web/regulator/search.html",
        {"title": _("Search"), "form": form, "results": results},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _lineage_graph(trace: dict) -> dict:
    """An ECharts graph of the lineage: origins on the left, each generation of children to the right."""
    depth = {n["code"]: 0 for n in trace["nodes"]}
    for _round in range(len(trace["nodes"])):  # longest path from an origin; the lineage has no cycles
        changed = False
        for edge in trace["edges"]:
            if depth[edge["to"]] < depth[edge["from"]] + 1:
                depth[edge["to"]] = depth[edge["from"]] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    nodes = []
    for n in trace["nodes"]:
        row = rows.get(depth[n["code"]], 0)
        rows[depth[n["code"]]] = row + 1
        nodes.append(
            {
                "name": n["code"],
                "x": depth[n["code"]] * 200,
                "y": row * 80,
                "value": n["quantity_kg"],
                "symbolSize": 28 if n["code"] == trace["batch"] else 18,
                "itemStyle": {"color": "#d92d20" if n["code"] == trace["batch"] else "#1f7a4d"},
                "label": {"show": True, "position": "bottom", "fontSize": 11},
            }
        )
    return {
        "animation": False,
        "tooltip": {},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "edgeSymbol": ["none", "arrow"],
                "data": nodes,
                "links": [{"source": e["from"], "target": e["to"], "value": e["quantity_kg"]} for e in trace["edges"]],
                "lineStyle": {"width": 2, "curveness": 0.1},
            }
        ],
    }


@role_required(Role.REGULATOR)
def batch_detail(request, code: str):
    batch = batch_visible_get(user=request.user, code=code)  # NotFound → framed 404
    trace = batch_trace(batch)
    events = list(batch_events(batch))
    manifests = manifest_list(user=request.user).filter(lines__batch=batch).distinct().order_by("created_at")
    alerts = list(alert_list(user=request.user).filter(batch=batch))
    for alert in alerts:
        alert.display_text = alert_text(alert)
    return render(
        request,
        "web/regulator/batch.html",
        {
            "title": _("Batch %(code)s") % {"code": batch.code},
            "batch": batch,
            "events": events,
            "trace": trace,
            "lineage_chart": _lineage_graph(trace) if trace["edges"] else None,
            "manifests": manifests,
            "alerts": alerts,
        },
    )


@role_required(Role.REGULATOR)
def manifest_detail(request, number: str):
    manifest = manifest_visible_get(user=request.user, number=number)
    return render(
        request,
        "web/regulator/manifest.html",
        {
            "title": _("Manifest %(number)s") % {"number": manifest.number},
            "manifest": manifest,
            "carriers": manifest.carriers.select_related("organisation").order_by("order"),
            "lines": manifest.lines.select_related("batch", "batch__waste").order_by("id"),
            "overdue": manifest_overdue(manifest),
        },
    )


@role_required(Role.REGULATOR)
def organisation_detail(request, pk: int):
    organisation = organisation_get(user=request.user, organisation_id=pk)
    sites = visible_to(Site.objects.filter(organisation=organisation), request.user).order_by("name")
    page = paginate(request, batch_list(user=request.user).filter(organisation=organisation))
    return render(
        request,
        "web/regulator/organisation.html",
        {
            "title": organisation.name,
            "organisation": organisation,
            "sites": sites,
            "page": page,
            "open_alerts": alert_list(user=request.user, status=AlertStatus.OPEN)
            .filter(organisation=organisation)
            .count(),
            "columns": [_("Batch"), _("Waste code"), _("Quantity (kg)"), _("Status"), _("Generated at")],
        },
    )


def _tabbed_list(request, tabs: dict[str, tuple], *, template: str, title: str, columns: list, empty: str):
    key = request.GET.get("tab") if request.GET.get("tab") in tabs else next(iter(tabs))
    page = paginate(request, tabs[key][1])
    return render(
        request,
        "web/regulator/list.html",
        {
            "title": title,
            "tabs": [
                {"key": k, "label": label, "count": rows.count(), "active": k == key}
                for k, (label, rows) in tabs.items()
            ],
            "page": page,
            "columns": columns,
            "row_template": template,
            "empty": empty,
        },
    )


@role_required(Role.REGULATOR)
def manifests_page(request):
    return _tabbed_list(
        request,
        manifest_tabs(request.user),
        template="web/regulator/_manifest_row.html",
        title=_("Manifests"),
        columns=[_("Manifest"), _("Generator (consignor)"), _("Receiver"), _("Status"), _("Receipt due")],
        empty=_("No manifests here: nothing is overdue or on the road in your jurisdiction."),
    )


@role_required(Role.REGULATOR)
def batches_page(request):
    return _tabbed_list(
        request,
        batch_tabs(request.user),
        template="web/regulator/_batch_row.html",
        title=_("Batches"),
        columns=[_("Batch"), _("Waste code"), _("Quantity (kg)"), _("Status"), _("Generated at")],
        empty=_("No batches here. Search by code to trace one."),
    )


# --- Exports and verification ------------------------------------------------------------------------


ERROR_FIELDS = {"from": "date_from", "to": "date_to"}


@role_required(Role.REGULATOR)
def exports(request):
    organisations = organisation_list(user=request.user)
    if request.method == "POST":
        form = ExportForm(request.POST, organisations=organisations)
        if form.is_valid():
            values = form.cleaned_data
            try:
                job = export_request(
                    user=request.user,
                    kind=values["kind"],
                    format=values["format"],
                    date_from=values["date_from"],
                    date_to=values["date_to"],
                    organisation=values["organisation"],
                )
            except AppError as error:
                for field, errors in error.fields.items():
                    for message in errors:
                        form.add_error(
                            ERROR_FIELDS.get(field, field) if ERROR_FIELDS.get(field, field) in form.fields else None,
                            message,
                        )
                if not error.fields:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("Export requested: it is being prepared."))
                return redirect(reverse("web:regulator-exports") + f"?job={job.pk}")
        status = 400
    else:
        initial = {**IndicatorForm.initial_period(), "kind": request.GET.get("kind", "register"), "format": "csv"}
        if request.GET.get("organisation", "").isdigit():
            initial["organisation"] = int(request.GET["organisation"])
        form = ExportForm(initial=initial, organisations=organisations)
        status = 200
    jobs = visible_to(ExportJob.objects.select_related("organisation"), request.user)
    current = None
    if request.GET.get("job"):
        try:
            current = jobs.filter(pk=uuid.UUID(request.GET["job"])).first()
        except ValueError:
            current = None
        if current is None:
            raise Http404
        jobs = jobs.exclude(pk=current.pk)  # shown (and polled) once, on top
    page = paginate(request, jobs)
    rows = [{"job": job, "progress": export_job_progress(job)} for job in page.object_list]
    return render(
        request,
        "web/regulator/exports.html",
        {
            "title": _("Exports"),
            "form": form,
            "current": export_job_progress(current) if current else None,
            "current_job": current,
            "page": page,
            "rows": rows,
        },
        status=status,
    )


TAMPERED_ROW = re.compile(r"^rows? (\d+)")


def verify_upload(upload) -> dict:
    """The offline verifier's verdict on an uploaded file, trusting only this system's signing key."""
    trusted = {ledger.public_key_b64(ledger.private_key(settings.LEDGER_SIGNING_KEY))}
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / Path(upload.name).name
        with open(target, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            export = export_verifier.read_export(target)
            rows = export_verifier.verify(export, trusted)
        except export_verifier.Tampered as problem:
            match = TAMPERED_ROW.match(str(problem))
            return {"verdict": "tampered", "row": int(match.group(1)) if match else None, "report": str(problem)}
        except (export_verifier.Unreadable, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as problem:
            return {"verdict": "unreadable", "report": str(problem)}
        checkpoint = export.proof["checkpoint"]
        return {
            "verdict": "intact",
            "rows": rows,
            "checkpoint_size": checkpoint["size"],
            "checkpoint_at": checkpoint["created_at"],
        }


@role_required(Role.REGULATOR)
def verify_page(request):
    result = None
    status = 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            result = verify_upload(form.cleaned_data["file"])
            result["name"] = form.cleaned_data["file"].name
        else:
            status = 400
    else:
        form = VerifyForm()
    return render(
        request,
        "web/regulator/verify.html",
        {"title": _("Verify an export"), "form": form, "result": result},
        status=status,
    )


urlpatterns = [
    path("regulator/", dashboard, name="regulator-dashboard"),
    path("regulator/alerts/", alerts, name="regulator-alerts"),
    path("regulator/alerts/<int:pk>/acknowledge/", alert_acknowledge_view, name="regulator-alert-acknowledge"),
    path("regulator/alerts/<int:pk>/resolve/", alert_resolve_view, name="regulator-alert-resolve"),
    path("regulator/indicators/", indicators_page, name="regulator-indicators"),
    path("regulator/search/", search_page, name="regulator-search"),
    path("regulator/batches/", batches_page, name="regulator-batches"),
    path("regulator/manifests/", manifests_page, name="regulator-manifests"),
    path("regulator/batches/<str:code>/", batch_detail, name="regulator-batch"),
    path("regulator/manifests/<str:number>/", manifest_detail, name="regulator-manifest"),
    path("regulator/organisations/<int:pk>/", organisation_detail, name="regulator-organisation"),
    path("regulator/exports/", exports, name="regulator-exports"),
    path("regulator/verify/", verify_page, name="regulator-verify"),
]
