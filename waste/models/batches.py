"""Batches of waste and their lineage. A batch's status changes only through waste.lifecycle."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from .catalogs import CatalogEntry
from .parties import Organisation
from .sites import Site


class BatchStatus(models.TextChoices):
    GENERATED = "generated", _("Generated")
    STORED = "stored", _("In storage")
    READY = "ready", _("Out of storage, awaiting pickup or treatment")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered, awaiting acceptance")
    RECEIVED = "received", _("Received")
    REJECTED = "rejected", _("Rejected by the receiver")
    CONSOLIDATED = "consolidated", _("Consolidated into another batch")
    SPLIT = "split", _("Split into other batches")
    TREATED = "treated", _("Treated (final fate recorded)")


class PhysicalForm(models.TextChoices):
    SOLID = "solid", _("Solid")
    LIQUID = "liquid", _("Liquid")
    SLUDGE = "sludge", _("Sludge")
    POWDER = "powder", _("Powder / dust")
    PASTE = "paste", _("Paste")
    GAS = "gas", _("Gas in container")
    MIXED = "mixed", _("Mixed")


class Batch(models.Model):
    code = models.CharField(max_length=16, unique=True, help_text="server-generated, with a check character")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="batches",
        help_text="the generator (or the site operator for a batch it formed)",
    )
    origin_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="originated_batches")
    waste = models.ForeignKey(CatalogEntry, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(blank=True)
    main_components = models.CharField(max_length=300, blank=True)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    estimated = models.BooleanField(default=False)
    physical_form = models.CharField(max_length=10, choices=PhysicalForm.choices, default=PhysicalForm.SOLID)
    containers = models.JSONField(default=list, blank=True, help_text="[{type, count, volume_l}]")
    hazard_traits = models.CharField(max_length=40, blank=True)
    is_hazardous = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.GENERATED)
    current_site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="held_batches")
    # Custody: a batch is either at ``current_site`` or in ``carrier``'s vehicle, never both, never
    # neither. Kept by waste.services.transitions, so a scan checks where the batch is at no cost.
    carrier = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the carrier whose vehicle has the batch (empty while it is at a site)",
    )
    last_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    final_operation = models.CharField(max_length=4, blank=True)
    generated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    SCOPE = {
        "orgs": ("organisation", "holder", "parties__organisation"),
        "geo": ("origin_site__location", "current_site__location"),
        "districts": ("origin_site__district_code",),
    }

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name_plural = "batches"
        indexes = [models.Index(fields=["status"]), models.Index(fields=["organisation", "generated_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity_kg__gt=0), name="batch_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(current_site__isnull=True) ^ models.Q(carrier__isnull=True),
                name="batch_at_a_site_or_with_a_carrier",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def traits(self) -> list[str]:
        return [t for t in self.hazard_traits.split(",") if t]


class BatchParty(models.Model):
    """Every organisation that has had a part in a batch's journey may see it (scoping)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="parties")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "organisation"], name="batch_party_unique")]


class LinkKind(models.TextChoices):
    CONSOLIDATION = "consolidation", _("Consolidated into")
    SPLIT = "split", _("Split into")
    OUTPUT = "output", _("Treatment output (secondary material)")
    RESIDUE = "residue", _("Treatment residue")


class BatchLink(models.Model):
    """Lineage: ``parent`` contributed ``quantity_kg`` to ``child``."""

    parent = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="child_links")
    child = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="parent_links")
    kind = models.CharField(max_length=14, choices=LinkKind.choices)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["parent", "child"], name="batch_link_unique")]
