"""The recycler's pages: open offers with the matches of its capacities (the score explained), claims,
and its published capacities (create, edit)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from recycling import selectors, services
from waste.errors import AppError, Conflict
from waste.models import RECEIVING_KINDS, Role, Site
from waste.scoping import visible_to
from web.acting import acting_organisation, role_required
from web.components import paginate
from web.forms.recycler import CapacityForm, ClaimForm
from web.forms.site import app_error_to_forms
from web.templatetags.quantities import kg

recycler = role_required(Role.RECYCLER)

# What each component of a match score means, in the reader's language (recycling.selectors.matches_for).
COMPONENTS = {
    "distance": gettext_lazy("Distance"),
    "price": gettext_lazy("Price"),
    "capacity": gettext_lazy("Room left"),
}


def _rules() -> dict:
    return {
        "distance": _("1 / (1 + km ÷ %(scale)s): the nearer your site, the higher.")
        % {"scale": selectors.DISTANCE_SCALE_KM},
        "price": _("Where your price per tonne lies between the lowest (0) and highest (1) of all candidates."),
        "capacity": _("The share of your remaining capacity still free after booking this batch."),
    }


def _org(request):
    return acting_organisation(request)


def _tabs(request, current: str) -> dict:
    return {
        "tabs_current": current,
        "open_count": selectors.offers_open_for(user=request.user, organisation=_org(request)).count(),
    }


def _my_matches(request, batch) -> tuple[dict, list[dict]]:
    """matches_for the batch, keeping the acting organisation's capacities, with labelled components."""
    found = selectors.matches_for(batch=batch)
    mine = [m for m in found["matches"] if m["organisation"]["id"] == _org(request).pk]
    rules = _rules()
    for m in mine:
        m["components"] = [{"name": COMPONENTS[k], **v, "rule": rules[k]} for k, v in m["explanation"].items()]
    return found, mine


@recycler
def home(request):
    show_all = request.GET.get("all") == "1"
    offers = selectors.offers_open_for(user=request.user, organisation=_org(request), matching=not show_all)
    page = paginate(request, offers)
    rows = []
    for offer in page.object_list:
        mine = _my_matches(request, offer.batch)[1]
        rows.append({"offer": offer, "best": mine[0] if mine else None, "weight": services.batch_weight(offer.batch)})
    has_capacity = selectors.capacity_list(user=request.user).filter(organisation=_org(request)).exists()
    return render(
        request,
        "web/recycler/home.html",
        {
            "title": _("Offers and matches"),
            "page": page,
            "rows": rows,
            "has_capacity": has_capacity,
            "show_all": show_all,
            **_tabs(request, "offers"),
        },
    )


def _offer(request, pk: int):
    offer = selectors.offer_list(user=request.user).filter(pk=pk).select_related("batch__origin_site").first()
    if offer is None:
        raise Http404
    return offer


@recycler
def offer(request, pk: int):
    found = _offer(request, pk)
    scoring, mine = _my_matches(request, found.batch)
    return render(
        request,
        "web/recycler/offer.html",
        {
            "title": _("Offer of %(code)s") % {"code": found.batch.code},
            "offer": found,
            "weight": services.batch_weight(found.batch),
            "matches": mine,
            "scoring": scoring,
            "weights": [(COMPONENTS[k], v) for k, v in scoring["weights"].items()],
            **_tabs(request, "offers"),
        },
    )


@require_POST
@recycler
def claim(request, pk: int):
    if not selectors.offer_addressable(user=request.user, pk=pk):
        raise Http404
    mine = selectors.capacity_list(user=request.user).filter(organisation=_org(request))
    form = ClaimForm(request.POST, capacities=list(mine.values_list("pk", flat=True)))
    if not form.is_valid():
        messages.error(request, _("Choose one of your capacities to claim this offer with."))
        return redirect("web:recycler-offer", pk=pk)
    try:
        made = services.offer_claim(user=request.user, offer_id=pk, capacity_id=form.cleaned_data["capacity"])
    except Conflict as error:
        if error.code == "not_open":
            ours = selectors.claim_list(user=request.user).filter(offer_id=pk, capacity__organisation=_org(request))
            if ours.exists():  # a second click, or a retry after a lost response
                messages.info(request, _("You have already claimed this offer."))
                return redirect("web:recycler-claims")
            messages.error(request, _("Already claimed: another recycler took this offer first."))
            return redirect("web:recycler-home")
        messages.error(request, error.message)
        return redirect("web:recycler-offer", pk=pk)
    except AppError as error:
        messages.error(request, error.message)
        return redirect("web:recycler-offer", pk=pk)
    messages.success(
        request,
        _("You claimed %(code)s: %(kg)s kg booked on your capacity at %(site)s.")
        % {"code": made.offer.batch.code, "kg": kg(made.quantity_kg), "site": made.capacity.site.name},
    )
    return redirect("web:recycler-claims")


