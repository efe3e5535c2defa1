"""The site operator's pages: incoming manifests and their receipt, stock on site with days in storage,
consolidation and splitting, treatment with its outputs, and the mass balance of a period."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from recycling import selectors as recycling_selectors
from recycling import services as recycling_services
from waste.errors import AppError
from waste.models import Role, Site
from waste.scoping import visible_to
from waste.selectors.catalogs import OPERATIONS_CATALOG, catalog_in_force
from waste.selectors.manifests import manifest_incoming, manifest_visible_get
from waste.selectors.stock import stock_list, stock_near_limit_count, stock_rows
from waste.services import batches as batch_services
from waste.services import manifests as manifest_services
from web.acting import acting_organisation, role_required
from web.components import paginate
from web.forms.site import (
    ConsolidateForm,
    MassBalanceForm,
    ReceiptForm,
    ReceiptLineForm,
    SplitForm,
    TreatmentForm,
    app_error_to_forms,
    month_so_far,
    output_forms,
    receipt_lines,
)
from web.templatetags.quantities import kg

# A recycler runs a plant that receives and treats waste too (recycling.services.PLANT_ROLES).
site_operator = role_required(Role.SITE_OPERATOR, Role.RECYCLER)


def _org(request):
    return acting_organisation(request)


def _tabs(request, current: str) -> dict:
    """The area's tabs, organised by what the operator must do next, with counter badges."""
    org = _org(request)
    return {
        "tabs_current": current,
        "to_receive_count": manifest_incoming(user=request.user, organisation=org).count(),
        "near_limit_count": stock_near_limit_count(user=request.user, organisation=org),
    }


def _own_sites(request):
    return visible_to(Site.objects.filter(organisation=_org(request), active=True), request.user).order_by("name")


# --- Incoming ------------------------------------------------------------------------------------------


@site_operator
def incoming(request):
    closed = request.GET.get("tab") == "received"
    manifests = manifest_incoming(user=request.user, organisation=_org(request), closed=closed)
    page = paginate(request, manifests.prefetch_related("lines__batch__waste", "carriers__organisation"))
    return render(
        request,
        "web/site/incoming.html",
        {
            "title": _("Incoming"),
            "page": page,
            "closed": closed,
            "columns": [_("Manifest"), _("From"), _("To"), _("Batches"), _("Status"), _("Receipt due")],
            "today": timezone.localdate(),
            **_tabs(request, "incoming"),
        },
    )


def _receivable(request, number: str):
    manifest = manifest_visible_get(user=request.user, number=number)  # NotFound → framed 404
    if manifest.receiver_id != _org(request).pk:
        raise Http404
    return manifest


@site_operator
def manifest_receive(request, number: str):
    manifest = _receivable(request, number)
    lines = list(manifest.lines.select_related("batch", "batch__waste").order_by("id"))
    can_sign = manifest.status in ("sealed", "in_transit")
    data = request.POST if request.method == "POST" and can_sign else None
    decision_form = ReceiptForm(data)
    line_forms = [ReceiptLineForm(data, line=line, prefix=f"line-{line.pk}") for line in lines]
    if data is not None:
        signed_lines = receipt_lines(decision_form, line_forms)
        if signed_lines is not None:
            try:
                manifest_services.manifest_sign(
                    user=request.user,
                    number=manifest.number,
                    role="receiver",
                    decision=decision_form.cleaned_data["decision"],
                    lines=signed_lines,
                )
            except AppError as error:
                app_error_to_forms(error, decision_form, lists={"lines": line_forms})
            else:
                messages.success(request, _("Manifest %(number)s signed as receiver.") % {"number": manifest.number})
                return redirect(reverse("web:site-manifest", kwargs={"number": manifest.number}))
    elif request.method == "POST":
        messages.error(request, _("This manifest is no longer waiting for your signature."))
        return redirect(reverse("web:site-manifest", kwargs={"number": manifest.number}))
    return render(
        request,
        "web/site/manifest.html",
        {
            "title": _("Manifest %(number)s") % {"number": manifest.number},
            "manifest": manifest,
            "carriers": manifest.carriers.select_related("organisation").order_by("order"),
            "rows": list(zip(lines, line_forms, strict=True)),
            "form": decision_form,
            "line_errors": any(f.errors for f in line_forms),
            "can_sign": can_sign,
            "overdue": manifest_services.manifest_overdue(manifest),
            **_tabs(request, "incoming"),
        },
        status=400 if data is not None else 200,
    )


