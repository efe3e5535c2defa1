from django.contrib.gis import admin

from waste import models


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that must never change once written."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    exclude = ["pin_hash"]
    raw_id_fields = ["user"]


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "identifier_scheme",
        "identifier",
        "district_code",
        "is_generator",
        "is_hauler",
        "is_site_operator",
        "is_recycler",
        "is_regulator",
    ]
    list_filter = ["is_generator", "is_hauler", "is_site_operator", "is_recycler", "is_regulator"]
    search_fields = ["name", "identifier"]
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "pin_locked"]
    list_filter = ["role", "pin_locked"]
    exclude = ["pin_hash"]
    raw_id_fields = ["user", "organisation"]


@admin.register(models.Jurisdiction)
class JurisdictionAdmin(admin.GISModelAdmin):
    list_display = ["name", "district_code", "organisation"]


class PermitInline(admin.TabularInline):
    model = models.Permit
    extra = 0


@admin.register(models.Site)
class SiteAdmin(admin.GISModelAdmin):
    list_display = ["name", "kind", "organisation", "district_code", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "address"]
    inlines = [PermitInline]


@admin.register(models.Permit)
class PermitAdmin(admin.ModelAdmin):
    list_display = ["number", "site", "valid_from", "valid_until", "annual_quantity_kg"]


@admin.register(models.Catalog)
class CatalogAdmin(ReadOnlyAdmin):
    list_display = ["key", "version", "name", "effective_from", "effective_until", "partial"]


@admin.register(models.CatalogEntry)
class CatalogEntryAdmin(ReadOnlyAdmin):
    list_display = ["display_code", "name", "catalog", "is_hazardous", "hazard_traits"]
    list_filter = ["catalog", "is_hazardous"]
    search_fields = ["code", "name"]


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Readable for audits; the ledger is append-only, so no add, change or delete."""

    list_display = ["id", "event_type", "batch_code", "organisation", "event_time", "shard", "seq", "flags"]
    list_filter = ["event_type"]
    search_fields = ["batch_code", "hash"]
    raw_id_fields = ["batch", "organisation", "user", "site"]


@admin.register(models.LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "size", "root"]
