"""The enterprise (waste generator): batch log, new batch, labels, pickups, manifests, batch detail, ledger."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from logistics.services.pickups import pickup_create_for_batches
from waste.documents import label_pdf, label_sheet_pdf
from waste.errors import AppError
from waste.exports.tables import hj1259_tables
from waste.labels import label_data
from waste.models import ExportKind, ManifestLine, ManifestStatus, Role
from waste.selectors.batches import batch_events, batch_list, batch_list_by_codes, batch_trace, batch_visible_get
from waste.selectors.catalogs import catalog_entry_search
from waste.selectors.exports import export_get
from waste.selectors.manifests import manifest_list, manifest_visible_get
from waste.selectors.sites import site_list, site_receiving_list
from waste.services.batches import batch_create
from waste.services.exports import export_request
from waste.services.manifests import manifest_sign
from web.acting import acting_membership, acting_organisation, role_required
from web.components import paginate
from web.forms import apply_app_error
from web.forms.enterprise import (
    TABS,
    BatchCreateForm,
    BatchFilterForm,
    LedgerForm,
    ManifestCreateForm,
    PickupRequestForm,
)
from web.views.frame import export_job_progress

generator_required = role_required(Role.GENERATOR)


def _own_batches(request):
    return batch_list(user=request.user).filter(organisation=acting_organisation(request))


# --- Batch log ------------------------------------------------------------------------------------

BATCH_EMPTY = {
    "act": gettext_lazy("No batch waits for you. Register a batch when waste is produced."),
    "transit": gettext_lazy("Nothing is on its way. Batches appear here once a hauler picks them up."),
    "closed": gettext_lazy("No closed batch yet. Batches appear here once received or treated."),
}


@generator_required
def batches(request):
    org = acting_organisation(request)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "act"
    own = _own_batches(request)
    counts = own.aggregate(**{key: Count("pk", filter=Q(status__in=statuses)) for key, (_l, statuses) in TABS.items()})
    tabs = [
        {"key": key, "label": label, "count": counts[key], "active": key == tab} for key, (label, _s) in TABS.items()
    ]
    form = BatchFilterForm(request.GET, tab=tab, sites=site_list(user=request.user, organisation=org))
    queryset = own.filter(status__in=TABS[tab][1]).select_related("current_site")
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["waste_code"]:
            text = data["waste_code"].strip()
            compact = text.replace(" ", "").replace("*", "")
            queryset = queryset.filter(
                Q(waste__display_code__icontains=text)
                | Q(waste__code__icontains=compact)
                | Q(waste__name__icontains=text)
            )
        if data["site"]:
            queryset = queryset.filter(origin_site=data["site"])
        if data["date_from"]:
            queryset = queryset.filter(generated_at__date__gte=data["date_from"])
        if data["date_to"]:
            queryset = queryset.filter(generated_at__date__lte=data["date_to"])
    page = paginate(request, queryset)
    return render(
        request,
        "web/enterprise/batches.html",
        {
            "title": _("Batch log"),
            "tab": tab,
            "tabs": tabs,
            "form": form,
            "page": page,
            "columns": [
                _("Pick"),
                _("Batch"),
                _("Waste"),
                _("Quantity (kg)"),
                _("Status"),
                _("Site"),
                _("Generated at"),
            ],
            "empty": BATCH_EMPTY[tab],
        },
    )


@require_POST
@generator_required
def labels(request):
    """The ticked batches' QR labels as one A4 PDF sheet (the existing label sheet renderer)."""
    codes = request.POST.getlist("batches")
    back = request.POST.get("next") or reverse("web:enterprise-batches")
    if not codes:
        messages.error(request, _("Tick at least one batch first."))
        return redirect(back)
    try:
        chosen = batch_list_by_codes(user=request.user, codes=codes)
    except AppError as error:
        messages.error(request, error.message)
        return redirect(back)
    pdf = label_sheet_pdf([label_data(b) for b in chosen])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="labels.pdf"'
    return response


