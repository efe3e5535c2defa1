"""The hauler dispatcher: open pickups, planning rounds (a background job), the plan on a map, dispatch.

Every read goes through logistics.selectors (scoped by waste.scoping.visible_to); every write is one
logistics service (plan_request, plan_dispatch), whose AppError fields are put beside the form's fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from logistics import selectors
from logistics.models import PickupStatus, PlanStatus, StopKind, WasteClass
from logistics.services.plans import plan_request
from logistics.services.trips import plan_dispatch
from waste.errors import AppError, Conflict, NotFound
from waste.models import Role
from web.acting import acting_membership, acting_organisation, role_required
from web.components import JobProgress, paginate
from web.forms.dispatch import DispatchForm, PickupFilterForm, PlanForm
from web.maps import ROUTE_COLOURS, feature, layer, map_config

# Why the planner left a pickup out (codes of logistics.routing.validate and logistics.services.plans).
UNASSIGNED_REASONS = {
    "no_destination": gettext_lazy("No site may receive this waste on that day (no permit or no suitable site)."),
    "outside_area": gettext_lazy("The pickup lies outside the planning area of the vehicles' depots."),
    "invalid_location": gettext_lazy("The pickup's location is unknown."),
    "invalid_demand": gettext_lazy("The pickup's quantity is not valid."),
    "invalid_time_window": gettext_lazy("The pickup's time window ends before it starts."),
    "no_vehicle": gettext_lazy("No usable vehicle in the fleet."),
    "no_licensed_vehicle": gettext_lazy("No vehicle is licensed to carry this class of waste."),
    "demand_exceeds_capacity": gettext_lazy("The quantity is more than any suitable vehicle carries."),
    "unreachable": gettext_lazy("No road leads between the pickup and a suitable vehicle's depot."),
    "time_window_unreachable": gettext_lazy(
        "No suitable vehicle can reach it within its time window and be back before the end of its shift."
    ),
    "not_routed": gettext_lazy("The solver found no room for it in any round."),
}
UNASSIGNED_COLOUR = "#667085"
DEPOT_COLOUR = "#101828"
# Short names for table cells (the models' labels carry an explanation that does not fit a cell).
CLASS_NAMES = {
    WasteClass.GENERAL: gettext_lazy("General waste"),
    WasteClass.RECYCLABLE: gettext_lazy("Recyclable"),
    WasteClass.HAZARDOUS: gettext_lazy("Hazardous waste"),
}
STOP_KINDS = {StopKind.PICKUP: gettext_lazy("Pickup"), StopKind.UNLOAD: gettext_lazy("Unload")}


def _class_names(classes) -> list[str]:
    return [str(CLASS_NAMES[c]) for c in classes if c in CLASS_NAMES]


def _hauler_vehicles(request):
    org = acting_organisation(request)
    return selectors.vehicle_list(user=request.user).filter(organisation=org, active=True).order_by("plate")


def _can_write(request) -> bool:
    membership = acting_membership(request)
    return membership is not None and membership.can_write


def _put_errors(form, error: AppError, field_for) -> None:
    """An AppError's field paths beside the form's fields (the rest in the summary on top);
    a refusal of the user rather than of the input (a viewer, another organisation) is a framed 403."""
    if error.status == 403:
        raise PermissionDenied(error.message)
    placed = False
    for path_, problems in error.fields.items():
        name = field_for(path_)
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


# --- Pickups and plans --------------------------------------------------------------------------


@role_required(Role.HAULER)
def home(request, plan_form: PlanForm | None = None, status: int = 200):
    org = acting_organisation(request)
    filters = PickupFilterForm(request.GET or None)
    pickups = selectors.pickup_list(user=request.user).filter(hauler=org, status=PickupStatus.OPEN)
    if filters.is_valid() and filters.cleaned_data["date"]:
        pickups = pickups.filter(date=filters.cleaned_data["date"])
    pickups = pickups.select_related("requested_by").order_by("date", "window_start", "id")
    page = paginate(request, pickups)
    for row in page.object_list:
        row.class_name = CLASS_NAMES.get(row.waste_class, row.waste_class)
    plans = selectors.plan_list(user=request.user, hauler=org)
    today = timezone.localdate()
    context = {
        "title": _("Pickups and plans"),
        "filters": filters,
        "page": page,
        "pickup_columns": [
            _("Date"),
            _("Collect at"),
            _("Time window"),
            _("Waste"),
            _("Quantity (kg)"),
            _("Destination"),
        ],
        "open_today": selectors.pickup_list(user=request.user)
        .filter(hauler=org, status=PickupStatus.OPEN, date=today)
        .count(),
        "to_dispatch": plans.filter(status=PlanStatus.DONE, trips__isnull=True, date__gte=today).count(),
        "plans": plans.prefetch_related("trips")[:10],
        "plan_form": plan_form or PlanForm(vehicles=_hauler_vehicles(request)),
        "can_write": _can_write(request),
        "tab": "plans",
    }
    return render(request, "web/dispatch/home.html", context, status=status)


@require_POST
@role_required(Role.HAULER)
def plan_create(request):
    vehicles = _hauler_vehicles(request)
    form = PlanForm(request.POST, vehicles=vehicles)
    if form.is_valid():
        # No vehicle to offer: let the service say the hauler has none (rather than "choose one").
        chosen = [v.pk for v in form.cleaned_data["vehicles"]] if vehicles.exists() else None
        try:
            plan = plan_request(
                user=request.user,
                hauler=acting_organisation(request),
                date=form.cleaned_data["date"],
                vehicle_ids=chosen,
            )
        except AppError as error:
            _put_errors(form, error, lambda p: p.partition(".")[0] if p.startswith(("date", "vehicles")) else None)
        else:
            messages.success(request, _("Planning the rounds of %(date)s…") % {"date": plan.date.isoformat()})
            return redirect("web:dispatch-plan", pk=plan.pk)
    return home(request, plan_form=form, status=400)


# --- One plan -----------------------------------------------------------------------------------


def _acting_plan(request, pk: int):
    """The plan, only when it belongs to the hauler the user acts for: a member of two haulers sees each
    one's plans only while acting for it (another hauler's plan → NotFound → framed 404)."""
    plan = selectors.plan_get(user=request.user, plan_id=pk)
    organisation = acting_organisation(request)
    if organisation is None or plan.hauler_id != organisation.pk:
        raise NotFound(_("No such route plan."), code="not_found")
    return plan


def _plan_progress(plan) -> JobProgress:
    if plan.status == PlanStatus.QUEUED:
        step = _("Waiting for a worker")
    elif plan.status == PlanStatus.RUNNING:
        step = (
            _("Computing distances")
            if plan.progress < 10
            else _("Searching the best rounds")
            if plan.progress < 96
            else _("Writing routes")
        )
    else:
        step = ""
    return JobProgress(
        status=plan.status,
        progress=max(0, min(100, int(plan.progress or 0))),
        poll_url=reverse("web:dispatch-plan-progress", kwargs={"pk": plan.pk}),
        result_url=reverse("web:dispatch-plan", kwargs={"pk": plan.pk}),
        result_label=_("Show the routes"),
        message=step,
        error=plan.error,
    )


def _local(iso: str | None):
    return timezone.localtime(parse_datetime(iso)) if iso else None


def _routes(plan) -> list[dict]:
    """The plan's routes for the page: a colour each, stops with local ETAs and readable kinds."""
    routes = []
    for i, route in enumerate((plan.result or {}).get("routes", [])):
        stops = [
            {
                **stop,
                "eta_local": _local(stop.get("eta")),
                "kind_label": STOP_KINDS.get(stop["kind"], stop["kind"]),
            }
            for stop in route["stops"]
        ]
        routes.append(
            {
                **route,
                "stops": stops,
                "colour": ROUTE_COLOURS[i % len(ROUTE_COLOURS)],
                "colour_index": i % len(ROUTE_COLOURS),
                "start_local": _local(route.get("start")),
                "end_local": _local(route.get("end")),
                "distance_km": route["distance_m"] / 1000,
                "pickups": sum(1 for s in stops if s["kind"] == StopKind.PICKUP),
            }
        )
    return routes


