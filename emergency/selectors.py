"""Reads of emergency command: incidents and their timeline (scoped), and the nearest capable resources.

Nearest search: on PostGIS the candidates are ordered by the KNN operator ``<->`` in the database,
then the closest ones get travel times from logistics.services.roads (pgRouting when a road network
is loaded, a straight-line estimate otherwise). On SpatiaLite (the embedded default) the same
candidates are ordered by great-circle distance in Python: fine for a city's fleet and sites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from emergency.lifecycle import OPEN
from emergency.models import Dispatch, Incident, IncidentEntry
from logistics.models import Vehicle, WasteClass
from logistics.routing import haversine_m
from logistics.selectors import Load, trip_progress, vehicle_list, vehicle_loads
from logistics.services.fleet import licensed_classes
from logistics.services.pickups import DESTINATION_KINDS
from logistics.services.roads import matrices_for
from waste.errors import AppError, NotFound
from waste.models import BatchStatus, CatalogEntry, Permit, Site
from waste.scoping import visible_to

HELD_AT_SITE = (BatchStatus.DELIVERED, BatchStatus.RECEIVED, BatchStatus.STORED, BatchStatus.READY)
CLASS_NAMES = {
    WasteClass.GENERAL: pgettext_lazy("waste class", "general"),
    WasteClass.RECYCLABLE: pgettext_lazy("waste class", "recyclable"),
    WasteClass.HAZARDOUS: pgettext_lazy("waste class", "hazardous"),
}


def incident_list(*, user, open_only: bool = False):
    rows = visible_to(Incident.objects.select_related("organisation"), user)
    return rows.filter(status__in=OPEN) if open_only else rows


def incident_get(*, user, incident_id: int) -> Incident:
    incident = incident_list(user=user).filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(_("No such incident."), code="not_found")
    return incident


def incident_timeline(*, incident: Incident):
    """The incident's entries, oldest first (whoever may see the incident sees all of them)."""
    return IncidentEntry.objects.filter(incident=incident).select_related("author").order_by("at", "id")


def incident_dispatches(*, incident: Incident):
    return Dispatch.objects.filter(incident=incident).select_related("vehicle", "site", "trip__driver")


def waste_class_for(*, code: str, waste_class: str) -> tuple[str, str]:
    """The class (from the catalogue when a code is given) and the canonical code; a code that no
    catalogue holds is refused, naming the field."""
    code = (code or "").strip().upper()
    if not code:
        return waste_class, ""
    entry = CatalogEntry.objects.filter(Q(code=code) | Q(display_code=code)).first()
    if entry is None:
        raise AppError.field("waste_code", _("No such waste code in the catalogues."), code="unknown")
    if entry.is_hazardous or code.startswith("HW"):
        return WasteClass.HAZARDOUS, entry.code
    return waste_class or WasteClass.GENERAL, entry.code


def _class(incident: Incident) -> str:
    # Unknown waste is answered as general waste: every licensed hauler may carry it.
    return incident.waste_class or WasteClass.GENERAL


def _category(code: str) -> str:
    entry = CatalogEntry.objects.filter(code=code).exclude(parent_code="").first() if code else None
    return entry.parent_code if entry else ""


def vehicle_point(vehicle: Vehicle) -> Point:
    last = getattr(vehicle, "last_position", None)
    return last.point if last is not None else vehicle.depot.location


def travel(points: list[Point]):
    """Road (or straight-line) metres and seconds between points, as logistics.services.roads gives them."""
    return matrices_for([(p.x, p.y) for p in points])


@dataclass
class Candidate:
    obj: object
    metres: float
    seconds: float | None = None
    reasons: list[str] = field(default_factory=list)
    by_road: bool = False  # metres and seconds from the loaded road network, not the straight-line estimate

    @property
    def vehicle(self) -> Vehicle:
        return self.obj  # type: ignore[return-value]

    @property
    def site(self) -> Site:
        return self.obj  # type: ignore[return-value]


