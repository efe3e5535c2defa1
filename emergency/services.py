"""Writes of emergency command: report an incident, move it through its lifecycle, note, dispatch.

Every function appends the timeline entry of what it did in the same transaction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from emergency import selectors
from emergency.lifecycle import TRANSITIONS, IncidentAction
from emergency.models import Dispatch, EntryKind, Incident, IncidentEntry
from logistics.models import PlanStatus, RoutePlan, StopKind, StopStatus, Trip, TripStatus, TripStop, Vehicle
from logistics.services.fleet import driver_by_username
from waste.alerts.notify import webhook_enqueue
from waste.errors import AppError, Conflict
from waste.models import Organisation, Role, Site, Webhook
from waste.permissions import membership_require

PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
DISPATCH_EVENT = "incident.dispatched"


@dataclass
class IncidentIn:
    kind: str
    point: Point
    occurred_at: datetime.datetime | None = None
    waste_code: str = ""
    waste_class: str = ""
    quantity_kg: Decimal | None = None
    description: str = ""
    contact: str = ""


def photo_check(photo: UploadedFile, field: str = "photo") -> None:
    """A photo within INCIDENT_PHOTO_MAX_BYTES that Pillow reads as a JPEG, PNG or WebP image."""
    if photo.size > settings.INCIDENT_PHOTO_MAX_BYTES:
        raise AppError.field(
            field,
            _("The photo is %(size)s MB; at most %(max)s MB is accepted.")
            % {"size": round(photo.size / 2**20, 1), "max": round(settings.INCIDENT_PHOTO_MAX_BYTES / 2**20, 1)},
            code="too_large",
            status=413,
        )
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AppError.field(field, _("The file is not an image (JPEG, PNG or WebP)."), code="not_image") from exc
    finally:
        photo.seek(0)
    if kind not in PHOTO_FORMATS:
        raise AppError.field(field, _("The file is not an image (JPEG, PNG or WebP)."), code="not_image")


def _entry(incident: Incident, kind: str, *, author=None, text: str = "", data: dict | None = None) -> IncidentEntry:
    user = author if getattr(author, "is_authenticated", False) else None
    return IncidentEntry.objects.create(
        incident=incident, kind=kind, status=incident.status, text=text, data=data or {}, author=user, at=timezone.now()
    )


@transaction.atomic
def incident_report(
    *, user=None, organisation: Organisation | None = None, data: IncidentIn, photo: UploadedFile | None = None
) -> Incident:
    """A new incident, reported by a member acting for ``organisation`` or (no user) a citizen."""
    if organisation is not None:
        membership_require(user=user, organisation=organisation, field="organisation")
    now = timezone.now()
    occurred_at = data.occurred_at or now
    if occurred_at > now + datetime.timedelta(minutes=5):
        raise AppError.field("occurred_at", _("The time is in the future."), code="future")
    waste_class, code = selectors.waste_class_for(code=data.waste_code, waste_class=data.waste_class)
    if photo is not None:
        photo_check(photo)
    incident = Incident(
        kind=data.kind,
        point=data.point,
        occurred_at=occurred_at,
        waste_code=code,
        waste_class=waste_class,
        quantity_kg=data.quantity_kg,
        description=data.description,
        contact=data.contact,
        organisation=organisation,
        reported_by=user if getattr(user, "is_authenticated", False) else None,
        public=not getattr(user, "is_authenticated", False),
    )
    if photo is not None:
        incident.photo.save(photo.name, photo, save=False)
    incident.save()
    _entry(incident, EntryKind.REPORTED, author=user, text=data.description)
    return incident


def _may_command(user, incident: Incident, organisation: Organisation | None = None) -> None:
    """Regulators whose jurisdiction holds the incident, and the haulers sent to it (or acting on it)."""
    if user.is_superuser:
        return
    if organisation is None:
        raise AppError.field("organisation", _("Say which organisation you act for."), code="required", status=403)
    membership_require(user=user, organisation=organisation, roles=(Role.REGULATOR, Role.HAULER), field="organisation")


@transaction.atomic
def incident_act(*, user, incident: Incident, action: str, organisation=None, note: str = "") -> Incident:
    """Move the incident by one action of emergency.lifecycle (never a PATCH of its status)."""
    _may_command(user, incident, organisation)
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise AppError.field("action", _("Unknown action."), code="unknown")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status not in transition.sources:
        raise Conflict(
            _("Cannot %(action)s an incident that is %(status)s.")
            % {"action": IncidentAction(action).label, "status": incident.get_status_display()},
            code="wrong_status",
        )
    before = incident.status
    incident.status = transition.target
    incident.save(update_fields=["status"])
    _entry(incident, EntryKind.STATUS, author=user, text=note, data={"action": action, "from": before})
    return incident


@transaction.atomic
def incident_note(*, user, incident: Incident, text: str, organisation=None) -> IncidentEntry:
    _may_command(user, incident, organisation)
    if not text.strip():
        raise AppError.field("text", _("Write the note."), code="required")
    return _entry(incident, EntryKind.NOTE, author=user, text=text.strip())


@transaction.atomic
def incident_dispatch(
    *, user, incident: Incident, vehicle: Vehicle, site: Site | None = None, driver: str = "", organisation=None
) -> Dispatch:
    """Send a vehicle: a trip of today with a stop at the incident and then the site, on the driver's round."""
    _may_command(user, incident, organisation)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    transition = TRANSITIONS[IncidentAction.DISPATCH]
    if incident.status not in transition.sources:
        raise Conflict(
            _("Cannot %(action)s an incident that is %(status)s.")
            % {"action": IncidentAction.DISPATCH.label, "status": incident.get_status_display()},
            code="wrong_status",
        )
    if organisation is not None and not organisation.is_regulator and organisation.pk != vehicle.organisation_id:
        raise AppError.field("vehicle", _("A hauler dispatches only its own vehicles."), code="not_yours", status=403)
    problems = selectors.vehicle_problems(incident=incident, vehicle=vehicle)
    if problems:
        raise AppError(
            _("This vehicle cannot be sent: %(why)s") % {"why": " ".join(problems)},
            code="vehicle_not_capable",
            fields={"vehicle": problems},
        )
    if site is None:
        sites = selectors.site_candidates(incident=incident)
        if not sites:
            raise AppError.field("site", _("No site is permitted to receive this waste."), code="no_site")
        site = sites[0].site
    else:
        site_problems = selectors.site_problems(incident=incident, site=site)
        if site_problems:
            raise AppError(
                _("This site cannot receive the waste: %(why)s") % {"why": " ".join(site_problems)},
                code="site_not_permitted",
                fields={"site": site_problems},
            )
    if driver:
        chosen = driver_by_username(organisation=vehicle.organisation, username=driver, field="driver")
    elif vehicle.default_driver is not None:
        chosen = vehicle.default_driver
    else:
        raise AppError.field("driver", _("Name a driver: the vehicle has no default driver."), code="required")
    trip = _trip_for_incident(incident, vehicle, site, chosen, user)
    dispatch = Dispatch.objects.create(incident=incident, vehicle=vehicle, site=site, trip=trip, created_by=user)
    incident.status = transition.target
    incident.save(update_fields=["status"])
    _entry(
        incident,
        EntryKind.DISPATCH,
        author=user,
        text=_("%(plate)s sent, driven by %(driver)s, then to %(site)s.")
        % {"plate": vehicle.plate, "driver": chosen.username, "site": site.name},
        data={"vehicle": vehicle.pk, "plate": vehicle.plate, "site": site.pk, "trip": trip.pk, "driver": chosen.pk},
    )
    _notify(dispatch)
    return dispatch