def _unassigned(request, plan) -> list[dict]:
    rows = (plan.result or {}).get("unassigned", [])
    pickups = selectors.pickups_by_id(user=request.user, ids=[u["pickup"] for u in rows])
    return [
        {**u, "pickup_row": pickups.get(u["pickup"]), "reason": UNASSIGNED_REASONS.get(u["code"], u["code"])}
        for u in rows
    ]


def _plan_map(routes: list[dict], unassigned: list[dict]) -> dict:
    lines, stops, left_out, depots = [], [], [], {}
    for route in routes:
        plate = route["vehicle"]["plate"]
        depots.setdefault(
            route["depot"]["id"],
            feature(
                {"type": "Point", "coordinates": route["path"][0]}, title=route["depot"]["name"], kind=str(_("Depot"))
            ),
        )
        lines.append(
            feature(
                {"type": "LineString", "coordinates": route["path"]},
                title=plate,
                color=route["colour"],
                distance=f"{route['distance_km']:.1f} km",
            )
        )
        for stop in route["stops"]:
            stops.append(
                feature(
                    {"type": "Point", "coordinates": stop["location"]},
                    title=f"{plate} · {stop['sequence']}. {stop['site']['name']}",
                    color=route["colour"],
                    kind=str(stop["kind_label"]),
                    eta=stop["eta_local"].strftime("%H:%M") if stop["eta_local"] else "",
                    load=f"{floatformat(stop['load_kg'], '0g')} kg",
                )
            )
    for u in unassigned:
        site = u["pickup_row"].site if u["pickup_row"] else None
        if site is not None:
            left_out.append(feature(site.location, title=site.name, reason=str(u["reason"])))
    legend = [(r["vehicle"]["plate"], r["colour"]) for r in routes] + [(_("Depot"), DEPOT_COLOUR)]
    if left_out:
        legend.append((_("Not planned"), UNASSIGNED_COLOUR))
    return map_config(
        layer("routes", "line", lines, popup_fields=[("distance", _("Distance"))], legend=legend),
        layer(
            "stops",
            "point",
            stops,
            popup_fields=[("kind", _("Stop")), ("eta", _("ETA")), ("load", _("Load after the stop"))],
        ),
        layer("unassigned", "point", left_out, color=UNASSIGNED_COLOUR, popup_fields=[("reason", _("Why"))]),
        layer("depots", "point", list(depots.values()), color=DEPOT_COLOUR, popup_fields=[("kind", _("Stop"))]),
    )


