"""Emergency command: the live map (vehicles refreshing, stations by fill level, open incidents and
alerts), an incident's page (timeline, ranked resources, dispatch), the incident form, and the
citizens' public report page (no login, a photo, rate-limited per address).

Reads go through emergency.selectors / logistics.selectors (scoped by waste.scoping.visible_to);
each write is one emergency service whose AppError fields are put beside the form's fields.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from emergency import selectors, services
from emergency.lifecycle import IncidentAction, allowed_actions
from emergency.models import IncidentKind, IncidentStatus
from logistics.models import DeviceKind, Reading, Vehicle
from logistics.selectors import fleet_live
from waste.errors import AppError, NotFound
from waste.geo import WGS84
from waste.models import AlertStatus, Role, Site, SiteKind
from waste.scoping import visible_to
from waste.selectors.alerts import alert_list
from waste.selectors.sites import site_receiving_list
from web.acting import acting_organisation, role_required
from web.forms.command import DispatchForm, IncidentForm, NoteForm, PublicReportForm
from web.maps import SITE_KIND_COLOURS, feature, layer, map_config

COMMAND_ROLES = (Role.REGULATOR, Role.HAULER)
REFRESH_SECONDS = 5
VEHICLE_COLOURS = {"loaded": "#d92d20", "empty": "#2e90fa", "silent": "#98a2b3"}
FILL_COLOURS = {"low": "#12b76a", "mid": "#f79009", "high": "#d92d20", "unknown": "#98a2b3"}
INCIDENT_COLOUR = "#7a5af8"
ALERT_COLOUR = "#f04438"
STATION_KINDS = (SiteKind.COLLECTION_POINT, SiteKind.TRANSFER_STATION, SiteKind.STORAGE)
FILL_LABELS = {
    "low": gettext_lazy("Less than half full"),
    "mid": gettext_lazy("Half to four-fifths full"),
    "high": gettext_lazy("Four-fifths full or more"),
    "unknown": gettext_lazy("Fill level unknown"),
}
ACTION_BUTTONS = {
    IncidentAction.ACKNOWLEDGE: gettext_lazy("Acknowledge"),
    IncidentAction.CONTAIN: gettext_lazy("Mark as contained"),
    IncidentAction.CLOSE: gettext_lazy("Close the incident"),
}


# --- The live map -----------------------------------------------------------------------------------


def vehicle_features(user) -> list[dict]:
    out = []
    for v in fleet_live(user=user):
        if v.lon is None or v.time is None:
            continue
        silent = (v.age_seconds or 0) > settings.GROUND_SILENT_MINUTES * 60
        state = "silent" if silent else ("loaded" if v.load.kg > 0 else "empty")
        out.append(
            feature(
                {"type": "Point", "coordinates": [v.lon, v.lat]},
                title=v.plate,
                state=state,
                load=_("%(kg)s kg on board") % {"kg": f"{v.load.kg:.0f}"},
                seen=timezone.localtime(v.time).strftime("%H:%M:%S"),
            )
        )
    return out


def _fill_bucket(pct) -> str:
    if pct is None:
        return "unknown"
    return "high" if pct >= 80 else ("mid" if pct >= 50 else "low")


def station_features(user) -> list[dict]:
    """Collection points, transfer stations and storage, coloured by their fullest container's last
    fill reading of the last two days (unknown without a sensor)."""
    sites = list(visible_to(Site.objects.filter(active=True, kind__in=STATION_KINDS), user)[:2000])
    since = timezone.now() - datetime.timedelta(days=2)
    latest: dict[int, Decimal] = {}
    seen_devices: set[int] = set()
    readings = Reading.objects.filter(
        kind=DeviceKind.FILL, device__site__in=sites, time__gte=since, fill_pct__isnull=False
    ).order_by("-time")
    for device_id, site_id, pct in readings.values_list("device_id", "device__site_id", "fill_pct"):
        if device_id in seen_devices:
            continue
        seen_devices.add(device_id)
        latest[site_id] = max(latest.get(site_id, pct), pct)
    kinds = dict(SiteKind.choices)
    return [
        feature(
            s.location,
            title=s.name,
            fill=_fill_bucket(latest.get(s.pk)),
            fill_label=f"{latest[s.pk]:.0f} %" if s.pk in latest else str(FILL_LABELS["unknown"]),
            kind_label=str(kinds.get(s.kind, s.kind)),
        )
        for s in sites
    ]


def incident_features(user) -> list[dict]:
    kinds, statuses = dict(IncidentKind.choices), dict(IncidentStatus.choices)
    return [
        feature(
            i.point,
            title=str(kinds.get(i.kind, i.kind)),
            status=str(statuses.get(i.status, i.status)),
            when=timezone.localtime(i.occurred_at).strftime("%Y-%m-%d %H:%M"),
            id=i.pk,
        )
        for i in selectors.incident_list(user=user, open_only=True)[:500]
    ]


def command_map_config(user, *, extra=()) -> dict:
    alerts = [
        feature(a.location, title=str(a.get_rule_display()))
        for a in alert_list(user=user).exclude(status=AlertStatus.RESOLVED).exclude(location__isnull=True)[:500]
    ]
    vehicle_legend = [
        (_("Vehicle carrying waste"), VEHICLE_COLOURS["loaded"]),
        (_("Vehicle, empty"), VEHICLE_COLOURS["empty"]),
        (_("Vehicle, silent for a while"), VEHICLE_COLOURS["silent"]),
    ]
    alert_layer = layer("alerts", "point", alerts, color=ALERT_COLOUR, legend=[(_("Open alert"), ALERT_COLOUR)])
    alert_layer["radius"] = 13  # a red ring under what it concerns
    incidents = layer(
        "incidents",
        "point",
        incident_features(user),
        color=INCIDENT_COLOUR,
        popup_fields=[("status", _("Status")), ("when", _("When"))],
        legend=[(_("Open incident"), INCIDENT_COLOUR)],
    )
    incidents["radius"] = 10
    return map_config(
        alert_layer,
        layer(
            "stations",
            "point",
            station_features(user),
            color_property="fill",
            colors=FILL_COLOURS,
            popup_fields=[("kind_label", _("Kind")), ("fill_label", _("Fill level"))],
            legend=[(FILL_LABELS[k], c) for k, c in FILL_COLOURS.items()],
        ),
        incidents,
        *extra,
        layer(
            "vehicles",
            "point",
            vehicle_features(user),
            color_property="state",
            colors=VEHICLE_COLOURS,
            popup_fields=[("load", _("Load")), ("seen", _("Last position"))],
            legend=vehicle_legend,
            refresh_url=reverse("web:command-vehicles"),
            refresh_seconds=REFRESH_SECONDS,
        ),
    )


@role_required(*COMMAND_ROLES)
def command_home(request):
    incidents = list(selectors.incident_list(user=request.user, open_only=True)[:50])
    return render(
        request,
        "web/command/home.html",
        {
            "title": _("Emergency command"),
            "command_map": command_map_config(request.user),
            "incidents": incidents,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@role_required(*COMMAND_ROLES)
def command_vehicles(request):
    """The vehicles layer of the live map, polled every few seconds."""
    return JsonResponse({"type": "FeatureCollection", "features": vehicle_features(request.user)})


# --- An incident ------------------------------------------------------------------------------------


def _incident_or_404(request, pk: int):
    try:
        return selectors.incident_get(user=request.user, incident_id=pk)
    except NotFound:
        raise Http404 from None


def _minutes(seconds) -> str:
    return "—" if seconds is None else _("%(min)s min") % {"min": max(1, round(seconds / 60))}


def _km(metres) -> str:
    return "—" if metres is None else _("%(km)s km") % {"km": f"{metres / 1000:.1f}"}


@role_required(*COMMAND_ROLES)
def incident_page(request, pk: int, *, dispatch_form=None, note_form=None, status: int = 200):
    incident = _incident_or_404(request, pk)
    ranked = selectors.incident_resources(user=request.user, incident=incident)
    can_dispatch = incident.status in (IncidentStatus.REPORTED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED)
    vehicles = [
        {"c": c, "time": _minutes(c.seconds), "distance": _km(c.metres), "reasons": " ".join(map(str, c.reasons))}
        for c in ranked["vehicles"]
    ]
    sites = [{"c": c, "distance": _km(c.metres), "reasons": " ".join(map(str, c.reasons))} for c in ranked["sites"]]
    dispatched = list(selectors.incident_dispatches(incident=incident))
    points = [feature(c["c"].site.location, title=c["c"].site.name) for c in sites[:3]]
    here = feature(incident.point, title=incident.get_kind_display())
    return render(
        request,
        "web/command/incident.html",
        {
            "title": _("Incident %(id)s") % {"id": incident.pk},
            "incident": incident,
            "timeline": selectors.incident_timeline(incident=incident),
            "vehicles": vehicles,
            "sites": sites,
            "dispatched": dispatched,
            "can_dispatch": can_dispatch,
            "actions": [(a, ACTION_BUTTONS[a]) for a in allowed_actions(incident.status)],
            "note_form": note_form or NoteForm(),
            "dispatch_error": dispatch_form.errors if dispatch_form is not None else None,
            "incident_map": map_config(
                layer("sites", "point", points, color="#12b76a", legend=[(_("Permitted site"), "#12b76a")]),
                layer("incident", "point", [here], color=INCIDENT_COLOUR, legend=[(_("Incident"), INCIDENT_COLOUR)]),
                layer(
                    "vehicles",
                    "point",
                    [feature(selectors.vehicle_point(v["c"].vehicle), title=v["c"].vehicle.plate) for v in vehicles],
                    color=VEHICLE_COLOURS["empty"],
                    legend=[(_("Capable vehicle"), VEHICLE_COLOURS["empty"])],
                ),
            ),
        },
        status=status,
    )


@require_POST
@role_required(*COMMAND_ROLES)
def incident_dispatch_view(request, pk: int):
    incident = _incident_or_404(request, pk)
    form = DispatchForm(request.POST)
    if form.is_valid():
        vehicle = visible_to(Vehicle.objects.all(), request.user).filter(pk=form.cleaned_data["vehicle"]).first()
        site = Site.objects.filter(pk=form.cleaned_data["site"]).first() if form.cleaned_data["site"] else None
        try:
            if vehicle is None:
                raise AppError.field("vehicle", _("No such vehicle."), code="unknown")
            dispatch = services.incident_dispatch(
                user=request.user,
                incident=incident,
                vehicle=vehicle,
                site=site,
                organisation=acting_organisation(request),
            )
        except AppError as error:
            for errors in (error.fields or {"__all__": [error.message]}).values():
                for message in errors:
                    form.add_error(None, message)  # the vehicle and site are hidden fields: say it on top
        else:
            messages.success(
                request,
                _("%(plate)s dispatched: the stop is on %(driver)s's round.")
                % {"plate": dispatch.vehicle.plate, "driver": dispatch.trip.driver.username},
            )
            return redirect("web:command-incident", pk=incident.pk)
    return incident_page(request, pk, dispatch_form=form, status=400)


@require_POST
@role_required(*COMMAND_ROLES)
def incident_action_view(request, pk: int):
    incident = _incident_or_404(request, pk)
    try:
        services.incident_act(
            user=request.user,
            incident=incident,
            action=request.POST.get("action", ""),
            organisation=acting_organisation(request),
        )
    except AppError as error:
        messages.error(request, error.message)
    return redirect("web:command-incident", pk=incident.pk)


@require_POST
@role_required(*COMMAND_ROLES)
def incident_note_view(request, pk: int):
    incident = _incident_or_404(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.incident_note(
                user=request.user,
                incident=incident,
                text=form.cleaned_data["text"],
                organisation=acting_organisation(request),
            )
        except AppError as error:
            form.add_error("text", error.message)
        else:
            return redirect("web:command-incident", pk=incident.pk)
    return incident_page(request, pk, note_form=form, status=400)


# --- Reporting an incident --------------------------------------------------------------------------


def _report(request, form, *, user, organisation):
    """Validate → one service; the service's errors go beside the fields (a point's beside longitude)."""
    data = form.cleaned_data
    try:
        return services.incident_report(
            user=user,
            organisation=organisation,
            data=services.IncidentIn(
                kind=data["kind"],
                point=Point(data["lon"], data["lat"], srid=WGS84),
                occurred_at=data["occurred_at"],
                waste_code=data["waste_code"],
                waste_class=data["waste_class"],
                quantity_kg=data["quantity_kg"],
                description=data["description"],
                contact=data.get("contact", ""),
            ),
            photo=data["photo"] or None,
        )
    except AppError as error:
        for name, errors in (error.fields or {"__all__": [error.message]}).items():
            field = {"point": "lon"}.get(name, name)
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        return None


def picker_map_config() -> dict:
    """The point picker's map: no tiles are reachable, so the city's public sites (the receiving
    sites' directory, public like the manifest API's) are what the reporter finds the place by."""
    kinds = dict(SiteKind.choices)
    sites = [
        feature(s.location, title=s.name, kind=s.kind, kind_label=str(kinds.get(s.kind, s.kind)))
        for s in site_receiving_list()[:2000]
    ]
    return map_config(
        layer(
            "sites",
            "point",
            sites,
            color_property="kind",
            colors=SITE_KIND_COLOURS,
            popup_fields=[("kind_label", _("Kind"))],
            legend=[(kinds[k], c) for k, c in SITE_KIND_COLOURS.items() if k in kinds and k != SiteKind.GENERATION],
        )
    )


@role_required(Role.REGULATOR, Role.HAULER, Role.GENERATOR, Role.SITE_OPERATOR, Role.RECYCLER)
def incident_new(request):
    form = IncidentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        incident = _report(request, form, user=request.user, organisation=acting_organisation(request))
        if incident is not None:
            messages.success(request, _("Incident reported."))
            org = acting_organisation(request)
            if org is not None and any(org.has_role(r) for r in COMMAND_ROLES):
                return redirect("web:command-incident", pk=incident.pk)
            return redirect("web:home")
    return render(
        request,
        "web/command/incident_new.html",
        {"title": _("Report an incident"), "form": form, "picker_map": picker_map_config()},
        status=400 if form.errors else 200,
    )


def _client_address(request) -> str:
    # Behind the deployment's reverse proxy the client's address is the last X-Forwarded-For hop the
    # proxy added; without one, REMOTE_ADDR.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR", "")


def _over_limit(request) -> bool:
    """A fixed one-hour window per address, counted in the shared cache (Redis in production): a small
    counter is all this needs, so no rate-limiting library is added for it."""
    key = f"incident-report:{_client_address(request)}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, 3600)
    try:
        return cache.incr(key) > settings.INCIDENT_REPORTS_PER_HOUR
    except ValueError:  # the key expired between add and incr
        return False


def public_report(request):
    """No login: a citizen reports dumping (or another incident) with a photo."""
    form = PublicReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if _over_limit(request):
            return render(
                request,
                "web/command/too_many.html",
                {"title": _("Too many reports"), "per_hour": settings.INCIDENT_REPORTS_PER_HOUR},
                status=429,
            )
        if form.is_valid():
            incident = _report(request, form, user=None, organisation=None)
            if incident is not None:
                return render(request, "web/command/thanks.html", {"title": _("Thank you"), "incident": incident})
    return render(
        request,
        "web/command/report.html",
        {"title": _("Report illegal dumping or a spill"), "form": form, "picker_map": picker_map_config()},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("command/", command_home, name="command-home"),
    path("command/vehicles.json", command_vehicles, name="command-vehicles"),
    path("command/incidents/new/", incident_new, name="command-incident-new"),
    path("command/incidents/<int:pk>/", incident_page, name="command-incident"),
    path("command/incidents/<int:pk>/dispatch/", incident_dispatch_view, name="command-dispatch"),
    path("command/incidents/<int:pk>/action/", incident_action_view, name="command-action"),
    path("command/incidents/<int:pk>/note/", incident_note_view, name="command-note"),
    path("report/", public_report, name="public-report"),
]