# --- New batch ------------------------------------------------------------------------------------


@generator_required
def batch_new(request):
    org = acting_organisation(request)
    sites = site_list(user=request.user, organisation=org)
    form = BatchCreateForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            batch = batch_create(user=request.user, organisation=org, **form.service_values())
        except AppError as error:
            apply_app_error(form, error, aliases={"containers": "container_type"})
        else:
            messages.success(request, _("Batch %(code)s registered. Print its label next.") % {"code": batch.code})
            return redirect("web:enterprise-batch", code=batch.code)
    options = catalog_entry_search(text=form["waste_code"].value() or "", on=timezone.localdate(), limit=20)
    return render(
        request,
        "web/enterprise/batch_new.html",
        {"title": _("Register a batch"), "form": form, "options": options, "no_sites": not sites.exists()},
    )


@generator_required
def waste_codes(request):
    """htmx: the <option>s of the waste-code picker for what has been typed so far."""
    text = request.GET.get("waste_code", "")[:60]
    options = catalog_entry_search(text=text, on=timezone.localdate(), limit=20)
    return render(request, "web/enterprise/_waste_code_options.html", {"options": options})


# --- Batch detail ---------------------------------------------------------------------------------


def _batch_or_404(request, code):
    try:
        return batch_visible_get(user=request.user, code=code)
    except AppError as error:  # a malformed code is as missing as an invisible one
        raise Http404 from error


def lineage_chart(trace: dict) -> dict | None:
    """ECharts sankey: origins → consolidations/splits → fates (operation codes), sized by kg."""
    if not trace["edges"] and not any(o["fates"] for o in trace["origins"]):
        return None
    nodes = [{"name": n["code"]} for n in trace["nodes"]]
    links = [{"source": e["from"], "target": e["to"], "value": float(e["quantity_kg"])} for e in trace["edges"]]
    fates: dict[tuple[str, str], Decimal] = {}
    for origin in trace["origins"]:
        for fate in origin["fates"]:
            key = (fate["batch"], fate["operation"])
            fates[key] = fates.get(key, Decimal(0)) + Decimal(fate["quantity_kg"])
    for (code, operation), kg in fates.items():
        name = f"{operation}"
        if not any(n["name"] == name for n in nodes):
            nodes.append({"name": name, "itemStyle": {"color": "#12b76a"}})
        links.append({"source": code, "target": name, "value": float(kg)})
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "sankey",
                "data": nodes,
                "links": links,
                "emphasis": {"focus": "adjacency"},
                "nodeAlign": "left",
                "lineStyle": {"color": "gradient", "curveness": 0.5},
                "label": {"fontSize": 11},
            }
        ],
    }


@generator_required
def batch_detail(request, code):
    batch = _batch_or_404(request, code)
    lines = (
        ManifestLine.objects.filter(batch=batch, manifest__correction__isnull=True)
        .select_related("manifest", "manifest__to_site")
        .order_by("-manifest__created_at")
    )
    trace = batch_trace(batch)
    return render(
        request,
        "web/enterprise/batch_detail.html",
        {
            "title": _("Batch %(code)s") % {"code": batch.code},
            "batch": batch,
            "events": batch_events(batch),
            "lines": lines,
            "trace": trace,
            "lineage": lineage_chart(trace),
            "own": batch.organisation_id == acting_organisation(request).pk,
        },
    )


