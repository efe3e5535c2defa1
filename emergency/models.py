"""Incidents (spills, fires, accidents, illegal dumping), their append-only timeline and dispatches."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from logistics.models import Trip, Vehicle, WasteClass
from waste.geo import WGS84
from waste.models import Organisation, Site
from waste.models.ledger import AppendOnly


class IncidentKind(models.TextChoices):
    SPILL = "spill", _("Spill")
    FIRE = "fire", _("Fire")
    ACCIDENT = "accident", _("Accident")
    DUMPING = "illegal_dumping", _("Illegal dumping")
    OTHER = "other", _("Other")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISPATCHED = "dispatched", _("Resources dispatched")
    CONTAINED = "contained", _("Contained")
    CLOSED = "closed", _("Closed")


class Incident(models.Model):
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    status = models.CharField(max_length=14, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED)
    point = models.PointField(srid=WGS84)
    occurred_at = models.DateTimeField()
    waste_code = models.CharField(max_length=32, blank=True, help_text="canonical code or category, if known")
    waste_class = models.CharField(max_length=10, choices=WasteClass.choices, blank=True)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    description = models.TextField(blank=True)
    photo = models.ImageField(upload_to="incidents/%Y/%m/", blank=True)
    # Who reported it: a member acting for an organisation, or a citizen (public page: no account).
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    public = models.BooleanField(default=False, help_text="reported on the public page")
    contact = models.CharField(max_length=100, blank=True, help_text="a citizen's phone or e-mail, if given")
    created_at = models.DateTimeField(auto_now_add=True)

    # The reporting organisation, the haulers whose vehicles were dispatched, regulators by place.
    SCOPE = {"orgs": ("organisation", "dispatches__vehicle__organisation"), "geo": ("point",), "districts": ()}

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"incident {self.pk} ({self.kind})"


class EntryKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    STATUS = "status", _("Status changed")
    DISPATCH = "dispatch", _("Vehicle dispatched")
    NOTE = "note", _("Note")
    # Written by the dispatched driver from the phone app (its incident stop).
    ARRIVED = "arrived", _("Vehicle on site")
    CLEARED = "cleared", _("Vehicle finished on site")


class IncidentEntry(AppendOnly):
    """One line of an incident's timeline. Never changed or removed (a database trigger on PostgreSQL,
    the AppendOnly guards everywhere); a correction is a new note."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    status = models.CharField(max_length=14, choices=IncidentStatus.choices, help_text="the status after it")
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    SCOPE = {
        "orgs": ("incident__organisation", "incident__dispatches__vehicle__organisation"),
        "geo": ("incident__point",),
        "districts": (),
    }

    class Meta:
        ordering = ["at", "id"]


class Dispatch(models.Model):
    """A vehicle sent to an incident: the trip it became (incident stop, then the site)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="dispatches")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    trip = models.OneToOneField(Trip, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("vehicle__organisation", "incident__organisation"), "geo": ("incident__point",), "districts": ()}

    class Meta:
        ordering = ["created_at", "id"]
