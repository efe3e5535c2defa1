from django.contrib import admin

from logistics.models import (
    Device,
    HaulerLicence,
    Pickup,
    Reading,
    RoutePlan,
    Trip,
    TripStop,
    Vehicle,
    VehicleStop,
)


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate", "organisation", "capacity_kg", "depot", "active"]
    list_filter = ["active", "organisation"]
    search_fields = ["plate", "name"]


@admin.register(HaulerLicence)
class HaulerLicenceAdmin(admin.ModelAdmin):
    list_display = ["number", "organisation", "valid_from", "valid_until"]


@admin.register(Pickup)
class PickupAdmin(admin.ModelAdmin):
    list_display = ["id", "date", "site", "waste_class", "quantity_kg", "hauler", "destination", "status"]
    list_filter = ["status", "waste_class", "date"]


@admin.register(RoutePlan)
class RoutePlanAdmin(admin.ModelAdmin):
    list_display = ["id", "hauler", "date", "status", "progress", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["result", "request"]


class TripStopInline(admin.TabularInline):
    model = TripStop
    extra = 0


@admin.register(Trip)
class TripAdmin(admin.ModelAdmin):
    list_display = ["id", "vehicle", "driver", "date", "status"]
    inlines = [TripStopInline]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["identifier", "site", "kind", "label", "capacity_kg", "fill_threshold_pct", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["identifier", "label"]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["time", "device", "kind", "fill_pct", "net_kg", "plate", "expected_kg", "flags"]
    list_filter = ["kind"]


@admin.register(VehicleStop)
class VehicleStopAdmin(admin.ModelAdmin):
    list_display = ["vehicle", "started_at", "ended_at", "site", "load_kg"]
