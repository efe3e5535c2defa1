"""Treatment at plants, recyclers' capacity, offers and claims of waste."""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waste.models import Batch, LedgerEntry, Organisation, Site


class TreatmentRecord(models.Model):
    """An R/D operation on a batch at a site; its outputs and residues become new batches."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="treatments")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="treatments")
    operation = models.CharField(max_length=4)
    final = models.BooleanField(help_text="False for interim operations (R12, R13, D13-D15)")
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    losses_kg = models.DecimalField(
        max_digits=12, decimal_places=3, default=0, help_text="moisture, emissions, combustion: leaves the balance"
    )
    treated_at = models.DateTimeField()
    event = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("site__organisation", "batch__organisation"), "geo": ("site__location",)}

    class Meta:
        ordering = ["-treated_at", "-id"]


class OutputKind(models.TextChoices):
    SECONDARY = "secondary", _("Secondary material")
    RESIDUE = "residue", _("Residue")


class TreatmentOutput(models.Model):
    record = models.ForeignKey(TreatmentRecord, on_delete=models.CASCADE, related_name="outputs")
    kind = models.CharField(max_length=10, choices=OutputKind.choices)
    material = models.CharField(max_length=100)
    grade = models.CharField(max_length=40, blank=True)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="treatment_output")


class RecyclerCapacity(models.Model):
    """What a recycler accepts at a site, how much per period, at what price (negative: gate fee paid to it)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="capacities")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="capacities")
    codes = models.JSONField(help_text="canonical codes or categories accepted")
    period_start = models.DateField()
    period_end = models.DateField()
    capacity_kg = models.DecimalField(max_digits=16, decimal_places=3)
    booked_kg = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    price_per_t = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="CNY per tonne paid to the generator; negative = gate fee"
    )
    active = models.BooleanField(default=True)

    SCOPE = {"orgs": ("organisation",), "geo": ("site__location",)}

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booked_kg__lte=models.F("capacity_kg")), name="capacity_never_overbooked"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="capacity_period_ordered"
            ),
        ]


class OfferStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("offer status", "Open")
    CLAIMED = "claimed", _("Claimed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class BatchOffer(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="offers")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation", "claims__capacity__organisation"), "geo": ("batch__origin_site__location",)}

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch"], condition=models.Q(status="open"), name="one_open_offer_per_batch"
            )
        ]


class Claim(models.Model):
    offer = models.ForeignKey(BatchOffer, on_delete=models.CASCADE, related_name="claims")
    capacity = models.ForeignKey(RecyclerCapacity, on_delete=models.PROTECT, related_name="claims")
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("capacity__organisation", "offer__organisation"), "geo": ()}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offer"], name="one_claim_per_offer")]