@role_required(Role.HAULER)
def plan_detail(request, pk: int, dispatch_form: DispatchForm | None = None, status: int = 200):
    plan = _acting_plan(request, pk)
    context = {
        "title": _("Plan of %(date)s") % {"date": plan.date.isoformat()},
        "plan": plan,
        "progress": _plan_progress(plan),
        "can_write": _can_write(request),
        "tab": "plans",
    }
    if plan.status == PlanStatus.DONE:
        routes = _routes(plan)
        unassigned = _unassigned(request, plan)
        trips = list(selectors.plan_trips(user=request.user, plan=plan))
        if dispatch_form is None and not trips and routes:
            dispatch_form = DispatchForm(routes=routes, drivers=selectors.driver_list(organisation=plan.hauler))
        context.update(
            routes=routes,
            unassigned=unassigned,
            warnings=(plan.result or {}).get("warnings", []),
            trips=trips,
            dispatch_form=dispatch_form,
            plan_map=_plan_map(routes, unassigned),
            total_km=sum(r["distance_km"] for r in routes),
            total_kg=sum(r["load_kg"] for r in routes),
        )
    return render(request, "web/dispatch/plan.html", context, status=status)


@role_required(Role.HAULER)
def plan_progress(request, pk: int):
    """The progress partial, polled by htmx; once the plan is finished the page reloads to show it."""
    plan = _acting_plan(request, pk)
    response = render(request, "web/components/job_progress.html", {"job": _plan_progress(plan)})
    if plan.status in (PlanStatus.DONE, PlanStatus.FAILED) and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(Role.HAULER)
def plan_dispatch_view(request, pk: int) -> HttpResponse:
    plan = _acting_plan(request, pk)
    if plan.status != PlanStatus.DONE:
        messages.error(request, _("Only a finished plan can be dispatched."))
        return redirect("web:dispatch-plan", pk=plan.pk)
    form = DispatchForm(request.POST, routes=_routes(plan), drivers=selectors.driver_list(organisation=plan.hauler))
    if form.is_valid():
        try:
            trips = plan_dispatch(user=request.user, plan=plan, drivers=form.drivers())
        except Conflict:
            messages.error(request, _("This plan has already been dispatched."))
            return redirect("web:dispatch-plan", pk=plan.pk)
        except AppError as error:
            _put_errors(form, error, DispatchForm.field_for)
        else:
            messages.success(
                request,
                _("Dispatched: %(n)d trips sent to their drivers.") % {"n": len(trips)},
            )
            return redirect("web:dispatch-plan", pk=plan.pk)
    return plan_detail(request, pk, dispatch_form=form, status=400)


# --- Fleet --------------------------------------------------------------------------------------


@role_required(Role.HAULER)
def fleet(request):
    org = acting_organisation(request)
    today = timezone.localdate()
    vehicles = list(selectors.vehicle_list(user=request.user).filter(organisation=org).order_by("-active", "plate"))
    for v in vehicles:
        v.class_labels = _class_names(v.classes)
    licences = list(selectors.licence_list(user=request.user).filter(organisation=org).order_by("-valid_until"))
    for licence in licences:
        licence.class_labels = _class_names(licence.classes)
        licence.in_force_today = licence.in_force(today)
    return render(
        request,
        "web/dispatch/fleet.html",
        {"title": _("Fleet"), "vehicles": vehicles, "licences": licences, "tab": "fleet"},
    )


urlpatterns = [
    path("dispatch/", home, name="dispatch-home"),
    path("dispatch/plans/", plan_create, name="dispatch-plan-create"),
    path("dispatch/plans/<int:pk>/", plan_detail, name="dispatch-plan"),
    path("dispatch/plans/<int:pk>/progress/", plan_progress, name="dispatch-plan-progress"),
    path("dispatch/plans/<int:pk>/dispatch/", plan_dispatch_view, name="dispatch-plan-dispatch"),
    path("dispatch/fleet/", fleet, name="dispatch-fleet"),
]