# --- Stock, consolidation, splitting --------------------------------------------------------------------


def _stock_page(request, *, consolidate_form=None, status=200):
    org = _org(request)
    sites = list(_own_sites(request))
    try:
        site_id = int(request.GET.get("site") or 0)
    except ValueError:
        site_id = 0
    batches = stock_list(user=request.user, organisation=org, site_id=site_id or None)
    page = paginate(request, batches, per_page=50)
    rows = stock_rows(page.object_list)
    if consolidate_form is None:
        consolidate_form = ConsolidateForm(codes=[(r.batch.code, r.batch.code) for r in rows])
    return render(
        request,
        "web/site/stock.html",
        {
            "title": _("Stock on site"),
            "page": page,
            "rows": rows,
            "sites": sites,
            "site_id": site_id,
            "form": consolidate_form,
            "selected": set(consolidate_form["batches"].value() or []),
            "storage_limit": settings.HAZARDOUS_STORAGE_LIMIT_DAYS,
            **_tabs(request, "stock"),
        },
        status=status,
    )


@site_operator
def stock(request):
    return _stock_page(request)


@site_operator
def consolidate(request):
    if request.method != "POST":  # the stock page's filters and pages, followed from a failed consolidation
        query = request.GET.urlencode()
        return redirect(reverse("web:site-stock") + (f"?{query}" if query else ""))
    held = stock_list(user=request.user, organisation=_org(request))
    codes = list(held.values_list("code", flat=True)[:2000])
    form = ConsolidateForm(request.POST, codes=[(c, c) for c in codes])
    if form.is_valid():
        chosen = list(held.filter(code__in=form.cleaned_data["batches"]).select_related("current_site"))
        sites = {b.current_site_id for b in chosen}
        if len(sites) != 1:
            form.add_error("batches", _("Choose batches held at the same site."))
        else:
            try:
                child = batch_services.batch_consolidate(
                    user=request.user,
                    codes=form.cleaned_data["batches"],
                    site=chosen[0].current_site,
                    waste_code=form.cleaned_data["waste_code"] or None,
                )
            except AppError as error:
                app_error_to_forms(error, form, aliases={"site": "batches"})
            else:
                messages.success(
                    request,
                    _("Consolidated into the new batch %(code)s (%(kg)s kg).")
                    % {"code": child.code, "kg": kg(child.quantity_kg)},
                )
                return redirect("web:site-stock")
    return _stock_page(request, consolidate_form=form, status=400)


def _held(request, code: str):
    """A batch in the acting organisation's stock, or a framed 404 (another's batch is as unknown)."""
    batch = stock_list(user=request.user, organisation=_org(request)).filter(code=code).first()
    if batch is None:
        raise Http404
    return batch


@site_operator
def split(request, code: str):
    batch = _held(request, code)
    form = SplitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            children = batch_services.batch_split(
                user=request.user, code=batch.code, quantities=form.cleaned_data["parts"]
            )
        except AppError as error:
            app_error_to_forms(error, form, aliases={"code": None})
        else:
            messages.success(
                request,
                _("%(code)s split into %(children)s.")
                % {"code": batch.code, "children": ", ".join(c.code for c in children)},
            )
            return redirect("web:site-stock")
    return render(
        request,
        "web/site/split.html",
        {
            "title": _("Split %(code)s") % {"code": batch.code},
            "batch": batch,
            "row": stock_rows([batch])[0],
            "form": form,
            **_tabs(request, "stock"),
        },
        status=400 if request.method == "POST" else 200,
    )


def _operations() -> list[tuple[str, str]]:
    catalog = catalog_in_force(key=OPERATIONS_CATALOG, on=timezone.localdate())
    if catalog is None:
        return []
    entries = sorted(catalog.entries.all(), key=lambda e: (e.code[0] != "R", int(e.code[1:] or 0)))
    return [(e.code, f"{e.display_code} {e.name}") for e in entries]


