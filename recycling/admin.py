from django.contrib import admin

from recycling import models


@admin.register(models.TreatmentRecord)
class TreatmentRecordAdmin(admin.ModelAdmin):
    list_display = ["batch", "site", "operation", "final", "quantity_kg", "treated_at"]

    def has_change_permission(self, request, obj=None):
        return False  # a treatment is recorded once; corrections are new records

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.RecyclerCapacity)
class RecyclerCapacityAdmin(admin.ModelAdmin):
    list_display = ["organisation", "site", "period_start", "period_end", "capacity_kg", "booked_kg", "price_per_t"]


@admin.register(models.BatchOffer)
class BatchOfferAdmin(admin.ModelAdmin):
    list_display = ["batch", "organisation", "status", "created_at"]


@admin.register(models.Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["offer", "capacity", "quantity_kg", "created_at"]
