"""Fleet, pickup requests, route plans and the trips they become. Scoped through ``SCOPE``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waste.models import Batch, Organisation, Site


class WasteClass(models.TextChoices):
    GENERAL = "general", _("General (disposal or treatment)")
    RECYCLABLE = "recyclable", _("Recyclable (to a recycler)")
    HAZARDOUS = "hazardous", _("Hazardous (to a permitted site; licence needed)")


class HaulerLicence(models.Model):
    """A transport licence: which waste classes a hauler may carry, and when."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="licences")
    number = models.CharField(max_length=60)
    classes = models.JSONField(help_text="waste classes, e.g. ['hazardous']")
    codes = models.JSONField(
        default=list,
        blank=True,
        help_text="hazardous-waste categories or codes it covers, e.g. ['HW08', '900-041-49']; empty: all",
    )
    valid_from = models.DateField()
    valid_until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation",), "geo": (), "districts": ("organisation__district_code",)}

    class Meta:
        ordering = ["organisation", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="licence_number_unique"),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="licence_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.organisation})"

    def in_force(self, on) -> bool:
        return self.valid_from <= on <= self.valid_until

    def covers(self, entry) -> bool:
        """Whether it licenses carrying the hazardous waste of catalogue ``entry`` (code or its category)."""
        return WasteClass.HAZARDOUS in self.classes and (
            not self.codes or entry.code in self.codes or entry.parent_code in self.codes
        )


class Vehicle(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vehicles")
    plate = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100, blank=True)
    capacity_kg = models.DecimalField(max_digits=10, decimal_places=3)
    capacity_m3 = models.DecimalField(
        max_digits=8, decimal_places=3, null=True, blank=True, help_text="blank: volume does not limit this vehicle"
    )
    classes = models.JSONField(default=list, help_text="waste classes it may carry")
    depot = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    shift_start = models.TimeField()
    shift_end = models.TimeField()
    cost_per_km = models.DecimalField(max_digits=8, decimal_places=3, default=1)
    cost_per_hour = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    default_driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation",), "geo": ("depot__location",), "districts": ("depot__district_code",)}

    class Meta:
        ordering = ["organisation", "plate"]
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity_kg__gte=0), name="vehicle_capacity_not_negative"),
        ]

    def __str__(self) -> str:
        return self.plate


class PickupStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("pickup status", "Open")
    DISPATCHED = "dispatched", _("On a trip")
    DONE = "done", _("Collected")
    CANCELLED = "cancelled", _("Cancelled")


class Pickup(models.Model):
    """A request to collect: one batch awaiting pickup, or a collection point's expected fill."""

    hauler = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="blank: any hauler may plan it",
    )
    requested_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    waste_code = models.CharField(max_length=32, blank=True, help_text="canonical code, e.g. 900-249-08")
    waste_category = models.CharField(max_length=32, blank=True, help_text="parent code, e.g. HW08")
    waste_class = models.CharField(max_length=10, choices=WasteClass.choices)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    volume_m3 = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    date = models.DateField()
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    service_minutes = models.PositiveIntegerField(default=10)
    destination = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    destination_problem = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=PickupStatus.choices, default=PickupStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("hauler", "requested_by"), "geo": ("site__location",), "districts": ("site__district_code",)}

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["date", "status"])]

    def __str__(self) -> str:
        return f"pickup {self.pk} at {self.site_id} on {self.date}"


class PlanStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RoutePlan(models.Model):
    hauler = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    status = models.CharField(max_length=8, choices=PlanStatus.choices, default=PlanStatus.QUEUED)
    # A running plan holds a lease, renewed while it works; past it, the plan is taken up again.
    attempt = models.PositiveSmallIntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    # What to plan: vehicle and pickup ids, solver seconds, the earliest start (seconds of the day).
    request = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    replan_of = models.ForeignKey("Trip", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    SCOPE = {"orgs": ("hauler",), "geo": (), "districts": ("hauler__district_code",)}

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.status})"


class TripStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    REPLANNED = "replanned", _("Replanned")


class Trip(models.Model):
    plan = models.ForeignKey(RoutePlan, on_delete=models.PROTECT, related_name="trips")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="trips")
    driver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trips")
    date = models.DateField()
    status = models.CharField(max_length=10, choices=TripStatus.choices, default=TripStatus.PLANNED)
    route = models.JSONField(default=dict, help_text="the plan's route for this vehicle, as computed")
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("vehicle__organisation",), "geo": (), "districts": ()}

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"trip {self.pk} {self.vehicle} {self.date}"


class StopKind(models.TextChoices):
    PICKUP = "pickup", _("Pickup")
    UNLOAD = "unload", _("Unload at destination")
    INCIDENT = "incident", _("Respond to an incident")


class StopStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    REPLANNED = "replanned", _("Moved to another trip")