@site_operator
def treat(request, code: str):
    batch = _held(request, code)
    row = stock_rows([batch])[0]
    posted = request.POST if request.method == "POST" else None
    form = TreatmentForm(posted, operations=_operations(), initial={"quantity_kg": kg(row.weight_kg).replace(",", "")})
    outputs = output_forms(posted)
    if posted is not None:
        valid = form.is_valid() & all([o.is_valid() for o in outputs])
        if valid:
            filled = [o for o in outputs if not o.is_blank()]
            try:
                record = recycling_services.treatment_record(
                    user=request.user,
                    code=batch.code,
                    operation=form.cleaned_data["operation"],
                    quantity_kg=form.cleaned_data["quantity_kg"],
                    losses_kg=form.cleaned_data["losses_kg"] or Decimal(0),
                    treated_at=form.cleaned_data["treated_at"],
                    outputs=[
                        recycling_services.Output(
                            kind=o.cleaned_data["kind"],
                            material=o.cleaned_data["material"],
                            grade=o.cleaned_data["grade"],
                            quantity_kg=o.cleaned_data["quantity_kg"],
                            waste_code=o.cleaned_data["waste_code"] or None,
                        )
                        for o in filled
                    ],
                )
            except AppError as error:
                app_error_to_forms(error, form, lists={"outputs": filled}, aliases={"batch": None})
            else:
                made = ", ".join(o.batch.code for o in record.outputs.select_related("batch"))
                text = _("%(operation)s recorded for %(code)s.") % {"operation": record.operation, "code": batch.code}
                if made:
                    text += " " + _("New batches from its outputs: %(codes)s.") % {"codes": made}
                messages.success(request, text)
                return redirect("web:site-treatments")
    return render(
        request,
        "web/site/treat.html",
        {
            "title": _("Record a treatment of %(code)s") % {"code": batch.code},
            "batch": batch,
            "row": row,
            "form": form,
            "outputs": outputs,
            "output_errors": any(o.errors for o in outputs),
            **_tabs(request, "treatments"),
        },
        status=400 if posted is not None else 200,
    )


@site_operator
def treatments(request):
    records = recycling_selectors.treatment_list(user=request.user).filter(site__organisation=_org(request))
    page = paginate(request, records)
    return render(
        request,
        "web/site/treatments.html",
        {
            "title": _("Treatments"),
            "page": page,
            "columns": [
                _("Treated at"),
                _("Batch"),
                _("Operation"),
                _("Quantity (kg)"),
                _("Losses (kg)"),
                _("Outputs"),
            ],
            **_tabs(request, "treatments"),
        },
    )


# --- Mass balance --------------------------------------------------------------------------------------


@site_operator
def balance(request):
    sites = list(_own_sites(request))
    start, end = month_so_far()
    data = request.GET if "site" in request.GET else None
    initial = {"site": sites[0].pk if sites else None, "date_from": start, "date_to": end}
    form = MassBalanceForm(data, sites=sites, initial=initial)
    result = None
    if data is None and sites:
        result = recycling_selectors.mass_balance(sites[0], start, end)
    elif data is not None and form.is_valid():
        site = next(s for s in sites if s.pk == form.cleaned_data["site"])
        result = recycling_selectors.mass_balance(site, form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    return render(
        request,
        "web/site/balance.html",
        {
            "title": _("Mass balance"),
            "form": form,
            "balance": result,
            "by_operation": sorted(result.by_operation.items()) if result else [],
            "sites": sites,
            **_tabs(request, "balance"),
        },
        status=400 if data is not None and form.errors else 200,
    )


urlpatterns = [
    path("site/", incoming, name="site-incoming"),
    path("site/manifests/<str:number>/", manifest_receive, name="site-manifest"),
    path("site/stock/", stock, name="site-stock"),
    path("site/stock/consolidate/", consolidate, name="site-consolidate"),
    path("site/stock/<str:code>/split/", split, name="site-split"),
    path("site/stock/<str:code>/treat/", treat, name="site-treat"),
    path("site/treatments/", treatments, name="site-treatments"),
    path("site/balance/", balance, name="site-balance"),
]