def _vehicle_check(vehicle: Vehicle, incident: Incident, licensed: set[str], load: Load) -> tuple[list[str], list[str]]:
    """(problems, reasons): why it cannot go, or why it qualifies."""
    klass = _class(incident)
    name = CLASS_NAMES.get(klass, klass)
    problems, reasons = [], []
    if not vehicle.active:
        problems.append(_("The vehicle is not in service."))
    if klass not in licensed:
        problems.append(_("Its hauler holds no licence in force for %(klass)s waste.") % {"klass": name})
    else:
        reasons.append(_("Licensed for %(klass)s waste.") % {"klass": name})
    if klass not in vehicle.classes:
        problems.append(_("The vehicle is not fitted for %(klass)s waste.") % {"klass": name})
    else:
        reasons.append(_("Fitted for %(klass)s waste.") % {"klass": name})
    left = vehicle.capacity_kg - load.kg
    wanted = incident.quantity_kg or Decimal(0)
    if left <= 0 or left < wanted:
        problems.append(
            _("It has %(left)s kg of capacity left, the incident needs %(wanted)s kg.")
            % {"left": f"{left:.0f}", "wanted": f"{wanted:.0f}"}
        )
    else:
        reasons.append(_("%(left)s kg of capacity left.") % {"left": f"{left:.0f}"})
    return problems, reasons


def vehicle_problems(*, incident: Incident, vehicle: Vehicle) -> list[str]:
    licensed = licensed_classes(organisation=vehicle.organisation, on=timezone.localdate())
    load = vehicle_loads(vehicle_ids=[vehicle.pk]).get(vehicle.pk, Load())
    return _vehicle_check(vehicle, incident, licensed, load)[0]


def _knn_ids(sql: str, ids: list[int], incident: Incident, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids, "lon": incident.point.x, "lat": incident.point.y, "limit": limit})
        return [row[0] for row in cursor.fetchall()]


def _nearest(objs: list, where, incident: Incident, sql: str, limit: int) -> list:
    if not objs:
        return []
    if connection.vendor == "postgresql":
        by_id = {o.pk: o for o in objs}
        return [by_id[i] for i in _knn_ids(sql, list(by_id), incident, limit)]
    here = (incident.point.x, incident.point.y)
    return sorted(objs, key=lambda o: haversine_m(here, (where(o).x, where(o).y)))[:limit]


VEHICLES_KNN = """
SELECT v.id FROM logistics_vehicle v
JOIN waste_site d ON d.id = v.depot_id
LEFT JOIN logistics_vehiclelastposition p ON p.vehicle_id = v.id
WHERE v.id = ANY(%(ids)s)
ORDER BY COALESCE(p.point, d.location) <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
LIMIT %(limit)s
"""
SITES_KNN = """
SELECT s.id FROM waste_site s WHERE s.id = ANY(%(ids)s)
ORDER BY s.location <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
LIMIT %(limit)s
"""


def vehicle_candidates(*, user, incident: Incident, limit: int | None = None) -> list[Candidate]:
    """Visible vehicles able to respond, by travel time: free or on an interruptible round, licensed and
    fitted for the waste class, with capacity left for the estimated quantity; not those already sent."""
    limit = limit or settings.INCIDENT_RESOURCES_LIMIT
    today = timezone.localdate()
    sent = Dispatch.objects.filter(incident=incident).values("vehicle_id")
    vehicles = list(
        vehicle_list(user=user).filter(active=True).exclude(pk__in=sent).select_related("last_position", "depot")
    )
    ids = [v.pk for v in vehicles]
    loads = vehicle_loads(vehicle_ids=ids)
    progress = trip_progress(vehicle_ids=ids, on=today)
    licences: dict[int, set[str]] = {}
    qualified: dict[int, list[str]] = {}
    for v in vehicles:
        if v.organisation_id not in licences:
            licences[v.organisation_id] = licensed_classes(organisation=v.organisation, on=today)
        problems, reasons = _vehicle_check(v, incident, licences[v.organisation_id], loads.get(v.pk, Load()))
        if problems:
            continue
        trip = progress.get(v.pk)
        if trip is None or trip["next_stop"] is None:
            reasons.insert(0, _("Free: no open round today."))
        else:
            reasons.insert(
                0,
                _("On a round that can be interrupted (%(done)s of %(total)s stops done).")
                % {"done": trip["stops_done"], "total": trip["stops_total"]},
            )
        qualified[v.pk] = reasons
    near = _nearest(
        [v for v in vehicles if v.pk in qualified],
        vehicle_point,
        incident,
        VEHICLES_KNN,
        limit * 2,  # a few more than shown: road times may reorder the straight-line nearest
    )
    return _by_travel(near, vehicle_point, incident, qualified, limit, towards=True)