class TripStop(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="stops")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=StopKind.choices, default=StopKind.PICKUP)
    pickup = models.ForeignKey(Pickup, null=True, blank=True, on_delete=models.PROTECT, related_name="stops")
    # A stop is at a site, or (an incident's stop) at a bare point.
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.PointField(srid=4326, null=True, blank=True, help_text="where the stop is when not at a site")
    eta = models.DateTimeField()
    load_kg_after = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    status = models.CharField(max_length=10, choices=StopStatus.choices, default=StopStatus.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    SCOPE = {"orgs": ("trip__vehicle__organisation",), "geo": (), "districts": ()}

    class Meta:
        ordering = ["trip", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "sequence"], name="trip_stop_sequence"),
            models.CheckConstraint(
                condition=models.Q(site__isnull=False) | models.Q(location__isnull=False), name="trip_stop_has_place"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trip_id}#{self.sequence} {self.kind}"

    @property
    def place(self):
        """The stop's point: its own location, else its site's."""
        return self.location if self.location is not None else self.site.location

    @property
    def place_name(self) -> str:
        return self.site.name if self.site_id else ""


# --- Ground control: where the fleet is, and what the sites' devices read --------------------------


class VehiclePosition(models.Model):
    """One point a vehicle's tracker or phone sent. The key (vehicle, time) makes a retry a duplicate.

    On PostgreSQL the table is partitioned by day of ``time`` (UTC) and created by raw SQL in the
    migration (Django cannot declare a partitioned table); partitions are created ahead and dropped
    after POSITION_RETENTION_DAYS by ``logistics.services.positions.positions_partitions_maintain``.
    On SpatiaLite it is a plain table with the same columns.
    """

    pk = models.CompositePrimaryKey("vehicle", "time")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    time = models.DateTimeField()
    point = models.PointField(srid=4326)
    speed_kmh = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    odometer_km = models.FloatField(null=True, blank=True)
    # impossible_speed: farther from the vehicle's previous point than it could drive; never drawn.
    flags = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField()

    SCOPE = {"orgs": ("vehicle__organisation",), "geo": ("vehicle__depot__location",), "districts": ()}

    class Meta:
        ordering = ["vehicle", "time"]

    def __str__(self) -> str:
        return f"{self.vehicle_id}@{self.time:%Y-%m-%d %H:%M:%S}"


class VehicleStop(models.Model):
    """A dwell: a vehicle stayed within GROUND_STOP_RADIUS_M for at least GROUND_STOP_MINUTES.
    Recorded while positions arrive, with what it carried and the site it was at (if any)."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="stops")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    point = models.PointField(srid=4326)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    load_kg = models.DecimalField(max_digits=12, decimal_places=3, default=0)

    SCOPE = {"orgs": ("vehicle__organisation",), "geo": ("point",), "districts": ()}

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["vehicle", "started_at"], name="vehicle_stop_once")]


class VehicleLastPosition(models.Model):
    """The newest plausible point of each vehicle, kept on ingest so the live fleet reads one row per
    vehicle however long the history is; also the open dwell (anchor point and since when)."""

    vehicle = models.OneToOneField(Vehicle, primary_key=True, on_delete=models.CASCADE, related_name="last_position")
    # No spatial indexes: these rows are read by vehicle and rewritten on every upload; an index on a
    # point that moves made each upsert write index entries no query uses (the nearest-vehicle search
    # orders a few candidates by COALESCE(point, depot), which no index serves), and kept updates off
    # PostgreSQL's HOT path (``bench positions``).
    time = models.DateTimeField()
    point = models.PointField(srid=4326, spatial_index=False)
    speed_kmh = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    stop_point = models.PointField(srid=4326, spatial_index=False)
    stopped_since = models.DateTimeField()

    SCOPE = {"orgs": ("vehicle__organisation",), "geo": ("vehicle__depot__location",), "districts": ()}


class DeviceKind(models.TextChoices):
    FILL = "fill", _("Fill-level sensor")
    WEIGHBRIDGE = "weighbridge", _("Weighbridge")


class Device(models.Model):
    """A registered device at a site; readings from any other device id are refused."""

    identifier = models.CharField(max_length=100, unique=True, help_text="the id the device sends")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=12, choices=DeviceKind.choices)
    label = models.CharField(max_length=100, blank=True, help_text="e.g. the container it measures")
    capacity_kg = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, help_text="fill sensors: the container's capacity"
    )
    fill_threshold_pct = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="blank: FILL_PICKUP_PCT; at or above it a pickup is requested"
    )
    waste_class = models.CharField(max_length=10, choices=WasteClass.choices, default=WasteClass.GENERAL)
    waste_code = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("site__organisation",), "geo": ("site__location",), "districts": ("site__district_code",)}

    class Meta:
        ordering = ["site", "identifier"]

    def __str__(self) -> str:
        return self.identifier


class Reading(models.Model):
    """One reading of a device; (device, time) makes a retry a duplicate."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings")
    kind = models.CharField(max_length=12, choices=DeviceKind.choices)
    time = models.DateTimeField()
    fill_pct = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    fill_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    gross_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    tare_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    net_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    plate = models.CharField(max_length=20, blank=True)
    vehicle = models.ForeignKey(Vehicle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expected_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    pickup = models.ForeignKey(Pickup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # over_threshold, over_capacity, weighbridge_mismatch, unknown_plate, nothing_on_board
    flags = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {
        "orgs": ("device__site__organisation", "vehicle__organisation"),
        "geo": ("device__site__location",),
        "districts": ("device__site__district_code",),
    }

    class Meta:
        ordering = ["-time", "-id"]
        constraints = [models.UniqueConstraint(fields=["device", "time"], name="reading_once_per_device_time")]
        indexes = [models.Index(fields=["time"])]
