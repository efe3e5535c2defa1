"""Projections of the ledger for regulators: export jobs, early-warning alerts, webhooks, inputs
to the indicators that the ledger cannot know (value added)."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .batches import Batch
from .ledger import EventType
from .manifests import Manifest
from .parties import Organisation
from .sites import Site


class ExportKind(models.TextChoices):
    HJ1259 = "hj1259", _("HJ 1259 ledger tables of an enterprise")
    REGISTER = "register", _("Chronological record (WFD Art. 35) / regulator's register")
    EVENTS = "events", _("Ledger events")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel")
    PDF = "pdf", _("PDF")
    JSONLD = "jsonld", _("EPCIS 2.0 JSON-LD")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exports",
        help_text="whose ledger; empty: the jurisdiction",
    )
    kind = models.CharField(max_length=10, choices=ExportKind.choices)
    format = models.CharField(max_length=6, choices=ExportFormat.choices)
    date_from = models.DateField()
    date_to = models.DateField()
    # The same request while one is queued or running returns that one (see the partial unique constraint).
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # A running job holds a lease, renewed while it works; past it, the job is taken up again.
    attempt = models.PositiveSmallIntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    SCOPE = {"orgs": (), "geo": (), "users": ("requested_by",)}

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_one_running_per_request",
            ),
        ]


class AlertRule(models.TextChoices):
    MANIFEST_OVERDUE = "manifest_overdue", _("Manifest not received in time")
    STORAGE_TOO_LONG = "storage_too_long", _("Hazardous waste stored beyond its limit")
    WEIGHT_MISMATCH = "weight_mismatch", _("Weight mismatch beyond tolerance")
    OFF_SITE_SCAN = "off_site_scan", _("Scan away from its site")
    PERMIT_EXCEEDED = "permit_exceeded", _("Permit's yearly quantity exceeded")
    CAPACITY_EXCEEDED = "capacity_exceeded", _("Site storage capacity exceeded")
    VANISHED = "vanished", _("Batch picked up and never received")
    TREATMENT_WITHOUT_INTAKE = "treatment_without_intake", _("Treatment recorded without intake")
    MASS_BALANCE = "mass_balance", _("Mass balance out of tolerance")
    # Ground control (rules in logistics.alerts, registered through LogisticsConfig.alert_rules).
    VEHICLE_STOPPED = "vehicle_stopped", _("Loaded vehicle stopped away from any site")
    OFF_ROUTE = "off_route", _("Vehicle off its planned route")
    VEHICLE_SILENT = "vehicle_silent", _("Loaded vehicle sends no position")
    FILL_THRESHOLD = "fill_threshold", _("Container or site above its fill level")
    WEIGHBRIDGE_MISMATCH = "weighbridge_mismatch", _("Weighbridge weight off the manifest")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    rule = models.CharField(max_length=30, choices=AlertRule.choices)
    cause = models.CharField(max_length=200, help_text="what makes it unique: raised at most once per cause")
    severity = models.CharField(max_length=10, default="warning")
    message = models.TextField(help_text="the text as raised, in English (search, logs)")
    # Rendered at read time in the reader's language: gettext(message_id) % params.
    message_id = models.TextField(blank=True, help_text="gettext msgid of the text")
    params = models.JSONField(default=dict, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    manifest = models.ForeignKey(Manifest, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    location = models.PointField(srid=4326, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    SCOPE = {"orgs": ("organisation", "site__organisation"), "geo": ("location",)}

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "cause"], name="alert_once_per_cause")]

    def text(self) -> str:
        """The alert's text in the active language (the English text as raised when it has no msgid)."""
        if not self.message_id:
            return self.message
        return alert_text(self.message_id, self.params)


def alert_text(message_id: str, params: dict) -> str:
    """gettext(message_id) % params, with an event type shown by its translated label."""
    if not params:  # a rule of another app may hand a finished text
        return gettext(message_id)
    values = dict(params)
    if values.get("event_type") in EventType.values:
        values["event_type"] = EventType(values["event_type"]).label
    try:
        return gettext(message_id) % values
    except (KeyError, TypeError, ValueError):  # a translation naming a parameter the text lacks
        try:
            return message_id % values
        except (KeyError, TypeError, ValueError):
            return message_id


class Webhook(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="HMAC-SHA256 key for the X-Signature header")
    events = models.JSONField(default=list, help_text="alert rules or event types; empty: all")
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation",), "geo": ()}


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, default="pending")  # pending, delivered, failed
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    SCOPE = {"orgs": ("webhook__organisation",), "geo": ()}

    class Meta:
        ordering = ["-created_at"]


class IndicatorInput(models.Model):
    """Figures the ledger cannot know, e.g. industrial value added for generation intensity."""

    district_code = models.CharField(max_length=6)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40, help_text="e.g. industrial_value_added_cny, opening_stock_kg")
    value = models.DecimalField(max_digits=20, decimal_places=3)

    SCOPE = {"orgs": ("organisation",), "geo": (), "districts": ("district_code",)}

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district_code", "organisation", "year", "name"], name="indicator_input_unique"
            )
        ]