@recycler
def claims(request):
    page = paginate(
        request, selectors.claim_list(user=request.user).filter(capacity__organisation=_org(request)).order_by("-id")
    )
    return render(
        request,
        "web/recycler/claims.html",
        {
            "title": _("Claimed by us"),
            "page": page,
            "columns": [_("Claimed at"), _("Batch"), _("Waste code"), _("Quantity (kg)"), _("From"), _("Capacity")],
            **_tabs(request, "claims"),
        },
    )


# --- Capacities ----------------------------------------------------------------------------------------


def _capacity_sites(request):
    return visible_to(
        Site.objects.filter(organisation=_org(request), active=True, kind__in=RECEIVING_KINDS), request.user
    ).order_by("name")


@recycler
def capacities(request):
    page = paginate(
        request,
        selectors.capacity_list(user=request.user)
        .filter(organisation=_org(request))
        .order_by("-active", "-period_end", "id"),
    )
    return render(
        request,
        "web/recycler/capacities.html",
        {
            "title": _("Published capacities"),
            "page": page,
            "columns": [
                _("Site"),
                _("Codes accepted"),
                _("Period"),
                _("Capacity (kg)"),
                _("Booked (kg)"),
                _("Price per tonne (CNY)"),
                _("Status"),
                _("Actions"),
            ],
            **_tabs(request, "capacities"),
        },
    )


def _capacity_values(form) -> dict:
    data = dict(form.cleaned_data)
    data["price_per_t"] = data.get("price_per_t") or Decimal(0)
    return data


@recycler
def capacity_new(request):
    sites = list(_capacity_sites(request))
    form = CapacityForm(request.POST if request.method == "POST" else None, sites=sites)
    if request.method == "POST" and form.is_valid():
        values = _capacity_values(form)
        site = next(s for s in sites if s.pk == values.pop("site"))
        try:
            services.capacity_create(user=request.user, site=site, **values)
        except AppError as error:
            app_error_to_forms(error, form)
        else:
            messages.success(request, _("Capacity published: matching offers now show it."))
            return redirect("web:recycler-capacities")
    return render(
        request,
        "web/recycler/capacity_form.html",
        {"title": _("Publish a capacity"), "form": form, "sites": sites, **_tabs(request, "capacities")},
        status=400 if request.method == "POST" else 200,
    )


@recycler
def capacity_edit(request, pk: int):
    capacity = selectors.capacity_list(user=request.user).filter(organisation=_org(request), pk=pk).first()
    if capacity is None:
        raise Http404
    initial = {
        "site": capacity.site_id,
        "codes": ", ".join(capacity.codes),
        "period_start": capacity.period_start,
        "period_end": capacity.period_end,
        "capacity_kg": capacity.capacity_kg,
        "price_per_t": capacity.price_per_t,
        "active": capacity.active,
    }
    sites = [capacity.site]
    form = CapacityForm(request.POST if request.method == "POST" else None, sites=sites, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = _capacity_values(form)
        values.pop("site")
        try:
            services.capacity_update(user=request.user, capacity_id=capacity.pk, **values)
        except AppError as error:
            app_error_to_forms(error, form)
        else:
            messages.success(request, _("Capacity updated."))
            return redirect("web:recycler-capacities")
    return render(
        request,
        "web/recycler/capacity_form.html",
        {
            "title": _("Edit the capacity at %(site)s") % {"site": capacity.site.name},
            "form": form,
            "sites": sites,
            "capacity": capacity,
            **_tabs(request, "capacities"),
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("recycler/", home, name="recycler-home"),
    path("recycler/offers/<int:pk>/", offer, name="recycler-offer"),
    path("recycler/offers/<int:pk>/claim/", claim, name="recycler-claim"),
    path("recycler/claims/", claims, name="recycler-claims"),
    path("recycler/capacities/", capacities, name="recycler-capacities"),
    path("recycler/capacities/new/", capacity_new, name="recycler-capacity-new"),
    path("recycler/capacities/<int:pk>/edit/", capacity_edit, name="recycler-capacity-edit"),
]
