"""Places where waste is generated, collected, stored, treated or disposed of."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from waste.geo import WGS84

from .parties import Organisation


class SiteKind(models.TextChoices):
    GENERATION = "generation", _("Generation site")
    COLLECTION_POINT = "collection_point", _("Collection point")
    TRANSFER_STATION = "transfer_station", _("Transfer station")
    STORAGE = "storage", _("Storage")
    TREATMENT = "treatment", _("Treatment / recycling plant")
    DISPOSAL = "disposal", _("Disposal site")


# Kinds that receive waste from elsewhere (a manifest may end there).
RECEIVING_KINDS = frozenset(
    {SiteKind.COLLECTION_POINT, SiteKind.TRANSFER_STATION, SiteKind.STORAGE, SiteKind.TREATMENT, SiteKind.DISPOSAL}
)


class Site(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=SiteKind.choices)
    location = models.PointField(srid=WGS84)
    area = models.PolygonField(srid=WGS84, null=True, blank=True)
    district_code = models.CharField(max_length=6, help_text="GB/T 2260 administrative code")
    address = models.CharField(max_length=300, blank=True)
    storage_capacity_kg = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    annual_capacity_kg = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation",), "geo": ("location",), "districts": ("district_code",)}

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Permit(models.Model):
    """What a site may handle: codes (entries or whole categories such as HW08), how much, when."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="permits")
    number = models.CharField(max_length=60)
    codes = models.JSONField(help_text="canonical waste codes or categories, e.g. ['HW08', '160104']")
    operations = models.JSONField(default=list, blank=True, help_text="R/D operation codes")
    annual_quantity_kg = models.DecimalField(max_digits=16, decimal_places=3)
    valid_from = models.DateField()
    valid_until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("site__organisation",), "geo": ("site__location",)}

    class Meta:
        ordering = ["site", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")), name="permit_dates_ordered"
            ),
            models.CheckConstraint(condition=models.Q(annual_quantity_kg__gt=0), name="permit_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.site})"

    def covers(self, code: str, parent_code: str, on) -> bool:
        return self.valid_from <= on <= self.valid_until and (code in self.codes or parent_code in self.codes)
