from django.urls import path

from logistics.api import scans

urlpatterns = [
    path("scans/", scans.ScanApi.as_view(), name="scan"),
    path("scans/bulk/", scans.BulkScanApi.as_view(), name="scan-bulk"),
]
