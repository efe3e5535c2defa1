"""Transfer manifests (联单): one per movement, signed in turn, corrected only by new versions."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from .batches import Batch
from .parties import Organisation
from .sites import Site


class ManifestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft: awaiting the consignor's signature")
    SEALED = "sealed", _("Signed by the consignor")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    PARTIALLY_RECEIVED = "partial", _("Partially accepted")
    REFUSED = "refused", _("Refused")
    SUPERSEDED = "superseded", _("Superseded by a correction")


class Manifest(models.Model):
    number = models.CharField(max_length=20, help_text="year + area code + serial")
    version = models.PositiveSmallIntegerField(default=1)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction")
    status = models.CharField(max_length=10, choices=ManifestStatus.choices, default=ManifestStatus.DRAFT)
    consignor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="consigned_manifests")
    from_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="outgoing_manifests")
    receiver = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="received_manifests")
    to_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="incoming_manifests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    consignor_signed_at = models.DateTimeField(null=True, blank=True)
    consignor_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receiver_signed_at = models.DateTimeField(null=True, blank=True)
    receiver_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt_due = models.DateField(null=True, blank=True)
    correction_reason = models.CharField(max_length=300, blank=True)

    SCOPE = {
        "orgs": ("consignor", "receiver", "carriers__organisation"),
        "geo": ("from_site__location", "to_site__location"),
    }

    class Meta:
        constraints = [models.UniqueConstraint(fields=["number", "version"], name="manifest_number_version")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"


class ManifestCarrier(models.Model):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="carriers")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField()
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Named by the carrier's signature at pickup (each carrier of a multi-leg movement has its own):
    # the plate as it was that day, and the driver at the wheel.
    vehicle_plate = models.CharField(max_length=20, blank=True)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manifest", "order"], name="manifest_carrier_order")]
        ordering = ["manifest", "order"]


class ManifestLine(models.Model):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="lines")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="manifest_lines")
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    received_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    refused_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manifest", "batch"], name="manifest_line_batch")]


class ManifestSerial(models.Model):
    """Next serial per (year, area code); a row lock hands out numbers without gaps or repeats."""

    year = models.PositiveSmallIntegerField()
    area_code = models.CharField(max_length=6)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "area_code"], name="manifest_serial_unique")]
