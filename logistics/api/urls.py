from django.urls import path

from logistics.api import fleet, ground, pickups, routes, scans, trips

urlpatterns = [
    path("scans/", scans.ScanApi.as_view(), name="scan"),
    path("scans/bulk/", scans.BulkScanApi.as_view(), name="scan-bulk"),
    path("vehicles/", fleet.VehicleListApi.as_view(), name="vehicle-list"),
    path("vehicles/<int:vehicle_id>/track/", ground.VehicleTrackApi.as_view(), name="vehicle-track"),
    path("positions/", ground.PositionApi.as_view(), name="position"),
    path("positions/bulk/", ground.BulkPositionApi.as_view(), name="position-bulk"),
    path("fleet/live/", ground.FleetLiveApi.as_view(), name="fleet-live"),
    path("devices/", ground.DeviceListApi.as_view(), name="device-list"),
    path("telemetry/", ground.ReadingApi.as_view(), name="telemetry"),
    path("licences/", fleet.LicenceListApi.as_view(), name="licence-list"),
    path("pickups/", pickups.PickupListApi.as_view(), name="pickup-list"),
    path("pickups/from-batches/", pickups.PickupFromBatchesApi.as_view(), name="pickup-from-batches"),
    path("routes/plans/", routes.PlanCreateApi.as_view(), name="plan-create"),
    path("routes/plans/<int:plan_id>/", routes.PlanDetailApi.as_view(), name="plan-detail"),
    path("routes/plans/<int:plan_id>/dispatch/", routes.PlanDispatchApi.as_view(), name="plan-dispatch"),
    path("trips/today/", trips.TripsTodayApi.as_view(), name="trips-today"),
    path("trips/today/load/", trips.LoadOnBoardApi.as_view(), name="trips-load"),
    path("trips/<int:trip_id>/", trips.TripDetailApi.as_view(), name="trip-detail"),
    path("trips/<int:trip_id>/stops/<int:sequence>/fail/", trips.StopFailApi.as_view(), name="trip-stop-fail"),
    path(
        "trips/<int:trip_id>/stops/<int:sequence>/complete/", trips.StopCompleteApi.as_view(), name="trip-stop-complete"
    ),
    path("trips/<int:trip_id>/replan/", trips.TripReplanApi.as_view(), name="trip-replan"),
]