class StopAction(models.TextChoices):
    """What the dispatched driver reports from an incident's stop on the round."""

    ARRIVED = "arrived", gettext_lazy("On site")
    DONE = "done", gettext_lazy("Done on site")


@transaction.atomic
def incident_stop_record(*, user, trip: Trip, sequence: int, action: str) -> TripStop:
    """The driver (or the hauler) at an incident's stop: ``arrived`` writes "vehicle on site" on the
    incident's timeline; ``done`` writes "finished on site" and closes the stop (and the trip when
    nothing is left to collect or answer). Each is recorded once; the incident's status is left to
    the command (contained, closed)."""
    if trip.driver_id != user.id:
        membership_require(user=user, organisation=trip.vehicle.organisation, roles=(Role.HAULER,), field="trip")
    stop = TripStop.objects.select_for_update().filter(trip=trip, sequence=sequence).first()
    if stop is None:
        raise AppError.field("sequence", _("No such stop on this trip."), status=404)
    if stop.kind != StopKind.INCIDENT:
        raise AppError.field("sequence", _("This stop is not at an incident."), code="not_incident")
    if action not in StopAction.values:
        raise AppError.field("action", _("Unknown action."), code="unknown")
    dispatch = Dispatch.objects.select_related("incident", "vehicle").filter(trip=trip).first()
    if dispatch is None:
        raise AppError.field("sequence", _("No incident was dispatched on this trip."), code="no_dispatch")
    if stop.status != StopStatus.PENDING:
        raise Conflict(_("The stop is already %(status)s.") % {"status": stop.get_status_display()}, code="stop_closed")
    incident = Incident.objects.select_for_update().get(pk=dispatch.incident_id)
    entries = IncidentEntry.objects.filter(incident=incident, data__trip=trip.pk)
    data = {"trip": trip.pk, "vehicle": trip.vehicle_id, "plate": trip.vehicle.plate, "sequence": stop.sequence}
    names = {"plate": trip.vehicle.plate, "driver": user.username}
    if action == StopAction.ARRIVED:
        if entries.filter(kind=EntryKind.ARRIVED).exists():
            raise Conflict(_("The arrival on site is already recorded."), code="already_arrived")
        _entry(incident, EntryKind.ARRIVED, author=user, data=data,
               text=_("%(plate)s is on site (driver %(driver)s).") % names)  # fmt: skip
        return stop
    _entry(incident, EntryKind.CLEARED, author=user, data=data,
           text=_("%(plate)s finished on site (driver %(driver)s).") % names)  # fmt: skip
    stop.status, stop.completed_at = StopStatus.DONE, timezone.now()
    stop.save(update_fields=["status", "completed_at"])
    if not trip.stops.filter(kind__in=(StopKind.PICKUP, StopKind.INCIDENT), status=StopStatus.PENDING).exists():
        Trip.objects.filter(pk=trip.pk, status=TripStatus.PLANNED).update(status=TripStatus.DONE)
    return stop


