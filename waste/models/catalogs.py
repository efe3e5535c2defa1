"""Code catalogs (EU List of Waste, China HW/SW lists, household categories, R/D, HP, ...).

Every catalog is versioned by effective date: a lookup asks for a code *on a date* and gets the
entry of the version in force that day.
"""

from django.db import models


class Catalog(models.Model):
    key = models.SlugField(max_length=40, help_text="e.g. eu-low, cn-hw, cn-sw, household")
    version = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    effective_from = models.DateField()
    # None while no later version of the same key exists; set when one is imported.
    effective_until = models.DateField(null=True, blank=True)
    source = models.TextField(blank=True)
    licence = models.CharField(max_length=200, blank=True)
    partial = models.BooleanField(default=False, help_text="True if the list is knowingly incomplete")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="catalog_key_version")]
        ordering = ["key", "effective_from"]

    def __str__(self) -> str:
        return f"{self.key} {self.version}"


class CatalogEntry(models.Model):
    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="entries")
    code = models.CharField(max_length=32, help_text="canonical form: 160104, 900-249-08, HW08, SW01")
    display_code = models.CharField(max_length=40)
    name = models.TextField()
    parent_code = models.CharField(max_length=32, blank=True)
    is_hazardous = models.BooleanField(default=False)
    hazard_traits = models.CharField(max_length=40, blank=True, help_text="comma-separated")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "code"], name="entry_catalog_code")]
        indexes = [models.Index(fields=["code"])]
        ordering = ["catalog", "code"]
        verbose_name_plural = "catalog entries"

    def __str__(self) -> str:
        return f"{self.display_code} {self.name[:60]}"

    @property
    def traits(self) -> list[str]:
        return [t for t in self.hazard_traits.split(",") if t]