def _by_travel(objs, where, incident, reasons, limit, *, towards: bool) -> list[Candidate]:
    if not objs:
        return []
    points = [where(o) for o in objs] + [incident.point]
    matrices = travel(points)
    by_road = matrices.source.startswith("road")
    here = len(objs)
    out = []
    for i, obj in enumerate(objs):
        metres = matrices.distances[i][here] if towards else matrices.distances[here][i]
        seconds = matrices.durations[i][here] if towards else matrices.durations[here][i]
        why = list(reasons[obj.pk])
        if by_road and towards and seconds is not None and metres is not None:
            why.insert(0, _("%(minutes)s min by road (%(km)s km).") % _trip(seconds, metres))
        elif by_road and metres is not None:
            why.insert(0, _("%(km)s km by road.") % _trip(seconds, metres))
        out.append(Candidate(obj, float(metres) if metres is not None else None, seconds, why, by_road))
    key = (lambda c: (c.seconds is None, c.seconds or 0)) if towards else (lambda c: (c.metres is None, c.metres or 0))
    return sorted(out, key=key)[:limit]


def _trip(seconds, metres) -> dict:
    return {"minutes": max(1, round((seconds or 0) / 60)), "km": f"{metres / 1000:.1f}"}


def _held_kg(site_ids: list[int]) -> dict[int, Decimal]:
    from waste.models import Batch

    rows = (
        Batch.objects.filter(current_site_id__in=site_ids, status__in=HELD_AT_SITE)
        .values("current_site_id")
        .annotate(kg=Sum("quantity_kg"))
    )
    return {r["current_site_id"]: r["kg"] or Decimal(0) for r in rows}


def _site_checks(incident: Incident, sites: list[Site]) -> dict[int, tuple[list[str], list[str]]]:
    klass = _class(incident)
    today = timezone.localdate()
    code = incident.waste_code
    wanted = {c for c in (code, _category(code)) if c}
    permits: dict[int, list[Permit]] = {}
    for p in Permit.objects.filter(site__in=sites, valid_from__lte=today, valid_until__gte=today):
        permits.setdefault(p.site_id, []).append(p)
    held = _held_kg([s.pk for s in sites])
    quantity = incident.quantity_kg or Decimal(0)
    out = {}
    for site in sites:
        problems, reasons = [], []
        if not site.active:
            problems.append(_("The site is not in service."))
        if site.kind not in DESTINATION_KINDS[klass]:
            problems.append(_("This kind of site does not receive %(klass)s waste.") % {"klass": CLASS_NAMES[klass]})
        mine = permits.get(site.pk, [])
        matching = [p for p in mine if wanted & set(p.codes)] if wanted else mine
        if klass == WasteClass.HAZARDOUS or wanted:
            if not matching:
                what = " / ".join(sorted(wanted)) or CLASS_NAMES[klass]
                problems.append(_("No permit in force for %(code)s.") % {"code": what})
            else:
                reasons.append(_("Permit %(number)s in force.") % {"number": matching[0].number})
        if site.storage_capacity_kg is not None:
            left = site.storage_capacity_kg - held.get(site.pk, Decimal(0))
            if left < quantity or left <= 0:
                problems.append(_("%(left)s kg of storage left.") % {"left": f"{left:.0f}"})
            else:
                reasons.append(_("%(left)s kg of storage left.") % {"left": f"{left:.0f}"})
        else:
            reasons.append(_("No storage limit recorded."))
        out[site.pk] = (problems, reasons)
    return out


def site_problems(*, incident: Incident, site: Site) -> list[str]:
    return _site_checks(incident, [site])[site.pk][0]


def site_candidates(*, incident: Incident, limit: int | None = None) -> list[Candidate]:
    """Sites permitted for the code (or fit for the class) with storage left, nearest first. Any site
    may be named: where waste may go is public, like the planner's destinations."""
    limit = limit or settings.INCIDENT_RESOURCES_LIMIT
    sites = list(Site.objects.filter(active=True, kind__in=DESTINATION_KINDS[_class(incident)]))
    checks = _site_checks(incident, sites)
    fit = [s for s in sites if not checks[s.pk][0]]
    reasons = {pk: r for pk, (p, r) in checks.items()}
    near = _nearest(fit, lambda s: s.location, incident, SITES_KNN, limit)
    return _by_travel(near, lambda s: s.location, incident, reasons, limit, towards=False)


def incident_resources(*, user, incident: Incident) -> dict:
    return {
        "vehicles": vehicle_candidates(user=user, incident=incident),
        "sites": site_candidates(incident=incident),
        "since": timezone.now(),
    }