def _trip_for_incident(incident: Incident, vehicle: Vehicle, site: Site, driver, user) -> Trip:
    now = timezone.now()
    matrices = selectors.travel([selectors.vehicle_point(vehicle), incident.point, site.location])
    to_incident = now + datetime.timedelta(seconds=matrices.durations[0][1] or 0)
    to_site = to_incident + datetime.timedelta(minutes=30, seconds=matrices.durations[1][2] or 0)
    quantity = incident.quantity_kg or Decimal(0)
    stops = [
        {"kind": StopKind.INCIDENT, "pickup": None, "site": None, "incident": incident.pk,
         "location": [incident.point.x, incident.point.y], "eta": to_incident.isoformat(), "load_kg": str(quantity)},
        {"kind": StopKind.UNLOAD, "pickup": None, "site": {"id": site.pk, "name": site.name},
         "location": [site.location.x, site.location.y], "eta": to_site.isoformat(), "load_kg": "0"},
    ]  # fmt: skip
    route = {"vehicle": {"id": vehicle.pk, "plate": vehicle.plate}, "incident": incident.pk, "stops": stops}
    # A trip belongs to a plan: the dispatch is a one-route plan, finished as it is made.
    plan = RoutePlan.objects.create(
        hauler=vehicle.organisation,
        date=timezone.localdate(now),
        status=PlanStatus.DONE,
        progress=100,
        message=f"incident {incident.pk}",
        request={"incident": incident.pk, "vehicle_ids": [vehicle.pk]},
        result={"routes": [route], "unassigned": []},
        created_by=user if getattr(user, "is_authenticated", False) else None,
        started_at=now,
        finished_at=now,
    )
    trip = Trip.objects.create(plan=plan, vehicle=vehicle, driver=driver, date=plan.date, route=route)
    TripStop.objects.create(
        trip=trip, sequence=1, kind=StopKind.INCIDENT, location=incident.point, eta=to_incident, load_kg_after=quantity
    )
    TripStop.objects.create(trip=trip, sequence=2, kind=StopKind.UNLOAD, site=site, eta=to_site)
    return trip


def _notify(dispatch: Dispatch) -> None:
    """A signed webhook to the hauler (and the reporting organisation) that want incident events."""
    incident = dispatch.incident
    payload = {
        "event": DISPATCH_EVENT,
        "incident": {
            "id": incident.pk,
            "kind": incident.kind,
            "status": incident.status,
            "point": [incident.point.x, incident.point.y],
            "waste_code": incident.waste_code,
            "waste_class": incident.waste_class,
            "quantity_kg": str(incident.quantity_kg) if incident.quantity_kg is not None else None,
        },
        "dispatch": {
            "id": dispatch.pk,
            "vehicle": dispatch.vehicle_id,
            "plate": dispatch.vehicle.plate,
            "trip": dispatch.trip_id,
            "driver": dispatch.trip.driver.username,
            "site": dispatch.site_id,
        },
    }
    orgs = {dispatch.vehicle.organisation_id, incident.organisation_id} - {None}
    for hook in Webhook.objects.filter(organisation_id__in=orgs, active=True):
        if hook.events and DISPATCH_EVENT not in hook.events:
            continue
        webhook_enqueue(webhook=hook, event=DISPATCH_EVENT, payload=payload)