@generator_required
def batch_label(request, code):
    batch = _batch_or_404(request, code)
    response = HttpResponse(label_pdf(label_data(batch)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="label-{batch.code}.pdf"'
    return response


# --- Pickups and manifests for ticked batches -----------------------------------------------------


def _ticked(request):
    codes = request.POST.getlist("batches") if request.method == "POST" else request.GET.getlist("batches")
    if not codes:
        return None, []
    try:
        return codes, batch_list_by_codes(user=request.user, codes=codes)
    except AppError as error:
        raise Http404 from error


@generator_required
def pickup_new(request):
    codes, chosen = _ticked(request)
    if not codes:
        messages.error(request, _("Tick at least one batch first."))
        return redirect("web:enterprise-batches")
    form = PickupRequestForm(request.POST or None, initial={"batches": codes})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pickups = pickup_create_for_batches(
                user=request.user,
                codes=codes,
                date=data["date"],
                hauler=data["hauler"],
                window_start=data["window_start"],
                window_end=data["window_end"],
            )
        except AppError as error:
            apply_app_error(form, error, aliases={"codes": "__all__"})
        else:
            messages.success(
                request,
                _("Pickup requested for %(n)d batch(es) on %(date)s.") % {"n": len(pickups), "date": data["date"]},
            )
            return redirect("web:enterprise-batches")
    return render(
        request, "web/enterprise/pickup_new.html", {"title": _("Request a pickup"), "form": form, "chosen": chosen}
    )


@generator_required
def manifest_new(request):
    org = acting_organisation(request)
    codes, chosen = _ticked(request)
    if not codes:
        messages.error(request, _("Tick at least one batch first."))
        return redirect("web:enterprise-batches")
    own_sites = site_list(user=request.user, organisation=org)
    initial = {}
    current = {b.current_site_id for b in chosen}
    if len(current) == 1:
        initial["from_site"] = current.pop()
    form = ManifestCreateForm(
        request.POST or None, initial=initial, own_sites=own_sites, receiving_sites=site_receiving_list()
    )
    if request.method == "POST" and form.is_valid():
        from waste.services.manifests import manifest_create

        data = form.cleaned_data
        try:
            manifest = manifest_create(
                user=request.user,
                from_site=data["from_site"],
                to_site=data["to_site"],
                carriers=[data["carrier"]],
                batches=codes,
            )
        except AppError as error:
            apply_app_error(form, error, aliases={"carriers": "carrier", "batches": "__all__"})
        else:
            messages.success(
                request, _("Manifest %(number)s opened. Sign it as consignor to seal it.") % {"number": manifest.number}
            )
            return redirect("web:enterprise-manifest", number=manifest.number)
    return render(
        request, "web/enterprise/manifest_new.html", {"title": _("Open a manifest"), "form": form, "chosen": chosen}
    )


MANIFEST_GROUPS = {
    "sign": [ManifestStatus.DRAFT],
    "transit": [ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT],
    "archived": [ManifestStatus.RECEIVED, ManifestStatus.PARTIALLY_RECEIVED, ManifestStatus.REFUSED],
}


@generator_required
def manifests(request):
    org = acting_organisation(request)
    labels = {"sign": _("To sign"), "transit": _("In transit"), "archived": _("Archived")}
    tab = request.GET.get("tab") if request.GET.get("tab") in MANIFEST_GROUPS else "sign"
    own = manifest_list(user=request.user).filter(consignor=org)
    counts = own.aggregate(**{k: Count("pk", filter=Q(status__in=v)) for k, v in MANIFEST_GROUPS.items()})
    tabs = [{"key": k, "label": labels[k], "count": counts[k], "active": k == tab} for k in MANIFEST_GROUPS]
    queryset = own.filter(status__in=MANIFEST_GROUPS[tab]).select_related("to_site", "receiver")
    page = paginate(request, queryset.order_by("-created_at"))
    return render(
        request, "web/enterprise/manifests.html", {"title": _("Manifests"), "tab": tab, "tabs": tabs, "page": page}
    )


@generator_required
def manifest_detail(request, number):
    manifest = manifest_visible_get(user=request.user, number=number)  # NotFound → framed 404
    org = acting_organisation(request)
    membership = acting_membership(request)
    can_sign = manifest.status == ManifestStatus.DRAFT and manifest.consignor_id == org.pk and membership.can_write
    return render(
        request,
        "web/enterprise/manifest_detail.html",
        {
            "title": _("Manifest %(number)s") % {"number": manifest.number},
            "manifest": manifest,
            "lines": manifest.lines.select_related("batch", "batch__waste").order_by("id"),
            "carriers": manifest.carriers.select_related("organisation", "signed_by").order_by("order"),
            "can_sign": can_sign,
        },
    )


@require_POST
@generator_required
def manifest_sign_consignor(request, number):
    manifest = manifest_visible_get(user=request.user, number=number)
    try:
        manifest_sign(user=request.user, number=manifest.number, role="consignor")
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You signed manifest %(number)s as consignor; it is sealed.") % {"number": number})
    return redirect("web:enterprise-manifest", number=manifest.number)


# --- The HJ 1259 ledger ---------------------------------------------------------------------------

HJ1259_LABELS = {
    "generation": gettext_lazy("Generation"),
    "storage_in": gettext_lazy("Storage in"),
    "storage_out": gettext_lazy("Storage out"),
    "own_treatment": gettext_lazy("Own utilisation and disposal"),
    "outsourced": gettext_lazy("Outsourced utilisation and disposal"),
}


@generator_required
def ledger(request):
    org = acting_organisation(request)
    today = timezone.localdate()
    defaults = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat(), "format": "xlsx"}
    data = request.POST if request.method == "POST" else {**defaults, **request.GET.dict()}
    form = LedgerForm(data)
    tables, progress = None, None
    if form.is_valid():
        period = form.cleaned_data
        if request.method == "POST":
            try:
                job = export_request(
                    user=request.user,
                    kind=ExportKind.HJ1259,
                    format=period["format"] or "xlsx",
                    date_from=period["date_from"],
                    date_to=period["date_to"],
                    organisation=org,
                )
            except AppError as error:
                apply_app_error(form, error, aliases={"from": "date_from", "to": "date_to"})
            else:
                query = urlencode(
                    {
                        "date_from": period["date_from"],
                        "date_to": period["date_to"],
                        "format": job.format,
                        "job": job.pk,
                    }
                )
                return redirect(reverse("web:enterprise-ledger") + "?" + query)
        if form.is_valid():
            result = hj1259_tables(organisation=org, date_from=period["date_from"], date_to=period["date_to"])
            tables = [{"key": k, "label": HJ1259_LABELS[k], **v} for k, v in result.items()]
    if request.GET.get("job"):
        try:
            job = export_get(user=request.user, export_id=request.GET["job"])
        except (AppError, ValidationError, ValueError):  # a foreign or malformed job id: no progress bar
            job = None
        if job is not None:
            progress = export_job_progress(job)
    return render(
        request,
        "web/enterprise/ledger.html",
        {"title": _("Ledger (HJ 1259)"), "form": form, "tables": tables, "progress": progress},
    )


urlpatterns = [
    path("enterprise/", batches, name="enterprise-batches"),
    path("enterprise/batches/new/", batch_new, name="enterprise-batch-new"),
    path("enterprise/waste-codes/", waste_codes, name="enterprise-waste-codes"),
    path("enterprise/labels.pdf", labels, name="enterprise-labels"),
    path("enterprise/batches/<str:code>/", batch_detail, name="enterprise-batch"),
    path("enterprise/batches/<str:code>/label.pdf", batch_label, name="enterprise-batch-label"),
    path("enterprise/pickups/new/", pickup_new, name="enterprise-pickup-new"),
    path("enterprise/manifests/", manifests, name="enterprise-manifests"),
    path("enterprise/manifests/new/", manifest_new, name="enterprise-manifest-new"),
    path("enterprise/manifests/<str:number>/", manifest_detail, name="enterprise-manifest"),
    path("enterprise/manifests/<str:number>/sign/", manifest_sign_consignor, name="enterprise-manifest-sign"),
    path("enterprise/ledger/", ledger, name="enterprise-ledger"),
]
